"""Amazon Bedrock Runtime's InvokeModel for Stability AI's models, as AWS documents it.

- `POST /model/{modelId}/invoke`, the model id percent-encoded in the path (`%3A` for `:`, as
  boto3 sends it). Authentication is AWS Signature Version 4, checked here the way AWS checks
  it: the `Authorization` header is parsed, the access key looked up among the known test
  credentials, the scope (date, Region `us-west-2`, service `bedrock`) and `X-Amz-Date` (within
  five minutes) checked, and the signature recomputed with botocore from what was received (the
  raw path, the signed headers, the body bytes). Temporary credentials must carry their
  `X-Amz-Security-Token`, signed. A Bedrock API key may come as `Authorization: Bearer` instead.
  Failures are 403s as AWS's front door sends them: `MissingAuthenticationTokenException`,
  `IncompleteSignatureException`, `UnrecognizedClientException` (unknown key or token),
  `InvalidSignatureException` (a signature that does not match, a wrong scope, an old date).
- Errors are `{"message": ...}` with the name in `x-amzn-ErrorType`
  (`ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`), at the statuses
  of botocore's service model. An unknown model id is AWS's ValidationException "The provided
  model identifier is invalid."; a body field a model does not take, a missing required one or a
  value out of its enum is a ValidationException worded as Bedrock's schema errors are
  ("Malformed input request: #: extraneous key [x] is not permitted, ...").
- The body per model (`MODELS`): Stable Image Ultra, Core and SD3.5 Large in-Region; the
  Stability AI Image Services through their `us.` inference profiles. Answers are
  `{"seeds": [n], "finish_reasons": [null], "images": [b64]}` with a real image in the asked
  `output_format` (png by default): 1 megapixel in the asked ratio for text-to-image, the input's
  shape for image-to-image and edits, wider or taller by the outpaint directions, four times the
  side for the fast upscaler and about 4 megapixels for the other two.
- Faults: the generic ones, plus `empty` (no image), `moderated` (`finish_reasons: ["Filter
  reason: prompt"]` and nothing else, AWS's example), `filtered_output` ("Filter reason: output
  image"), `inference_error` ("Inference error"), and the service's own errors:
  `model_timeout` (408 ModelTimeoutException), `model_error` (424 ModelErrorException),
  `unavailable` (503 ServiceUnavailableException), `access_denied` (403 AccessDeniedException),
  `end_of_life` (404 ResourceNotFoundException) and `quota` (400 ServiceQuotaExceededException).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import io
import math
import random
import re
import uuid
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from PIL import Image, UnidentifiedImageError

from fakes.base import GENERIC_FAULTS, FakeServer, Recorded, picture

REGION = "us-west-2"
SERVICE = "bedrock"
# test credentials: AKIA/ASIA-shaped like real ones (the gateway's redaction knows the shape)
ACCESS_KEY = "AKIAIMAGEGATETEST001"
SECRET_KEY = "imagegate/test/secret+key/0000000000000000"
TEMPORARY_KEY = "ASIAIMAGEGATETEMP001"
TEMPORARY_SECRET = "imagegate/test/temporary+secret/00000000000"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEImagegateTestSessionToken//////////wEaCXVzLXdlc3QtMiJHMEU"
PROFILE_KEY = "AKIAIMAGEGATEPROF001"
PROFILE_SECRET = "imagegate/test/profile+secret/000000000000"
API_KEY = "ABSKQmVkcm9ja0FQSUtleS1pbWFnZWdhdGUtdGVzdC0wMDAwMDAwMDAw"
KNOWN: dict[str, tuple[str, str | None]] = {
    ACCESS_KEY: (SECRET_KEY, None),
    TEMPORARY_KEY: (TEMPORARY_SECRET, SESSION_TOKEN),
    PROFILE_KEY: (PROFILE_SECRET, None),
}
MAX_SKEW = dt.timedelta(minutes=5)
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/(?P<day>\d{8})/(?P<region>[^/\s]+)/"
    r"(?P<service>[^/\s]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;\-]+), "
    r"?Signature=(?P<signature>[0-9a-f]{64})"
)
ERROR_TYPES = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    413: "ValidationException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
RATIOS = ("16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
ONE_MEGAPIXEL = {
    "21:9": (1536, 640),
    "16:9": (1344, 768),
    "3:2": (1216, 832),
    "5:4": (1088, 896),
    "1:1": (1024, 1024),
    "4:5": (896, 1088),
    "2:3": (832, 1216),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
MAX_SEED = 4294967294
COMMON = {"prompt", "negative_prompt", "seed", "output_format"}
GENERATE = COMMON | {"aspect_ratio"}
ALL_FORMATS = ("jpeg", "png", "webp")
# per model id: its fields, the required ones, its image fields, its output formats, its shape
MODELS: dict[str, dict[str, Any]] = {
    "stability.sd3-5-large-v1:0": {
        "fields": GENERATE | {"mode", "image", "strength"},
        "formats": ("jpeg", "png"),
        "output": "generate",
    },
    "stability.stable-image-ultra-v1:1": {
        "fields": GENERATE | {"image", "strength"},
        "formats": ("jpeg", "png"),
        "output": "generate",
    },
    "stability.stable-image-core-v1:1": {
        "fields": GENERATE | {"mode"},
        "formats": ("jpeg", "png"),
        "output": "generate",
    },
    "us.stability.stable-image-inpaint-v1:0": {
        "fields": COMMON | {"image", "mask", "grow_mask", "style_preset"},
        "required": ("prompt", "image"),
    },
    "us.stability.stable-image-erase-object-v1:0": {
        "fields": {"image", "mask", "grow_mask", "seed", "output_format"},
        "required": ("image",),
    },
    "us.stability.stable-image-remove-background-v1:0": {
        "fields": {"image", "output_format"},
        "required": ("image",),
        "formats": ("png", "webp"),
    },
    "us.stability.stable-image-search-replace-v1:0": {
        "fields": COMMON | {"image", "search_prompt", "grow_mask", "style_preset"},
        "required": ("prompt", "image", "search_prompt"),
    },
    "us.stability.stable-image-search-recolor-v1:0": {
        "fields": COMMON | {"image", "select_prompt", "grow_mask", "style_preset"},
        "required": ("prompt", "image", "select_prompt"),
    },
    "us.stability.stable-outpaint-v1:0": {
        "fields": COMMON | {"image", "left", "right", "up", "down", "creativity", "style_preset"},
        "required": ("image",),
        "output": "outpaint",
    },
    "us.stability.stable-image-control-sketch-v1:0": {
        "fields": COMMON | {"image", "control_strength", "style_preset"},
        "required": ("prompt", "image"),
    },
    "us.stability.stable-image-control-structure-v1:0": {
        "fields": COMMON | {"image", "control_strength", "style_preset"},
        "required": ("prompt", "image"),
    },
    "us.stability.stable-image-style-guide-v1:0": {
        "fields": COMMON | {"image", "fidelity", "aspect_ratio", "style_preset"},
        "required": ("prompt", "image"),
    },
    "us.stability.stable-style-transfer-v1:0": {
        "fields": COMMON
        | {
            "init_image",
            "style_image",
            "composition_fidelity",
            "style_strength",
            "change_strength",
        },
        "required": ("init_image", "style_image"),
    },
    "us.stability.stable-fast-upscale-v1:0": {
        "fields": {"image", "output_format"},
        "required": ("image",),
        "output": "fast_upscale",
    },
    "us.stability.stable-conservative-upscale-v1:0": {
        "fields": COMMON | {"image", "creativity"},
        "required": ("prompt", "image"),
        "output": "upscale",
    },
    "us.stability.stable-creative-upscale-v1:0": {
        "fields": COMMON | {"image", "creativity", "style_preset"},
        "required": ("prompt", "image"),
        "output": "upscale",
    },
}
IMAGE_FIELDS = ("image", "mask", "init_image", "style_image")
SERVICE_FAULTS = {
    "model_timeout": (
        408,
        "Model has timed out in processing the request. Try your request again.",
    ),
    "model_error": (424, "The model returned an error while processing the request."),
    "unavailable": (503, "Bedrock is unable to process your request."),
    "access_denied": (403, "You don't have access to the model with the specified model ID."),
    "end_of_life": (
        404,
        "This model version has reached the end of its life. Please refer to the AWS "
        "documentation for more details.",
    ),
    "quota": (400, "Your request exceeds the service quota for your account."),
}


class Rejected(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def _malformed(detail: str) -> Rejected:
    return Rejected(
        400,
        "ValidationException",
        f"Malformed input request: {detail}, please reformat your input and try again.",
    )


class BedrockFake(FakeServer):
    provider = "bedrock"
    faults = (
        *GENERIC_FAULTS,
        "empty",
        "moderated",
        "filtered_output",
        "inference_error",
        *SERVICE_FAULTS,
    )

    def __init__(self) -> None:
        super().__init__()
        self.credentials = dict(KNOWN)
        self.api_key = API_KEY

    def reset(self) -> None:
        super().reset()
        self.credentials = dict(KNOWN)
        self.api_key = API_KEY

    def environment(self) -> dict[str, str]:
        """The Region, the test credentials in the environment, and every other source of AWS
        credentials turned off, so no test reaches AWS (or the instance metadata service)."""
        return {
            "BEDROCK_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_SESSION_TOKEN": "",
            "AWS_BEARER_TOKEN_BEDROCK": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/nonexistent/imagegate-tests/aws/config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/imagegate-tests/aws/credentials",
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/model/{model}/invoke", self.invoke)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        kind = extra.get("kind") or ERROR_TYPES.get(status, "InternalServerException")
        return web.json_response(
            {"message": message},
            status=status,
            headers={
                "x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                "x-amzn-RequestId": str(uuid.uuid4()),
            },
        )

    async def invoke(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = None
        self.requests.append(
            Recorded(
                method=request.method,
                path=request.raw_path,  # as sent: the model id stays percent-encoded
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                json=parsed,
            )
        )
        try:
            self._authenticate(request, body)
            model_id = unquote(request.raw_path.split("/")[2])
            model = MODELS.get(model_id)
            if model is None:
                raise Rejected(
                    400, "ValidationException", "The provided model identifier is invalid."
                )
            if request.content_type != "application/json":
                raise Rejected(400, "ValidationException", "Content-Type must be application/json")
            if request.headers.get("Accept", "application/json") not in ("application/json", "*/*"):
                raise Rejected(400, "ValidationException", "Accept must be application/json")
            if not isinstance(parsed, dict):
                raise _malformed("#: expected type: JSONObject")
            size = _validate(model, parsed)
        except Rejected as exc:
            return self.error(exc.status, str(exc), kind=exc.kind)
        return self._answer(request, parsed, size)

    def _answer(
        self, request: web.Request, body: dict[str, Any], size: tuple[int, int]
    ) -> web.Response:
        fault = self.active_fault(request)
        if fault in SERVICE_FAULTS:
            status, message = SERVICE_FAULTS[fault]
            kind = "ServiceQuotaExceededException" if fault == "quota" else None
            return self.error(status, message, kind=kind)
        if fault == "moderated":
            return web.json_response({"finish_reasons": ["Filter reason: prompt"]})
        seed = int(body.get("seed") or 0) or random.randint(1, MAX_SEED)
        if fault in ("filtered_output", "inference_error", "empty"):
            reason = {
                "filtered_output": "Filter reason: output image",
                "inference_error": "Inference error",
            }
            return web.json_response(
                {"seeds": [seed], "finish_reasons": [reason.get(fault)], "images": []}
            )
        image = picture(*size, body.get("output_format", "png"), color=(seed % 255, 120, 200))
        return web.json_response(
            {
                "seeds": [seed],
                "finish_reasons": [None],
                "images": [base64.b64encode(image).decode()],
            }
        )

    # -- SigV4, as AWS checks it ----------------------------------------------------------

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        header = request.headers.get("Authorization")
        if not header:
            raise Rejected(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        if header.startswith("Bearer "):
            if not hmac.compare_digest(header[7:], self.api_key):
                raise Rejected(
                    403,
                    "UnrecognizedClientException",
                    "Invalid API Key format: Must start with pre-defined prefix",
                )
            return
        match = AUTHORIZATION.fullmatch(header)
        if match is None:
            raise Rejected(
                403,
                "IncompleteSignatureException",
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                f"parameters. Authorization={header.split(' ', 1)[0]}",
            )
        key = match["key"]
        known = self.credentials.get(key)
        if known is None:
            raise Rejected(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        secret, token = known
        if match["service"] != SERVICE:
            raise Rejected(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to correct service: '{SERVICE}'.",
            )
        if match["region"] != REGION:
            raise Rejected(
                403,
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region, not '{match['region']}'.",
            )
        stamp = request.headers.get("X-Amz-Date", "")
        try:
            when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise Rejected(
                403,
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                "header.",
            ) from None
        if stamp[:8] != match["day"]:
            raise Rejected(
                403,
                "InvalidSignatureException",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                "from HTTP.",
            )
        if abs(dt.datetime.now(dt.UTC) - when) > MAX_SKEW:
            raise Rejected(
                403,
                "InvalidSignatureException",
                f"Signature expired: {stamp} is now earlier or later than the allowed skew.",
            )
        signed = match["signed"].split(";")
        if "host" not in signed:
            raise Rejected(
                403,
                "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            )
        if token is not None and (
            request.headers.get("X-Amz-Security-Token") != token
            or "x-amz-security-token" not in signed
        ):
            raise Rejected(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        received = AWSRequest(
            method=request.method,
            url=f"http://{request.host}{request.raw_path}",
            data=body,
            headers={name: request.headers.get(name, "") for name in signed},
        )
        received.context["timestamp"] = stamp
        signer = SigV4Auth(Credentials(key, secret, token), SERVICE, REGION)
        expected = signer.signature(
            signer.string_to_sign(received, signer.canonical_request(received)), received
        )
        if not hmac.compare_digest(expected, match["signature"]):
            raise Rejected(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.",
            )


def _validate(model: dict[str, Any], body: dict[str, Any]) -> tuple[int, int]:
    """The output size, or `Rejected` as Bedrock words the first problem."""
    for key in body:
        if key not in model["fields"]:
            raise _malformed(f"#: extraneous key [{key}] is not permitted")
    for key in model.get("required", ("prompt",)):
        if key not in body:
            raise _malformed(f"#: required key [{key}] not found")
    for key in ("prompt", "negative_prompt", "search_prompt", "select_prompt"):
        if key in body and (not isinstance(body[key], str) or len(body[key]) > 10000):
            raise _malformed(f"#/{key}: expected a string of at most 10000 characters")
    _enum(body, "output_format", model.get("formats", ALL_FORMATS))
    _enum(body, "aspect_ratio", RATIOS)
    _enum(body, "mode", ("text-to-image", "image-to-image"))
    if "seed" in body:
        _number(body, "seed", 0, MAX_SEED, integer=True)
    for key, low, high in (
        ("strength", 0, 1),
        ("grow_mask", 0, 20),
        ("creativity", 0, 1),
        ("control_strength", 0, 1),
        ("fidelity", 0, 1),
        ("composition_fidelity", 0, 1),
        ("style_strength", 0, 1),
        ("change_strength", 0.1, 1),
        ("left", 0, 2000),
        ("right", 0, 2000),
        ("up", 0, 2000),
        ("down", 0, 2000),
    ):
        if key in body:
            _number(
                body, key, low, high, integer=key in ("grow_mask", "left", "right", "up", "down")
            )
    sizes = {key: _image_size(body[key], key) for key in IMAGE_FIELDS if key in body}
    output = model.get("output", "edit")
    if output == "generate":
        return _generated_size(model, body, sizes.get("image"))
    source = sizes.get("image") or sizes.get("init_image")
    assert source is not None  # required above
    width, height = source
    if output == "outpaint":
        directions = [int(body.get(side, 0)) for side in ("left", "right", "up", "down")]
        if not any(directions):
            raise Rejected(
                400,
                "ValidationException",
                "At least one of left, right, up or down must be greater than 0.",
            )
        return width + directions[0] + directions[1], height + directions[2] + directions[3]
    if output == "fast_upscale":
        return min(width * 4, 4096), min(height * 4, 4096)
    if output == "upscale":
        scale = math.sqrt(4 * 1024 * 1024 / (width * height))
        return max(64, round(width * scale)), max(64, round(height * scale))
    return width, height


def _generated_size(
    model: dict[str, Any], body: dict[str, Any], image: tuple[int, int] | None
) -> tuple[int, int]:
    has_image = image is not None
    if "strength" in body and not has_image:
        raise Rejected(
            400, "ValidationException", "strength is only valid when an image is provided"
        )
    if has_image and "strength" not in body:
        raise Rejected(400, "ValidationException", "strength is required when an image is provided")
    if "mode" in model["fields"] and "image" in model["fields"]:
        image_to_image = body.get("mode") == "image-to-image"
        if image_to_image != has_image:
            raise Rejected(
                400,
                "ValidationException",
                "image-to-image mode requires an image, and an image requires image-to-image mode",
            )
    elif body.get("mode", "text-to-image") != "text-to-image":
        raise _malformed("#/mode: image-to-image is not a valid enum value")
    if has_image:
        if "aspect_ratio" in body:
            raise Rejected(
                400, "ValidationException", "aspect_ratio is only valid for text-to-image requests"
            )
        width, height = image
        scale = math.sqrt(1024 * 1024 / (width * height))
        return max(64, round(width * scale / 64) * 64), max(64, round(height * scale / 64) * 64)
    return ONE_MEGAPIXEL[body.get("aspect_ratio", "1:1")]


def _enum(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    if key in body and body[key] not in allowed:
        raise _malformed(f"#/{key}: {body[key]} is not a valid enum value")


def _number(body: dict[str, Any], key: str, low: float, high: float, integer: bool = False) -> None:
    value = body[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (integer and not isinstance(value, int))
    ):
        raise _malformed(f"#/{key}: expected type: {'Integer' if integer else 'Number'}")
    if not low <= value <= high:
        raise _malformed(f"#/{key}: {value} is not between {low} and {high}")


def _image_size(value: Any, key: str) -> tuple[int, int]:
    if not isinstance(value, str):
        raise _malformed(f"#/{key}: expected type: String")
    try:
        data = base64.b64decode(value, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG", "WEBP"):
                raise Rejected(
                    400, "ValidationException", f"{key} must be a jpeg, png or webp image"
                )
            width, height = image.size
    except (binascii.Error, UnidentifiedImageError, OSError):
        raise Rejected(
            400, "ValidationException", f"Invalid {key}: the image could not be decoded"
        ) from None
    if min(width, height) < 64:
        raise Rejected(400, "ValidationException", f"{key} must be at least 64 pixels on each side")
    return width, height
