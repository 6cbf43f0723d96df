"""Filtering, sorting and paging models: the one engine behind every listing surface.

Model-level filters (modalities, text) look at the model; endpoint-level filters (provider,
supported parameters, price) need one endpoint that meets all of them at once, so a listed
model can always be routed with exactly those constraints.

A catalog snapshot never changes, so the filtered, sorted list for a query is remembered (per
catalog version, for the last `REMEMBERED` distinct queries) and each page of it is a slice:
paging through thousands of models filters and sorts them once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

from imagegate.catalog.catalog import Catalog, ModelView

REMEMBERED = 256
_matched: OrderedDict[tuple[str, ModelQuery], tuple[ModelView, ...]] = OrderedDict()


class Sort(Enum):
    NAME = "name"
    PRICE = "price"  # cheapest first, by cost per output image
    PRICE_DESC = "price_desc"
    DATE = "date"  # newest first
    PROVIDER = "provider"  # by serving provider, then name
    AUTHOR = "author"  # by the model's author, then id (ImageRouter's "provider")
    ID = "id"


@dataclass(frozen=True, slots=True)
class ModelQuery:
    output_modalities: frozenset[str] | None = None  # any of these
    # with no output modalities named: whether video models are listed too (image listings
    # leave them out unless asked, as OpenRouter's image listings would)
    include_video: bool = False
    input_modalities: frozenset[str] | None = None  # all of these
    providers: frozenset[str] | None = None  # slugs, exact
    provider_contains: str | None = None  # author or provider, partial (ImageRouter)
    supports: frozenset[str] = frozenset()  # all of these parameters, on one endpoint
    text: str | None = None  # substring of id, name or an alias
    min_price: Decimal | None = None  # per output image, the cheapest case: at least this
    max_price: Decimal | None = None  # per output image
    free: bool | None = None  # can be run at no cost (its cheapest endpoint is free)
    include_unavailable: bool = False
    sort: Sort = Sort.DATE
    offset: int = 0
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: tuple[ModelView, ...]
    total: int
    next_offset: int | None


def run(catalog: Catalog, query: ModelQuery) -> Page:
    key = (catalog.version, replace(query, offset=0, limit=None))
    matched = _matched.get(key)
    if matched is None:
        matched = select(catalog.views(query.include_unavailable), query)
        _matched[key] = matched
        if len(_matched) > REMEMBERED:
            _matched.popitem(last=False)
    else:
        _matched.move_to_end(key)
    end = len(matched) if query.limit is None else query.offset + query.limit
    items = tuple(matched[query.offset : end])
    next_offset = end if end < len(matched) else None
    return Page(items=items, total=len(matched), next_offset=next_offset)


def select(views: Sequence[ModelView], query: ModelQuery) -> tuple[ModelView, ...]:
    """The views the query's filters keep, in its order."""
    text = query.text.lower() if query.text is not None else None
    needle = query.provider_contains.lower() if query.provider_contains is not None else None
    kept = [view for view in views if _matches(view, query, text, needle)]
    kept.sort(key=_SORT_KEYS[query.sort])
    return tuple(kept)


def _matches(view: ModelView, query: ModelQuery, text: str | None, needle: str | None) -> bool:
    if query.output_modalities is None and not query.include_video and view.model.makes_video:
        return False
    if query.output_modalities is not None and query.output_modalities.isdisjoint(
        view.output_modalities
    ):
        return False
    if query.input_modalities is not None and not query.input_modalities <= view.input_modalities:
        return False
    if text is not None and text not in view.search_text:
        return False
    if query.free is not None and (view.price_min == 0) != query.free:
        return False
    if needle is not None:
        model = view.model
        names = (model.author, *view.provider_slugs, *(e.provider.name for e in view.endpoints))
        if not any(needle in name.lower() for name in names):
            return False
    providers, supports = query.providers, query.supports
    floor, cap = query.min_price, query.max_price
    for endpoint in view.endpoints:
        if providers is not None and endpoint.provider.slug not in providers:
            continue
        if supports and not supports <= endpoint.parameter_names:
            continue
        if floor is not None and endpoint.price_min < floor:
            continue
        if cap is None or endpoint.price_min <= cap:
            return True
    return False


_SORT_KEYS: dict[Sort, Callable[[ModelView], tuple]] = {
    Sort.NAME: lambda v: (v.model.name.lower(), v.model.id),
    Sort.PRICE: lambda v: (v.price_min, v.model.id),
    Sort.PRICE_DESC: lambda v: (-v.price_max, v.model.id),
    Sort.DATE: lambda v: (-v.model.created.toordinal(), v.model.id),
    Sort.PROVIDER: lambda v: (min(v.provider_slugs), v.model.name.lower(), v.model.id),
    Sort.AUTHOR: lambda v: (v.model.author, v.model.id),
    Sort.ID: lambda v: (v.model.id,),
}
