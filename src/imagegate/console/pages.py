"""The console's pages: which template answers which path, and the navigation between them."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str  # the template (`templates/{name}.html`) and script (`static/js/{name}.js`)
    title: str
    pattern: re.Pattern[str]  # matched against the path below /console/
    in_menu: bool = True


PAGES = (
    Page("models", "Models", re.compile(r"(models/?)?")),
    Page("model", "Model", re.compile(r"models/(?P<model>[^/]+/[^/]+)"), in_menu=False),
    Page("playground", "Playground", re.compile(r"playground/?")),
    Page("compare", "Compare", re.compile(r"compare/?")),
    Page("history", "History", re.compile(r"history/?")),
    Page("generation", "Generation", re.compile(r"history/(?P<id>[^/]+)"), in_menu=False),
    Page("spend", "Spend", re.compile(r"spend/?")),
    Page("keys", "Keys", re.compile(r"keys/?")),
)
MENU = tuple(page for page in PAGES if page.in_menu)


def page_for(path: str) -> tuple[Page, dict[str, str]] | None:
    """The page a path below /console/ shows, with what the path names (a model, a generation)."""
    for page in PAGES:
        matched = page.pattern.fullmatch(path)
        if matched:
            return page, matched.groupdict()
    return None
