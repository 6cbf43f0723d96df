"""The shared shape of the fakes for providers that speak OpenAI's Images API (the
`openai-compatible` adapter's bundled entries: Nscale, AI/ML API, NanoGPT, Z.ai).

Not a provider's fake itself (it names none, so discovery skips it): each subclass states its
provider's contract (path, models and what each accepts, whether it answers with base64 or
URLs, its error body, its refusal, the extra fields of its answer). What they share:

- `POST {prefix}/images/generations`, JSON, `Authorization: Bearer <key>` (401 without);
  unknown fields, models, sizes and counts are 400s in the provider's error shape.
- Answers `{created, data: [...]}` with real images of the asked size: `{b64_json}` or `{url}`
  (served from `/files/{name}`), as `response_format` asks where the provider takes it, else as
  the provider always answers.
- Faults: the generic ones; `empty` (no images); `moderated` (the provider's refusal) and
  `expired` (result URLs that answer 404, whatever was asked) where the subclass lists them.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from fakes.base import FakeServer, picture


class Rejected(Exception):
    pass


@dataclass(frozen=True)
class ImageModel:
    fields: frozenset[str]  # what the body may carry besides model and prompt
    sizes: frozenset[str] = frozenset()  # none: the provider takes no `size`
    default_size: str = ""
    most_images: int = 1
    # a check for sizes outside `sizes` (None: only those)
    free_size: Any = None
    extra: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # field -> allowed values


class ImagesApiFake(FakeServer):
    prefix: ClassVar[str] = "/v1"
    models: ClassVar[dict[str, ImageModel]] = {}
    # "b64" or "url": how the provider answers when `response_format` does not say
    answers_with: ClassVar[str] = "b64"

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        return f"{self.url}{self.prefix}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post(f"{self.prefix}/images/generations", self.generations)
        app.router.add_get("/files/{name}", self.file)

    # -- for subclasses -------------------------------------------------------------------

    def refusal(self) -> web.Response:
        raise NotImplementedError

    def extras(self, body: dict[str, Any], count: int) -> dict[str, Any]:
        """Fields the provider adds to a successful answer."""
        return {}

    def dimensions(self, body: dict[str, Any], spec: ImageModel) -> tuple[int, int]:
        """The size of the images a request makes."""
        width, height = body.get("size", spec.default_size).split("x")
        return int(width), int(height)

    # -- serving --------------------------------------------------------------------------

    async def generations(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            await self.read_json(request)
            return self.error(401, "Invalid or missing API key")
        body = await self.read_json(request)
        try:
            spec = self._check(body)
        except Rejected as exc:
            return self.error(400, str(exc))
        fault = self.active_fault(request)
        if fault == "moderated" and "moderated" in self.faults:
            return self.refusal()
        width, height = self.dimensions(body, spec)
        count = 0 if fault == "empty" else body.get("n", 1)
        images = [picture(width, height, "png", color=(30 * i, 120, 200)) for i in range(count)]
        as_url = body.get("response_format", self.answers_with) == "url" or fault == "expired"
        data = []
        for image in images:
            if as_url:
                name = f"{uuid.uuid4().hex}.png"
                self.files[name] = image
                data.append({"url": f"{self.files_root}/files/{name}"})
            else:
                data.append({"b64_json": base64.b64encode(image).decode()})
        answer = {"created": int(time.time()), "data": data, **self.extras(body, count)}
        return web.json_response(answer)

    async def file(self, request: web.Request) -> web.Response:
        self.record_get(request)
        data = self.files.get(request.match_info["name"])
        if data is None or self.active_fault(request) == "expired":
            return web.Response(status=404, text="Not Found")
        return web.Response(body=data, content_type="image/png")

    def _check(self, body: Any) -> ImageModel:
        if not isinstance(body, dict):
            raise Rejected("the body must be a JSON object")
        spec = self.models.get(body.get("model", ""))
        if spec is None:
            raise Rejected(f"model {body.get('model')!r} does not exist")
        for name in body:
            if name not in spec.fields | {"model", "prompt"}:
                raise Rejected(f"unknown parameter {name!r}")
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected("prompt is required")
        size = body.get("size", spec.default_size)
        if spec.sizes and size not in spec.sizes and not (spec.free_size and spec.free_size(size)):
            raise Rejected(f"size {size!r} is not supported")
        n = body.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= spec.most_images:
            raise Rejected(f"n must be from 1 to {spec.most_images}")
        for name, allowed in spec.extra.items():
            if name in body and body[name] not in allowed:
                raise Rejected(f"{name} must be one of {list(allowed)}")
        return spec
