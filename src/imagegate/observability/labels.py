"""Label values with bounded cardinality: catalog ids and slugs only, never a client's string."""

from __future__ import annotations

import hashlib
from collections.abc import Container

UNKNOWN = "unknown"  # a model that is not in the catalog (or was never resolved)
NO_KEY = "none"  # a generation made without an API key (the master key, protected mode)
KEY_LABEL_LENGTH = 12


def model_label(model_id: str | None, catalog_ids: Container[str]) -> str:
    """The catalog id, or `unknown`: a label is never a string the client made up."""
    return model_id if model_id is not None and model_id in catalog_ids else UNKNOWN


def key_label(key_id: str | None) -> str:
    """The first 12 hex digits of the SHA-256 of the key's id: stable across renames, no name
    (which may be a person's) in the metrics store, and one series per key at most."""
    if key_id is None:
        return NO_KEY
    return hashlib.sha256(key_id.encode()).hexdigest()[:KEY_LABEL_LENGTH]


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """(provider, model) from the health store's endpoint key, `provider|model`."""
    provider, _, model = endpoint.partition("|")
    return provider, model
