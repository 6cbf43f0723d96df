"""Recraft's image generation API, as provider-contracts.md §7 and Recraft's API reference and
appendix describe it.

- `POST /v1/images/generations`, Bearer auth. Recraft publishes no error body; this fake answers
  `{"code", "message"}` (401 `not_authenticated`, 400 `invalid_request` naming the field).
- Per model the fields it takes (unknown ones are 400s) and its sizes: `size` is a `WxH` from
  the model's list or a `w:h` ratio from its appendix table (each ratio is one of those sizes);
  `n` 1..6; prompts up to 1,000 characters on V3 and 10,000 on V4. V3 takes `style` (`any`,
  `realistic_image`, `digital_illustration`, `vector_illustration`, `icon`, `logo_raster`),
  `substyle` (needs a style), `negative_prompt` and `controls` (`colors`, `background_color`,
  `artistic_level` 0..5, `no_text`); V4 takes no `style`/`substyle` and no `negative_prompt`,
  and `controls` with `colors` and `background_color` only; V4.1 (and Utility, Flash) as V4,
  and the `_pro` models with the appendix's 2K sizes (2048x2048 when none is asked).
- Answers `{created, credits, data: [{image_id, b64_json | url}]}`: real PNGs of the size asked
  (an SVG for vector styles), `credits` = `credits_per_image` API units (40, Recraft's raster
  price; 80 for vector) times the images made. Tests may set `credits_per_image` to tell a
  reported charge from the catalog's price.
- Faults: the generic ones, plus `empty` (no images), `moderated` (400 `content_moderation`)
  and `expired`: the answer carries result URLs (whatever `response_format` asked for,
  standing for Recraft's default URL answer) that answer 404, as a lapsed link does. imagegate
  asks for `b64_json`, so this is how its download path is reached. `url_answers = True`
  answers with working URLs the same way.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, picture

V3_RATIOS = {
    "1:1": "1024x1024",
    "2:1": "2048x1024",
    "1:2": "1024x2048",
    "3:2": "1536x1024",
    "2:3": "1024x1536",
    "4:3": "1365x1024",
    "3:4": "1024x1365",
    "5:4": "1280x1024",
    "4:5": "1024x1280",
    "6:10": "1024x1707",
    "10:6": "1707x1024",
    "14:10": "1434x1024",
    "10:14": "1024x1434",
    "16:9": "1820x1024",
    "9:16": "1024x1820",
}
V4_RATIOS = {
    "1:1": "1024x1024",
    "2:1": "1536x768",
    "1:2": "768x1536",
    "3:2": "1280x832",
    "2:3": "832x1280",
    "4:3": "1216x896",
    "3:4": "896x1216",
    "5:4": "1152x896",
    "4:5": "896x1152",
    "6:10": "832x1344",
    "14:10": "1280x896",
    "10:14": "896x1280",
    "16:9": "1344x768",
    "9:16": "768x1344",
}
V4_PRO_RATIOS = {
    "1:1": "2048x2048",
    "2:1": "3072x1536",
    "1:2": "1536x3072",
    "3:2": "2560x1664",
    "2:3": "1664x2560",
    "4:3": "2432x1792",
    "3:4": "1792x2432",
    "5:4": "2304x1792",
    "4:5": "1792x2304",
    "6:10": "1664x2688",
    "14:10": "2560x1792",
    "10:14": "1792x2560",
    "16:9": "2688x1536",
    "9:16": "1536x2688",
}
COMMON = {"prompt", "model", "size", "n", "response_format", "controls", "style_id", "text_layout"}
MODELS: dict[str, dict[str, Any]] = {
    "recraftv3": {
        "fields": COMMON | {"style", "substyle", "negative_prompt"},
        "ratios": V3_RATIOS,
        "prompt": 1000,
        "controls": {"colors", "background_color", "artistic_level", "no_text"},
    },
    "recraftv4": {
        "fields": COMMON,
        "ratios": V4_RATIOS,
        "prompt": 10000,
        "controls": {"colors", "background_color"},
    },
    # V4.1 and the 2K (`_pro`) models: the appendix's 1K and 2K size lists; Flash takes no styles
    **{
        model: {
            "fields": COMMON,
            "ratios": V4_RATIOS,
            "prompt": 10000,
            "controls": {"colors", "background_color"},
        }
        for model in ("recraftv4_1", "recraftv4_1_utility")
    },
    "recraftv4_1_flash": {
        "fields": COMMON - {"style_id"},
        "ratios": V4_RATIOS,
        "prompt": 10000,
        "controls": set(),
    },
    **{
        model: {
            "fields": COMMON,
            "ratios": V4_PRO_RATIOS,
            "prompt": 10000,
            "controls": {"colors", "background_color"},
            "default": "2048x2048",
        }
        for model in ("recraftv4_pro", "recraftv4_1_pro", "recraftv4_1_utility_pro")
    },
}
STYLES = {
    "any",
    "realistic_image",
    "digital_illustration",
    "vector_illustration",
    "icon",
    "logo_raster",
}
VECTOR_STYLES = {"vector_illustration", "icon"}
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024">'
    b'<rect width="1024" height="1024" fill="#5a8cc8"/></svg>'
)


class Invalid(Exception):
    pass


class RecraftFake(FakeServer):
    provider = "recraft"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "expired")

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.credits_per_image = 40
        self.url_answers = False

    def reset(self) -> None:
        super().reset()
        self.credits_per_image = 40
        self.url_answers = False

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self.generations)
        app.router.add_get("/files/{name}", self.file)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        code = extra.get("code", "internal_error" if status >= 500 else "invalid_request")
        return web.json_response({"code": code, "message": message}, status=status)

    async def generations(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            await request.read()
            return self.error(401, "Authorization token is missing", code="not_authenticated")
        body = await self.read_json(request)
        try:
            size = self._validate(body)
        except Invalid as exc:
            return self.error(400, str(exc))
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                400,
                "Your prompt was flagged by our content moderation system",
                code="content_moderation",
            )
        vector = body.get("style") in VECTOR_STYLES
        count = 0 if fault == "empty" else body.get("n", 1)
        width, height = (int(side) for side in size.split("x"))
        urls = self.url_answers or fault == "expired"
        data = []
        for index in range(count):
            image = SVG if vector else picture(width, height, "png", color=(40 * index, 90, 160))
            entry: dict[str, Any] = {"image_id": str(uuid.uuid4())}
            if body.get("response_format", "url") == "b64_json" and not urls:
                entry["b64_json"] = base64.b64encode(image).decode()
            else:
                name = f"{entry['image_id']}.{'svg' if vector else 'png'}"
                self.files[name] = image
                entry["url"] = f"{self.url}/files/{name}"
            data.append(entry)
        per_image = self.credits_per_image * (2 if vector else 1)
        return web.json_response(
            {"created": int(time.time()), "credits": per_image * len(data), "data": data}
        )

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="image/png")

    def _validate(self, body: Any) -> str:
        if not isinstance(body, dict):
            raise Invalid("request body must be a JSON object")
        model = body.get("model", "recraftv3")
        spec = MODELS.get(model)
        if spec is None:
            raise Invalid(f"model: unknown model {model!r}")
        for name in body:
            if name not in spec["fields"]:
                raise Invalid(f"{name}: not supported by {model}")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise Invalid("prompt: field required")
        if len(prompt) > spec["prompt"]:
            raise Invalid(f"prompt: at most {spec['prompt']} characters for {model}")
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 6:
            raise Invalid("n: must be an integer from 1 to 6")
        if body.get("response_format", "url") not in ("url", "b64_json"):
            raise Invalid("response_format: must be url or b64_json")
        if "style" in body and body["style"] not in STYLES:
            raise Invalid(f"style: unknown style {body['style']!r}")
        if "substyle" in body and ("style" not in body or not isinstance(body["substyle"], str)):
            raise Invalid("substyle: needs a style")
        if "negative_prompt" in body and not isinstance(body["negative_prompt"], str):
            raise Invalid("negative_prompt: must be a string")
        self._controls(spec, body.get("controls"))
        size = body.get("size", spec.get("default", "1024x1024"))
        sizes = set(spec["ratios"].values())
        if size in spec["ratios"]:
            size = spec["ratios"][size]
        elif size not in sizes:
            raise Invalid(f"size: {size!r} is not supported by {model}")
        return size

    def _controls(self, spec: dict[str, Any], controls: Any) -> None:
        if controls is None:
            return
        if not isinstance(controls, dict) or not set(controls) <= spec["controls"]:
            raise Invalid(f"controls: allowed fields are {sorted(spec['controls'])}")
        colors = controls.get("colors", [])
        if not isinstance(colors, list):
            raise Invalid("controls.colors: a list of colors")
        background = controls.get("background_color")
        for color in [*colors, *([background] if background is not None else [])]:
            rgb = color.get("rgb") if isinstance(color, dict) else None
            if not (
                isinstance(rgb, list)
                and len(rgb) == 3
                and all(isinstance(c, int) and 0 <= c <= 255 for c in rgb)
            ):
                raise Invalid("controls: a color is {'rgb': [r, g, b]}")
        level = controls.get("artistic_level")
        if level is not None and not (isinstance(level, int) and 0 <= level <= 5):
            raise Invalid("controls.artistic_level: from 0 to 5")
