"""Merging a sync into the user's catalog file without clobbering what the user wrote.

Sync writes only fields: an endpoint's `pricing` and `pricing_source`, its `parameters` and
`native_names`, a new endpoint's or model's fields, and `"remove": true`. Beside the file it
keeps `<file>.sync.json`, a digest of every field it wrote. A field is sync's to change while
it still holds what sync wrote; a field the user added or edited (its digest differs, or it has
none) is kept as it is and reported. An entry is removed only when every field in it is still
sync's. Everything else in the file (the user's providers, models and fields) is left alone.
Without the state file (lost, or a file written by hand) every field counts as the user's.

The merged file is checked the way the gateway loads it (bundled files, then this one) before
it is written; it is written atomically (a temporary file renamed over it), so a running
gateway never reads half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from imagegate.catalog import files
from imagegate.catalog.sync.diff import SyncPlan, Where

_IDENTITY = ("id", "provider", "endpoints")


def state_path(path: Path) -> Path:
    return path.with_name(path.name + ".sync.json")


@dataclass(slots=True)
class Merged:
    document: dict[str, Any]
    stamps: dict[str, str]  # field key -> digest of the value sync wrote
    kept: list[str] = field(default_factory=list)  # the user's edits sync did not overwrite


def read(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The user file's document (empty when there is none) and sync's stamps for it."""
    document: dict[str, Any] = {}
    if path.exists():
        document = dict(files.read_file(path).document)
    stamps: dict[str, str] = {}
    try:
        state = orjson.loads(state_path(path).read_bytes())
        if isinstance(state, dict) and isinstance(state.get("fields"), dict):
            stamps = {k: v for k, v in state["fields"].items() if isinstance(v, str)}
    except (OSError, orjson.JSONDecodeError):
        pass
    return document, stamps


def merge(document: dict[str, Any], stamps: dict[str, str], plan: SyncPlan) -> Merged:
    merged = Merged(orjson.loads(orjson.dumps(document)), dict(stamps))
    writer = _Writer(merged)
    for new in plan.new:
        writer.add(new.where, new.endpoint, new.model)
    for price in plan.prices:
        if writer.set(price.where, "pricing", price.after):
            writer.set(price.where, "pricing_source", price.pricing_source)
    for change in plan.parameters:
        if writer.set(change.where, "parameters", change.parameters) and change.native_names:
            writer.set(change.where, "native_names", change.native_names)
    for removal in plan.removals:
        writer.remove(removal.where, removal.whole_model)
    return merged


def check(path: Path, document: dict[str, Any]) -> None:
    """Raises `ConfigurationError` if the gateway could not load the file."""
    files.load(
        [
            files.Layer(files.bundled_files(), overrides=False),
            files.Layer((files.CatalogFile(str(path), document),), overrides=True),
        ]
    )


def write(path: Path, merged: Merged) -> None:
    check(path, merged.document)
    _replace(path, orjson.dumps(merged.document, option=orjson.OPT_INDENT_2) + b"\n")
    state = {"written_by": "imagegate catalog sync", "fields": dict(sorted(merged.stamps.items()))}
    _replace(state_path(path), orjson.dumps(state, option=orjson.OPT_INDENT_2) + b"\n")


