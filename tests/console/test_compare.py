"""Compare in a real browser: one prompt to several models at once (the sandbox, OpenAI's and
BFL's fakes), a tile per model filled with its image, cost and latency, a failing model shown
failing beside the others, at most six models, and a tile's settings reused in the Playground."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from playwright.async_api import Locator, Page, expect

from conftest import Gateway
from console.conftest import exact_usd, screenshot
from console.test_playground import NATURAL_SIZE, record

THREE = ("sandbox/image", "openai/gpt-image-2", "black-forest-labs/flux.2-pro")


def tile(page: Page, model: str) -> Locator:
    return page.locator(f'#c-tiles .tile[data-model="{model}"]')


async def test_compare_three_models(page: Page, console: Gateway, tmp_path: Path) -> None:
    await page.goto(f"{console.url}/console/compare")
    await page.get_by_label("Prompt", exact=True).fill("a lighthouse at dusk")
    for model in THREE:
        await page.get_by_label("Add a model").fill(model)
        await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.locator("#c-chosen li")).to_have_count(3)
    await expect(page.locator("#c-count")).to_have_text(
        "3 of up to 6 models, each generating in parallel."
    )
    await page.get_by_role("button", name="Compare", exact=True).click()
    await expect(page.locator("#c-status")).to_have_text("All 3 models answered.", timeout=15_000)
    await expect(page.locator("#c-tiles .tile")).to_have_count(3)
    providers = set()
    for model in THREE:
        shown = tile(page, model)
        image = shown.locator("img")
        await expect(image).to_have_count(1)
        size = await image.evaluate(NATURAL_SIZE)
        assert size is not None and size[0] > 0
        generation = await record(console, await shown.get_attribute("data-generation"))
        assert generation["model"] == model and generation["status"] == "succeeded"
        await expect(shown.locator('[data-fact="cost"] b')).to_have_text(
            exact_usd(generation["total_cost"])
        )
        await expect(shown.locator('[data-fact="provider"] b')).to_have_text(
            generation["provider_name"]
        )
        await expect(shown.locator('[data-fact="latency"] b')).to_contain_text("ms")
        providers.add(generation["provider_name"])
    assert len(providers) == 3
    # the paid ones cost something, and say so
    await expect(tile(page, "openai/gpt-image-2").locator('[data-fact="cost"] b')).not_to_have_text(
        "free"
    )
    await screenshot(page, "compare", tmp_path)


async def test_a_failing_model_shows_its_error_while_the_others_succeed(
    page: Page, console: Gateway
) -> None:
    models = ",".join(THREE)
    await page.goto(f"{console.url}/console/compare?models={models}&prompt=a%20harbour")
    await expect(page.locator("#c-chosen li")).to_have_count(3)
    await page.locator("#c-extra-area summary").click()
    # the sandbox's fault switch; the other providers have no use for it
    failing = {"provider": {"options": {"sandbox": {"fail": "upstream_error"}}}}
    await page.get_by_label("Merged into every request").fill(json.dumps(failing))
    await page.get_by_role("button", name="Compare", exact=True).click()
    await expect(page.locator("#c-status")).to_have_text(
        "2 of 3 models answered; 1 failed.", timeout=15_000
    )
    broken = tile(page, "sandbox/image")
    await expect(broken.get_by_role("alert")).to_have_text(
        "sandbox: upstream failed (asked for by fail=upstream_error)"
    )
    await expect(broken.locator("img")).to_have_count(0)
    href = await broken.get_by_role("link", name="Record").get_attribute("href")
    assert (await record(console, href.rsplit("/", 1)[1]))["status"] == "failed"
    for model in THREE[1:]:
        await expect(tile(page, model).locator("img")).to_have_count(1)
        await expect(tile(page, model).get_by_role("alert")).to_have_count(0)


async def test_a_seventh_model_is_refused(page: Page, console: Gateway) -> None:
    seven = (
        "sandbox/image",
        "sandbox/image-text",
        "openai/gpt-image-2",
        "black-forest-labs/flux.2-pro",
        "black-forest-labs/flux.2-max",
        "black-forest-labs/flux.1-dev",
        "black-forest-labs/flux.2-flex",
    )
    await page.goto(f"{console.url}/console/compare?models={','.join(seven)}")
    await expect(page.locator("#c-chosen li")).to_have_count(6)
    await expect(page.locator("#c-status").get_by_role("alert")).to_contain_text(
        "Compare takes at most 6 models"
    )
    await expect(page.get_by_label("Add a model")).to_be_disabled()
    await expect(page.get_by_role("button", name="Add", exact=True)).to_be_disabled()
    # one removed, another may come in
    await page.get_by_role("button", name="Remove FLUX.1 [dev]").click()
    await expect(page.locator("#c-chosen li")).to_have_count(5)
    await page.get_by_label("Add a model").fill("black-forest-labs/flux.2-flex")
    await page.get_by_label("Add a model").press("Enter")
    await expect(page.locator("#c-chosen li")).to_have_count(6)
    await expect(page.get_by_label("Add a model")).to_be_disabled()


async def test_use_these_settings_opens_the_playground_prefilled(
    page: Page, console: Gateway
) -> None:
    models = "sandbox/image,openai/gpt-image-2"
    await page.goto(f"{console.url}/console/compare?models={models}&prompt=a%20red%20kite")
    await page.locator("#c-settings summary").click()
    # only what both take: sandbox has resolutions 512..4K, OpenAI 1K..4K (the form is built
    # once both models' descriptors are in)
    await expect(page.locator("#c-resolution option")).to_have_count(4)
    resolutions = await page.locator("#c-resolution option").evaluate_all(
        "options => options.map(option => option.value)"
    )
    assert resolutions == ["", "1K", "2K", "4K"]
    await expect(page.locator("#c-quality")).to_have_count(0)  # OpenAI's alone
    await page.get_by_label("Aspect ratio", exact=True).select_option("3:2")
    await page.get_by_role("button", name="Compare", exact=True).click()
    await expect(page.locator("#c-status")).to_have_text("All 2 models answered.", timeout=15_000)
    openai = tile(page, "openai/gpt-image-2")
    generation = await record(console, await openai.get_attribute("data-generation"))
    assert generation["parameters"]["aspect_ratio"] == "3:2"
    await openai.get_by_role("link", name="Use these settings").click()
    await expect(page).to_have_url(
        f"{console.url}/console/playground?model=openai%2Fgpt-image-2&prompt=a+red+kite"
        f"&params={quote(json.dumps({'aspect_ratio': '3:2'}, separators=(',', ':')))}"
    )
    await expect(page.get_by_label("Model", exact=True)).to_have_value("openai/gpt-image-2")
    await expect(page.get_by_label("Prompt", exact=True)).to_have_value("a red kite")
    await expect(page.get_by_label("Aspect ratio", exact=True)).to_have_value("3:2")
    await page.get_by_role("button", name="Generate").click()
    final = page.locator("#p-gallery img")
    await expect(final).to_have_count(1, timeout=15_000)
    assert await final.evaluate(NATURAL_SIZE) == [1536, 1024]
