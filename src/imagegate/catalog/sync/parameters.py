"""Two ways a listing describes an endpoint's inputs: in the catalog's own descriptors
(OpenRouter), or as a JSON Schema of the upstream's request body (Replicate, fal), read here
into descriptors where a property's type and bounds say exactly what the catalog would."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.sync.offer import MappedParameters
from imagegate.catalog.sync.terms import descriptor

# catalog parameters a schema property can describe by its own type and bounds
SCHEMA_PARAMETERS = frozenset(
    {
        "n",
        "seed",
        "steps",
        "guidance",
        "strength",
        "output_format",
        "output_compression",
        "negative_prompt",
        "aspect_ratio",
        "resolution",
        "size",
        "width",
        "height",
        "quality",
        "style",
        "safety_tolerance",
        "prompt_upsampling",
        "raw",
    }
)


@dataclass(frozen=True, slots=True)
class DescribedParameters:
    """Descriptors already in the catalog's vocabulary, keyed by catalog name."""

    raw: Mapping[str, Any]

    def mapped(self, native_names: Mapping[str, str]) -> MappedParameters:
        parameters: dict[str, dict[str, Any]] = {}
        notes: list[str] = []
        for name, raw in self.raw.items():
            checked, why = descriptor(name, raw)
            if checked is None:
                notes.append(str(why))
            else:
                parameters[name] = checked
        unreadable = frozenset(self.raw) - frozenset(parameters)
        return MappedParameters(parameters, {}, frozenset(PARAMETERS) - unreadable, tuple(notes))


@dataclass(frozen=True, slots=True)
class SchemaParameters:
    """An upstream's JSON Schema for a request body (`properties`), with `$ref`s resolved in
    `document`. `defaults` names each catalog parameter's usual input at this upstream (an
    endpoint's own `native_names` win); `spellings` maps upstream values to the catalog's
    (Replicate's `jpg` is the catalog's `jpeg`); `synthesized` are catalog parameters the
    adapter makes from other inputs (fal's sizes from `image_size`), described only when the
    endpoint names an input for them."""

    properties: Mapping[str, Any]
    document: Mapping[str, Any]
    defaults: Mapping[str, str] = field(default_factory=dict)
    spellings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    synthesized: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset({"prompt"})

    def mapped(self, native_names: Mapping[str, str]) -> MappedParameters:
        names = {**self.defaults, **native_names}  # catalog name -> the upstream's input
        catalog_of = {native: name for name, native in names.items()}
        parameters: dict[str, dict[str, Any]] = {}
        notes: list[str] = []
        unreadable: set[str] = set()
        for native, raw in self.properties.items():
            if native in self.ignored:
                continue
            name = catalog_of.get(native)
            if name is None and native in PARAMETERS and native not in names:
                name = native
            if name is None:
                notes.append(f"input '{native}' has no catalog parameter")
                continue
            checked, why = self._descriptor(name, raw)
            if checked is None:
                notes.append(f"input '{native}': {why}")
                unreadable.add(name)
            else:
                parameters[name] = checked
        covered = {n for n in SCHEMA_PARAMETERS if n not in self.synthesized or n in native_names}
        renamed = {n: names[n] for n in parameters if names.get(n, n) != n}
        return MappedParameters(parameters, renamed, frozenset(covered - unreadable), tuple(notes))

    def _descriptor(self, name: str, raw: Any) -> tuple[dict[str, Any] | None, str | None]:
        schema = self.resolved(raw)
        if schema is None:
            return None, "its schema allows several shapes"
        wanted = PARAMETERS[name].descriptors
        spelled = self.spellings.get(name, {})
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            values = [spelled.get(str(v), str(v)) for v in schema["enum"] if v is not None]
            if "enum" in wanted:
                return descriptor(name, {"type": "enum", "values": list(dict.fromkeys(values))})
            numbers = _contiguous_integers(schema["enum"])
            if "range" in wanted and numbers is not None:
                return descriptor(name, {"type": "range", "min": numbers[0], "max": numbers[1]})
            return None, f"an enum, where the catalog's {name} is a {' or '.join(wanted)}"
        kind = schema.get("type")
        if kind in ("integer", "number"):
            low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
            if "range" in wanted and low is not None and high is not None:
                return descriptor(name, {"type": "range", "min": low, "max": high})
            if "range" in wanted:
                return None, "a number without both bounds"
        if kind == "boolean" and "boolean" in wanted:
            return descriptor(name, {"type": "boolean"})
        if kind == "string" and "boolean" in wanted:
            return descriptor(name, {"type": "boolean"})  # accepted text (a negative prompt)
        return None, f"a {kind or 'value'} the catalog's {name} ({' or '.join(wanted)}) cannot hold"

    def resolved(self, raw: Any, depth: int = 0) -> dict[str, Any] | None:
        """A property's own schema: `$ref`s followed, a lone `allOf` merged, a nullable
        `anyOf` reduced to its one non-null shape; None when several shapes remain."""
        if not isinstance(raw, dict) or depth > 8:
            return None
        schema = dict(raw)
        reference = schema.pop("$ref", None)
        if isinstance(reference, str):
            target = self._lookup(reference)
            if target is None:
                return None
            schema = {**(self.resolved(target, depth + 1) or {}), **schema}
        for combiner in ("allOf", "anyOf", "oneOf"):
            parts = schema.pop(combiner, None)
            if not isinstance(parts, list):
                continue
            shapes = [p for p in parts if not (isinstance(p, dict) and p.get("type") == "null")]
            if len(shapes) != 1:
                return None
            inner = self.resolved(shapes[0], depth + 1)
            if inner is None:
                return None
            schema = {**inner, **schema}
        return schema

    def _lookup(self, reference: str) -> Any:
        if not reference.startswith("#/"):
            return None
        node: Any = self.document
        for part in reference[2:].split("/"):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node


def _bound(schema: dict[str, Any], key: str) -> float | None:
    value = schema.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _contiguous_integers(values: list[Any]) -> tuple[int, int] | None:
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    low, high = min(values), max(values)
    return (low, high) if sorted(values) == list(range(low, high + 1)) else None
