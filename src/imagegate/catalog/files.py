"""Reading catalog files and layering them into one set of providers and models.

A catalog file is `{"providers": [...], "models": [...]}`. A model entry carries the model's
own fields (name, description, ...) and `endpoints`, each naming its provider. The bundled
files (one per provider) are one layer: they may split a model across files but must not
contradict each other. A user's catalog file is a later layer: its fields override, an endpoint
entry with `"remove": true` drops that endpoint, and a model entry with `"remove": true` drops
the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from imagegate.catalog.schema import Model, ProviderInfo
from imagegate.errors import ConfigurationError

BUNDLED_PACKAGE = "imagegate.catalog.data"

_T = TypeVar("_T", Model, ProviderInfo)


@dataclass(frozen=True, slots=True)
class CatalogFile:
    name: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Layer:
    """Files applied together; `overrides` says whether they may replace earlier values."""

    files: tuple[CatalogFile, ...]
    overrides: bool


@dataclass(frozen=True, slots=True)
class CatalogContent:
    providers: dict[str, ProviderInfo]
    models: dict[str, Model]


def bundled_files() -> tuple[CatalogFile, ...]:
    folder = resources.files(BUNDLED_PACKAGE)
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    return tuple(_parse(entry.name, entry.read_bytes()) for entry in entries)


def read_file(path: Path) -> CatalogFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read catalog file {path}: {exc.strerror}") from exc
    return _parse(str(path), raw)


def load(layers: Iterable[Layer]) -> CatalogContent:
    providers: dict[str, dict[str, Any]] = {}
    models: dict[str, dict[str, Any]] = {}
    origins: dict[tuple[str, ...], str] = {}
    for layer in layers:
        for file in layer.files:
            _apply(file, layer.overrides, providers, models, origins)
    return _validate(providers, models, origins)


def _parse(name: str, raw: bytes) -> CatalogFile:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ConfigurationError(f"catalog file {name} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or not set(document) <= {"providers", "models"}:
        raise ConfigurationError(
            f"catalog file {name} must be an object with 'providers' and 'models' lists"
        )
    for key in ("providers", "models"):
        if not isinstance(document.get(key, []), list):
            raise ConfigurationError(f"catalog file {name}: '{key}' must be a list")
    return CatalogFile(name, document)


def _apply(
    file: CatalogFile,
    overrides: bool,
    providers: dict[str, dict[str, Any]],
    models: dict[str, dict[str, Any]],
    origins: dict[tuple[str, ...], str],
) -> None:
    for entry in file.document.get("providers", []):
        slug = _key(file, entry, "slug", "provider")
        _merge(providers.setdefault(slug, {}), entry, ("provider", slug), file, overrides, origins)
    for entry in file.document.get("models", []):
        model_id = _key(file, entry, "id", "model")
        fields = {k: v for k, v in entry.items() if k not in ("endpoints", "remove")}
        if _removes(file, entry, f"model {model_id}"):
            _require_override(file, overrides, f"model {model_id}")
            models.pop(model_id, None)
            continue
        record = models.setdefault(model_id, {"endpoints": {}})
        _merge(record, fields, ("model", model_id), file, overrides, origins)
        endpoints = entry.get("endpoints", [])
        if not isinstance(endpoints, list):
            raise ConfigurationError(f"{file.name}: model {model_id}: 'endpoints' must be a list")
        for endpoint in endpoints:
            provider = _key(file, endpoint, "provider", f"endpoint of {model_id}")
            if _removes(file, endpoint, f"endpoint {model_id} @ {provider}"):
                _require_override(file, overrides, f"endpoint {model_id} @ {provider}")
                record["endpoints"].pop(provider, None)
                continue
            target = record["endpoints"].setdefault(provider, {})
            origin = ("endpoint", model_id, provider)
            _merge(target, endpoint, origin, file, overrides, origins)


def _merge(
    target: dict[str, Any],
    fields: dict[str, Any],
    origin: tuple[str, ...],
    file: CatalogFile,
    overrides: bool,
    origins: dict[tuple[str, ...], str],
) -> None:
    for key, value in fields.items():
        if key in target and target[key] != value and not overrides:
            where = " ".join(origin[1:])
            raise ConfigurationError(
                f"{origin[0]} {where}: '{key}' differs between {origins[(*origin, key)]} "
                f"and {file.name}"
            )
        target[key] = value
        origins[(*origin, key)] = file.name


def _validate(
    providers: dict[str, dict[str, Any]],
    models: dict[str, dict[str, Any]],
    origins: dict[tuple[str, ...], str],
) -> CatalogContent:
    checked_providers = {
        slug: _checked(ProviderInfo, fields, f"provider {slug}", origins, ("provider", slug))
        for slug, fields in providers.items()
    }
    checked_models: dict[str, Model] = {}
    for model_id, fields in models.items():
        endpoints = list(fields["endpoints"].values())
        for endpoint in endpoints:
            if endpoint["provider"] not in checked_providers:
                raise ConfigurationError(
                    f"model {model_id}: endpoint names provider '{endpoint['provider']}', "
                    "which no catalog file declares"
                )
        document = {**fields, "endpoints": endpoints}
        checked_models[model_id] = _checked(
            Model, document, f"model {model_id}", origins, ("model", model_id)
        )
    return CatalogContent(checked_providers, checked_models)


def _checked(
    kind: type[_T],
    document: dict[str, Any],
    label: str,
    origins: dict[tuple[str, ...], str],
    origin: tuple[str, ...],
) -> _T:
    try:
        return kind.model_validate(document)
    except ValidationError as exc:
        files = sorted({name for key, name in origins.items() if key[: len(origin)] == origin})
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(entry)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"{label} (from {', '.join(files)}): {problems}") from exc


def _key(file: CatalogFile, entry: object, key: str, what: str) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get(key), str):
        raise ConfigurationError(f"{file.name}: every {what} entry needs a string '{key}'")
    return entry[key]


def _removes(file: CatalogFile, entry: dict[str, Any], what: str) -> bool:
    if "remove" not in entry:
        return False
    if entry["remove"] is not True:
        raise ConfigurationError(f"{file.name}: {what}: 'remove' must be true")
    return True


def _require_override(file: CatalogFile, overrides: bool, what: str) -> None:
    if not overrides:
        raise ConfigurationError(f"{file.name}: only a user catalog file can remove {what}")
