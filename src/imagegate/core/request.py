"""`ImageRequest`: the one internal request every surface translates into, and the request a
library caller writes.

Surfaces pass the catalog's parameters as a `parameters` dict; a Python caller may name them as
keywords (`aspect_ratio="16:9"`), which are folded into that dict, and give reference images as
paths, bytes or PIL images, which become `reference_sources` for the gateway to load and check.
A keyword that is not a catalog parameter is a `TypeError` naming the close ones (and, being
typed `Never`, an error for type checkers too). `dataclasses.replace` builds it again from its
fields, which pass through unchanged.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from os import PathLike
from typing import Any, Never

from PIL import Image

from imagegate.media.given_images import GivenImage, image_source
from imagegate.media.images import InputImage
from imagegate.media.sources import ImageSource


@dataclass(frozen=True, slots=True)
class MaxPrice:
    """A hard cap in USD: per output image, and per request."""

    image: Decimal | None = None
    request: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    """OpenRouter's `provider` object, and `models` fallbacks."""

    order: tuple[str, ...] = ()
    only: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    allow_fallbacks: bool = True
    require_parameters: bool = False
    sort: str | None = None  # price | latency | throughput
    max_price: MaxPrice | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug -> passthrough


@dataclass(frozen=True, slots=True, init=False)
class ImageRequest:
    model: str
    prompt: str
    # Normalised parameters by their catalog names (`aspect_ratio`, `resolution`, `n`, ...).
    parameters: dict[str, Any] = field(default_factory=dict)
    references: tuple[InputImage, ...] = ()
    mask: InputImage | None = None
    # As the client sent them; the gateway loads these (after the generation has its record)
    # and appends them to `references` / sets `mask`.
    reference_sources: tuple[ImageSource, ...] = ()
    mask_source: ImageSource | None = None
    # a video's first and last frames (image-to-video), loaded as `mask` is
    first_frame: InputImage | None = None
    last_frame: InputImage | None = None
    first_frame_source: ImageSource | None = None
    last_frame_source: ImageSource | None = None
    modalities: frozenset[str] | None = None  # wanted outputs; None = what the model makes
    max_text_tokens: int | None = None
    routing: RoutingOptions = field(default_factory=RoutingOptions)
    fallback_models: tuple[str, ...] = ()
    stream: bool = False
    user: str | None = None  # the client's own end user, as OpenAI's `user` field names them
    user_agent: str | None = None  # the client software, as its User-Agent header says

    def __init__(
        self,
        model: str,
        prompt: str,
        parameters: Mapping[str, Any] | None = None,
        references: Iterable[InputImage | GivenImage] = (),
        mask: InputImage | GivenImage | None = None,
        reference_sources: Iterable[ImageSource] = (),
        mask_source: ImageSource | None = None,
        modalities: frozenset[str] | None = None,
        max_text_tokens: int | None = None,
        routing: RoutingOptions | None = None,
        fallback_models: Iterable[str] = (),
        stream: bool = False,
        user: str | None = None,
        user_agent: str | None = None,
        first_frame: InputImage | GivenImage | None = None,
        last_frame: InputImage | GivenImage | None = None,
        first_frame_source: ImageSource | None = None,
        last_frame_source: ImageSource | None = None,
        *,
        # The catalog's parameters (catalog/parameters.py), by name; None: not asked for.
        n: int | None = None,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        size: str | None = None,
        width: int | None = None,
        height: int | None = None,
        quality: str | None = None,
        output_format: str | None = None,
        output_compression: int | None = None,
        background: str | None = None,
        seed: int | None = None,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        strength: float | None = None,
        style: str | None = None,
        safety_tolerance: int | None = None,
        prompt_upsampling: bool | None = None,
        moderation: str | None = None,
        input_fidelity: str | None = None,
        raw: bool | None = None,
        watermark: bool | None = None,
        partial_images: int | None = None,
        duration: int | None = None,
        fps: int | None = None,
        generate_audio: bool | None = None,
        **unknown: Never,
    ) -> None:
        if unknown:
            raise TypeError(_unknown_keywords(unknown))
        given = locals()
        named = {name: value for name in NAMED_PARAMETERS if (value := given[name]) is not None}
        if named or not isinstance(parameters, dict):
            merged = dict(parameters) if parameters is not None else {}
            twice = sorted(named.keys() & merged.keys())
            if twice:
                raise TypeError(f"{', '.join(twice)} given both in parameters and as a keyword")
            merged.update(named)
        else:
            merged = parameters  # as a surface (or `replace`) passes it: kept, not copied
        if isinstance(references, tuple) and all(isinstance(i, InputImage) for i in references):
            held, sources = references, tuple(reference_sources)  # loaded already, or none
        else:
            held, sources = _split_references(references, reference_sources)
        if mask is not None and not isinstance(mask, InputImage):
            if mask_source is not None:
                raise TypeError("mask and mask_source both given")
            mask_source, mask = image_source(mask, "mask"), None
        if first_frame is not None and not isinstance(first_frame, InputImage):
            if first_frame_source is not None:
                raise TypeError("first_frame and first_frame_source both given")
            first_frame_source, first_frame = image_source(first_frame, "first_frame"), None
        if last_frame is not None and not isinstance(last_frame, InputImage):
            if last_frame_source is not None:
                raise TypeError("last_frame and last_frame_source both given")
            last_frame_source, last_frame = image_source(last_frame, "last_frame"), None
        values = {
            "model": model,
            "prompt": prompt,
            "parameters": merged,
            "references": held,
            "mask": mask,
            "reference_sources": sources,
            "mask_source": mask_source,
            "first_frame": first_frame,
            "last_frame": last_frame,
            "first_frame_source": first_frame_source,
            "last_frame_source": last_frame_source,
            "modalities": modalities,
            "max_text_tokens": max_text_tokens,
            "routing": routing if routing is not None else RoutingOptions(),
            "fallback_models": tuple(fallback_models),
            "stream": stream,
            "user": user,
            "user_agent": user_agent,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)


def _split_references(
    references: Iterable[InputImage | GivenImage], reference_sources: Iterable[ImageSource]
) -> tuple[tuple[InputImage, ...], tuple[ImageSource, ...]]:
    """Images loaded already, and the sources of those still to load (the ones given as paths,
    bytes or PIL images after `reference_sources`)."""
    if isinstance(references, InputImage | ImageSource | str | bytes | PathLike | Image.Image):
        references = (references,)  # one image, not an iterable of characters or bytes
    images = list(references)
    held = tuple(image for image in images if isinstance(image, InputImage))
    sources = (
        *reference_sources,
        *(
            image_source(image, f"references[{number}]")
            for number, image in enumerate(images)
            if not isinstance(image, InputImage)
        ),
    )
    return held, sources


# The keyword-only arguments of `ImageRequest`: the catalog's request parameters (not the
# capabilities `input_references`, `mask`, `first_frame` and `last_frame`, which the images
# themselves express).
NAMED_PARAMETERS = tuple(
    parameter.name
    for parameter in inspect.signature(ImageRequest.__init__).parameters.values()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


def _unknown_keywords(unknown: Mapping[str, Any]) -> str:
    known = [*NAMED_PARAMETERS, *(f.name for f in fields(ImageRequest))]
    problems = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        problems.append(f"{name!r}{hint}")
    return (
        f"ImageRequest() got unexpected keyword argument(s) {', '.join(problems)}; "
        f"the parameters are: {', '.join(NAMED_PARAMETERS)}"
    )
