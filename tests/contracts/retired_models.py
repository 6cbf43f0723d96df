"""A user catalog serving models their maker has retired, from a server that still runs them.

OpenAI and Google shut down models (DALL-E, GPT Image 1.5, Sora 2, Gemini 2.5 Flash Image, the
Veo previews) that alone exercise parts of their adapters: DALL-E's `response_format`, edits with
`input_fidelity`, the Videos API, Veo's long-running operations, an image model without
`imageSize`. The bundled catalog answers 410 for them, so a test declares its own provider on the
same adapter (an OpenAI- or Gemini-compatible server, pointed at the fake) serving copies of the
bundled entries under ids of its own: the adapter stays covered without routing a retired model.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from imagegate.catalog import files

_LIFECYCLE = ("deprecated_on", "retires_on", "successor")


def compatible_server(slug: str, name: str, adapter: str) -> dict[str, Any]:
    """A provider on `adapter` whose key and base URL come from `<SLUG>_KEY` and
    `<SLUG>_BASE_URL`."""
    prefix = slug.upper().replace("-", "_")
    return {
        "slug": slug,
        "name": name,
        "adapter": adapter,
        "key_env": f"{prefix}_KEY",
        "base_url": "http://127.0.0.1:9",
        "base_url_env": f"{prefix}_BASE_URL",
    }


def server_env(provider: dict[str, Any], base_url: str, key: str) -> dict[str, str]:
    return {provider["key_env"]: key, provider["base_url_env"]: base_url}


def catalog_document(
    provider: dict[str, Any], served_by: str, models: dict[str, str]
) -> dict[str, Any]:
    """`models`: bundled id -> the id `provider` serves it under. Each copy keeps its
    `served_by` endpoint (moved to `provider`) and drops its lifecycle and aliases."""
    (bundled,) = [r for r in files.bundled_files() if r.name == f"{served_by}.json"]
    by_id = {model["id"]: model for model in bundled.document["models"]}
    copies = []
    for bundled_id, new_id in models.items():
        model = copy.deepcopy(by_id[bundled_id])
        for key in (*_LIFECYCLE, "aliases"):
            model.pop(key, None)
        (endpoint,) = [e for e in model["endpoints"] if e["provider"] == served_by]
        for key in _LIFECYCLE:
            endpoint.pop(key, None)
        endpoint["provider"] = provider["slug"]
        copies.append({**model, "id": new_id, "endpoints": [endpoint]})
    return {"providers": [provider], "models": copies}


def write_catalog(
    path: Path, provider: dict[str, Any], served_by: str, models: dict[str, str]
) -> Path:
    """The catalog of `catalog_document`, as a user's catalog file at `path`."""
    path.write_text(json.dumps(catalog_document(provider, served_by, models)))
    return path


def layered(document: dict[str, Any]) -> files.CatalogContent:
    """The bundled catalog with `document` over it, for tests of an adapter alone."""
    return files.load(
        [
            files.Layer(files.bundled_files(), overrides=False),
            files.Layer((files.CatalogFile("retired-models.json", document),), overrides=True),
        ]
    )
