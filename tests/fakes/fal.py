"""fal.ai's queue API, as provider-contracts.md §4 describes it.

- `POST /{model_id}` with `Authorization: Key <key>`; each model takes its own input fields, and
  anything else is a FastAPI 422 (`{"detail": [{loc, msg, type}]}`, `extra_forbidden`), as are
  values outside what the model takes (presets, `{width, height}` limits, aspect ratios,
  `num_images`, steps, guidance, `safety_tolerance` as the strings "1"-"6", styles, formats,
  `image_urls`). Where fal states no pixel limits, the fake holds the catalog's; apps with a
  pixel floor (Seedream 5.0 Lite) scale a preset into it, as fal does, and `auto` sizes are
  the app's own.
- Answers `{request_id, status_url, response_url, cancel_url, queue_position}` with absolute
  URLs back here that drop the model's subpath (`fal-ai/flux/schnell` is polled at
  `/fal-ai/flux/requests/{id}/status`); the status goes `IN_QUEUE` (202), `IN_PROGRESS` (202,
  with logs), then `COMPLETED` (200); `GET response_url` gives the model's own output, with
  `images[].url` served by `/files/...` (real images of the size asked).
- Faults: the generic ones, plus `empty` (no images), `moderated` (`has_nsfw_concepts` all
  true and the images blacked out; a 422 `content_policy_violation` for models without the
  flags), `request_moderated` (a 422 `content_policy_violation` from `response_url`), `expired`
  (image URLs answer 404), `failed` (`COMPLETED` with `error` and `error_type`) and `stuck`
  (never leaves `IN_PROGRESS`; `PUT cancel_url` is recorded).
- Video apps (`fakes.fal_video`: Veo, LTX-2, Kling, Hailuo, Luma, Pika, Wan) share the queue;
  their result is `{video: {url, content_type, file_name, file_size}}`, the URL serving a real
  MP4 from `/files/{request_id}-0.mp4`. Faults there: the generic ones, `moderated` (the result
  is a 422 `content_policy_violation`), `failed`, `expired` (the MP4 answers 404), `empty` (no
  video) and `stuck`.
- Knobs for tests: `flag_images` (indices reported in `has_nsfw_concepts`), `omit_urls` (a
  submit answer with only `request_id`, so the client must build the URLs), `polling_base` /
  `files_base` (the queue URLs / the image URLs on another host).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture
from fakes.fal_video import VIDEO_APPS, VideoInvalid, VideoPlan, mp4, plan_video, video_output

PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
GEMINI_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
IMAGEN_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1408, 768),
    "9:16": (768, 1408),
    "4:3": (1280, 896),
    "3:4": (896, 1280),
}
FLUX = {
    "prompt",
    "image_size",
    "seed",
    "sync_mode",
    "num_images",
    "enable_safety_checker",
    "output_format",
}
IMAGEN = {"prompt", "negative_prompt", "aspect_ratio", "num_images", "seed"}
NANO = {"prompt", "num_images", "output_format", "sync_mode", "aspect_ratio", "limit_generations"}
FORMATS = ("jpeg", "png")
TOLERANCES = ("1", "2", "3", "4", "5", "6")
HIDREAM = {
    "prompt",
    "negative_prompt",
    "image_size",
    "num_images",
    "num_inference_steps",
    "seed",
    "output_format",
    "enable_safety_checker",
    "sync_mode",
}
FLUX2_DEV = FLUX | {"guidance_scale", "enable_prompt_expansion"}
FLUX2_BFL = (FLUX - {"num_images"}) | {"safety_tolerance"}
MAI = {"prompt", "num_images", "aspect_ratio", "output_format", "sync_mode"}
MAI_SIZES = {  # MAI returns one fixed size per ratio; these are ~1 MP stand-ins
    "auto": (1024, 1024),
    "1:1": (1024, 1024),
    "4:3": (1184, 888),
    "3:4": (888, 1184),
    "16:9": (1360, 768),
    "9:16": (768, 1360),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
}
SEEDREAM5 = {"prompt", "image_size", "num_images", "max_images", "enable_safety_checker"}
SEEDREAM5 |= {"sync_mode"}
SEEDREAM5_AUTO = {"auto_2K": (2048, 2048), "auto_3K": (3072, 3072)}
SANA = HIDREAM | {"guidance_scale", "style_name"}
SANA_STYLES = (
    "(No style)",
    "Cinematic",
    "Photographic",
    "Anime",
    "Manga",
    "Digital Art",
    "Pixel art",
    "Fantasy art",
    "Neonpunk",
    "3D Model",
)
IDEOGRAM2_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1312, 736),
    "9:16": (736, 1312),
    "4:3": (1152, 864),
    "3:4": (864, 1152),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
    "16:10": (1280, 800),
    "10:16": (800, 1280),
    "3:1": (1728, 576),
    "1:3": (576, 1728),
}
KREA2_SIZES = {  # Krea 2 makes 1K images; ~1 MP stand-ins per ratio
    "1:1": (1024, 1024),
    "4:3": (1184, 888),
    "3:2": (1248, 832),
    "16:9": (1360, 768),
    "4:5": (912, 1136),
    "2:3": (832, 1248),
    "9:16": (768, 1360),
    "2.35:1": (1568, 672),
}
UNI1_SIZES = {  # Uni-1 makes 2K images (2048 px on the long side)
    "1:1": (2048, 2048),
    "16:9": (2048, 1152),
    "9:16": (1152, 2048),
    "3:2": (2048, 1365),
    "2:3": (1365, 2048),
    "2:1": (2048, 1024),
    "1:2": (1024, 2048),
    "3:1": (2048, 683),
    "1:3": (683, 2048),
}
MODELS: dict[str, dict[str, Any]] = {
    "fal-ai/flux/schnell": {
        "fields": FLUX | {"num_inference_steps", "guidance_scale", "acceleration"},
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "steps": (1, 12),
        "guidance": (1, 20),
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/flux-pro/v1.1": {
        "fields": FLUX | {"safety_tolerance", "enhance_prompt"},
        "default": "landscape_4_3",
        "sides": (256, 1440, 32),
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/flux-pro/v1.1-ultra": {
        "fields": (FLUX - {"image_size"})
        | {"aspect_ratio", "raw", "safety_tolerance", "enhance_prompt", "image_url"}
        | {"image_prompt_strength"},
        "ratios": "any",
        "default": "16:9",
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/imagen4/preview": {
        "fields": IMAGEN | {"resolution"},
        "ratios": IMAGEN_SIZES,
        "default": "1:1",
        "resolutions": {"1K": 1, "2K": 2},
        "format": "png",
        "output": "seed",
    },
    "fal-ai/imagen4/preview/ultra": {
        "fields": IMAGEN | {"resolution"},
        "ratios": IMAGEN_SIZES,
        "default": "1:1",
        "resolutions": {"1K": 1, "2K": 2},
        "format": "png",
        "output": "seed",
    },
    "fal-ai/imagen4/preview/fast": {
        "fields": IMAGEN,
        "ratios": IMAGEN_SIZES,
        "default": "1:1",
        "format": "png",
        "output": "seed",
    },
    "fal-ai/nano-banana": {
        "fields": NANO,
        "ratios": GEMINI_SIZES,
        "default": "1:1",
        "formats": ("jpeg", "png", "webp"),
        "output": "description",
    },
    "fal-ai/nano-banana/edit": {
        "fields": NANO | {"image_urls"},
        "ratios": {**GEMINI_SIZES, "auto": (1024, 1024)},
        "default": "auto",
        "formats": ("jpeg", "png", "webp"),
        "references": (1, 10),
        "output": "description",
    },
    "fal-ai/qwen-image": {
        "fields": FLUX
        | {"num_inference_steps", "guidance_scale", "negative_prompt", "acceleration"}
        | {"loras", "use_turbo"},
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "steps": (2, 250),
        "guidance": (0, 20),
        "formats": FORMATS,
        "format": "png",
        "output": "flux",
    },
    "fal-ai/ideogram/v3": {
        "fields": {
            "prompt",
            "image_size",
            "image_urls",
            "rendering_speed",
            "color_palette",
            "style_codes",
            "style",
            "expand_prompt",
            "num_images",
            "seed",
            "sync_mode",
            "negative_prompt",
        },
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "n": 8,
        "styles": {"AUTO", "GENERAL", "REALISTIC", "DESIGN"},
        "references": (0, 8),
        "format": "png",
        "output": "seed",
    },
    "fal-ai/recraft/v3/text-to-image": {
        "fields": {"prompt", "image_size", "style", "colors", "style_id", "enable_safety_checker"},
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "styles": {
            "any",
            "realistic_image",
            "digital_illustration",
            "realistic_image/b_and_w",
            "digital_illustration/pixel_art",
        },
        "format": "webp",
        "output": "plain",
    },
    "fal-ai/z-image/turbo": {
        "fields": FLUX | {"num_inference_steps", "acceleration", "enable_prompt_expansion"},
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "steps": (1, 8),
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "output": "flux",
    },
    "fal-ai/bytedance/seedream/v3/text-to-image": {
        "fields": {
            "prompt",
            "image_size",
            "guidance_scale",
            "num_images",
            "seed",
            "enable_safety_checker",
            "sync_mode",
        },
        "default": "square_hd",
        "sides": (512, 2048, 1),
        "guidance": (1, 10),
        "format": "png",
        "output": "seed",
    },
    # HiDream-I1 (fal-ai/hidream-i1-*): image_size presets or {width, height}
    "fal-ai/hidream-i1-dev": {
        "fields": HIDREAM,
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/hidream-i1-fast": {
        "fields": HIDREAM,
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/hidream-i1-full": {
        "fields": HIDREAM | {"guidance_scale", "loras"},
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "formats": FORMATS,
        "output": "flux",
    },
    # fal's FLUX.2 [dev] distillations: 512-2048 px sides, and an /edit app taking image_urls
    "fal-ai/flux-2/turbo": {
        "fields": FLUX2_DEV,
        "default": "landscape_4_3",
        "sides": (512, 2048, 1),
        "guidance": (0, 20),
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "output": "flux",
    },
    "fal-ai/flux-2/turbo/edit": {
        "fields": FLUX2_DEV | {"image_urls"},
        "default": "square_hd",
        "sides": (512, 2048, 1),
        "guidance": (0, 20),
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "references": (1, 4),
        "output": "flux",
    },
    "fal-ai/flux-2/flash": {
        "fields": FLUX2_DEV,
        "default": "landscape_4_3",
        "sides": (512, 2048, 1),
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "output": "flux",
    },
    "fal-ai/flux-2/flash/edit": {
        "fields": FLUX2_DEV | {"image_urls"},
        "default": "square_hd",
        "sides": (512, 2048, 1),
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "references": (1, 4),
        "output": "flux",
    },
    # BFL's FLUX.2 [flex] and [max] on fal: no num_images, safety_tolerance "1"-"5"
    "fal-ai/flux-2-flex": {
        "fields": FLUX2_BFL | {"num_inference_steps", "guidance_scale", "enable_prompt_expansion"},
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "tolerances": TOLERANCES[:5],
        "formats": FORMATS,
        "output": "seed",
    },
    "fal-ai/flux-2-flex/edit": {
        "fields": FLUX2_BFL
        | {"num_inference_steps", "guidance_scale", "enable_prompt_expansion", "image_urls"},
        "default": "auto",
        "auto": {"auto": (1024, 1024)},
        "sides": (256, 2048, 1),
        "tolerances": TOLERANCES[:5],
        "formats": FORMATS,
        "references": (1, 10),
        "output": "seed",
    },
    "fal-ai/flux-2-max": {
        "fields": FLUX2_BFL,
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "tolerances": TOLERANCES[:5],
        "formats": FORMATS,
        "output": "seed",
    },
    "fal-ai/flux-2-max/edit": {
        "fields": FLUX2_BFL | {"image_urls"},
        "default": "auto",
        "auto": {"auto": (1024, 1024)},
        "sides": (256, 2048, 1),
        "tolerances": TOLERANCES[:5],
        "formats": FORMATS,
        "references": (1, 10),
        "output": "seed",
    },
    "fal-ai/flux-2/klein/9b": {
        "fields": FLUX | {"num_inference_steps"},
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "steps": (4, 8),
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "output": "seed",
    },
    "fal-ai/stable-diffusion-v35-medium": {
        "fields": FLUX | {"negative_prompt", "num_inference_steps", "guidance_scale", "auto_fix"},
        "default": "landscape_4_3",
        "sides": (256, 2048, 1),
        "formats": FORMATS,
        "output": "flux",
    },
    # MAI-Image-2.5: aspect_ratio (or "auto"), a fixed size per ratio
    "microsoft/mai-image-2.5": {
        "fields": MAI,
        "ratios": MAI_SIZES,
        "default": "auto",
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "output": "plain",
    },
    "microsoft/mai-image-2.5/edit": {
        "fields": MAI | {"image_urls"},
        "ratios": MAI_SIZES,
        "default": "auto",
        "formats": ("jpeg", "png", "webp"),
        "format": "png",
        "references": (1, 12),
        "output": "plain",
    },
    # Seedream 5.0 Lite: presets scaled into 2560x1440..3072x3072 pixels, auto_2K by default
    "bytedance/seedream/v5/lite/text-to-image": {
        "fields": SEEDREAM5 | {"return_byteplus_urls"},
        "default": "auto_2K",
        "auto": SEEDREAM5_AUTO,
        "sides": (512, 4096, 1),
        "pixels": (2560 * 1440, 3072 * 3072),
        "n": 6,
        "format": "png",
        "output": "seed",
    },
    "bytedance/seedream/v5/lite/edit": {
        "fields": SEEDREAM5 | {"image_urls"},
        "default": "auto_2K",
        "auto": SEEDREAM5_AUTO,
        "sides": (512, 4096, 1),
        "pixels": (2560 * 1440, 3072 * 3072),
        "n": 6,
        "references": (1, 10),
        "format": "png",
        "output": "seed",
    },
    "fal-ai/recraft/v4.1/text-to-image": {
        "fields": {"prompt", "image_size", "colors", "background_color", "enable_safety_checker"},
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "format": "webp",
        "output": "plain",
    },
    "fal-ai/sana": {
        "fields": SANA,
        "default": "square_hd",
        "sides": (256, 4096, 1),
        "enums": {"style_name": SANA_STYLES},
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/sana/v1.5/4.8b": {
        "fields": SANA,
        "default": "square_hd",
        "sides": (256, 4096, 1),
        "enums": {"style_name": SANA_STYLES},
        "formats": FORMATS,
        "output": "flux",
    },
    "fal-ai/ernie-image": {
        "fields": FLUX
        | {"negative_prompt", "num_inference_steps", "guidance_scale", "acceleration"}
        | {"enable_prompt_expansion"},
        "default": "square_hd",
        "sides": (256, 2048, 1),
        "steps": (1, 100),
        "guidance": (1, 20),
        "formats": FORMATS,
        "output": "seed",
    },
    "fal-ai/ideogram/v2/turbo": {
        "fields": {
            "prompt",
            "aspect_ratio",
            "expand_prompt",
            "seed",
            "style",
            "sync_mode",
            "negative_prompt",
        },
        "ratios": IDEOGRAM2_SIZES,
        "default": "1:1",
        "styles": {"auto", "general", "realistic", "design", "render_3D", "anime"},
        "format": "png",
        "output": "seed",
    },
    # Krea 2 Large and Luma Uni-1: aspect_ratio only, one image a request
    "krea/v2/large/text-to-image": {
        "fields": {"prompt", "aspect_ratio", "creativity", "seed", "image_style_references"}
        | {"moodboards", "styles"},
        "ratios": KREA2_SIZES,
        "default": "1:1",
        "enums": {"creativity": ("raw", "low", "medium", "high")},
        "format": "png",
        "output": "plain",
    },
    "luma/agent/uni-1/v1/text-to-image": {
        "fields": {"prompt", "aspect_ratio", "style", "output_format", "enable_web_search"}
        | {"reference_image_urls"},
        "ratios": UNI1_SIZES,
        "default": "1:1",
        "styles": {"auto", "manga"},
        "formats": ("png", "jpeg"),
        "format": "png",
        "output": "plain",
    },
}
BOOLEANS = {
    "sync_mode",
    "enable_safety_checker",
    "enhance_prompt",
    "raw",
    "expand_prompt",
    "limit_generations",
    "enable_prompt_expansion",
    "use_turbo",
    "auto_fix",
    "return_byteplus_urls",
}
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_REFERENCE = re.compile(r"^(data:image/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+|https?://\S+)$")
_RATIO = re.compile(r"^(\d+):(\d+)$")


class Invalid(Exception):
    def __init__(self, field: str, message: str, kind: str = "value_error") -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind

    def detail(self) -> list[dict[str, Any]]:
        return [{"loc": ["body", self.field], "msg": str(self), "type": self.kind}]


def validate(model: str, body: Any) -> tuple[list[tuple[int, int]], str]:
    """What fal's input model for `model` says about `body`: the sizes of the images it will
    make and their format, or `Invalid` (a 422)."""
    spec = MODELS[model]
    if not isinstance(body, dict):
        raise Invalid("body", "Input should be a valid dictionary", "dict_type")
    for name in body:
        if name not in spec["fields"]:
            raise Invalid(name, "Extra inputs are not permitted", "extra_forbidden")
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise Invalid("prompt", "Field required", "missing")
    for name in BOOLEANS & body.keys():
        if not isinstance(body[name], bool):
            raise Invalid(name, "Input should be a valid boolean", "bool_type")
    for name in ("seed", "num_images", "num_inference_steps"):
        if name in body and (isinstance(body[name], bool) or not isinstance(body[name], int)):
            raise Invalid(name, "Input should be a valid integer", "int_type")
    for name in ("negative_prompt", "style_id"):
        if name in body and not isinstance(body[name], str):
            raise Invalid(name, "Input should be a valid string", "string_type")
    n = body.get("num_images", 1)
    if "num_images" in body and not 1 <= n <= spec.get("n", 4):
        raise Invalid("num_images", f"Input should be between 1 and {spec.get('n', 4)}")
    _in_range(body, "num_inference_steps", spec.get("steps"))
    _in_range(body, "guidance_scale", spec.get("guidance"))
    tolerances = spec.get("tolerances", TOLERANCES)
    if "safety_tolerance" in body and body["safety_tolerance"] not in tolerances:
        raise Invalid("safety_tolerance", f"Input should be one of {list(tolerances)}", "enum")
    for name, allowed in spec.get("enums", {}).items():
        if name in body and body[name] not in allowed:
            raise Invalid(name, f"Input should be one of {list(allowed)}", "enum")
    formats = spec.get("formats", ())
    if "output_format" in body and body["output_format"] not in formats:
        raise Invalid("output_format", f"Input should be {' or '.join(formats)}", "enum")
    if "style" in body and body["style"] not in spec["styles"]:
        raise Invalid("style", f"Input should be one of {sorted(spec['styles'])}", "enum")
    resolutions = spec.get("resolutions", {})
    if "resolution" in body and body["resolution"] not in resolutions:
        raise Invalid("resolution", "Input should be '1K' or '2K'", "enum")
    _references(spec, body)
    size = _size(spec, body)
    fmt = body.get("output_format", spec.get("format", "jpeg"))
    return [size] * n, fmt


def _in_range(body: dict[str, Any], name: str, bounds: tuple[float, float] | None) -> None:
    if name not in body or bounds is None:
        return
    value, (low, high) = body[name], bounds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(name, "Input should be a valid number", "float_type")
    if not low <= value <= high:
        raise Invalid(name, f"Input should be between {low} and {high}")


def _references(spec: dict[str, Any], body: dict[str, Any]) -> None:
    low, high = spec.get("references", (0, 0))
    urls = body.get("image_urls")
    if urls is None:
        if low:
            raise Invalid("image_urls", "Field required", "missing")
        return
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise Invalid("image_urls", "Input should be a valid list of strings", "list_type")
    if not low <= len(urls) <= high or not urls:
        raise Invalid("image_urls", f"List should have between {max(low, 1)} and {high} items")
    for url in urls:
        if not _REFERENCE.match(url):
            raise Invalid("image_urls", "Input should be a valid URL or data URI", "url_parsing")


def _size(spec: dict[str, Any], body: dict[str, Any]) -> tuple[int, int]:
    if "ratios" in spec:
        ratio = body.get("aspect_ratio", spec["default"])
        scale = spec.get("resolutions", {}).get(body.get("resolution", "1K"), 1)
        if spec["ratios"] == "any":
            return _any_ratio(ratio)
        if ratio not in spec["ratios"]:
            raise Invalid("aspect_ratio", f"Input should be one of {list(spec['ratios'])}", "enum")
        width, height = spec["ratios"][ratio]
        return width * scale, height * scale
    size = body.get("image_size", spec["default"])
    if isinstance(size, str) and size in spec.get("auto", {}):
        return spec["auto"][size]
    if "pixels" in spec:  # sizes outside the app's pixel bounds are scaled into them
        return _scaled(_free_size(spec, size), *spec["pixels"])
    return _free_size(spec, size)


def _free_size(spec: dict[str, Any], size: Any) -> tuple[int, int]:
    if isinstance(size, str):
        if size not in PRESETS:
            raise Invalid("image_size", f"Input should be one of {list(PRESETS)}", "enum")
        return PRESETS[size]
    if not isinstance(size, dict) or set(size) != {"width", "height"}:
        raise Invalid("image_size", "Input should be a preset or {width, height}", "model_type")
    low, high, step = spec["sides"]
    for name in ("width", "height"):
        side = size[name]
        if isinstance(side, bool) or not isinstance(side, int) or not low <= side <= high:
            raise Invalid("image_size", f"{name} should be an integer from {low} to {high}")
        if side % step:
            raise Invalid("image_size", f"{name} should be a multiple of {step}")
    return size["width"], size["height"]


def _scaled(size: tuple[int, int], low: int, high: int) -> tuple[int, int]:
    width, height = size
    pixels = width * height
    if low <= pixels <= high:
        return size
    scale = ((low if pixels < low else high) / pixels) ** 0.5
    return round(width * scale), round(height * scale)


def _any_ratio(ratio: Any) -> tuple[int, int]:
    match = _RATIO.match(ratio) if isinstance(ratio, str) else None
    if match is None or not 9 / 21 <= int(match[1]) / max(int(match[2]), 1) <= 21 / 9:
        raise Invalid("aspect_ratio", "Aspect ratio should be between 21:9 and 9:21")
    w, h = int(match[1]), int(match[2])
    scale = (4_000_000 / (w * h)) ** 0.5
    return int(w * scale) // 32 * 32, int(h * scale) // 32 * 32


class FalFake(FakeServer):
    provider = "fal"
    faults = (
        *GENERIC_FAULTS,
        "empty",
        "moderated",
        "request_moderated",
        "expired",
        "failed",
        "stuck",
    )

    def __init__(self) -> None:
        super().__init__()
        self.requests_by_id: dict[str, dict[str, Any]] = {}
        self.flag_images: set[int] = set()
        self.omit_urls = False

    def reset(self) -> None:
        super().reset()
        self.flag_images = set()
        self.omit_urls = False

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{model:.+}", self.submit)
        app.router.add_get("/{owner}/{app}/requests/{request_id}/status", self.status)
        app.router.add_get("/{owner}/{app}/requests/{request_id}", self.result)
        app.router.add_put("/{owner}/{app}/requests/{request_id}/cancel", self.cancel)
        app.router.add_get("/files/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body: dict[str, Any] = {"detail": message}
        headers = {}
        if status >= 500:
            body["error_type"] = extra.get("error_type", "internal_error")
            headers = {"X-Fal-Error-Type": body["error_type"], "X-Fal-Retryable": "true"}
        return web.json_response(body, status=status, headers=headers)

    async def submit(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._auth(request)) is not None:
            return denied
        model = request.match_info["model"]
        if model not in MODELS and model not in VIDEO_APPS:
            return self.error(404, f"Application '{model}' not found")
        video: VideoPlan | None = None
        try:
            if model in VIDEO_APPS:
                video, sizes, fmt = plan_video(model, body), [], "mp4"
            else:
                sizes, fmt = validate(model, body)
        except (Invalid, VideoInvalid) as exc:
            return web.json_response({"detail": exc.detail()}, status=422)
        request_id = str(uuid.uuid4())
        root = "/".join(model.split("/")[:2])
        fault = self.active_fault(request)
        flags = [i in self.flag_images or fault == "moderated" for i in range(len(sizes))]
        self.requests_by_id[request_id] = {
            "model": model,
            "root": root,
            "polls": 0,
            "sizes": sizes,
            "format": fmt,
            "fault": fault,
            "flags": flags,
            "prompt": body["prompt"],
            "seed": body.get("seed", 1234),
            "video": video,
        }
        urls = self._queue_urls(root, request_id)
        answer: dict[str, Any] = {"status": "IN_QUEUE", "request_id": request_id}
        if not self.omit_urls:
            answer |= {**urls, "logs": None, "metrics": {}, "queue_position": 0}
        return web.json_response(answer)

    async def status(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._auth(request)) is not None:
            return denied
        task = self._task(request)
        if task is None:
            return self.error(404, "Request not found")
        task["polls"] += 1
        request_id = request.match_info["request_id"]
        common = {"request_id": request_id, **self._queue_urls(task["root"], request_id)}
        if task["polls"] == 1:
            return web.json_response(
                {**common, "status": "IN_QUEUE", "queue_position": 1}, status=202
            )
        logs = [{"message": "generating", "level": "INFO", "source": "user", "timestamp": "t"}]
        if task["polls"] == 2 or task["fault"] == "stuck":
            return web.json_response({**common, "status": "IN_PROGRESS", "logs": logs}, status=202)
        completed: dict[str, Any] = {
            **common,
            "status": "COMPLETED",
            "logs": logs,
            "metrics": {"inference_time": 0.42},
        }
        if task["fault"] == "failed":
            completed |= {
                "error": "Runner crashed (fault injected)",
                "error_type": "runner_disconnected",
            }
        return web.json_response(completed)

    async def result(self, request: web.Request) -> web.Response:
        self.record_get(request)
        if (denied := self._auth(request)) is not None:
            return denied
        task = self._task(request)
        if task is None:
            return self.error(404, "Request not found")
        if task["polls"] < 3 or task["fault"] == "stuck":
            return self.error(400, "Request is still in progress")
        fault = task["fault"]
        if fault == "failed":
            return self.error(
                503, "Runner crashed (fault injected)", error_type="runner_disconnected"
            )
        output_kind = "video" if task["video"] is not None else MODELS[task["model"]]["output"]
        refusal = fault == "request_moderated" or (fault == "moderated" and output_kind != "flux")
        if refusal:
            detail = [
                {
                    "loc": ["body", "prompt"],
                    "msg": "The content could not be processed because it contained material "
                    "flagged by a content checker.",
                    "type": "content_policy_violation",
                }
            ]
            return web.json_response(
                {"detail": detail}, status=422, headers={"X-Fal-Retryable": "false"}
            )
        request_id = request.match_info["request_id"]
        if task["video"] is not None:
            return web.json_response({} if fault == "empty" else self._video(request_id, task))
        images = [] if fault == "empty" else self._images(request_id, task)
        kind = MODELS[task["model"]]["output"]
        output: dict[str, Any] = {"images": images}
        if kind == "flux":
            output |= {
                "timings": {"inference": 0.42},
                "seed": task["seed"],
                "has_nsfw_concepts": task["flags"][: len(images)],
                "prompt": task["prompt"],
            }
        elif kind == "seed":
            output["seed"] = task["seed"]
        elif kind == "description":
            output["description"] = "Here is your image."
        return web.json_response(output)

    async def cancel(self, request: web.Request) -> web.Response:
        await request.read()
        self.requests.append(self._recorded(request))
        if (denied := self._auth(request)) is not None:
            return denied
        if self._task(request) is None:
            return self.error(404, "Request not found")
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        stem, _, fmt = request.match_info["name"].partition(".")
        request_id, _, index = stem.rpartition("-")
        task = self.requests_by_id.get(request_id)
        if task is None or task["fault"] == "expired" or fmt != task["format"]:
            return web.Response(status=404, text="Not Found")
        if task["video"] is not None:
            return web.Response(body=_mp4(task["video"]), content_type="video/mp4")
        color = (0, 0, 0) if task["flags"][int(index)] else (90, 140, 200)
        return web.Response(
            body=picture(*task["sizes"][int(index)], fmt, color), content_type=MEDIA_TYPES[fmt]
        )

    def _queue_urls(self, root: str, request_id: str) -> dict[str, str]:
        requests = f"{self.polling_root}/{root}/requests/{request_id}"
        return {
            "response_url": requests,
            "status_url": f"{requests}/status",
            "cancel_url": f"{requests}/cancel",
        }

    def _images(self, request_id: str, task: dict[str, Any]) -> list[dict[str, Any]]:
        fmt = task["format"]
        images = []
        for index, (width, height) in enumerate(task["sizes"]):
            image: dict[str, Any] = {
                "url": f"{self.files_root}/files/{request_id}-{index}.{fmt}",
                "content_type": MEDIA_TYPES[fmt],
            }
            if MODELS[task["model"]]["output"] == "flux":
                image |= {"width": width, "height": height}
            else:
                image |= {"file_name": f"output-{index}.{fmt}", "file_size": 1000}
            images.append(image)
        return images

    def _video(self, request_id: str, task: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.files_root}/files/{request_id}-0.mp4"
        return video_output(task["video"], url, len(_mp4(task["video"])))

    def _task(self, request: web.Request) -> dict[str, Any] | None:
        task = self.requests_by_id.get(request.match_info["request_id"])
        owner_app = f"{request.match_info['owner']}/{request.match_info['app']}"
        return task if task is not None and task["root"] == owner_app else None

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not re.fullmatch(r"Key \S+", header):
            return self.error(401, "No valid credentials were provided (use 'Authorization: Key')")
        return None


def _mp4(plan: VideoPlan) -> bytes:
    return mp4(plan.width, plan.height, plan.seconds, plan.fps, plan.audio)
