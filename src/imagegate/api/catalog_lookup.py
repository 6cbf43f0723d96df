"""Finding one model for a detail route, with a 404 that says why it isn't there."""

from __future__ import annotations

from imagegate.catalog.availability import missing_configuration
from imagegate.catalog.catalog import Catalog, ModelView
from imagegate.errors import NotFound
from imagegate.providers.registry import adapter_names


def find_view(catalog: Catalog, name: str, include_unavailable: bool) -> ModelView:
    """By id or alias. A catalogued model none of whose providers is configured is a 404 too
    (it can't be routed), and the message says what would make it available."""
    model = catalog.resolve(name)
    if model is None:
        raise catalog.unknown_model(name)
    view = catalog.view(model.id, include_unavailable)
    if view is None:
        reasons = "; ".join(
            missing_configuration(catalog.providers[e.provider], adapter_names())
            for e in model.endpoints
        )
        raise NotFound(
            f"model '{model.id}' is in the catalog but cannot be served: {reasons}. "
            "Pass include_unavailable=true to see it anyway.",
            param="model",
            metadata={"available": False},
        )
    return view
