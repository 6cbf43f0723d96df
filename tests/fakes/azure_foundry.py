"""Azure AI Foundry's image routes for FLUX and MAI, as Microsoft documents them
(learn.microsoft.com/azure/foundry/foundry-models/how-to/use-foundry-models-flux and
use-foundry-models-mai-image, and Microsoft's FLUX sample in microsoft-foundry/foundry-samples).

- FLUX: `POST /providers/blackforestlabs/v1/{path}?api-version=preview` (another version is a
  404), `Authorization: Bearer <key or Entra token>` (401 without). The body is BFL's with
  `model`, the deployment's name in lower case, which must be deployed for that path (404
  `DeploymentNotFound`), and `n` 1; a body without `model` or `n` is the 500 users report.
  Per path the fields BFL takes: sizes in multiples of 16 within 64-2048 (FLUX.2) or of 32
  within 256-1440 (FLUX1.1 [pro]), an aspect ratio for Kontext, `guidance` and `steps` for
  FLUX.2 [flex], up to 8 (pro), 10 (flex) or 1 (Kontext) base64 reference images
  (`input_image`, `input_image_2`, ...); anything else is a 400. Answers at once:
  `{created, data: [{b64_json, revised_prompt, content_filter_results}]}` with a real image
  of the asked size and format (JPEG by default).
- MAI: `POST /mai/v1/images/generations` (JSON `model`, `prompt`, `width`, `height`, and on
  MAI-Image-2.6 models `auto_aspect_ratio` and `web_grounding` booleans) and
  `/mai/v1/images/edits` (multipart `model`, `prompt`, one JPEG or PNG `image`); `api-key` or an
  Entra bearer token. Width and height at least 768 with a product of at most 1,048,576, or
  the documented 400. Answers `{data: [{b64_json}]}`, always one PNG (an edit keeps its
  image's size).
- `deployments` maps each deployment's name to its model's path or MAI version: Azure's default
  names, plus any a test adds. `entra_tokens` are the bearer tokens taken besides the key.
- Errors: `{error: {code, message}}`. Faults: the generic ones, plus `empty` (no images) and
  `moderated` (400 `content_filter`, "ResponsibleAI result indicated block action.", with inner
  error `ResponsibleAIPolicyViolation`).
"""

from __future__ import annotations

import base64
import io
import re
import time
from typing import Any

from aiohttp import web
from PIL import Image

from fakes.base import GENERIC_FAULTS, FakeServer, Recorded, picture

