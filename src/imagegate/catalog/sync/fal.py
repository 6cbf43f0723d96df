"""fal's Platform API (`https://api.fal.ai/v1`, `Authorization: Key <FAL_KEY>`).

- `GET /models?category=text-to-image` lists the image endpoints (`{models: [{endpoint_id,
  metadata: {display_name, description, category, status, date}}], next_cursor, has_more}`),
  cursor-paginated. A catalog endpoint that is not in it is looked up by id (`endpoint_id=`,
  up to 50 a request): not found there, it is gone; found `deprecated`, it is reported.
- `GET /models/pricing?endpoint_id=...` gives one `unit_price` per endpoint in its `unit`:
  `image(s)` is the catalog's `image`, `megapixel(s)` its `megapixel_rounded_up` (fal rounds
  each image up to whole megapixels); any other unit or currency is a note. One figure per
  endpoint: it replaces an endpoint's price only where that endpoint has one line.
- For endpoints the catalog lacks, `expand=openapi-3.0` gives the request schema, read for
  the inputs that map (`num_images`, `seed`, `num_inference_steps`, `guidance_scale`,
  `output_format`, `negative_prompt`; `image_size`'s presets as aspect ratios). A new model's
  id is fal's endpoint id with its path joined by `-` (`fal-ai/flux/dev` → `fal-ai/flux-dev`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from imagegate.catalog.schema import _MODEL_ID
from imagegate.catalog.sync.offer import (
    Fetch,
    Listing,
    ListingError,
    ListingSource,
    MappedParameters,
    Offer,
)
from imagegate.catalog.sync.parameters import SchemaParameters
from imagegate.catalog.sync.reading import cursor_pages, day_from_iso, maybe, need
from imagegate.catalog.sync.terms import pricing_line

PROVIDER = "fal"
PUBLIC_ROOT = "https://api.fal.ai/v1"
CATEGORY = "text-to-image"
BATCH = 50  # endpoint ids a request may name
SCHEMA_BATCH = 10  # with the schemas expanded, answers are large
UNITS = {
    "image": "image",
    "images": "image",
    "megapixel": "megapixel_rounded_up",
    "megapixels": "megapixel_rounded_up",
}
DEFAULT_NAMES = {"n": "num_images", "steps": "num_inference_steps", "guidance": "guidance_scale"}
# fal's image_size presets by the shape they make (the adapter's table, providers/fal.py)
PRESET_SHAPES = {
    "square_hd": "1:1",
    "square": "1:1",
    "landscape_4_3": "4:3",
    "portrait_4_3": "3:4",
    "landscape_16_9": "16:9",
    "portrait_16_9": "9:16",
}


async def read(fetch: Fetch, root: str, known: frozenset[str]) -> Listing:
    listing = Listing(PROVIDER, f"{PUBLIC_ROOT}/models?category={CATEGORY}")
    items = await cursor_pages(
        fetch, f"{root}/models", [("category", CATEGORY), ("limit", "100")], "models", "models"
    )
    found = {need(item, "endpoint_id", str, "models.models[]"): item for item in items}
    for batch in _batches(sorted(known - found.keys()), BATCH):
        looked_up = await cursor_pages(
            fetch, f"{root}/models", [("endpoint_id", i) for i in batch], "models", "models"
        )
        returned = {need(item, "endpoint_id", str, "models.models[]"): item for item in looked_up}
        found.update(returned)
        listing.gone |= set(batch) - returned.keys()
    prices = await _prices(fetch, root, sorted(found), listing)
    candidates = [  # endpoints the catalog lacks, that could be added: their inputs are read
        i for i in sorted(found.keys() - known) if i in prices and not _deprecated(found[i])
    ]
    schemas = await _schemas(fetch, root, candidates, listing)
    for endpoint_id, item in sorted(found.items()):
        listing.offers.append(
            _offer(endpoint_id, item, prices.get(endpoint_id), schemas.get(endpoint_id))
        )
    return listing


async def _prices(
    fetch: Fetch, root: str, ids: list[str], listing: Listing
) -> dict[str, dict[str, Any]]:
    prices: dict[str, dict[str, Any]] = {}
    for batch in _batches(ids, BATCH):
        try:
            answer = await cursor_pages(
                fetch,
                f"{root}/models/pricing",
                [("endpoint_id", i) for i in batch],
                "prices",
                "models/pricing",
            )
        except ListingError as exc:
            listing.problems.append(str(exc))
            continue
        for price in answer:
            endpoint_id = price.get("endpoint_id")
            if isinstance(endpoint_id, str):
                prices[endpoint_id] = price
    return prices


async def _schemas(
    fetch: Fetch, root: str, ids: list[str], listing: Listing
) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for batch in _batches(ids, SCHEMA_BATCH):
        query = [*(("endpoint_id", i) for i in batch), ("expand", "openapi-3.0")]
        try:
            answer = await cursor_pages(fetch, f"{root}/models", query, "models", "models")
        except ListingError as exc:
            listing.problems.append(f"schemas: {exc}")
            continue
        for item in answer:
            if isinstance(item.get("endpoint_id"), str) and isinstance(item.get("openapi"), dict):
                schemas[item["endpoint_id"]] = item["openapi"]
    return schemas


def _offer(
    endpoint_id: str,
    item: dict[str, Any],
    price: dict[str, Any] | None,
    openapi: dict[str, Any] | None,
) -> Offer:
    notes: list[str] = []
    metadata = maybe(item, "metadata", dict, endpoint_id) or {}
    pricing = _pricing(price, notes)
    parameters = None
    if openapi is not None:
        properties = _input_properties(endpoint_id, openapi)
        if properties is None:
            notes.append("its OpenAPI schema has no request body to read")
        else:
            parameters = FalParameters(
                SchemaParameters(
                    properties,
                    openapi,
                    defaults=DEFAULT_NAMES,
                    synthesized=frozenset({"aspect_ratio", "width", "height", "size"}),
                    ignored=frozenset({"prompt", "sync_mode"}),
                )
            )
    model_id = "/".join(_joined(endpoint_id.lower()))
    category = metadata.get("category")
    return Offer(
        provider=PROVIDER,
        native_id=endpoint_id,
        model_id=model_id if _MODEL_ID.fullmatch(model_id) else None,
        name=_text(metadata.get("display_name")),
        description=_text(metadata.get("description")),
        created=day_from_iso(metadata.get("date")),
        input_modalities=("text",) if category == CATEGORY else None,
        output_modalities=("image",) if category == CATEGORY else None,
        pricing=pricing,
        pricing_complete=False,
        price_url=f"{PUBLIC_ROOT}/models/pricing?endpoint_id={endpoint_id}",
        parameters=parameters,
        deprecated=_deprecated(item),
        unmapped=tuple(notes),
    )


def _pricing(price: dict[str, Any] | None, notes: list[str]) -> tuple[dict[str, Any], ...] | None:
    if price is None:
        notes.append("fal's pricing API gave no price for it")
        return None
    unit, currency = price.get("unit"), price.get("currency")
    if currency != "USD":
        notes.append(f"price in {currency!r}, not USD")
        return None
    if unit not in UNITS:
        notes.append(f"fal prices it per {unit!r}, a unit the catalog does not count")
        return None
    line, why = pricing_line(
        {"billable": "output_image", "unit": UNITS[unit], "cost_usd": price.get("unit_price")}
    )
    if line is None:
        notes.append(str(why))
        return None
    return (line,)


@dataclass(frozen=True, slots=True)
class FalParameters:
    """fal's schema read as usual, plus `image_size`'s presets as the aspect ratios the adapter
    sends them for (it picks the preset of the asked-for shape)."""

    schema: SchemaParameters

    def mapped(self, native_names: Mapping[str, str]) -> MappedParameters:
        mapped = self.schema.mapped(native_names)
        size = self.schema.properties.get("image_size")
        shapes = _preset_shapes(size, self.schema.document)
        if not shapes or "aspect_ratio" in native_names:
            return mapped
        notes = tuple(n for n in mapped.unmapped if not n.startswith("input 'image_size'"))
        parameters = {**mapped.parameters, "aspect_ratio": {"type": "enum", "values": shapes}}
        return MappedParameters(parameters, mapped.native_names, mapped.covered, notes)


def _preset_shapes(raw: Any, document: Mapping[str, Any]) -> list[str]:
    """The shapes of the presets an `image_size` property offers (in an `enum`, possibly
    inside an `anyOf` beside a free `{width, height}` object)."""
    reader = SchemaParameters({}, document)
    found: list[str] = []
    for part in [raw, *(raw.get("anyOf", []) if isinstance(raw, dict) else [])]:
        schema = reader.resolved(part) if isinstance(part, dict) else None
        for value in (schema or {}).get("enum") or []:
            shape = PRESET_SHAPES.get(value) if isinstance(value, str) else None
            if shape and shape not in found:
                found.append(shape)
    return found


def _input_properties(endpoint_id: str, openapi: dict[str, Any]) -> dict[str, Any] | None:
    """The properties of the request body fal's queue takes for the endpoint: the `post` of
    `/{endpoint_id}` (or the document's only `post`)."""
    paths = openapi.get("paths")
    if not isinstance(paths, dict):
        return None
    posts = [
        (path, item["post"])
        for path, item in paths.items()
        if isinstance(item, dict) and isinstance(item.get("post"), dict)
    ]
    chosen = next((op for path, op in posts if path.strip("/") == endpoint_id), None)
    if chosen is None and len(posts) == 1:
        chosen = posts[0][1]
    try:
        schema = chosen["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    resolved = SchemaParameters({}, openapi).resolved(schema)
    properties = (resolved or {}).get("properties")
    return properties if isinstance(properties, dict) else None


def _joined(endpoint_id: str) -> tuple[str, str]:
    owner, _, rest = endpoint_id.partition("/")
    return owner, rest.replace("/", "-")


def _deprecated(item: dict[str, Any]) -> bool:
    metadata = item.get("metadata")
    return isinstance(metadata, dict) and metadata.get("status") == "deprecated"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _batches(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _root(base_url: str) -> str:
    """With `FAL_BASE_URL` set, the Platform API is at its origin's `/v1`."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/v1"


SOURCE = ListingSource(PROVIDER, PUBLIC_ROOT, read, auth_scheme="Key", root_from_base=_root)
