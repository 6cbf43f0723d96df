"""Validating a request against one endpoint, and planning the call to it.

The endpoint's published descriptors (native plus the gateway's own) are the rule:
- a prompt or negative prompt longer than the endpoint's `max_prompt_length` is a 400;
- a value outside an enum or range is a 400 naming the parameter and what is allowed;
- a parameter the endpoint does not support is dropped and reported, or a 400 under
  `provider.require_parameters`; the same goes for passthrough options it does not allow;
- `auto` for an enum parameter the endpoint has no `auto` for means "the default" and is left
  out (not reported: nothing the client wanted is lost);
- a pixel `size` becomes what the endpoint speaks: one of its sizes, a free width and height,
  or the aspect ratio and resolution that produce exactly that size;
- a transparent background needs png or webp (png is chosen when no format is asked for);
- an output format the provider can't produce natively is produced by converting its output.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from imagegate.catalog.catalog import EndpointView
from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.dimensions import parse_size
from imagegate.catalog.parameters import PARAMETERS
from imagegate.catalog.schema import Model
from imagegate.core.estimate import estimate_cost
from imagegate.core.request import ImageRequest
from imagegate.core.sizes import accepted_sizes, accepts_custom_size, sizes_from_ratios
from imagegate.errors import InvalidRequest, UnsupportedParameter
from imagegate.media.images import InputImage

DEFAULT_VIDEO_SECONDS = 8


@dataclass(frozen=True, slots=True)
class PreparedCall:
    model: Model
    view: EndpointView
    accepted: dict[str, Any]  # every accepted parameter, as the record keeps it
    native: dict[str, Any]  # what the provider is sent
    dropped: tuple[str, ...]
    convert_to: str | None  # the gateway re-encodes the output into this format
    compression: int | None  # and applies this compression (jpeg/webp)
    options: dict[str, Any]
    references: tuple[InputImage, ...]
    mask: InputImage | None
    first_frame: InputImage | None = None
    last_frame: InputImage | None = None

    @property
    def provider(self) -> str:
        return self.view.provider.slug

    @property
    def priced(self) -> dict[str, Any]:
        """The accepted parameters with the provider's defaults for those left out: what the
        estimate and the bill are taken from. A video whose length is left to the provider
        and whose endpoint names no default is priced at the longest it offers."""
        defaults = self.view.endpoint.defaults
        priced = {**defaults, **self.accepted} if defaults else self.accepted
        if self.model.makes_video and "duration" not in priced:
            longest = longest_duration(self.view.endpoint.parameters.get("duration"))
            priced = {**priced, "duration": longest}
        return priced

    @property
    def estimate(self) -> Decimal:
        """What this call should cost, from the endpoint's pricing lines: what `max_price` and
        the USD hold compare against."""
        return estimate_cost(self.view.endpoint.pricing, self.priced, self.input_images)

    @property
    def input_images(self) -> int:
        frames = (self.first_frame, self.last_frame)
        return len(self.references) + sum(frame is not None for frame in frames)


def longest_duration(descriptor: object) -> int:
    """The longest video an endpoint's `duration` descriptor offers (8 s when it has none)."""
    if isinstance(descriptor, RangeCapability):
        return int(descriptor.max)
    if isinstance(descriptor, EnumCapability) and (numbers := descriptor.numbers()):
        return int(max(numbers))
    return DEFAULT_VIDEO_SECONDS


