"""Runware adapter against its fake: the task it sends (fields, sizes, nested native names, the
endpoint's fixed fields), the bytes it returns, the bill (what Runware reported, not the
catalog's figure), refusals, an exhausted account, empty answers, rate limits and retries."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
from PIL import Image

from contracts.conftest import start_routed
from fakes.base import FakeServer, picture
from fakes.runware import MODELS
from imagegate.catalog import files
from imagegate.media.fetch import FetchPolicy, SafeFetcher
from imagegate.media.images import InputImage
from imagegate.providers.base import ProviderCall, ProviderContext
from imagegate.providers.runware import RunwareProvider
from imaging import data_uri, encoded

ONLY = {"provider": {"only": ["runware"]}}


@pytest.fixture(scope="module")
def routed(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A gateway with retries on, over Runware's fake."""
    gateway = start_routed(fakes, tmp_path_factory.mktemp("runware-routed"), {"runware"})
    with httpx.Client(base_url=gateway.url, timeout=60) as client:
        yield client
    gateway.stop()


CONTENT = files.load([files.Layer(files.bundled_files(), overrides=False)])


def _post(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/api/v1/images", json={"prompt": "a fox", **ONLY, **body})


def _tasks(fake: FakeServer) -> list[dict]:
    posts = [r for r in fake.requests if r.method == "POST"]
    assert posts, "the fake saw no task"
    assert posts[-1].path == "/v1"
    assert posts[-1].headers["authorization"] == "Bearer key-for-runware"
    body = posts[-1].json
    assert isinstance(body, list), "Runware takes an array of tasks"
    return body


def _task(fake: FakeServer) -> dict:
    [task] = _tasks(fake)
    assert uuid.UUID(task.pop("taskUUID")).version == 4
    return task


def _image(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def _reference(size: tuple[int, int] = (96, 64)) -> dict:
    return {"type": "image_url", "image_url": {"url": data_uri(encoded((10, 120, 240), size))}}


def _record(client: httpx.Client, response: httpx.Response) -> dict:
    generation = response.headers["x-imagegate-generation-id"]
    return client.get("/api/v1/generation", params={"id": generation}).json()["data"]


# -- the task sent ---------------------------------------------------------------------------


def test_fields_map_to_runwares_names(upstream: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    response = _post(
        upstream,
        model="black-forest-labs/flux.2-flex",
        aspect_ratio="16:9",
        n=2,
        seed=7,
        steps=30,
        guidance=4.5,
        output_format="png",
    )
    assert response.status_code == 200, response.text
    assert _task(fakes["runware"]) == {
        "taskType": "imageInference",
        "model": "bfl:6@1",
        "positivePrompt": "a fox",
        "outputType": "base64Data",
        "includeCost": True,
        "numberResults": 2,
        "width": 1344,
        "height": 768,
        "seed": 7,
        "steps": 30,
        "CFGScale": 4.5,
        "outputFormat": "PNG",
    }
    data = response.json()["data"]
    assert [_image(item["b64_json"]).size for item in data] == [(1344, 768), (1344, 768)]


def test_the_images_are_the_bytes_runware_sent(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1.1-pro", output_format="webp")
    assert response.status_code == 200, response.text
    sent = base64.b64decode(response.json()["data"][0]["b64_json"])
    # the fake's first image of a 1024x1024 WEBP task (the size the adapter sends by default)
    assert sent == picture(1024, 1024, "webp", color=(0, 90, 160))
    assert _task(fakes["runware"])["outputFormat"] == "WEBP"


@pytest.mark.parametrize(
    ("request_fields", "size"),
    [
        ({"aspect_ratio": "21:9"}, (1568, 672)),  # the page's 21:9 size, not the gateway's
        ({"size": "1392x752"}, (1392, 752)),
        ({"aspect_ratio": "16:9"}, (1392, 752)),
    ],
)
def test_listed_sizes_are_sent_as_the_page_lists_them(
    upstream: httpx.Client, fakes: dict[str, FakeServer], request_fields: dict, size: tuple
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-kontext-pro", **request_fields)
    assert response.status_code == 200, response.text
    task = _task(fakes["runware"])
    assert (task["width"], task["height"]) == size
    assert _image(response.json()["data"][0]["b64_json"]).size == size


def test_references_go_in_inputs_and_a_required_size_is_the_default(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    references = [_reference(), _reference((64, 64))]
    response = _post(
        upstream, model="black-forest-labs/flux.1-kontext-pro", input_references=references
    )
    assert response.status_code == 200, response.text
    assert "x-imagegate-dropped-parameters" not in response.headers
    task = _task(fakes["runware"])
    assert task["inputs"] == {"referenceImages": [r["image_url"]["url"] for r in references]}
    assert "referenceImages" not in task
    assert (task["width"], task["height"]) == (1024, 1024)  # Kontext requires a size: 1:1


@pytest.mark.parametrize("output_type", ["URL", "dataURI"])
def test_url_and_data_uri_answers_are_read_too(
    upstream: httpx.Client, fakes: dict[str, FakeServer], output_type: str
) -> None:
    fake = fakes["runware"]
    fake.answer_as = output_type
    response = _post(upstream, model="black-forest-labs/flux.1.1-pro", output_format="png")
    assert response.status_code == 200, response.text
    sent = base64.b64decode(response.json()["data"][0]["b64_json"])
    assert sent == picture(1024, 1024, "png", color=(0, 90, 160))
    downloads = [r for r in fake.requests if r.method == "GET"]
    assert len(downloads) == (1 if output_type == "URL" else 0)


def test_with_references_and_no_size_the_output_follows_the_reference(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """P-Image-Edit takes exactly one of references or a size; the fake refuses both."""
    response = _post(upstream, model="prunaai/p-image-edit", input_references=[_reference()])
    assert response.status_code == 200, response.text
    task = _task(fakes["runware"])
    assert "width" not in task and "height" not in task
    assert len(task["inputs"]["referenceImages"]) == 1
    assert _image(response.json()["data"][0]["b64_json"]).size == (96, 64)


def test_an_edit_model_gets_its_one_source_image_as_inputs_image(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    """Bria FIBO Edit takes one image as the string `inputs.image` and no size (the fake refuses
    a list, `referenceImages` or a width); Runware's reported cost is what is billed."""
    reference = _reference()
    response = _post(
        upstream,
        model="bria/fibo-edit",
        input_references=[reference],
        guidance=4,
        steps=30,
        negative_prompt="blur",
    )
    assert response.status_code == 200, response.text
    task = _task(fakes["runware"])
    assert task["model"] == "bria:21@1"
    assert task["inputs"] == {"image": reference["image_url"]["url"]}
    assert "width" not in task and "height" not in task
    assert (task["CFGScale"], task["steps"], task["negativePrompt"]) == (4, 30, "blur")
    assert _image(response.json()["data"][0]["b64_json"]).size == (96, 64)
    assert _record(upstream, response)["total_cost"] == pytest.approx(0.0397, abs=1e-12)


def test_a_guidance_between_bria_fibo_edits_steps_is_refused_before_runware(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream, model="bria/fibo-edit", input_references=[_reference()], guidance=3.5
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["metadata"]["param"] == "guidance"
    assert not fakes["runware"].requests


def test_resolution_picks_the_listed_size_of_that_tier(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream, model="google/gemini-3-pro-image", aspect_ratio="16:9", resolution="2K"
    )
    assert response.status_code == 200, response.text
    task = _task(fakes["runware"])
    assert (task["width"], task["height"]) == (2752, 1536)
    assert task["model"] == "google:4@2"


def test_a_size_the_model_does_not_list_is_refused_before_runware(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(upstream, model="black-forest-labs/flux.1-kontext-pro", size="1000x1000")
    assert response.status_code == 400, response.text
    assert "1392x752" in response.json()["error"]["message"]
    assert not fakes["runware"].requests


def _endpoint(model_id: str, **changes):
    model = CONTENT.models[model_id]
    endpoint = next(e for e in model.endpoints if e.provider == "runware")
    return endpoint.model_copy(update=changes)


async def test_fixed_fields_merge_and_dotted_native_names_nest(
    fakes: dict[str, FakeServer],
) -> None:
    """An endpoint's `fixed` object is merged into the task, nested objects key by key, and a
    dotted native name (`inputs.seedImage`, one image) nests the field."""
    fake = fakes["runware"]
    fetcher = SafeFetcher(FetchPolicy.from_strings(["127.0.0.0/8"]), timeout_seconds=5)
    try:
        async with aiohttp.ClientSession() as http:
            context = ProviderContext(
                info=CONTENT.providers["runware"],
                http=http,
                fetcher=fetcher,
                env={"RUNWARE_API_KEY": "key", "RUNWARE_BASE_URL": fake.base_url},
                timeout_seconds=5,
            )
            endpoint = _endpoint(
                "black-forest-labs/flux.2-pro",
                fixed={
                    "providerSettings": {"bfl": {"safetyTolerance": 4}},
                    "inputs": {"maskImage": "https://example.com/mask.png"},
                },
                native_names={"input_references": "inputs.seedImage"},
            )
            reference = encoded((200, 10, 10), (80, 80))
            call = ProviderCall(
                model_id="black-forest-labs/flux.2-pro",
                endpoint=endpoint,
                prompt="a fox",
                parameters={"aspect_ratio": "1:1"},
                references=(InputImage(reference, "png", 80, 80),),
            )
            result = await RunwareProvider(context).generate(call)
    finally:
        await fetcher.close()
    [task] = fake.requests[-1].json
    assert task["providerSettings"] == {"bfl": {"safetyTolerance": 4}}
    assert task["inputs"] == {
        "maskImage": "https://example.com/mask.png",
        "seedImage": data_uri(reference),
    }
    assert result.cost_usd is not None and float(result.cost_usd) == MODELS["bfl:5@1"]["cost"]


# -- the bill --------------------------------------------------------------------------------


def test_the_bill_is_the_sum_runware_reported_not_the_catalog_price(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    spent = upstream.get("/api/v1/credits").json()["data"]["total_usage"]
    response = _post(upstream, model="black-forest-labs/flux.2-flex", n=3)
    assert response.status_code == 200, response.text
    reported = 3 * MODELS["bfl:6@1"]["cost"]  # $0.0611 an image, as the fake reports
    assert reported != pytest.approx(3 * 0.06)  # the catalog's figure
    assert response.json()["usage"]["cost"] == pytest.approx(reported, abs=1e-12)
    assert _record(upstream, response)["total_cost"] == pytest.approx(reported, abs=1e-12)
    now = upstream.get("/api/v1/credits").json()["data"]["total_usage"]
    assert now - spent == pytest.approx(reported, abs=1e-9)


def test_without_a_reported_cost_the_catalog_price_applies(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["runware"].report_cost = False
    response = _post(upstream, model="black-forest-labs/flux.2-flex", n=2)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["cost"] == pytest.approx(2 * 0.06, abs=1e-12)


# -- refusals and failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("moderated", "flagged by the provider's content moderation"),
        ("task_error", "refused to generate this content"),
        ("nsfw", "flagged as NSFW"),
    ],
)
def test_refusals_are_content_policy(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, reason: str
) -> None:
    fakes["runware"].fault = fault
    spent = upstream.get("/api/v1/credits").json()["data"]["total_usage"]
    response = _post(upstream, model="black-forest-labs/flux.1.1-pro")
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "content_policy"
    assert reason in error["message"]
    assert upstream.get("/api/v1/credits").json()["data"]["total_usage"] == spent


def test_an_exhausted_account_is_a_clear_error_and_not_retried(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["runware"]
    fake.fault = "insufficient_credits"
    response = _post(routed, model="black-forest-labs/flux.1.1-pro")
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["metadata"]["kind"] == "upstream_error"
    assert "out of credits" in error["message"]
    assert len(fake.requests) == 1  # a 402 is not retried


def test_a_server_error_is_retried(routed: httpx.Client, fakes: dict[str, FakeServer]) -> None:
    fake = fakes["runware"]
    fake.fault, fake.fault_times = "server_error", 1
    response = _post(routed, model="black-forest-labs/flux.1.1-pro")
    assert response.status_code == 200, response.text
    assert len(fake.requests) == 2
    statuses = [a["status"] for a in _record(routed, response)["provider_responses"]]
    assert statuses == [502, 200]  # the upstream error, then the success


def test_a_rate_limit_is_retried_after_runwares_wait(
    routed: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fake = fakes["runware"]
    fake.fault, fake.fault_times, fake.retry_after = "rate_limit", 1, "1"
    response = _post(routed, model="black-forest-labs/flux.1.1-pro")
    assert response.status_code == 200, response.text
    first, second = (r.at for r in fake.requests)
    assert second - first >= 0.9  # the gateway waited as told


def test_an_answer_without_images_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    fakes["runware"].fault = "empty"
    response = _post(upstream, model="black-forest-labs/flux.1.1-pro")
    assert response.status_code == 502, response.text
    assert "no image" in response.json()["error"]["message"]


def test_a_compute_billed_model_takes_steps_guidance_and_a_negative_prompt(
    upstream: httpx.Client, fakes: dict[str, FakeServer]
) -> None:
    response = _post(
        upstream,
        model="qwen/qwen-image-2512",
        aspect_ratio="3:2",
        steps=20,
        guidance=3.5,
        negative_prompt="blur",
    )
    assert response.status_code == 200, response.text
    task = _task(fakes["runware"])
    assert task["model"] == "alibaba:qwen-image@2512"
    # 3:2 at 1K (1248x832) fitted to multiples of 64
    assert (task["width"], task["height"]) == (1216, 832)
    assert (task["steps"], task["CFGScale"], task["negativePrompt"]) == (20, 3.5, "blur")
