"""Azure OpenAI's image routes, as Microsoft documents them (learn.microsoft.com/azure/foundry/
openai/how-to/dall-e, the preview reference, the troubleshooting page of 2026-09-20).

- `POST /openai/deployments/{deployment}/images/generations` (JSON) and `/images/edits`
  (multipart: `image` or repeated `image[]`, `mask`) with `?api-version=`: a missing or unknown
  version is Azure's 404 "Resource not found"; the GA `2024-10-21` has no edits route and knows
  no GPT image model (a 400). An unknown deployment is 404 `DeploymentNotFound`. `deployments`
  maps each deployment to its model: Azure's default names (the model's own), plus any a test
  adds.
- Auth: an `api-key` header, or `Authorization: Bearer <token>` with a Microsoft Entra ID token
  this fake issued (`/{tenant}/oauth2/v2.0/token`) or one a test put in `entra_tokens`; anything
  else is Azure's 401.
- The token endpoint takes the client-credentials grant for `client_id` / `client_secret` and
  the Cognitive Services or AI scope (Entra's `invalid_client` / `invalid_scope` errors
  otherwise) and issues `entra-token-<n>`; `token_requests` records each form.
- Bodies as the OpenAI fake checks them (sizes, qualities, n, prompt length, masks), with
  Azure's differences: no `moderation` field and `output_format` `png` or `jpeg` only ("WEBP
  images aren't supported").
- Answers `{created, data: [{b64_json}], usage}` with real images of the asked size; `stream`
  sends `image_generation.*` (`image_edit.*`) events with `partial_images` partials.
- Errors: `{error: {code, message}}`; a 429 carries `retry-after-ms` besides `Retry-After`.
- Faults: the generic ones, plus `empty` (no images), `moderated` (400 `content_filter` with
  inner error `ResponsibleAIPolicyViolation`, as the troubleshooting page describes it),
  `policy_violation` (400 `content_policy_violation` with `inner_error`, as the image routes
  answered DALL-E prompts in 2025), `blocked` (the 403 of a resource Azure blocked for misuse)
  and `throttled` (a 429 with `retry-after-ms` only).
"""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

import orjson
from aiohttp import web

from fakes.base import GENERIC_FAULTS, FakeServer, Recorded, picture
from fakes.openai import (
    CHOICES,
    EDIT_ONLY,
    MODELS,
    Rejected,
    _check_mask,
    _form_value,
    _free_size_ok,
    _sse,
)

PREVIEW_VERSIONS = frozenset({"2025-04-01-preview", "2025-03-01-preview", "preview"})
GA_VERSION = "2024-10-21"
AZURE_MODELS = (
    "gpt-image-2",
    "gpt-image-1.5",
    "gpt-image-1-mini",
    "gpt-image-2.5-sunburst",
    "gpt-image-2.5-flare",
)
AZURE_CHOICES = {**CHOICES, "output_format": ("png", "jpeg")}
SCOPES = frozenset(
    {"https://cognitiveservices.azure.com/.default", "https://ai.azure.com/.default"}
)
KEY_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)
TOKEN_401 = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
BLOCKED = (
    "Your resource has been temporarily blocked because we detected behavior that may violate "
    "our content policy. For more details on Azure OpenAI service content policy, please visit "
    "https://aka.ms/aoaicodeofconduct"
)


