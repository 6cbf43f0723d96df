"""History and a generation's record: generations made through the API are listed newest first
with their thumbnails, the filters hide the others, the list pages, a key sees only its own, and
the record shows every attempt (a fallback is two)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

from conftest import Gateway
from console.conftest import exact_usd, make_key, screenshot

SMALL = {"size": "64x64"}  # quick to render: paging needs many


async def generate(gateway: Gateway, body: dict[str, Any], key: str | None = None) -> str:
    """A generation through the Image API; its id, whether it succeeded or failed."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(f"{gateway.url}/api/v1/images", json=body, headers=headers)
    if answer.status_code == 200:
        return answer.json()["id"]
    return answer.json()["error"]["metadata"]["generation_id"]


async def record(gateway: Gateway, generation_id: str, key: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{gateway.url}/api/v1/generation", params={"id": generation_id}, headers=headers
        )
    answer.raise_for_status()
    return answer.json()["data"]


async def record_with_thumbnails(gateway: Gateway, generation_id: str) -> dict[str, Any]:
    """The record once its thumbnails are kept (they are made just after the answer)."""
    deadline = time.monotonic() + 15
    while True:
        found = await record(gateway, generation_id)
        if found["thumbnails"] or time.monotonic() > deadline:
            assert found["thumbnails"], f"no thumbnail was kept for {generation_id}"
            return found
        await asyncio.sleep(0.1)


def row(page: Page, generation_id: str) -> Locator:
    return page.locator(f'#history-list tbody tr[data-id="{generation_id}"]')


async def shown_ids(page: Page) -> list[str]:
    return await page.locator("#history-list tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.id)"
    )


async def decoded_width(image: Locator) -> int:
    """The image's decoded width: 0 until it has loaded, and for one that failed to."""
    await expect(image).to_be_visible()
    await image.evaluate("image => image.decode().catch(() => null)")
    return await image.evaluate("image => image.naturalWidth")


