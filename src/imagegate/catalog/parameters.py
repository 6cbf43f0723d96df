"""The normalised request parameters an endpoint can publish, and the descriptor type of each.

Every surface translates its own wire names to these; every provider translates these to its
own. Fixing one descriptor type per name keeps a model's union of endpoint descriptors well
defined and lets validation know whether a value is an integer, a number or a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DescriptorType = Literal["enum", "range", "boolean"]
ValueType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    descriptor: DescriptorType
    value: ValueType
    summary: str
    # other descriptor types it may take (a video's duration: an enum of lengths or a range)
    also: tuple[DescriptorType, ...] = ()
    # False for a flag whose "off" is not every provider's default (audio, which Veo 3 makes
    # unless told not to, and which sets the price): False is then sent, not left out
    off_is_default: bool = True

    @property
    def descriptors(self) -> tuple[DescriptorType, ...]:
        return (self.descriptor, *self.also)


_PARAMETERS = (
    Parameter("n", "range", "integer", "number of images to generate"),
    Parameter("aspect_ratio", "enum", "string", "output aspect ratio, e.g. 16:9"),
    Parameter("resolution", "enum", "string", "output resolution tier: 512, 1K, 2K or 4K"),
    Parameter("size", "enum", "string", "output size as WxH or a provider tier such as auto"),
    Parameter("width", "range", "integer", "output width in pixels (free sizes)"),
    Parameter("height", "range", "integer", "output height in pixels (free sizes)"),
    Parameter("quality", "enum", "string", "quality tier"),
    Parameter("output_format", "enum", "string", "image format returned to the client"),
    Parameter("output_compression", "range", "integer", "jpeg/webp compression, 0-100"),
    Parameter("background", "enum", "string", "transparent, opaque or auto background"),
    Parameter("seed", "range", "integer", "seed for reproducible output"),
    Parameter("input_references", "range", "integer", "how many reference images it accepts"),
    Parameter("mask", "boolean", "boolean", "accepts an inpainting mask"),
    Parameter("negative_prompt", "boolean", "string", "accepts a negative prompt"),
    Parameter("steps", "range", "integer", "diffusion steps"),
    Parameter("guidance", "range", "number", "guidance scale"),
    Parameter("strength", "range", "number", "how far an image-to-image result departs"),
    Parameter("style", "enum", "string", "provider style preset"),
    Parameter("safety_tolerance", "range", "integer", "moderation strictness (BFL: 0 strict)"),
    Parameter("prompt_upsampling", "boolean", "boolean", "let the provider rewrite the prompt"),
    Parameter("moderation", "enum", "string", "moderation level (OpenAI)"),
    Parameter("input_fidelity", "enum", "string", "how closely edits keep input details"),
    Parameter("raw", "boolean", "boolean", "less processed, more natural look (FLUX ultra)"),
    Parameter("watermark", "boolean", "boolean", "add the provider's watermark"),
    Parameter("partial_images", "range", "integer", "partial images sent while streaming"),
    # video
    Parameter("duration", "enum", "integer", "video length in seconds", also=("range",)),
    Parameter("fps", "enum", "integer", "video frames per second", also=("range",)),
    Parameter(
        "generate_audio", "boolean", "boolean", "generate an audio track", off_is_default=False
    ),
    Parameter("first_frame", "boolean", "boolean", "accepts an image as the first frame"),
    Parameter("last_frame", "boolean", "boolean", "accepts an image as the last frame"),
)

PARAMETERS: dict[str, Parameter] = {p.name: p for p in _PARAMETERS}
