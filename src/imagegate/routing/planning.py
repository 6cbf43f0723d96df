"""From a request to its plan: the model it names (with a `:floor`/`:nitro` variant read as a
sort), what it asks the model to make, its fallback models, and the candidate endpoints, each
validated, in the order they will be tried."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from imagegate.catalog.catalog import Catalog
from imagegate.catalog.lifecycle import Retirement, retirement
from imagegate.catalog.schema import Model
from imagegate.core.normalize import normalize
from imagegate.core.request import ImageRequest
from imagegate.core.validate import PreparedCall
from imagegate.errors import Gone, InvalidRequest
from imagegate.routing.candidates import candidates, provider_slugs
from imagegate.routing.variants import VARIANTS, split_variant

OUTPUT_MODALITIES = ("image", "text", "video", "audio")
VIDEO_ROUTES = "POST /api/v1/videos, /v1/videos or /v1/openai/videos/generations"


@dataclass(frozen=True, slots=True)
class Target:
    """The model a request names, and the sort its variant asks for."""

    model: Model
    sort: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    model: Model  # the model asked for (fallback models may serve it)
    request: ImageRequest  # as routing reads it: slugs for provider names, the variant's sort
    calls: tuple[PreparedCall, ...]  # the candidates, in the order they will be tried

    @property
    def estimate(self) -> Decimal:
        """The dearest candidate's estimate: what a USD limit must hold."""
        return max(call.estimate for call in self.calls)


def resolve(catalog: Catalog, name: str) -> Target:
    """A 404 naming the closest ids when the catalog has no such model."""
    base, variant = split_variant(name, catalog)
    model = catalog.resolve(base)
    if model is None:
        raise catalog.unknown_model(name)
    gone = retirement(model)
    if gone is not None:
        raise retired(model, gone)
    return Target(model, VARIANTS[variant] if variant is not None else None)


def retired(model: Model, gone: Retirement, param: str = "model") -> Gone:
    """The 410 for a model its provider has retired, naming what it says to use instead."""
    instead = f"; use {gone.successor}" if gone.successor else ""
    return Gone(
        f"{model.id} was retired by its provider on {gone.on}{instead}",
        param=param,
        metadata={
            "retired_on": str(gone.on),
            **({"successor": gone.successor} if gone.successor else {}),
        },
    )


def plan(catalog: Catalog, request: ImageRequest, target: Target) -> Plan:
    model = target.model
    routing = provider_slugs(catalog, request.routing)
    if target.sort is not None:
        routing = replace(routing, sort=target.sort)
    wanted = _wanted_modalities(model, request)
    frames = request.first_frame is not None or request.last_frame is not None
    if (request.references or request.mask or frames) and "image" not in model.input_modalities:
        raise InvalidRequest(
            f"model {model.id} does not take input images", param="input_references"
        )
    request = replace(
        request, routing=routing, parameters=normalize(request.parameters), modalities=wanted
    )
    fallbacks = [_fallback(catalog, name) for name in request.fallback_models]
    usable = [m for m in fallbacks if _can_serve(m, request)]
    return Plan(model, request, tuple(candidates(catalog, [model, *usable], request)))


def _wanted_modalities(model: Model, request: ImageRequest) -> frozenset[str]:
    """What the request will get. A video model makes video only for a request that asks for
    video (the video routes do), and an image model never does: each is a clear 400 naming
    the routes to use instead."""
    asked = request.modalities
    if model.makes_video:
        if asked is None or "video" not in asked:
            raise InvalidRequest(
                f"{model.id} is a video model; generate with {VIDEO_ROUTES}",
                param="model",
            )
        return frozenset(model.output_modalities)
    if asked is not None and "video" in asked:
        raise InvalidRequest(
            f"{model.id} is an image model; use the image generation endpoint",
            param="model",
        )
    wanted = asked if asked is not None else frozenset(model.output_modalities)
    unknown = sorted(wanted - set(OUTPUT_MODALITIES))
    if unknown:
        raise InvalidRequest(
            f"unknown output modalities {', '.join(unknown)}; image models make image and text",
            param="modalities",
        )
    if "image" not in wanted:
        raise InvalidRequest(
            f"model {model.id} makes {' and '.join(model.output_modalities)}; ask for "
            f'modalities {list(model.output_modalities)} (or just ["image"])',
            param="modalities",
        )
    return wanted


def _fallback(catalog: Catalog, name: str) -> Model:
    model = catalog.resolve(name)
    if model is None:
        raise catalog.unknown_model(name, param="models", error=InvalidRequest)
    gone = retirement(model)
    if gone is not None:
        raise retired(model, gone, param="models")
    return model


def _can_serve(model: Model, request: ImageRequest) -> bool:
    takes_images = not (request.references or request.mask) or "image" in model.input_modalities
    video = "video" in (request.modalities or ())
    return model.makes_video == video and takes_images
