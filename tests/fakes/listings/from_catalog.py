"""Listing answers for the catalog's own endpoints, as each upstream would give them: a fake
filled from these agrees with the catalog, so a test changes one thing upstream and sees only
that change in the sync's diff, whatever models the bundled data holds today."""

from __future__ import annotations

from typing import Any

from imagegate.catalog import files
from imagegate.catalog.files import CatalogContent
from imagegate.catalog.lifecycle import is_retired, retirement
from imagegate.catalog.schema import Endpoint, Model
from imagegate.catalog.sync.terms import line_json

REPLICATE_NAMES = {"n": "num_outputs", "steps": "num_inference_steps"}
REPLICATE_NAMES["output_compression"] = "output_quality"
FAL_UNITS = {"image": "images", "megapixel_rounded_up": "megapixels"}


def bundled() -> CatalogContent:
    return files.load([files.Layer(files.bundled_files(), overrides=False)])


def live_image_endpoints(content: CatalogContent, provider: str) -> list[tuple[Model, Endpoint]]:
    return sorted(
        (
            (model, endpoint)
            for model in content.models.values()
            if "image" in model.output_modalities and retirement(model) is None
            for endpoint in model.endpoints
            if endpoint.provider == provider and not is_retired(endpoint)
        ),
        key=lambda pair: (pair[0].id, pair[1].native_id),
    )


def descriptors(endpoint: Endpoint) -> dict[str, Any]:
    return {
        name: d.model_dump(mode="json", exclude_none=True)
        for name, d in endpoint.parameters.items()
    }


# -- OpenRouter -----------------------------------------------------------------------------


def openrouter_item(model: Model) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "description": model.description,
        "created": model.created_timestamp,
        "architecture": {
            "input_modalities": list(model.input_modalities),
            "output_modalities": list(model.output_modalities),
        },
        "supported_parameters": {},
        "supports_streaming": False,
        "endpoints": f"/api/v1/images/models/{model.id}/endpoints",
    }


def openrouter_record(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "provider_name": "Upstream",
        "provider_slug": "upstream",
        "provider_tag": "upstream",
        "supported_parameters": descriptors(endpoint),
        "allowed_passthrough_parameters": list(endpoint.passthrough),
        "supports_streaming": endpoint.supports_streaming,
        "pricing": [line_json(line) for line in endpoint.pricing],
    }


# -- fal ------------------------------------------------------------------------------------


def fal_model(endpoint_id: str, name: str, status: str = "active") -> dict[str, Any]:
    return {
        "endpoint_id": endpoint_id,
        "metadata": {
            "display_name": name,
            "category": "text-to-image",
            "description": f"{name}, as fal describes it",
            "status": status,
            "tags": [],
            "date": "2026-11-20T00:00:00Z",
        },
    }


def fal_price(endpoint: Endpoint) -> dict[str, Any]:
    """fal's one figure for an endpoint: its only line where it has one."""
    line = endpoint.pricing[0]
    unit = FAL_UNITS.get(line.unit, "compute seconds")
    return {"unit_price": float(line.cost_usd), "unit": unit, "currency": "USD"}


# -- Replicate ------------------------------------------------------------------------------


def replicate_model(endpoint: Endpoint) -> dict[str, Any]:
    """A model whose latest version's Input schema says what the endpoint's descriptors say
    (enums as Cog writes them: an `allOf` of a `$ref` to a named enum), plus inputs the
    catalog has no parameter for."""
    owner, name = endpoint.native_id.split(":", 1)[0].split("/", 1)
    properties: dict[str, Any] = {"prompt": {"type": "string", "title": "Prompt"}}
    components: dict[str, Any] = {}
    for parameter, descriptor in descriptors(endpoint).items():
        native = endpoint.native_names.get(parameter) or REPLICATE_NAMES.get(parameter, parameter)
        if descriptor["type"] == "enum":
            values = ["jpg" if v == "jpeg" else v for v in descriptor["values"]]
            components[native] = {"type": "string", "title": native, "enum": values}
            properties[native] = {"allOf": [{"$ref": f"#/components/schemas/{native}"}]}
        elif descriptor["type"] == "range":
            kind = "integer" if float(descriptor["min"]).is_integer() else "number"
            properties[native] = {
                "type": kind,
                "minimum": descriptor["min"],
                "maximum": descriptor["max"],
            }
        else:
            properties[native] = {"type": "boolean"}
    properties["go_fast"] = {"type": "boolean", "default": True}
    components["Input"] = {"type": "object", "properties": properties}
    return {
        "url": f"https://replicate.com/{owner}/{name}",
        "owner": owner,
        "name": name,
        "description": f"{name} on Replicate",
        "visibility": "public",
        "is_official": True,
        "latest_version": {
            "id": "0" * 64,
            "created_at": "2026-11-01T00:00:00Z",
            "openapi_schema": {"openapi": "3.0.2", "components": {"schemas": components}},
        },
    }
