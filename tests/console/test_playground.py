"""The Playground in a real browser: a model picked, its form generated from the endpoint's
descriptors, images generated (at once, streamed with previews, from a reference image, as a
job) and a video played, each checked against what the gateway's APIs say."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import Locator, Page, Request, Route, expect

from conftest import Gateway, start_gateway
from console.conftest import exact_usd, screenshot
from fakes.base import FakeServer

# What the page's form leaves out: image uploads, the stream toggle's previews, and flags that
# say an endpoint accepts a kind of image (static/js/parameter_form.js: NOT_FIELDS).
NOT_FIELDS = {"input_references", "partial_images", "mask", "first_frame", "last_frame"}

# The mean colour of a decoded <img>, drawn on a canvas in the page.
MEAN_COLOUR = """image => {
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += pixels[i + c];
  return sum.map(total => total / (pixels.length / 4));
}"""
NATURAL_SIZE = "image => image.complete ? [image.naturalWidth, image.naturalHeight] : null"


async def call(gateway: Gateway, method: str, path: str, **options: object) -> httpx.Response:
    """The gateway's API, as a client other than the page."""
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        answer = await client.request(method, path, **options)
    answer.raise_for_status()
    return answer


async def record(gateway: Gateway, generation_id: str) -> dict:
    answer = await call(gateway, "GET", "/api/v1/generation", params={"id": generation_id})
    return answer.json()["data"]


async def pick(page: Page, model: str) -> None:
    await page.get_by_label("Model", exact=True).fill(model)
    await page.get_by_label("Model", exact=True).press("Enter")
    await expect(page.locator("#p-model-about")).to_contain_text("makes")
    await expect(page.locator("#p-parameters")).to_be_visible()


async def generated_record_id(page: Page) -> str:
    link = page.locator('[data-fact="record"] a')
    await expect(link).to_be_visible()
    href = await link.get_attribute("href")
    assert href and "/console/history/gen-" in href
    return href.rsplit("/", 1)[1]


async def fact(page: Page, name: str) -> Locator:
    return page.locator(f'[data-fact="{name}"] b')


async def test_generate_in_the_playground_and_see_the_image(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    await page.goto(f"{console.url}/console/playground")
    await pick(page, "sandbox/image")
    await page.get_by_label("Prompt", exact=True).fill("a red fox in the snow")
    await page.get_by_label("Width", exact=True).fill("640")
    await page.get_by_label("Height", exact=True).fill("400")
    await page.get_by_label("Output format", exact=True).select_option("webp")
    await page.get_by_role("button", name="Generate").click()

    final = page.locator("#p-gallery img")
    await expect(final).to_have_count(1)
    assert await final.evaluate(NATURAL_SIZE) == [640, 400]
    await expect(await fact(page, "provider")).not_to_have_text("…")
    generation = await record(console, await generated_record_id(page))
    assert generation["status"] == "succeeded"
    assert generation["parameters"] == {"width": 640, "height": 400, "output_format": "webp"}
    await expect(await fact(page, "cost")).to_have_text(exact_usd(generation["total_cost"]))
    await expect(await fact(page, "provider")).to_have_text(generation["provider_name"])
    await expect(await fact(page, "dropped")).to_have_text("none")
    await expect(await fact(page, "gateway-latency")).to_contain_text(" ms")
    download = page.get_by_role("link", name="Download")
    name = await download.get_attribute("download")
    assert name == f"sandbox-image-{generation['id'][4:12]}-1.webp"
    # the download is the image itself
    async with page.expect_download() as waiting:
        await download.click()
    saved = await (await waiting.value).path()
    assert Image.open(saved).size == (640, 400)
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "playground", tmp_path)
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390