FLUX_COMMON = {"model", "n", "prompt", "seed", "safety_tolerance", "output_format"}
FLUX: dict[str, dict[str, Any]] = {
    "flux-2-pro": {"fields": FLUX_COMMON | {"width", "height"}, "sizes": (16, 64, 2048), "refs": 8},
    "flux-2-flex": {
        "fields": FLUX_COMMON | {"width", "height", "guidance", "steps"},
        "sizes": (16, 64, 2048),
        "refs": 10,
    },
    "flux-kontext-pro": {"fields": FLUX_COMMON | {"aspect_ratio"}, "sizes": None, "refs": 1},
    "flux-pro-1.1": {
        "fields": FLUX_COMMON | {"width", "height"},
        "sizes": (32, 256, 1440),
        "refs": 0,
    },
}
MAI_DEPLOYMENTS = {"MAI-Image-2.6": "2.6", "MAI-Image-2.6-Flash": "2.6-flash"}
FLUX_DEPLOYMENTS = {
    "flux.2-pro": "flux-2-pro",
    "flux.2-flex": "flux-2-flex",
    "flux.1-kontext-pro": "flux-kontext-pro",
    "flux-1.1-pro": "flux-pro-1.1",
}
MAI_MIN_SIDE = 768
MAI_MAX_PIXELS = 1_048_576
ASPECT_SIZES = {"1:1": (1024, 1024), "16:9": (1392, 752), "9:16": (752, 1392), "3:2": (1248, 832)}
_REFERENCE = re.compile(r"^input_image(?:_(\d+))?$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class Rejected(Exception):
    pass


class AzureFoundryFake(FakeServer):
    provider = "azure-foundry"
    faults = (*GENERIC_FAULTS, "empty", "moderated")

    def __init__(self) -> None:
        super().__init__()
        self.deployments: dict[str, str] = {}
        self.entra_tokens: set[str] = set()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.deployments = {**FLUX_DEPLOYMENTS, **MAI_DEPLOYMENTS}
        self.entra_tokens = set()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/providers/blackforestlabs/v1/{path}", self.flux)
        app.router.add_post("/mai/v1/images/generations", self.mai_generations)
        app.router.add_post("/mai/v1/images/edits", self.mai_edits)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body: dict[str, Any] = {
            "error": {"code": extra.get("code", str(status)), "message": message}
        }
        if "inner" in extra:
            body["error"]["innererror"] = extra["inner"]
        return web.json_response(body, status=status)

    # -- FLUX on BFL's route ----------------------------------------------------------------

    async def flux(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        path = request.match_info["path"]
        if request.query.get("api-version") != "preview" or path not in FLUX:
            return self.error(404, "Resource not found")
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self.error(401, "Access denied due to invalid subscription key or token.")
        if not self._bearer_ok(request):
            return self.error(401, "Unauthorized. Access token is missing, invalid, or expired.")
        if not isinstance(body, dict) or "model" not in body or "n" not in body:
            return self.error(500, "Internal server error", code="InternalServerError")
        if self.deployments.get(body["model"]) != path:
            return self.error(
                404,
                "The API deployment for this resource does not exist.",
                code="DeploymentNotFound",
            )
        try:
            width, height, _ = _check_flux(FLUX[path], body)
        except Rejected as exc:
            return self.error(400, str(exc), code="invalid_request")
        if (refused := self._refusal(request)) is not None:
            return refused
        fmt = body.get("output_format", "jpeg")
        images = [] if self.active_fault(request) == "empty" else [picture(width, height, fmt)]
        data = [
            {
                "b64_json": base64.b64encode(image).decode(),
                "revised_prompt": None,
                "content_filter_results": {"sexual": {"filtered": False, "severity": "safe"}},
            }
            for image in images
        ]
        return web.json_response({"created": int(time.time()), "data": data})

    # -- MAI --------------------------------------------------------------------------------

    async def mai_generations(self, request: web.Request) -> web.Response:
        body = await self.read_json(request)
        if (denied := self._mai_admit(request)) is not None:
            return denied
        if not isinstance(body, dict):
            return self.error(400, "The request body is not valid JSON.")
        try:
            version = self._mai_deployment(body.get("model"))
            _check_mai(version, body, edit=False)
        except Rejected as exc:
            return self.error(400, str(exc), code="invalid_request")
        except LookupError:
            return self.error(404, "Deployment not found.", code="DeploymentNotFound")
        return self._mai_answer(request, body["width"], body["height"])

    async def mai_edits(self, request: web.Request) -> web.Response:
        if not request.content_type.startswith("multipart/"):
            await self._record_plain(request)
            return self.error(400, "Image edits take multipart/form-data.")
        recorded: Recorded = await self.read_form(request)
        if (denied := self._mai_admit(request)) is not None:
            return denied
        fields = {
            k: (v == "true" if k in ("auto_aspect_ratio", "web_grounding") else v)
            for k, v in recorded.fields.items()
        }
        try:
            version = self._mai_deployment(fields.get("model"))
            _check_mai(version, fields, edit=True)
            images = recorded.files.get("image", [])
            if len(images) != 1 or set(recorded.files) != {"image"}:
                raise Rejected("Send exactly one 'image' file.")
            if not images[0].startswith((PNG_MAGIC, JPEG_MAGIC)):
                raise Rejected("The image must be a JPEG or PNG file.")
            size = Image.open(io.BytesIO(images[0])).size
        except Rejected as exc:
            return self.error(400, str(exc), code="invalid_request")
        except LookupError:
            return self.error(404, "Deployment not found.", code="DeploymentNotFound")
        return self._mai_answer(request, *size)

    def _mai_admit(self, request: web.Request) -> web.Response | None:
        if not (request.headers.get("api-key") or request.headers.get("Authorization")):
            return self.error(401, "Access denied due to invalid subscription key.")
        if not self._bearer_ok(request):
            return self.error(401, "Unauthorized. Access token is missing, invalid, or expired.")
        return None

    def _mai_deployment(self, name: Any) -> str:
        version = self.deployments.get(name) if isinstance(name, str) else None
        if version not in MAI_DEPLOYMENTS.values():
            raise LookupError(name)
        return version

    def _mai_answer(self, request: web.Request, width: int, height: int) -> web.Response:
        if (refused := self._refusal(request)) is not None:
            return refused
        empty = self.active_fault(request) == "empty"
        image = picture(width, height, "png", color=(200, 120, 40))
        data = [] if empty else [{"b64_json": base64.b64encode(image).decode()}]
        return web.json_response({"data": data})

    # -- shared -----------------------------------------------------------------------------

    def _bearer_ok(self, request: web.Request) -> bool:
        """A bearer credential is the resource's key (what the contract gateway is given) or
        an Entra token a test registered."""
        bearer = request.headers.get("Authorization", "")
        if not bearer.startswith("Bearer "):
            return True
        token = bearer.removeprefix("Bearer ")
        return token.startswith("key-for-") or token in self.entra_tokens

    def _refusal(self, request: web.Request) -> web.Response | None:
        if self.active_fault(request) != "moderated":
            return None
        return self.error(
            400,
            "ResponsibleAI result indicated block action.",
            code="content_filter",
            inner={"code": "ResponsibleAIPolicyViolation"},
        )


def _check_flux(spec: dict[str, Any], body: dict[str, Any]) -> tuple[int, int, int]:
    """The output size and the reference count of a valid FLUX body."""
    references = 0
    for name, value in body.items():
        match = _REFERENCE.match(name)
        if match:
            index = int(match[1] or 1)
            if index > spec["refs"] or not isinstance(value, str):
                raise Rejected(f"'{name}' is not accepted: at most {spec['refs']} reference images")
            base64.b64decode(value, validate=True)
            references += 1
        elif name not in spec["fields"]:
            raise Rejected(f"Extra inputs are not permitted: '{name}'")
    if body["n"] != 1:
        raise Rejected("'n' must be 1")
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise Rejected("'prompt' is required")
    if body.get("output_format", "jpeg") not in ("jpeg", "png"):
        raise Rejected("'output_format' must be jpeg or png")
    if "guidance" in body and not 1.5 <= body["guidance"] <= 10:
        raise Rejected("'guidance' must be between 1.5 and 10")
    if "steps" in body and not (isinstance(body["steps"], int) and 1 <= body["steps"] <= 50):
        raise Rejected("'steps' must be an integer from 1 to 50")
    if spec["sizes"] is None:
        ratio = body.get("aspect_ratio", "1:1")
        width, height = ASPECT_SIZES.get(ratio, (1024, 1024))
        return width, height, references
    step, low, high = spec["sizes"]
    width, height = body.get("width", 1024), body.get("height", 1024)
    for side, value in (("width", width), ("height", height)):
        if not (isinstance(value, int) and low <= value <= high and value % step == 0):
            raise Rejected(f"'{side}' must be a multiple of {step} from {low} to {high}")
    return width, height, references


def _check_mai(version: str, body: dict[str, Any], *, edit: bool) -> None:
    allowed = {"model", "prompt"} | (set() if edit else {"width", "height"})
    if version.startswith("2.6"):
        allowed |= {"auto_aspect_ratio", "web_grounding"}
    for name in body:
        if name not in allowed:
            raise Rejected(f"Unknown parameter: '{name}'")
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise Rejected("'prompt' is required")
    for name in ("auto_aspect_ratio", "web_grounding"):
        if name in body and not isinstance(body[name], bool):
            raise Rejected(f"'{name}' must be a boolean")
    if edit:
        return
    width, height = body.get("width"), body.get("height")
    if not (isinstance(width, int) and isinstance(height, int)):
        raise Rejected("'width' and 'height' are required integers")
    if min(width, height) < MAI_MIN_SIDE or width * height > MAI_MAX_PIXELS:
        raise Rejected(
            "width and height must each be at least 768, and width x height must not exceed "
            "1,048,576"
        )