def _replace(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def digest(value: Any) -> str:
    return hashlib.blake2b(
        orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=12
    ).hexdigest()


class _Writer:
    def __init__(self, merged: Merged) -> None:
        self.merged = merged

    # -- operations -------------------------------------------------------------------

    def add(self, where: Where, endpoint: dict[str, Any], model: dict[str, Any] | None) -> None:
        model_entry = self._model(where.model_id)
        if model is not None and not self._revive(model_entry, _key(where.model_id), where):
            return
        for name, value in (model or {}).items():
            if name != "id":
                self._set_field(model_entry, _key(where.model_id, "", name), name, value, where)
        entry = self._endpoint(model_entry, where.provider)
        if not self._revive(entry, _key(where.model_id, where.provider), where):
            return
        for name, value in endpoint.items():
            if name != "provider":
                self._set_field(
                    entry, _key(where.model_id, where.provider, name), name, value, where
                )

    def set(self, where: Where, name: str, value: Any) -> bool:
        entry = self._endpoint(self._model(where.model_id), where.provider)
        return self._set_field(
            entry, _key(where.model_id, where.provider, name), name, value, where
        )

    def remove(self, where: Where, whole_model: bool) -> None:
        model_entry = self._model(where.model_id)
        if whole_model:
            if not self._owned(model_entry, _key(where.model_id), endpoints=True):
                self.merged.kept.append(f"{where.model_id}: not removed, it holds your own edits")
                return
            self._forget(f"{where.model_id}\t")
            model_entry.clear()
            model_entry.update({"id": where.model_id, "remove": True})
            self.merged.stamps[_key(where.model_id, "", "remove")] = digest(True)
            return
        entry = self._endpoint(model_entry, where.provider)
        prefix = _key(where.model_id, where.provider)
        if not self._owned(entry, prefix):
            self.merged.kept.append(f"{where}: not removed, it holds your own edits")
            return
        self._forget(prefix + "\t")
        entry.clear()
        entry.update({"provider": where.provider, "remove": True})
        self.merged.stamps[f"{prefix}\tremove"] = digest(True)

    # -- entries and fields -------------------------------------------------------------

    def _model(self, model_id: str) -> dict[str, Any]:
        models = self.merged.document.setdefault("models", [])
        for entry in reversed(models):  # a later entry overrides an earlier one
            if isinstance(entry, dict) and entry.get("id") == model_id:
                return entry
        entry = {"id": model_id}
        models.append(entry)
        return entry

    def _endpoint(self, model_entry: dict[str, Any], provider: str) -> dict[str, Any]:
        endpoints = model_entry.setdefault("endpoints", [])
        for entry in reversed(endpoints):
            if isinstance(entry, dict) and entry.get("provider") == provider:
                return entry
        entry = {"provider": provider}
        endpoints.append(entry)
        return entry

    def _set_field(
        self, entry: dict[str, Any], key: str, name: str, value: Any, where: Where
    ) -> bool:
        stamps = self.merged.stamps
        if name in entry and stamps.get(key) != digest(entry[name]):  # the user's own
            if entry[name] != value:
                self.merged.kept.append(f"{where}: kept your {name} (upstream: {_short(value)})")
                return False
            return True
        entry[name] = value
        stamps[key] = digest(value)
        return True

    def _revive(self, entry: dict[str, Any], prefix: str, where: Where) -> bool:
        """An entry sync had marked removed comes back; one the user removed stays removed."""
        if entry.get("remove") is not True:
            return True
        if self.merged.stamps.get(f"{prefix}\tremove") != digest(True):
            self.merged.kept.append(f"{where}: not added, you removed it")
            return False
        del entry["remove"]
        del self.merged.stamps[f"{prefix}\tremove"]
        return True

    def _owned(self, entry: dict[str, Any], prefix: str, endpoints: bool = False) -> bool:
        """Whether every field of the entry (and of its endpoints) is still what sync wrote."""
        stamps = self.merged.stamps
        for name, value in entry.items():
            if name in _IDENTITY:
                continue
            if stamps.get(f"{prefix}\t{name}") != digest(value):
                return False
        if endpoints:  # a model: its endpoints too
            model_id = prefix.rstrip("\t")
            for endpoint in entry.get("endpoints", []):
                provider = endpoint.get("provider") if isinstance(endpoint, dict) else None
                if provider is None or not self._owned(endpoint, _key(model_id, provider)):
                    return False
        return True

    def _forget(self, prefix: str) -> None:
        for key in [k for k in self.merged.stamps if k.startswith(prefix)]:
            del self.merged.stamps[key]


def _key(model_id: str, provider: str | None = None, name: str | None = None) -> str:
    """Stamp keys: `model\\tprovider\\tfield` (provider empty for a model's own fields); with
    fewer parts, the prefix of an entry's keys."""
    if provider is None:
        return f"{model_id}\t"
    return f"{model_id}\t{provider}" if name is None else f"{model_id}\t{provider}\t{name}"


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 120 else text[:117] + "..."