async def test_partial_previews_arrive_before_the_final(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    await page.goto(f"{console.url}/console/playground?model=sandbox/image&prompt=a%20kite")
    await expect(page.locator("#p-parameters")).to_be_visible()
    await page.get_by_label("Resolution", exact=True).select_option("512")
    await page.get_by_label("Stream previews", exact=True).check()
    await expect(
        page.get_by_label("Run as a job", exact=True)
    ).to_be_disabled()  # a job does not stream
    await page.get_by_label("Number of previews").select_option("3")
    # every <img> the result area gains, in the order they appear
    await page.evaluate(
        """() => {
          window.shown = [];
          new MutationObserver(changes => {
            for (const change of changes) for (const node of change.addedNodes) {
              if (node.tagName === "IMG") window.shown.push(node.className);
              const image = node.tagName === "IMG" ? null : node.querySelector?.("img");
              if (image) window.shown.push(image.className);
            }
          }).observe(document.querySelector(".result"), {childList: true, subtree: true});
        }"""
    )
    bodies: list[dict] = []
    page.on("request", lambda request: _keep_generation(request, bodies))
    await page.get_by_role("button", name="Generate").click()
    await expect(page.locator("#p-gallery img")).to_have_count(1)
    partials = page.locator("#p-partials img")
    await expect(partials).to_have_count(3)
    assert await page.evaluate("window.shown") == ["partial", "partial", "partial", "final"]
    for index in range(3):
        assert await partials.nth(index).evaluate(NATURAL_SIZE) == [512, 512]
    assert bodies == [
        {
            "model": "sandbox/image",
            "prompt": "a kite",
            "resolution": "512",
            "stream": True,
            "partial_images": 3,
        }
    ]
    generation = await record(console, await generated_record_id(page))
    assert generation["streamed"] is True
    await expect(await fact(page, "provider")).to_have_text(generation["provider_name"])
    await expect(await fact(page, "cost")).to_have_text(exact_usd(generation["total_cost"]))
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "playground-streaming", tmp_path)


def _keep_generation(request: Request, bodies: list[dict]) -> None:
    if request.method == "POST" and request.url.endswith("/api/v1/images"):
        bodies.append(json.loads(request.post_data or "{}"))


def solid_png(colour: tuple[int, int, int], path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), colour).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