def validate(request: ImageRequest, view: EndpointView, model: Model) -> PreparedCall:
    published = view.parameters
    where = f"{model.id} on {view.provider.name}"
    strict = request.routing.require_parameters
    parameters = dict(request.parameters)
    _check_prompt_lengths(request.prompt, parameters.get("negative_prompt"), view, where)
    if request.references:
        parameters["input_references"] = len(request.references)
    if request.mask is not None:
        parameters["mask"] = True
    for frame in ("first_frame", "last_frame"):
        if getattr(request, frame) is not None:
            parameters[frame] = True
    _drop_defaults(parameters, published)
    _translate_size(parameters, published, where)

    accepted: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in parameters.items():
        if value is False and _is_boolean_flag(name):
            continue  # a flag asked to be off is the default everywhere (not audio)
        descriptor = published.get(name)
        if descriptor is None:
            if strict:
                raise UnsupportedParameter(
                    f"{name} is not supported by {where}, and provider.require_parameters is true",
                    param=name,
                )
            dropped.append(name)
            continue
        if not descriptor.allows(value):
            raise InvalidRequest(
                f"{name} {value!r} is not accepted by {where}: allowed {descriptor.describe()}",
                param=name,
                metadata={"allowed": descriptor.model_dump(mode="json")},
            )
        accepted[name] = value

    if accepted.get("background") == "transparent":
        chosen = accepted.setdefault("output_format", "png")
        if chosen not in ("png", "webp"):
            raise InvalidRequest(
                f"background transparent needs output_format png or webp, not {chosen}",
                param="background",
            )

    native_formats = view.endpoint.parameters.get("output_format")
    wanted = accepted.get("output_format")
    convert_to = None
    if wanted is not None and not (
        isinstance(native_formats, EnumCapability) and wanted in native_formats.values
    ):
        convert_to = wanted
    compression = accepted.get("output_compression")
    native_compression = "output_compression" in view.endpoint.parameters and convert_to is None
    native = {
        name: value
        for name, value in accepted.items()
        if name in view.endpoint.parameters
        and not (name == "output_format" and convert_to is not None)
        and not (name == "output_compression" and not native_compression)
    }
    options = _options(request, view, where, strict, dropped)
    return PreparedCall(
        model=model,
        view=view,
        accepted=accepted,
        native=native,
        dropped=tuple(dropped),
        convert_to=convert_to,
        compression=None if native_compression else compression,
        options=options,
        references=request.references if "input_references" in accepted else (),
        mask=request.mask if "mask" in accepted else None,
        first_frame=request.first_frame if "first_frame" in accepted else None,
        last_frame=request.last_frame if "last_frame" in accepted else None,
    )


def _check_prompt_lengths(prompt: str, negative: object, view: EndpointView, where: str) -> None:
    limit = view.max_prompt_length
    for name, text in (("prompt", prompt), ("negative_prompt", negative)):
        if isinstance(text, str) and len(text) > limit:
            raise InvalidRequest(
                f"{name} is {len(text)} characters; {where} takes at most {limit}",
                param=name,
                metadata={"max_prompt_length": limit},
            )


def _is_boolean_flag(name: str) -> bool:
    spec = PARAMETERS.get(name)
    return spec is not None and spec.value == "boolean" and spec.off_is_default


def _drop_defaults(parameters: dict[str, Any], published: dict[str, Any]) -> None:
    for name in [n for n, v in parameters.items() if v == "auto"]:
        descriptor = published.get(name)
        if not (isinstance(descriptor, EnumCapability) and "auto" in descriptor.values):
            del parameters[name]


def _translate_size(parameters: dict[str, Any], published: dict[str, Any], where: str) -> None:
    size = parameters.get("size")
    pixels = parse_size(size) if isinstance(size, str) else None
    if pixels is None:
        return
    explicit = published.get("size")
    if isinstance(explicit, EnumCapability) and size in explicit.values:
        return
    if accepts_custom_size(published):
        width, height = published["width"], published["height"]
        if not (width.allows(pixels[0]) and height.allows(pixels[1])):
            raise InvalidRequest(
                f"size {size} is not accepted by {where}: width {width.describe()}, "
                f"height {height.describe()}",
                param="size",
            )
        del parameters["size"]
        parameters["width"], parameters["height"] = pixels
        return
    if not isinstance(explicit, EnumCapability) and "aspect_ratio" not in published:
        return  # nothing here speaks of sizes: reported as an unsupported parameter
    pair = None if isinstance(explicit, EnumCapability) else sizes_from_ratios(published).get(size)
    if pair is None:
        raise InvalidRequest(
            f"size {size} is not offered by {where}; sizes it accepts: "
            + ", ".join(accepted_sizes(published)),
            param="size",
        )
    del parameters["size"]
    parameters["aspect_ratio"] = pair[0]
    if "resolution" in published:
        parameters["resolution"] = pair[1]


def _options(
    request: ImageRequest, view: EndpointView, where: str, strict: bool, dropped: list[str]
) -> dict[str, Any]:
    given = request.routing.options.get(view.provider.slug, {})
    allowed = set(view.endpoint.passthrough)
    options: dict[str, Any] = {}
    for key, value in given.items():
        if key in allowed:
            options[key] = value
        elif strict:
            raise UnsupportedParameter(
                f"provider option {key} is not allowed by {where} (allowed: "
                f"{', '.join(sorted(allowed)) or 'none'})",
                param=f"provider.options.{view.provider.slug}.{key}",
            )
        else:
            dropped.append(f"provider.options.{view.provider.slug}.{key}")
    return options