class AzureOpenAIFake(FakeServer):
    provider = "azure"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "policy_violation", "blocked", "throttled")

    client_id = "imagegate-app"
    client_secret = "app-secret-value"

    def __init__(self) -> None:
        super().__init__()
        self.deployments: dict[str, str] = {}
        self.entra_tokens: set[str] = set()
        self.issued: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self._serial = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.deployments = {model: model for model in AZURE_MODELS}
        self.entra_tokens = set()
        self.token_requests = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/openai/deployments/{deployment}/images/generations", self.generations)
        app.router.add_post("/openai/deployments/{deployment}/images/edits", self.edits)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        body = {"error": {"code": extra.get("code", str(status)), "message": message}}
        if "inner" in extra:
            body["error"][extra["inner_key"]] = extra["inner"]
        response = web.json_response(body, status=status)
        if status == 429:
            response.headers["retry-after-ms"] = str(int(float(self.retry_after) * 1000))
        return response

    # -- Microsoft Entra ID -------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        if form.get("grant_type") != "client_credentials":
            return _entra_error(400, "unsupported_grant_type", "AADSTS70003: grant type")
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return _entra_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
        if form.get("scope") not in SCOPES:
            return _entra_error(400, "invalid_scope", "AADSTS70011: The provided scope is invalid.")
        token = f"entra-token-{next(self._serial)}"
        self.issued.add(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            }
        )

    # -- images ---------------------------------------------------------------------------

    async def generations(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_json(request)
        if (denied := self._admit(request, edit=False)) is not None:
            return denied
        if not isinstance(body, dict):
            return self.error(400, "We could not parse the JSON body of your request.")
        model = self.deployments[request.match_info["deployment"]]
        try:
            self._validate(model, body, edit=False)
        except Rejected as exc:
            return self.error(400, str(exc), code=exc.code)
        return await self._answer(request, body, prefix="image_generation", references=0)

    async def edits(self, request: web.Request) -> web.StreamResponse:
        if not request.content_type.startswith("multipart/"):
            await self._record_plain(request)
            return self.error(400, "Invalid Content-Type header, expected multipart/form-data")
        recorded: Recorded = await self.read_form(request)
        if (denied := self._admit(request, edit=True)) is not None:
            return denied
        model = self.deployments[request.match_info["deployment"]]
        images = recorded.files.get("image", []) + recorded.files.get("image[]", [])
        try:
            if not images:
                raise Rejected("'image' is a required property", "image", "invalid_request")
            body = {key: _form_value(key, value) for key, value in recorded.fields.items()}
            self._validate(model, body, edit=True)
            if "mask" in recorded.files:
                _check_mask(recorded.files["mask"], images[0])
        except Rejected as exc:
            return self.error(400, str(exc), code=exc.code)
        return await self._answer(request, body, prefix="image_edit", references=len(images))

    def _admit(self, request: web.Request, *, edit: bool) -> web.Response | None:
        """Azure's checks before the body: api-version, credentials, the deployment."""
        version = request.query.get("api-version")
        if version not in PREVIEW_VERSIONS and version != GA_VERSION:
            return self.error(404, "Resource not found")
        if edit and version == GA_VERSION:
            return self.error(404, "Resource not found")
        key = request.headers.get("api-key")
        bearer = request.headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            token = bearer.removeprefix("Bearer ")
            if token not in self.issued and token not in self.entra_tokens:
                return self.error(401, TOKEN_401, code="PermissionDenied")
        elif not key:
            return self.error(401, KEY_401)
        if request.match_info["deployment"] not in self.deployments:
            return self.error(
                404,
                "The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.",
                code="DeploymentNotFound",
            )
        if version == GA_VERSION:
            return self.error(
                400, f"The model for this deployment is not supported by api-version {version}."
            )
        fault = self.active_fault(request)
        if fault == "blocked":
            return self.error(403, BLOCKED, code="Forbidden")
        if fault == "throttled":
            response = web.json_response(
                {
                    "error": {
                        "code": "429",
                        "message": "Requests to the Images_Generations "
                        "Operation have exceeded call rate limit. Please retry after 1500 ms.",
                    }
                },
                status=429,
            )
            response.headers["retry-after-ms"] = "1500"
            return response
        return None

    def _validate(self, model: str, body: dict[str, Any], *, edit: bool) -> None:
        spec = MODELS[model]
        allowed = (spec["fields"] - {"moderation"}) | (
            EDIT_ONLY | spec.get("edit_fields", set()) if edit else set()
        )
        for name in body:
            if name not in allowed:
                raise Rejected(f"Unrecognized request argument supplied: {name}", name)
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise Rejected("'prompt' is a required property", "prompt")
        if len(body["prompt"]) > spec["prompt"]:
            raise Rejected(f"'prompt' is longer than {spec['prompt']} characters", "prompt")
        for name, choices in AZURE_CHOICES.items():
            if name in body and body[name] not in choices:
                raise Rejected(f"'{body[name]}' is not one of {list(choices)} - '{name}'", name)
        size = body.get("size")
        if (
            size is not None
            and size not in spec["sizes"]
            and not (spec.get("free_sizes") and _free_size_ok(size))
        ):
            raise Rejected(f"'{size}' is not a supported size for {model} - 'size'", "size")
        quality = body.get("quality")
        if quality is not None and quality not in spec["qualities"]:
            raise Rejected(f"'{quality}' is not one of {sorted(spec['qualities'])}", "quality")
        n = body.get("n", 1)
        if not isinstance(n, int) or not 1 <= n <= spec["n"]:
            raise Rejected(f"'n' must be between 1 and {spec['n']}", "n")
        if body.get("background") == "transparent" and body.get("output_format") == "jpeg":
            raise Rejected("Transparent background requires output_format png.", "background")

    async def _answer(
        self, request: web.Request, body: dict[str, Any], *, prefix: str, references: int
    ) -> web.StreamResponse:
        fault = self.active_fault(request)
        if fault == "moderated":
            return self.error(
                400,
                "The response was filtered due to the prompt triggering Azure OpenAI's content "
                "management policy. Please modify your prompt and retry.",
                code="content_filter",
                inner_key="innererror",
                inner={
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {"violence": {"filtered": True, "severity": "high"}},
                },
            )
        if fault == "policy_violation":
            return self.error(
                400,
                "Your request was rejected as a result of our safety system. Your prompt may "
                "contain text that is not allowed by our safety system.",
                code="content_policy_violation",
                inner_key="inner_error",
                inner={
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_results": {"jailbreak": {"detected": False, "filtered": False}},
                },
            )
        size = body.get("size", "1024x1024")
        width, height = (1024, 1024) if size == "auto" else (int(x) for x in size.split("x"))
        fmt = body.get("output_format", "png")
        n = 0 if fault == "empty" else body.get("n", 1)
        images = [picture(width, height, fmt, color=(30, 90 + 40 * i % 160, 200)) for i in range(n)]
        usage = {
            "input_tokens": 20 + 65 * references,
            "input_tokens_details": {"image_tokens": 65 * references, "text_tokens": 20},
            "output_tokens": 272 * max(n, 1),
            "total_tokens": 20 + 65 * references + 272 * max(n, 1),
        }
        if body.get("stream"):
            return await self._stream(request, body, images, usage, prefix)
        data = [{"b64_json": base64.b64encode(image).decode()} for image in images]
        return web.json_response({"created": int(time.time()), "data": data, "usage": usage})

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        images: list[bytes],
        usage: dict[str, Any],
        prefix: str,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for index in range(body.get("partial_images", 0)):
            partial = base64.b64encode(images[0]).decode() if images else ""
            event = {
                "type": f"{prefix}.partial_image",
                "b64_json": partial,
                "partial_image_index": index,
            }
            await response.write(_sse(event))
        for image in images:
            event = {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(image).decode(),
                "usage": usage,
            }
            await response.write(_sse(event))
        await response.write_eof()
        return response


def _entra_error(status: int, code: str, description: str) -> web.Response:
    body = {"error": code, "error_description": description}
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")