async def test_a_reference_image_by_upload_turns_the_image_toward_it(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    prompt = "a quiet harbour"
    # the same request without a reference, for its colour
    plain = await call(
        console,
        "POST",
        "/api/v1/images",
        json={"model": "sandbox/image", "prompt": prompt, "width": 256, "height": 256},
        timeout=30,
    )
    plain_image = Image.open(io.BytesIO(base64.b64decode(plain.json()["data"][0]["b64_json"])))
    plain_red, plain_green, plain_blue = plain_image.convert("RGB").resize((1, 1)).getpixel((0, 0))

    await page.goto(f"{console.url}/console/playground?model=sandbox/image")
    await expect(page.locator("#p-parameters")).to_be_visible()
    await page.get_by_label("Prompt", exact=True).fill(prompt)
    await page.get_by_label("Width", exact=True).fill("256")
    await page.get_by_label("Height", exact=True).fill("256")
    await page.get_by_label("Add images").set_input_files(
        solid_png((255, 0, 0), tmp_path / "red.png")
    )
    await expect(page.get_by_role("img", name="Reference 1: red.png")).to_be_visible()
    await page.get_by_role("button", name="Generate").click()
    final = page.locator("#p-gallery img")
    await expect(final).to_have_count(1)
    red, green, blue = await final.evaluate(MEAN_COLOUR)
    assert red > plain_red + 40, (red, plain_red)
    assert red > green and red > blue
    assert red / (red + green + blue) > plain_red / (plain_red + plain_green + plain_blue) + 0.15
    generation = await record(console, await generated_record_id(page))
    assert generation["status"] == "succeeded"
    # removed, it is not sent again; and a model without image input has no place for one
    await page.get_by_role("button", name="Remove red.png").click()
    await expect(page.locator("#p-reference-list li")).to_have_count(0)
    await pick(page, "black-forest-labs/flux.1-dev")
    await expect(page.locator("#p-references")).to_be_hidden()


@pytest.fixture
def slow_bfl(upstream_fakes: dict[str, FakeServer]) -> Iterator[FakeServer]:
    """BFL's fake taking a few seconds a task, reporting how far it is meanwhile."""
    fake = upstream_fakes["bfl"]
    fake.task_seconds = 2.5  # type: ignore[attr-defined]
    yield fake
    fake.task_seconds = 0.0  # type: ignore[attr-defined]


async def test_a_job_shows_its_progress_then_the_image(
    page: Page, console: Gateway, slow_bfl: FakeServer
) -> None:
    await page.goto(f"{console.url}/console/playground?model=black-forest-labs/flux.2-pro")
    await expect(page.locator("#p-parameters")).to_be_visible()
    await page.get_by_label("Prompt", exact=True).fill("a lighthouse at dusk")
    await page.get_by_label("Run as a job", exact=True).check()
    await expect(
        page.get_by_label("Stream previews", exact=True)
    ).to_be_hidden()  # BFL does not stream
    # what the result area shows, in order: the bar's values, the status lines, the image
    await page.evaluate(
        """() => {
          window.seen = [];
          const bar = document.querySelector("#p-progress");
          new MutationObserver(() => {
            if (bar.hasAttribute("value")) window.seen.push(["progress", bar.value, !bar.hidden]);
          }).observe(bar, {attributes: true, attributeFilter: ["value"]});
          const status = document.querySelector("#p-status");
          new MutationObserver(() => window.seen.push(["status", status.textContent]))
            .observe(status, {childList: true, subtree: true});
          const gallery = document.querySelector("#p-gallery");
          new MutationObserver(() => {
            if (gallery.querySelector("img")) window.seen.push(["image"]);
          }).observe(gallery, {childList: true});
        }"""
    )
    await page.get_by_role("button", name="Generate").click()
    final = page.locator("#p-gallery img")
    await expect(final).to_have_count(1, timeout=15_000)
    assert await final.evaluate(NATURAL_SIZE) is not None
    await expect(page.get_by_role("progressbar", name="Progress")).to_be_hidden()
    seen = await page.evaluate("window.seen")
    before = seen[: seen.index(["image"])]
    # the upstream's progress showed in the bar while the job ran, before the image
    shown = [entry[1] for entry in before if entry[0] == "progress" and entry[2]]
    assert any(value > 0 for value in shown), seen
    assert any(entry[1].startswith("Job running") for entry in before if entry[0] == "status")
    generation = await record(console, await generated_record_id(page))
    assert generation["provider_name"] == "Black Forest Labs"
    await expect(await fact(page, "cost")).to_have_text(exact_usd(generation["total_cost"]))
    assert generation["total_cost"] > 0
    jobs = (await call(console, "GET", "/api/v1/jobs", params={"limit": 1})).json()["data"]
    assert jobs[0]["generation_id"] == generation["id"]


async def test_a_running_job_is_cancelled(
    page: Page, console: Gateway, slow_bfl: FakeServer
) -> None:
    await page.goto(f"{console.url}/console/playground?model=black-forest-labs/flux.2-pro")
    await expect(page.locator("#p-parameters")).to_be_visible()
    await page.get_by_label("Prompt", exact=True).fill("a slow lighthouse")
    await page.get_by_label("Run as a job", exact=True).check()
    await page.get_by_role("button", name="Generate").click()
    await expect(page.locator("#p-status")).to_contain_text("Job running")
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#p-status")).to_have_text("Cancelled.")
    await expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    await expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
    (job,) = (await call(console, "GET", "/api/v1/jobs", params={"limit": 1})).json()["data"]
    assert job["status"] == "cancelled"


async def test_a_video_plays(page: Page, console: Gateway) -> None:
    await page.goto(f"{console.url}/console/playground?model=sandbox/video&prompt=a%20red%20kite")
    await expect(page.locator("#p-parameters")).to_be_visible()
    await expect(page.locator("#p-video-hint")).to_be_visible()
    await expect(page.get_by_label("Run as a job", exact=True)).to_be_hidden()
    await page.get_by_label("Duration", exact=True).fill("1")
    await page.get_by_label("Resolution", exact=True).select_option("360p")
    await page.get_by_role("button", name="Generate").click()
    video = page.locator("#p-gallery video")
    await expect(video).to_have_count(1, timeout=20_000)
    await page.wait_for_function(
        "() => document.querySelector('#p-gallery video').readyState >= 2", timeout=10_000
    )
    duration = await video.evaluate("video => video.duration")
    assert 0.5 < duration < 2
    generation = await record(console, await generated_record_id(page))
    assert generation["model"] == "sandbox/video" and generation["status"] == "succeeded"
    assert generation["parameters"]["duration"] == 1


async def test_the_form_follows_the_endpoint_descriptors(page: Page, console: Gateway) -> None:
    for model in ("openai/gpt-image-2", "black-forest-labs/flux.2-pro"):
        listed = (await call(console, "GET", f"/api/v1/images/models/{model}/endpoints")).json()
        (endpoint,) = listed["endpoints"]
        await page.goto(f"{console.url}/console/playground?model={model}")
        await expect(page.locator("#p-parameters")).to_be_visible()
        shown = {
            name: descriptor
            for name, descriptor in endpoint["supported_parameters"].items()
            if name not in NOT_FIELDS
        }
        rows = page.locator("#p-form [data-parameter]")
        await expect(rows).to_have_count(len(shown))
        for name, descriptor in shown.items():
            control = page.locator(f"#p-{name}")
            if descriptor["type"] == "enum":
                options = await control.locator("option").evaluate_all(
                    "options => options.map(option => option.value)"
                )
                assert options == ["", *map(str, descriptor["values"])], name
            elif descriptor["type"] == "range":
                assert await control.get_attribute("type") == "number"
                assert float(await control.get_attribute("min")) == descriptor["min"], name
                assert float(await control.get_attribute("max")) == descriptor["max"], name
                step = await control.get_attribute("step")
                assert step == str(descriptor.get("step", 1)), name
            else:
                assert await control.get_attribute("type") == "checkbox", name
    # FLUX.2's one boolean is a toggle: sent only once changed, and sent off too
    bodies: list[dict] = []
    page.on("request", lambda request: _keep_generation(request, bodies))
    await page.get_by_label("Prompt", exact=True).fill("a tidy desk")
    await expect(page.locator("#p-prompt_upsampling-state")).to_have_text("default")
    await page.get_by_label("Prompt upsampling", exact=True).check()
    await page.get_by_label("Prompt upsampling", exact=True).uncheck()
    await expect(page.locator("#p-prompt_upsampling-state")).to_have_text("off")
    await page.get_by_label("Safety tolerance slider").fill("3")
    await expect(page.get_by_label("Safety tolerance", exact=True)).to_have_value("3")
    await page.get_by_role("button", name="Generate").click()
    await expect(page.locator("#p-gallery img")).to_have_count(1)
    assert bodies == [
        {
            "model": "black-forest-labs/flux.2-pro",
            "prompt": "a tidy desk",
            "safety_tolerance": 3,
            "prompt_upsampling": False,
        }
    ]


async def test_the_gateway_refusal_is_shown(page: Page, console: Gateway) -> None:
    await page.goto(f"{console.url}/console/playground?model=sandbox/image&prompt=x")
    await expect(page.locator("#p-parameters")).to_be_visible()
    await page.get_by_label("Background", exact=True).select_option("transparent")
    await page.get_by_label("Output format", exact=True).select_option("jpeg")
    await page.get_by_role("button", name="Generate").click()
    alert = page.locator("#p-status").get_by_role("alert")
    await expect(alert).to_have_text(
        "background transparent needs output_format png or webp, not jpeg"
    )
    await expect(page.locator("#p-gallery img")).to_have_count(0)
    link = page.get_by_role("link", name="The generation's record")
    generation = await record(console, (await link.get_attribute("href")).rsplit("/", 1)[1])
    assert generation["status"] == "failed"


@pytest.fixture(scope="module")
def two_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The test catalog's overlay, where sandbox/image is also served by "Sandbox EU" (a
    sandbox with a key, its own price and only a seed from 0 to 100)."""
    running = start_gateway(
        tmp_path_factory.mktemp("two-providers"), IMAGEGATE_TEST_SANDBOX_EU_KEY="test-key"
    )
    yield running
    running.stop()


async def test_a_provider_is_picked_among_the_endpoints(page: Page, two_providers: Gateway) -> None:
    await page.goto(f"{two_providers.url}/console/playground?model=sandbox/image&prompt=a%20bell")
    provider = page.get_by_label("Provider", exact=True)
    await expect(provider).to_be_visible()
    options = await provider.locator("option").all_inner_texts()
    assert options == [
        "any (the gateway chooses)",
        "imagegate sandbox · free / image",
        "Sandbox EU · $0.0020 / image",
    ]
    # any provider: what any endpoint takes; one provider: what it takes, within its bounds
    await expect(page.get_by_label("Width", exact=True)).to_be_visible()
    await expect(page.get_by_label("Seed", exact=True)).to_have_attribute("max", "4294967295")
    await provider.select_option(label="Sandbox EU · $0.0020 / image")
    listed = await call(two_providers, "GET", "/api/v1/images/models/sandbox/image/endpoints")
    (europe,) = [e for e in listed.json()["endpoints"] if e["provider_slug"] == "sandbox-eu"]
    await expect(page.locator("#p-form [data-parameter]")).to_have_count(
        len(europe["supported_parameters"].keys() - NOT_FIELDS)
    )
    await expect(page.get_by_label("Width", exact=True)).to_have_count(0)
    await expect(page.get_by_label("Seed", exact=True)).to_have_attribute("max", "100")
    await page.get_by_label("Seed", exact=True).fill("7")
    bodies: list[dict] = []
    page.on("request", lambda request: _keep_generation(request, bodies))
    await page.get_by_role("button", name="Generate").click()
    await expect(page.locator("#p-gallery img")).to_have_count(1)
    assert bodies == [
        {
            "model": "sandbox/image",
            "prompt": "a bell",
            "seed": 7,
            "provider": {"only": ["sandbox-eu"]},
        }
    ]
    generation = await record(two_providers, await generated_record_id(page))
    assert generation["provider_name"] == "Sandbox EU"
    await expect(await fact(page, "provider")).to_have_text("Sandbox EU")
    await expect(await fact(page, "cost")).to_have_text(exact_usd(generation["total_cost"]))
    assert generation["total_cost"] == pytest.approx(0.002)


async def test_clicks_while_the_model_is_looked_up_make_one_generation(
    page: Page, console: Gateway
) -> None:
    async def made() -> int:
        answer = await call(
            console, "GET", "/api/v1/generations", params={"model": "sandbox/image", "limit": 1}
        )
        return answer.json()["total_count"]

    async def slowly(route: Route) -> None:  # a model's lookup as slow as on a busy gateway
        await asyncio.sleep(0.6)
        await route.continue_()

    before = await made()
    await page.route("**/api/v1/images/models/*/*/endpoints*", slowly)
    await page.goto(f"{console.url}/console/playground")
    await page.get_by_label("Prompt", exact=True).fill("one kite only")
    # the model typed but not yet looked up: Generate looks it up first, while the box's own
    # lookup (on typing, after a pause) is also under way: the clicks make one generation
    await page.get_by_label("Model", exact=True).fill("sandbox/image")
    generate = page.locator("#p-generate")
    await generate.evaluate("button => { button.click(); button.click(); button.click(); }")
    await expect(page.locator("#p-gallery img")).to_have_count(1)
    await page.wait_for_load_state("networkidle")
    assert await made() == before + 1
