"""Listing the catalog from Python: keyword filters checked, then the catalog's own query
(`catalog.query`), the same one behind every listing route."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from imagegate.catalog.catalog import Catalog, ModelView
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.query import ModelQuery, Sort, run
from imagegate.errors import InvalidRequest

SORTS = tuple(sort.value for sort in Sort)


def list_models(
    catalog: Catalog,
    *,
    supports: Iterable[str] = (),
    output_modalities: Iterable[str] | None = None,
    input_modalities: Iterable[str] | None = None,
    providers: Iterable[str] | None = None,
    search: str | None = None,
    max_price: Decimal | float | str | None = None,
    free: bool | None = None,
    include_unavailable: bool = False,
    sort: str = "date",
) -> list[ModelView]:
    supported = _names(supports)
    unknown = sorted(supported - PARAMETERS.keys())
    if unknown:
        raise InvalidRequest(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(PARAMETERS)}",
            param="supports",
        )
    slugs = _names(providers) if providers is not None else None
    if slugs is not None and slugs - catalog.providers.keys():
        missing = ", ".join(sorted(slugs - catalog.providers.keys()))
        raise InvalidRequest(
            f"unknown provider(s) {missing}; known: {', '.join(sorted(catalog.providers))}",
            param="providers",
        )
    if sort not in SORTS:
        raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", param="sort")
    query = ModelQuery(
        output_modalities=_names(output_modalities) if output_modalities is not None else None,
        include_video=True,  # the library (and the CLI) list video models with the rest
        input_modalities=_names(input_modalities) if input_modalities is not None else None,
        providers=slugs,
        supports=supported,
        text=search,
        max_price=Decimal(str(max_price)) if max_price is not None else None,
        free=free,
        include_unavailable=include_unavailable,
        sort=Sort(sort),
    )
    return list(run(catalog, query).items)


def find_model(catalog: Catalog, name: str) -> ModelView:
    """One model by id or alias, with every endpoint (each says whether it is available)."""
    model = catalog.resolve(name)
    view = catalog.view(model.id, include_unavailable=True) if model is not None else None
    if view is None:
        raise catalog.unknown_model(name)
    return view


def _names(values: Iterable[str]) -> frozenset[str]:
    """A list of names, or one comma-separated string of them."""
    if isinstance(values, str):
        values = values.split(",")
    return frozenset(value.strip() for value in values if value.strip())
