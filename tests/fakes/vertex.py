"""Google Vertex AI: Google's OAuth token endpoint and the Gemini image models' `generateContent`,
as google-auth and Vertex speak (notes/issue16-vertex.md §1.4, §2.1, §2.2, §4).

- At start it makes an RSA key and writes a service-account key file whose `token_uri` is this
  fake; `environment()` points the gateway at it (`GOOGLE_APPLICATION_CREDENTIALS`,
  `VERTEX_PROJECT`, `VERTEX_LOCATION=global`). `foreign_key_file()` writes the same account
  with another key, as after a key was rotated away.
- `POST /token` takes google-auth's JWT-bearer grant (form `grant_type`, `assertion`). The
  assertion must be RS256, signed by the account's key (`kid` = `private_key_id`), `iss` the
  account's email, `aud` always `https://oauth2.googleapis.com/token` (whatever `token_uri`
  says), the `cloud-platform` scope, and live at most an hour; else a 400 `invalid_grant` as
  Google answers. It issues `ya29.…` tokens that live `token_lifetime` seconds.
- `POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:
  generateContent` (and `:streamGenerateContent?alt=sse`) needs `Authorization: Bearer` with a
  token it issued and that has not expired, else 401 UNAUTHENTICATED; another project is 403
  PERMISSION_DENIED; a model not served in the location is 404 NOT_FOUND (3.1 Flash and
  Flash-Lite Image: `global` only). The body is checked like the Gemini fake's
  (`fakes.google.validate`), plus Vertex's own rules: every content needs its `role` (400
  "Please use a valid role: user, model"), `imageConfig` may also hold `imageOutputOptions`,
  `personGeneration` and `prominentPeople`, and ratios are the Vertex model pages' (9:21 on
  3.1 Flash Image). Answers are the Gemini fake's (`fakes.google._answer`), with Vertex's
  `usageMetadata.trafficType`.
- Errors are `{error: {code, message, status, details?}}`. Faults: the generic ones (never on
  the token endpoint), `empty` (NO_IMAGE), `moderated` (IMAGE_SAFETY), `blocked`
  (`promptFeedback.blockReason`), `permission` (403 on the project), `quota` (429
  RESOURCE_EXHAUSTED without Retry-After or RetryInfo, as Vertex sends it) and `revoked` (every
  token refused, and the key with it: the token endpoint answers `invalid_grant`).

Unverified against Google (no capture seen): the ErrorInfo reasons on 401s and the 404 wording.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fakes.base import GENERIC_FAULTS, FakeServer
from fakes.google import API_RATIOS, TEN_RATIOS, Asked, Invalid, Spec, _answer, _merge, validate

PROJECT = "imagegate-fake-project"
CLIENT_EMAIL = f"imagegate@{PROJECT}.iam.gserviceaccount.com"
TOKEN_PATH = "/token"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REGIONS = frozenset({"global", "us-central1", "us-east1", "us-east4", "europe-west4"})
MODELS: dict[str, Spec] = {
    "gemini-3-pro-image": Spec(
        TEN_RATIOS, {"1K": 1120, "2K": 1120, "4K": 2000}, 1120, "jpeg", "16:9", 560, 180
    ),
    "gemini-3.1-flash-image": Spec(
        frozenset({*API_RATIOS, "9:21"}),
        {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520},
        1120,
        "jpeg",
        "16:9",
        1120,
        96,
    ),
    "gemini-3.1-flash-lite-image": Spec(
        frozenset(API_RATIOS), {"1K": 1120}, 1120, "jpeg", "1:1", 1120, 0
    ),
    "gemini-2.5-flash-image": Spec(TEN_RATIOS, None, 1290, "png", "1:1", 258, 0),
}
LOCATIONS = {
    "gemini-3-pro-image": REGIONS,
    "gemini-3.1-flash-image": frozenset({"global"}),
    "gemini-3.1-flash-lite-image": frozenset({"global"}),
    "gemini-2.5-flash-image": REGIONS,
}
VERTEX_IMAGE_CONFIG = ("imageOutputOptions", "personGeneration", "prominentPeople")
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class VertexFake(FakeServer):
    provider = "vertex"
    faults = (*GENERIC_FAULTS, "empty", "moderated", "blocked", "permission", "quota", "revoked")

    def __init__(self) -> None:
        super().__init__()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(20)
        self.folder = Path(tempfile.mkdtemp(prefix="vertex-fake-"))
        self.key_file = self.folder / "service-account.json"
        self.token_lifetime = 3600
        self.issued: dict[str, float] = {}  # token -> when it expires (time.time())

    # -- set-up --------------------------------------------------------------------------

    def start(self) -> None:
        super().start()
        self._write_key_file(self.key_file, self.key)

    def environment(self) -> dict[str, str]:
        return {
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.key_file),
            "VERTEX_PROJECT": PROJECT,
            "VERTEX_LOCATION": "global",
        }

    def foreign_key_file(self) -> Path:
        """The same account's key file, with a key this fake does not know."""
        path = self.folder / "foreign-service-account.json"
        self._write_key_file(path, rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return path

    def _write_key_file(self, path: Path, key: rsa.RSAPrivateKey) -> None:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        account = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": self.key_id,
            "private_key": pem.decode(),
            "client_email": CLIENT_EMAIL,
            "client_id": "104729183746501928374",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{self.url}{TOKEN_PATH}",
        }
        path.write_text(json.dumps(account))

    def reset(self) -> None:
        super().reset()
        self.token_lifetime = 3600

    def revoke_tokens(self) -> None:
        """Forget every token issued, as when Google revokes them: the next call is a 401."""
        self.issued.clear()

    @property
    def token_requests(self) -> list:
        return [r for r in self.requests if r.path == TOKEN_PATH]

    @property
    def api_requests(self) -> list:
        return [r for r in self.requests if r.path != TOKEN_PATH]

    # -- serving -------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_post(TOKEN_PATH, self.token)
        app.router.add_post(
            "/v1/projects/{project}/locations/{location}/publishers/google/models/{target}",
            self.models,
        )

    def active_fault(self, request: web.Request) -> str | None:
        fault = super().active_fault(request)
        if request.path == TOKEN_PATH and fault in GENERIC_FAULTS:
            return None  # the generic faults are the API's; the token endpoint has its own
        return fault

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        names = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            413: "INVALID_ARGUMENT",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": names.get(status, "UNKNOWN"),
        }
        if extra.get("details"):
            error["details"] = extra["details"]
        return web.json_response({"error": error}, status=status)

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(self._recorded(request, fields=form))
        if form.get("grant_type") != JWT_BEARER:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type: ")
        if self.active_fault(request) == "revoked":
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        problem = self._assertion_problem(str(form.get("assertion", "")))
        if problem is not None:
            return _oauth_error("invalid_grant", problem)
        token = f"ya29.c.{secrets.token_urlsafe(48)}"
        self.issued[token] = time.time() + self.token_lifetime
        return web.json_response(
            {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    def _assertion_problem(self, assertion: str) -> str | None:
        """Why Google would refuse this JWT, or None."""
        try:
            header_part, claims_part, signature_part = assertion.split(".")
            header = orjson.loads(_unpadded(header_part))
            claims = orjson.loads(_unpadded(claims_part))
            signature = _unpadded(signature_part)
        except (ValueError, orjson.JSONDecodeError):
            return "Invalid JWT: malformed"
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            return "Invalid JWT Signature."
        try:
            self.key.public_key().verify(
                signature,
                f"{header_part}.{claims_part}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        if claims.get("iss") != CLIENT_EMAIL:
            return "Invalid JWT: iss is not a known service account"
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return "Invalid JWT: Failed audience check."
        if SCOPE not in str(claims.get("scope", "")).split():
            return "Invalid JWT: no scope requested"
        now = time.time()
        issued, expires = claims.get("iat"), claims.get("exp")
        if not (
            isinstance(issued, int)
            and isinstance(expires, int)
            and issued <= now + 60
            and now < expires <= issued + 3600
        ):
            return (
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim."
            )
        return None

    async def models(self, request: web.Request) -> web.StreamResponse:
        body = await self.read_json(request)
        fault = self.active_fault(request)
        refused = self._unauthenticated(request, revoked=fault == "revoked")
        if refused is not None:
            return refused
        project, location = request.match_info["project"], request.match_info["location"]
        model, _, method = request.match_info["target"].partition(":")
        resource = f"projects/{project}/locations/{location}/publishers/google/models/{model}"
        if project != PROJECT or fault == "permission":
            return self.error(
                403,
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/{resource}' (or it may not exist).",
                details=[_error_info("IAM_PERMISSION_DENIED")],
            )
        if fault == "quota":
            return self.error(
                429,
                "Resource exhausted. Please try again later. Please refer to "
                "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more "
                "details.",
            )
        spec = MODELS.get(model)
        if (
            spec is None
            or location not in LOCATIONS[model]
            or method not in ("generateContent", "streamGenerateContent")
        ):
            return self.error(
                404,
                f"Publisher Model `{resource}` was not found or your project does not have "
                "access to it. Please ensure you are using a valid model version.",
            )
        try:
            asked = vertex_validate(spec, body)
        except Invalid as exc:
            return self.error(400, str(exc))
        chunks = _answer(model, spec, asked, fault)
        chunks[-1]["usageMetadata"]["trafficType"] = "ON_DEMAND"
        if method == "generateContent":
            return web.json_response(_merge(chunks))
        if request.query.get("alt") != "sse":
            return web.json_response(chunks)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks:
            await response.write(b"data: " + orjson.dumps(chunk) + b"\r\n\r\n")
        await response.write_eof()
        return response

    def _unauthenticated(self, request: web.Request, *, revoked: bool) -> web.Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self.error(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                details=[_error_info("CREDENTIALS_MISSING")],
            )
        expires = self.issued.get(token)
        if revoked or expires is None:
            return self.error(401, UNAUTHENTICATED, details=[_error_info("ACCESS_TOKEN_INVALID")])
        if time.time() >= expires:
            return self.error(401, UNAUTHENTICATED, details=[_error_info("ACCESS_TOKEN_EXPIRED")])
        return None


def vertex_validate(spec: Spec, body: Any) -> Asked:
    """The Gemini fake's checks, with Vertex's: roles required, its image options, its ratios."""
    if not isinstance(body, dict):
        raise Invalid("Invalid JSON payload received. Expected an object.")
    for content in body.get("contents") or []:
        if isinstance(content, dict) and content.get("role") not in ("user", "model"):
            raise Invalid(
                "Unable to submit request because Please use a valid role: user, model.. Learn "
                "more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
            )
    checked = copy.deepcopy(body)
    config = checked.get("generationConfig")
    image_config = config.get("imageConfig") if isinstance(config, dict) else None
    ratio = None
    if isinstance(image_config, dict):
        for name in VERTEX_IMAGE_CONFIG:
            image_config.pop(name, None)
        ratio = image_config.pop("aspectRatio", None)
        if ratio is not None and ratio not in spec.ratios:
            raise Invalid(f"Unsupported aspect ratio: {ratio}")
    asked = validate(spec, checked)
    return dataclasses.replace(asked, ratio=ratio or spec.default_ratio)


def _error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {
            "service": "aiplatform.googleapis.com",
            "method": "google.cloud.aiplatform.v1.PredictionService.GenerateContent",
        },
    }


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)


def _unpadded(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