async def test_find_a_generation_by_model_and_status_and_open_it(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    made = await generate(console, {"model": "sandbox/image", "prompt": "a lighthouse at dusk"})
    failed = await generate(
        console,
        {
            "model": "sandbox/image",
            "prompt": "a storm",
            "provider": {"options": {"sandbox": {"fail": "upstream_error"}}},
        },
    )
    paid = await generate(console, {"model": "openai/gpt-image-2", "prompt": "a harbour"})
    kept = await record_with_thumbnails(console, made)

    await page.goto(f"{console.url}/console/history")
    for generation_id in (made, failed, paid):
        await expect(row(page, generation_id)).to_be_visible()
    ids = await shown_ids(page)
    assert ids.index(paid) < ids.index(failed) < ids.index(made), "not newest first"
    await expect(row(page, failed).get_by_text("failed", exact=True)).to_be_visible()
    await expect(row(page, paid)).to_contain_text("OpenAI")
    thumbnail = row(page, made).locator("img")
    await expect(thumbnail).to_have_attribute("src", kept["thumbnails"][0]["url"])
    assert await decoded_width(thumbnail) == kept["thumbnails"][0]["width"]
    await screenshot(page, "history", tmp_path)

    await page.get_by_label("Provider", exact=True).select_option(label="OpenAI")
    await expect(row(page, made)).to_have_count(0)
    await expect(row(page, paid)).to_be_visible()
    await page.reload()  # the filters are in the address
    await expect(page.get_by_label("Provider", exact=True)).to_have_value("openai")
    await expect(row(page, failed)).to_have_count(0)
    await expect(row(page, paid)).to_be_visible()
    await page.get_by_label("Provider", exact=True).select_option("")

    await page.get_by_label("Model", exact=True).fill(
        "sandbox/image"
    )  # a model of the list: applies
    await expect(row(page, paid)).to_have_count(0)
    await expect(row(page, made)).to_be_visible()
    models = await page.locator("#history-list tbody th a").all_inner_texts()
    assert models and set(models) == {"sandbox/image"}
    await page.get_by_label("Status", exact=True).select_option("failed")
    await expect(row(page, made)).to_have_count(0)
    await expect(row(page, failed)).to_be_visible()
    tags = await page.locator("#history-list tbody td .tag").all_inner_texts()
    assert tags and set(tags) == {"failed"}
    assert "status=failed" in page.url and "model=sandbox%2Fimage" in page.url

    await row(page, failed).get_by_text("×").click()  # anywhere on the row opens it
    await expect(page).to_have_url(f"{console.url}/console/history/{failed}")
    await expect(page.locator("#generation-id")).to_have_text(failed)
    await expect(page.get_by_role("alert")).to_contain_text("upstream failed")
    attempts = page.locator("table.attempts tbody tr")
    await expect(attempts).to_have_count(1)
    await expect(attempts.first).to_contain_text("502")
    await page.go_back()  # the filters are still applied
    await expect(page.get_by_label("Status", exact=True)).to_have_value("failed")
    await expect(row(page, made)).to_have_count(0)


async def test_the_record_shows_every_attempt_of_a_fallback(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    # The sandbox fails as asked; the router falls back to the next model, OpenAI's.
    generation_id = await generate(
        console,
        {
            "model": "sandbox/image",
            "models": ["openai/gpt-image-2"],
            "prompt": "a fallback",
            "aspect_ratio": "16:9",
            "seed": 7,
            "provider": {"options": {"sandbox": {"fail": "upstream_error"}}},
        },
    )
    found = await record_with_thumbnails(console, generation_id)
    assert [attempt["status"] for attempt in found["provider_responses"]] == [502, 200]

    await page.goto(f"{console.url}/console/history/{generation_id}")
    attempts = page.locator("table.attempts tbody tr")
    await expect(attempts).to_have_count(2)
    first, second = attempts.nth(0), attempts.nth(1)
    await expect(first).to_contain_text("imagegate sandbox")
    await expect(first).to_contain_text("502")
    await expect(first).to_contain_text("upstream_error")
    await expect(first).to_contain_text("sandbox/image")
    await expect(second).to_contain_text("OpenAI")
    await expect(second).to_contain_text("200")
    await expect(second).to_contain_text("openai/gpt-image-2")

    facts = page.locator("table.facts").first
    await expect(facts).to_contain_text("openai/gpt-image-2")
    await expect(facts).to_contain_text("openrouter.images")
    stats = page.locator("#generation-record .stats")
    await expect(stats).to_contain_text("succeeded")
    await expect(stats).to_contain_text(exact_usd(found["total_cost"]))
    parameters = page.locator("table.facts").nth(1)
    await expect(parameters).to_contain_text("aspect_ratio")
    await expect(parameters).to_contain_text("16:9")
    assert found["dropped_parameters"] == ["seed"]  # OpenAI takes no seed
    await expect(page.locator("#generation-record .tags")).to_have_text("seed")
    image = page.get_by_role("img", name="output 1 of openai/gpt-image-2")
    assert await decoded_width(image) == found["thumbnails"][0]["width"]
    await screenshot(page, "generation", tmp_path)


async def test_a_key_sees_its_own_generations_page_by_page(
    page: Page, keyed_console: Gateway
) -> None:
    mine = make_key(keyed_console, f"history {uuid.uuid4().hex[:8]}")
    other = make_key(keyed_console, f"history other {uuid.uuid4().hex[:8]}")
    body = {"model": "sandbox/image", "prompt": "a page of squares", **SMALL}
    made = [await generate(keyed_console, body, mine) for _ in range(23)]
    theirs = await generate(keyed_console, body, other)

    await page.add_init_script(f"sessionStorage.setItem('imagegate.key', {mine!r})")
    await page.goto(f"{keyed_console.url}/console/history")
    await expect(page.locator("#page-position")).to_have_text("1–20 of 23")
    assert await shown_ids(page) == made[::-1][:20]
    await expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    await page.get_by_role("button", name="Next").click()
    await expect(page.locator("#page-position")).to_have_text("21–23 of 23")
    assert await shown_ids(page) == made[::-1][20:]
    await expect(page.get_by_role("button", name="Next")).to_be_disabled()
    await page.reload()  # the page is in the address
    await expect(page.locator("#page-position")).to_have_text("21–23 of 23")
    assert theirs not in await shown_ids(page)
    # a date range that ends before today shows none of them
    await page.get_by_label("To", exact=True).fill("2020-01-01")
    await expect(page.get_by_text("No generations match.")).to_be_visible()
    await expect(page.locator("#history-pager")).to_be_hidden()
