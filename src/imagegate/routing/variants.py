"""Model variants, as on OpenRouter: `model:floor` (cheapest first) and `model:nitro`
(fastest first)."""

from __future__ import annotations

from imagegate.catalog.catalog import Catalog

VARIANTS = {"floor": "price", "nitro": "latency"}


def split_variant(name: str, catalog: Catalog) -> tuple[str, str | None]:
    """A catalog id wins over a variant reading (an id may contain a colon)."""
    base, _, suffix = name.rpartition(":")
    if base and suffix in VARIANTS and catalog.resolve(name) is None:
        return base, suffix
    return name, None
