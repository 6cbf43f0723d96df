"""The catalog as this installation can serve it: the bundled files and a user's file, with
each provider marked available when an adapter for it is installed and its key is set. (It
lives with the providers because which adapters exist is theirs to say.)"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from imagegate.catalog import files
from imagegate.catalog.availability import configured_providers
from imagegate.catalog.catalog import DEFAULT_MAX_PROMPT_LENGTH, Catalog
from imagegate.providers.registry import adapter_names


def build_catalog(
    user_catalog: Path | None = None,
    env: Mapping[str, str] | None = None,
    max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
) -> Catalog:
    layers = [files.Layer(files.bundled_files(), overrides=False)]
    if user_catalog is not None:
        layers.append(files.Layer((files.read_file(user_catalog),), overrides=True))
    content = files.load(layers)
    configured = configured_providers(
        content.providers, adapter_names(), os.environ if env is None else env
    )
    return Catalog(content, configured, max_prompt_length)
