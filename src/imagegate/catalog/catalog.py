"""One immutable, indexed view of the catalog as the gateway can serve it now.

Built once at start (and on reload) from the merged catalog files and the set of configured
providers; every listing surface and the router read the same snapshot. Each model has two
views: the routable one (only endpoints whose provider is configured) that listings show by
default, and the full one that `include_unavailable` shows.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import orjson

from imagegate.catalog.descriptors import CapabilityDescriptor, union
from imagegate.catalog.files import CatalogContent
from imagegate.catalog.gateway_capabilities import published_parameters
from imagegate.catalog.lifecycle import is_retired, retirement, today
from imagegate.catalog.price_range import price_range
from imagegate.catalog.schema import Endpoint, Model, ProviderInfo
from imagegate.errors import ConfigurationError, GatewayError, NotFound


@dataclass(frozen=True, slots=True)
class EndpointView:
    endpoint: Endpoint
    provider: ProviderInfo
    parameters: dict[str, CapabilityDescriptor]  # published: native plus the gateway's own
    available: bool
    price_min: Decimal
    price_max: Decimal
    parameter_names: frozenset[str]  # for filtering without building sets per query
    max_prompt_length: int  # the endpoint's own, or the gateway's default


@dataclass(frozen=True, slots=True)
class ModelView:
    model: Model
    endpoints: tuple[EndpointView, ...]
    available: bool
    supported_parameters: dict[str, CapabilityDescriptor]
    supports_streaming: bool
    price_min: Decimal
    price_max: Decimal
    search_text: str
    output_modalities: frozenset[str]
    input_modalities: frozenset[str]

    @property
    def provider_slugs(self) -> tuple[str, ...]:
        return tuple(view.provider.slug for view in self.endpoints)


DEFAULT_MAX_PROMPT_LENGTH = 32_000


class Catalog:
    def __init__(
        self,
        content: CatalogContent,
        configured: frozenset[str],
        max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
    ) -> None:
        self.providers: Mapping[str, ProviderInfo] = content.providers
        self.models: Mapping[str, Model] = content.models
        self.configured = configured
        self.max_prompt_length = max_prompt_length
        self._aliases = _alias_index(content.models)
        self._lower = {model_id.lower(): model_id for model_id in content.models}
        self._bare = _bare_index(content.models)
        self._full: dict[str, ModelView] = {}
        self._endpoint_views: dict[str, tuple[EndpointView, ...]] = {}
        for model in content.models.values():
            endpoints = tuple(self._endpoint_view(endpoint) for endpoint in model.endpoints)
            self._endpoint_views[model.id] = endpoints
            self._full[model.id] = _model_view(model, endpoints)
        self._routable: tuple[dt.date, dict[str, ModelView]] | None = None

    def views(self, include_unavailable: bool) -> tuple[ModelView, ...]:
        """Every model (`include_unavailable`), or those that can be routed today: one of their
        providers configured, and neither the model nor that endpoint retired."""
        if include_unavailable:
            return tuple(self._full.values())
        return tuple(self._routable_today().values())

    def view(self, model_id: str, include_unavailable: bool) -> ModelView | None:
        if include_unavailable:
            return self._full.get(model_id)
        return self._routable_today().get(model_id)

    def _routable_today(self) -> dict[str, ModelView]:
        """Rebuilt once a day, since a day can retire a model or an endpoint."""
        now = today()
        if self._routable is None or self._routable[0] != now:
            routable: dict[str, ModelView] = {}
            for model in self.models.values():
                if retirement(model, now) is not None:
                    continue
                served = tuple(
                    view
                    for view in self._endpoint_views[model.id]
                    if view.available and not is_retired(view.endpoint, now)
                )
                if served:
                    routable[model.id] = _model_view(model, served)
            self._routable = (now, routable)
        return self._routable[1]

    def resolve(self, name: str) -> Model | None:
        """A model by id, alias, or bare name (the id without its maker: `gpt-image-1`,
        `flux.2-pro`, as vendors' own clients send them) when only one model has it; all
        case-insensitive."""
        model = self.models.get(name)
        if model is not None:
            return model
        folded = name.lower()
        model_id = self._lower.get(folded) or self._aliases.get(folded)
        if model_id is None:
            owners = self._bare.get(folded, ())
            model_id = owners[0] if len(owners) == 1 else None
        return self.models[model_id] if model_id else None

    def suggestions(self, name: str, limit: int = 3) -> list[str]:
        """The ids closest to a name that is not in the catalog (for "did you mean")."""
        folded = name.lower()
        bare = folded.rsplit("/", 1)[-1]
        if len(self._bare.get(bare, ())) > 1:  # an ambiguous bare name: every model with it
            return list(self._bare[bare])[:limit]
        candidates = {**self._lower, **self._aliases}
        close = difflib.get_close_matches(folded, candidates, n=limit * 2, cutoff=0.6)
        close += difflib.get_close_matches(bare, self._bare, n=limit, cutoff=0.6)
        found = [candidates.get(c) or self._bare[c][0] for c in close]
        return list(dict.fromkeys(found))[:limit]

    def unknown_model(
        self, name: str, param: str = "model", error: type[GatewayError] = NotFound
    ) -> GatewayError:
        """The error (a 404, or for a fallback model a 400) for a model name the catalog does
        not know, naming the closest ids."""
        close = self.suggestions(name)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        what = "model" if param == "model" else "fallback model"
        return error(
            f"{what} '{name}' is not in the catalog{hint}",
            param=param,
            metadata={"suggestions": close} if close else {},
        )

    def routable_endpoints(self, model: Model) -> tuple[Endpoint, ...]:
        now = today()
        if retirement(model, now) is not None:
            return ()
        return tuple(
            e for e in model.endpoints if e.provider in self.configured and not is_retired(e, now)
        )

    @cached_property
    def provider_names(self) -> dict[str, str]:
        """Every provider's slug and name, lower-cased, to its slug."""
        names = {slug.lower(): slug for slug in self.providers}
        names.update({info.name.lower(): slug for slug, info in self.providers.items()})
        return names

    @property
    def version(self) -> str:
        """Changes whenever anything a listing shows could change: the catalog, and the day
        (a model retires at the start of its day)."""
        return f"{self._digest}-{today():%Y%m%d}"

    @cached_property
    def _digest(self) -> str:
        digest = hashlib.blake2b(digest_size=12)
        for model in sorted(self.models.values(), key=lambda m: m.id):
            digest.update(model.model_dump_json().encode())
        for slug in sorted(self.providers):
            digest.update(self.providers[slug].model_dump_json().encode())
        digest.update(orjson.dumps([sorted(self.configured), self.max_prompt_length]))
        return digest.hexdigest()

    def _endpoint_view(self, endpoint: Endpoint) -> EndpointView:
        low, high = price_range(endpoint)
        parameters = published_parameters(endpoint)
        return EndpointView(
            endpoint=endpoint,
            provider=self.providers[endpoint.provider],
            parameters=parameters,
            available=endpoint.provider in self.configured,
            price_min=low,
            price_max=high,
            parameter_names=frozenset(parameters),
            # never above the gateway's own, which request bodies are held to
            max_prompt_length=min(
                endpoint.max_prompt_length or self.max_prompt_length, self.max_prompt_length
            ),
        )


def _model_view(model: Model, endpoints: tuple[EndpointView, ...]) -> ModelView:
    parameters: dict[str, CapabilityDescriptor] = {}
    for view in endpoints:
        for name, descriptor in view.parameters.items():
            known = parameters.get(name)
            parameters[name] = descriptor if known is None else union(known, descriptor)
    search = " ".join((model.id, model.name, *model.aliases)).lower()
    return ModelView(
        model=model,
        endpoints=endpoints,
        available=any(view.available for view in endpoints),
        supported_parameters=dict(sorted(parameters.items())),
        supports_streaming=any(view.endpoint.supports_streaming for view in endpoints),
        price_min=min(view.price_min for view in endpoints),
        price_max=max(view.price_max for view in endpoints),
        search_text=search,
        output_modalities=frozenset(model.output_modalities),
        input_modalities=frozenset(model.input_modalities),
    )


def _bare_index(models: Mapping[str, Model]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for model_id in sorted(models):
        index.setdefault(model_id.lower().rsplit("/", 1)[-1], []).append(model_id)
    return {bare: tuple(ids) for bare, ids in index.items()}


def _alias_index(models: Mapping[str, Model]) -> dict[str, str]:
    index: dict[str, str] = {}
    for model in models.values():
        for alias in model.aliases:
            owner = index.setdefault(alias.lower(), model.id)
            if owner != model.id or (alias in models and alias != model.id):
                other = owner if owner != model.id else alias
                raise ConfigurationError(f"alias {alias!r} names both {other} and {model.id}")
    return index
