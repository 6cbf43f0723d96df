"""One Runware `imageInference` task, built from a call (the wire mapping).

Every task asks for the images inline (`outputType: base64Data`) and for what it cost
(`includeCost: true`), and carries a fresh `taskUUID` (UUID v4) that the answer's items echo.
The catalog's parameters map to Runware's names: `n` → `numberResults` (always sent), `seed`,
`steps`, `guidance` → `CFGScale`, `negative_prompt` → `negativePrompt`, `output_format` →
`outputFormat` (`PNG`, `JPG`, `WEBP`), the size → `width`/`height` (`runware_sizes`), and
reference images → `referenceImages`, as data URIs.

An endpoint's `native_names` rename a field, and a dotted name is a field of a nested object:
`{"input_references": "inputs.referenceImages"}` sends the references in `inputs`, as partner
models take them. A field whose last part ends in `Images` takes every reference as a list; any
other (`inputs.seedImage`) takes the first. The endpoint's `fixed` object is merged in first
(nested objects merged key by key), e.g. `{"providerSettings": {"bfl": {"raw": true}}}`; the
fields above are set over it.
"""

from __future__ import annotations

import uuid
from typing import Any

from imagegate.providers.base import ProviderCall
from imagegate.providers.images_generations import data_uri
from imagegate.providers.runware_sizes import task_size

TASK_TYPE = "imageInference"
# catalog parameter -> Runware's field, unless the endpoint's native_names say otherwise
FIELDS = {
    "seed": "seed",
    "steps": "steps",
    "guidance": "CFGScale",
    "negative_prompt": "negativePrompt",
    "output_format": "outputFormat",
}
REFERENCE_FIELD = "referenceImages"
OUTPUT_FORMATS = {"png": "PNG", "jpeg": "JPG", "webp": "WEBP"}


def image_task(call: ProviderCall, task_uuid: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {}
    _merge(task, call.endpoint.fixed)
    _merge(
        task,
        {
            "taskType": TASK_TYPE,
            "taskUUID": task_uuid or str(uuid.uuid4()),
            "model": call.native_model,
            "positivePrompt": call.prompt,
            "outputType": "base64Data",
            "includeCost": True,
            "numberResults": call.n,
        },
    )
    if (size := task_size(call)) is not None:
        task["width"], task["height"] = size
    for name, default in FIELDS.items():
        if name in call.parameters:
            value = call.parameters[name]
            if name == "output_format":
                value = OUTPUT_FORMATS[value]
            _set(task, _field(call, name, default), value)
    if call.references:
        field = _field(call, "input_references", REFERENCE_FIELD)
        uris = [data_uri(image) for image in call.references]
        _set(task, field, uris if field.rsplit(".", 1)[-1].endswith("Images") else uris[0])
    return task


def _field(call: ProviderCall, name: str, default: str) -> str:
    return call.endpoint.native_names.get(name, default)


def _set(task: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    target = task
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[leaf] = value


def _merge(target: dict[str, Any], fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, dict):
            target[key] = {}
            _merge(target[key], value)
        else:
            target[key] = value
