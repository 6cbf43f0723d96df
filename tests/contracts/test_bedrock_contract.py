"""Amazon Bedrock adapter against its fake: SigV4 as AWS checks it (the encoded model id, the
scope, a session token, a shared credentials profile, a Bedrock API key, a refused signature),
the JSON body of each Stability model and Image Service, images through byte for byte, costs,
refusals, and Bedrock's errors."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from PIL import Image

from conftest import Gateway, start_gateway
from contracts.conftest import provider_env
from fakes import bedrock as aws
from fakes.base import FakeServer, picture
from imagegate.errors import InvalidRequest, RateLimited, UpstreamError
from imagegate.providers.bedrock_errors import error_of
from imagegate.providers.upstream import UpstreamResponse
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["bedrock"]}}
SCOPE = f"/{aws.REGION}/bedrock/aws4_request"


def _post(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _references(*images: bytes) -> list[dict]:
    return [{"type": "image_url", "image_url": {"url": data_uri(image)}} for image in images]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


@pytest.fixture
def gateway_with(
    fakes: dict[str, FakeServer], tmp_path: Path
) -> Iterator[Callable[..., httpx.Client]]:
    """A gateway of its own over the fakes, with some AWS variables changed."""
    started: list[tuple[Gateway, httpx.Client]] = []

    def start(**env: str) -> httpx.Client:
        home = tmp_path / f"gateway-{len(started)}"
        gateway = start_gateway(home, catalog=None, **{**provider_env(fakes), **env})
        client = httpx.Client(base_url=gateway.url, timeout=30)
        started.append((gateway, client))
        return client

    yield start
    for gateway, client in started:
        client.close()
        gateway.stop()


# -- each model's body, signed, and its image back byte for byte ----------------------------


@pytest.mark.parametrize(
    ("model", "native", "request_fields", "sent", "size", "fmt"),
    [
        (
            "stabilityai/stable-image-ultra",
            "stability.stable-image-ultra-v1%3A1",
            {"aspect_ratio": "16:9", "seed": 7, "output_format": "jpeg", "negative_prompt": "fog"},
            {"aspect_ratio": "16:9", "seed": 7, "output_format": "jpeg", "negative_prompt": "fog"},
            (1344, 768),
            "jpeg",
        ),
        (
            "stabilityai/stable-image-core",
            "stability.stable-image-core-v1%3A1",
            {"aspect_ratio": "9:21", "seed": 300},
            {"aspect_ratio": "9:21", "seed": 300},
            (640, 1536),
            "png",
        ),
        (
            "stabilityai/sd3.5-large",
            "stability.sd3-5-large-v1%3A0",
            {"aspect_ratio": "3:2", "seed": 4294967294, "output_format": "png"},
            {"aspect_ratio": "3:2", "seed": 4294967294, "output_format": "png"},
            (1216, 832),
            "png",
        ),
    ],
    ids=["ultra", "core", "sd3.5-large"],
)
def test_each_model_gets_its_json_body_signed_for_bedrock(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    model,
    native,
    request_fields,
    sent,
    size,
    fmt,
) -> None:
    response = _post(upstream, model=model, **request_fields)
    assert response.status_code == 200, response.text
    request = fakes["bedrock"].requests[-1]
    # the model id's ':' is sent percent-encoded, as boto3 sends it (and as it was signed)
    assert request.path == f"/model/{native}/invoke"
    assert request.json == {"prompt": "a fox", **sent}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={aws.ACCESS_KEY}/"
    )
    assert SCOPE in request.headers["authorization"]
    assert "x-amz-security-token" not in request.headers  # long-term keys carry no token
    data = response.json()["data"][0]
    # the fake's image, byte for byte (its colour comes from the seed)
    expected = picture(*size, fmt, color=(sent["seed"] % 255, 120, 200))
    assert base64.b64decode(data["b64_json"]) == expected
    assert data["media_type"] == f"image/{fmt}"


def test_sd35_image_to_image_sends_mode_image_and_strength_and_drops_the_ratio(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded((10, 20, 200), (192, 64))  # 3:1
    response = _post(
        upstream,
        model="stabilityai/sd3.5-large",
        input_references=_references(reference),
        strength=0.85,
        aspect_ratio="16:9",
    )
    assert response.status_code == 200, response.text
    assert fakes["bedrock"].requests[-1].json == {
        "prompt": "a fox",
        "mode": "image-to-image",
        "image": _b64(reference),
        "strength": 0.85,
    }
    width, height = _image(response.json()["data"][0]["b64_json"]).size
    assert width / height == pytest.approx(3, rel=0.1)
    assert response.headers["x-imagegate-dropped-parameters"] == "aspect_ratio"


def test_ultra_image_to_image_takes_a_default_strength_and_no_mode(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    reference = encoded(size=(96, 96))
    response = _post(
        upstream, model="stabilityai/stable-image-ultra", input_references=_references(reference)
    )
    assert response.status_code == 200, response.text
    assert fakes["bedrock"].requests[-1].json == {
        "prompt": "a fox",
        "image": _b64(reference),
        "strength": 0.5,
    }


# -- the Image Services -------------------------------------------------------------------


def test_inpaint_through_openai_edits_sends_the_mask_white_where_it_was_transparent(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    image = encoded((200, 200, 200), (128, 128))
    # OpenAI's mask: transparent where the image is to change (the left half here)
    mask_image = Image.new("RGBA", (128, 128), (0, 0, 0, 255))
    mask_image.paste((0, 0, 0, 0), (0, 0, 64, 128))
    mask = io.BytesIO()
    mask_image.save(mask, "PNG")
    response = upstream.post(
        "/v1/images/edits",
        data={
            "model": "stabilityai/inpaint",
            "prompt": "a red door",
            "provider": orjson.dumps(ONLY["provider"]).decode(),
        },
        files=[
            ("image", ("a.png", image, "image/png")),
            ("mask", ("m.png", mask.getvalue(), "image/png")),
        ],
    )
    assert response.status_code == 200, response.text
    request = fakes["bedrock"].requests[-1]
    assert request.path == "/model/us.stability.stable-image-inpaint-v1%3A0/invoke"
    body = request.json
    assert set(body) == {"prompt", "image", "mask"}
    assert (body["prompt"], body["image"]) == ("a red door", _b64(image))
    sent_mask = Image.open(io.BytesIO(base64.b64decode(body["mask"])))
    assert sent_mask.mode == "L"
    assert sent_mask.getpixel((10, 10)) == 255  # to change: white
    assert sent_mask.getpixel((100, 10)) == 0  # kept: black
    assert _image(response.json()["data"][0]["b64_json"]).size == (128, 128)


@pytest.mark.parametrize(
    ("model", "native", "options", "sent", "size"),
    [
        (
            "stabilityai/remove-background",
            "us.stability.stable-image-remove-background-v1%3A0",
            {},
            {},  # no prompt: the service reads none
            (96, 64),
        ),
        (
            "stabilityai/search-and-replace",
            "us.stability.stable-image-search-replace-v1%3A0",
            {"search_prompt": "cat", "grow_mask": 3},
            {"prompt": "a fox", "search_prompt": "cat", "grow_mask": 3},
            (96, 64),
        ),
        (
            "stabilityai/outpaint",
            "us.stability.stable-outpaint-v1%3A0",
            {"left": 64, "up": 32},
            {"prompt": "a fox", "left": 64, "up": 32},
            (160, 96),
        ),
        (
            "stabilityai/upscale-fast",
            "us.stability.stable-fast-upscale-v1%3A0",
            {},
            {},
            (384, 256),
        ),
        (
            "stabilityai/upscale-creative",
            "us.stability.stable-creative-upscale-v1%3A0",
            {"creativity": 0.3},
            {"prompt": "a fox", "creativity": 0.3},
            (2508, 1672),
        ),
    ],
    ids=["remove-background", "search-and-replace", "outpaint", "upscale-fast", "upscale-creative"],
)
def test_image_services_get_the_image_and_their_options(
    upstream: httpx.Client, fakes: dict[str, FakeServer], model, native, options, sent, size
) -> None:
    reference = encoded((30, 160, 60), (96, 64))
    response = _post(
        upstream,
        model=model,
        input_references=_references(reference),
        provider={"only": ["bedrock"], "options": {"bedrock": options}},
    )
    assert response.status_code == 200, response.text
    request = fakes["bedrock"].requests[-1]
    assert request.path == f"/model/{native}/invoke"
    assert request.json == {"image": _b64(reference), **sent}
    assert _image(response.json()["data"][0]["b64_json"]).size == size


def test_style_transfer_sends_the_content_then_the_style_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    content, style = encoded((1, 2, 3), (80, 80)), encoded((200, 0, 100), (64, 64))
    response = _post(
        upstream, model="stabilityai/style-transfer", input_references=_references(content, style)
    )
    assert response.status_code == 200, response.text
    assert fakes["bedrock"].requests[-1].json == {
        "prompt": "a fox",
        "init_image": _b64(content),
        "style_image": _b64(style),
    }


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"model": "stabilityai/erase"}, "needs an input image"),
        ({"model": "stabilityai/search-and-replace", "refs": 1}, "search_prompt"),
        ({"model": "stabilityai/outpaint", "refs": 1}, "left, right, up, down"),
        ({"model": "stabilityai/style-transfer", "refs": 1}, "input_references"),
    ],
    ids=["no-image", "no-search-prompt", "no-direction", "one-image-for-two"],
)
def test_a_service_missing_what_it_needs_is_a_400_before_any_call(
    upstream: httpx.Client, fakes: dict[str, FakeServer], body, says
) -> None:
    refs = body.pop("refs", 0)
    if refs:
        body["input_references"] = _references(*[encoded()] * refs)
    response = _post(upstream, **body)
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]["message"]
    assert fakes["bedrock"].requests == []


# -- cost, refusals, failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "references", "cost"),
    [
        ("stabilityai/stable-image-core", 0, "0.04"),
        ("stabilityai/stable-image-ultra", 0, "0.14"),
        ("stabilityai/sd3.5-large", 1, "0.08"),
        ("stabilityai/remove-background", 1, "0.07"),
        ("stabilityai/upscale-conservative", 1, "0.4"),
    ],
)
def test_the_bill_is_the_catalogs_per_image_price(
    upstream: httpx.Client, model, references, cost
) -> None:
    images = {"input_references": _references(encoded())} if references else {}
    response = _post(upstream, model=model, **images)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["cost"] == pytest.approx(float(cost))
    assert _record(upstream, response)["total_cost"] == pytest.approx(float(cost))


def test_a_filtered_prompt_is_a_content_policy_refusal_and_not_billed(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["bedrock"].fault = "moderated"
    response = _post(upstream, model="stabilityai/stable-image-ultra")
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert "Filter reason: prompt" in error["message"]
    assert not _record(upstream, response)["total_cost"]


def test_a_refused_signature_is_a_clear_error_that_names_aws_credentials(
    upstream: httpx.Client, fakes: dict[str, FakeServer], provider_gateway: Gateway
) -> None:
    fake = fakes["bedrock"]
    fake.credentials[aws.ACCESS_KEY] = ("a-rotated-secret-the-gateway-does-not-have", None)
    response = _post(upstream, model="stabilityai/stable-image-core")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "AWS credentials or signature (InvalidSignatureException)" in error["message"]
    assert fake.requests, "the request reached Bedrock"
    record = _record(upstream, response)
    assert "signature we calculated does not match" in record["provider_responses"][-1]["detail"]
    for text in (response.text, orjson.dumps(record).decode(), provider_gateway.log.read_text()):
        assert aws.SECRET_KEY not in text


def test_temporary_credentials_send_their_session_token_signed(
    gateway_with, fakes: dict[str, FakeServer]
) -> None:
    client = gateway_with(
        AWS_ACCESS_KEY_ID=aws.TEMPORARY_KEY,
        AWS_SECRET_ACCESS_KEY=aws.TEMPORARY_SECRET,
        AWS_SESSION_TOKEN=aws.SESSION_TOKEN,
    )
    response = _post(client, model="stabilityai/stable-image-core")
    assert response.status_code == 200, response.text
    headers = fakes["bedrock"].requests[-1].headers
    assert headers["x-amz-security-token"] == aws.SESSION_TOKEN
    assert "x-amz-security-token" in headers["authorization"].split("SignedHeaders=")[1]
    assert f"Credential={aws.TEMPORARY_KEY}/" in headers["authorization"]
    # without its token the same keys are refused
    fakes["bedrock"].credentials[aws.TEMPORARY_KEY] = (aws.TEMPORARY_SECRET, "another-token")
    refused = _post(client, model="stabilityai/stable-image-core")
    assert refused.status_code == 502
    assert "UnrecognizedClientException" in refused.json()["error"]["message"]


def test_credentials_from_a_shared_credentials_profile(
    gateway_with, fakes: dict[str, FakeServer], tmp_path: Path
) -> None:
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIAWRONGPROFILE0000\naws_secret_access_key = nope\n\n"
        f"[imagegate-test]\naws_access_key_id = {aws.PROFILE_KEY}\n"
        f"aws_secret_access_key = {aws.PROFILE_SECRET}\n"
    )
    client = gateway_with(
        AWS_ACCESS_KEY_ID="",
        AWS_SECRET_ACCESS_KEY="",
        AWS_PROFILE="imagegate-test",
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
    )
    response = _post(client, model="stabilityai/sd3.5-large", seed=5)
    assert response.status_code == 200, response.text
    assert (
        f"Credential={aws.PROFILE_KEY}/" in fakes["bedrock"].requests[-1].headers["authorization"]
    )


def test_a_bedrock_api_key_is_sent_as_a_bearer_token(
    gateway_with, fakes: dict[str, FakeServer]
) -> None:
    client = gateway_with(AWS_BEARER_TOKEN_BEDROCK=aws.API_KEY)
    response = _post(client, model="stabilityai/stable-image-core")
    assert response.status_code == 200, response.text
    headers = fakes["bedrock"].requests[-1].headers
    assert headers["authorization"] == f"Bearer {aws.API_KEY}"
    assert "x-amz-date" not in headers


def test_no_credentials_anywhere_is_a_clear_error_and_nothing_is_sent(
    gateway_with, fakes: dict[str, FakeServer]
) -> None:
    client = gateway_with(AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="")
    response = _post(client, model="stabilityai/stable-image-core")
    assert response.status_code == 502, response.text
    assert "needs AWS credentials and none were found" in response.json()["error"]["message"]
    assert fakes["bedrock"].requests == []


# -- Bedrock's error names, read before the status ------------------------------------------


def _aws_error(status: int, kind: str, message: str) -> UpstreamResponse:
    headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    body = orjson.dumps({"message": message})
    return UpstreamResponse("Amazon Bedrock", status, CIMultiDictProxy(CIMultiDict(headers)), body)


def test_bedrock_error_names_map_to_the_gateways_kinds() -> None:
    not_here = error_of(
        _aws_error(400, "ValidationException", "The provided model identifier is invalid.")
    )
    # a model this Region does not serve is the endpoint's failure, not the client's 400
    assert type(not_here) is UpstreamError and "Region" in not_here.message
    not_allowed = error_of(_aws_error(400, "ValidationException", "Operation not allowed"))
    assert type(not_allowed) is UpstreamError and "Marketplace" in not_allowed.message
    bad_field = error_of(_aws_error(400, "ValidationException", "Malformed input request"))
    assert isinstance(bad_field, InvalidRequest) and bad_field.caused_by_request
    assert isinstance(
        error_of(_aws_error(400, "ServiceQuotaExceededException", "over quota")), RateLimited
    )
    throttled = error_of(_aws_error(429, "ThrottlingException", "Too many requests"))
    assert isinstance(throttled, RateLimited)
    denied = error_of(_aws_error(403, "AccessDeniedException", "no access"))
    assert "enable access to the model" in denied.message
    expired = error_of(_aws_error(403, "ExpiredTokenException", "expired"))
    assert "AWS credentials or signature" in expired.message
