"""The Models page: the catalog browser's filters, sort and paging agree with the listing API,
a model's page shows its endpoints, parameters and prices, and it pages through 5,000 models."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.async_api import Page, expect

from benchmarks.synthetic_catalog import synthetic_catalog
from conftest import Gateway, start_gateway
from console.conftest import screenshot


def listed(gateway: Gateway, path: str = "/api/v1/images/models", **params: str) -> dict:
    answer = httpx.get(f"{gateway.url}{path}", params={"limit": "50", **params})
    answer.raise_for_status()
    return answer.json()


def endpoints_record(gateway: Gateway, model: str) -> dict:
    answer = httpx.get(
        f"{gateway.url}/api/v1/images/models/{model}/endpoints",
        params={"include_unavailable": "true"},
    )
    answer.raise_for_status()
    return answer.json()


async def shown_ids(page: Page) -> list[str]:
    return await page.locator("#results tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.model)"
    )


async def expect_rows(page: Page, answer: dict, noun: str = "image") -> None:
    await expect(page.locator("#count")).to_have_text(f"{answer['total_count']} {noun} models")
    await expect(page.locator("#results tbody tr")).to_have_count(len(answer["data"]))
    assert await shown_ids(page) == [model["id"] for model in answer["data"]]


async def test_filter_the_catalog_and_open_a_model(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    await page.goto(f"{console.url}/console/models")
    default = listed(console)
    await expect_rows(page, default)
    for model in default["data"][:5]:  # each row says what the model takes and makes
        architecture = model["architecture"]
        modalities = page.locator(f"#results tr[data-model='{model['id']}'] td.modalities")
        await expect(modalities).to_have_text(
            f"{' + '.join(architecture['input_modalities'])} → "
            f"{' + '.join(architecture['output_modalities'])}"
        )
    await page.get_by_label("Search").fill("gpt-image")
    await expect_rows(page, listed(console, q="gpt-image"))
    await page.get_by_label("Include unconfigured").check()
    everything = listed(console, q="gpt-image", include_unavailable="true")
    assert everything["total_count"] > listed(console, q="gpt-image")["total_count"]
    await expect_rows(page, everything)
    await page.get_by_label("Search").fill("")
    await page.get_by_label("Provider").select_option("bfl")
    await page.get_by_label("Min $/image").fill("0.02")
    await page.get_by_label("Max $/image").fill("0.05")
    await page.get_by_label("Sort by").select_option("price")
    ranged = listed(
        console,
        provider="bfl",
        min_price="0.02",
        max_price="0.05",
        sort="price",
        include_unavailable="true",
    )
    assert 0 < ranged["total_count"] < everything["total_count"] + 100
    await expect_rows(page, ranged)
    await page.get_by_label("Takes reference images").check()
    await expect_rows(
        page,
        listed(
            console,
            provider="bfl",
            min_price="0.02",
            max_price="0.05",
            sort="price",
            input_modalities="image",
            include_unavailable="true",
        ),
    )
    # the filters are in the address: a reload shows the same page
    await page.reload()
    await expect(page.get_by_label("Provider")).to_have_value("bfl")
    await page.get_by_label("Takes reference images").uncheck()
    await expect_rows(page, ranged)
    await screenshot(page, "models", tmp_path)

    first = ranged["data"][0]
    await page.get_by_role("link", name=first["name"], exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(first["name"])
    record = endpoints_record(console, first["id"])
    cards = page.locator("article.endpoint")
    await expect(cards).to_have_count(len(record["endpoints"]))
    for endpoint in record["endpoints"]:
        card = page.locator(f"article.endpoint[data-provider='{endpoint['provider_slug']}']")
        await expect(card.locator("h3")).to_contain_text(endpoint["provider_name"])
        await expect(card.locator("table.pricing tbody tr")).to_have_count(len(endpoint["pricing"]))
    names = sorted({name for e in record["endpoints"] for name in e["supported_parameters"]})
    rows = page.locator("table.parameters tbody tr")
    assert await rows.evaluate_all("rows => rows.map(r => r.dataset.parameter)") == names
    await page.get_by_role("tab", name="Python (openai)").click()
    snippet = page.locator("#snippet-text")
    await expect(snippet).to_contain_text("from openai import OpenAI")
    await expect(snippet).to_contain_text(f'model="{first["id"]}"')
    await expect(snippet).to_contain_text(f'base_url="{console.url}/v1"')
    await page.get_by_role("tab", name="TypeScript (@openrouter/sdk)").click()
    await expect(snippet).to_contain_text(f'serverURL: "{console.url}/api/v1"')


async def test_a_model_page_reads_its_descriptors_and_prices(
    page: Page, console: Gateway, tmp_path: Path
) -> None:
    await page.goto(f"{console.url}/console/models/sandbox/image")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox Image")
    row = page.locator("table.parameters tbody tr[data-parameter='aspect_ratio'] td")
    await expect(row).to_have_text("1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9")
    width = page.locator("table.parameters tbody tr[data-parameter='width'] td")
    await expect(width).to_have_text("64 – 6144")
    await expect(page.locator("article.endpoint")).to_contain_text("available")
    await expect(page.locator("article.endpoint table.pricing")).to_contain_text("free")
    await page.get_by_role("link", name="Try it in the playground").click()
    await expect(page).to_have_url(f"{console.url}/console/playground?model=sandbox%2Fimage")
    # asked by an alias, the page is the model's own, and names its aliases
    await page.goto(f"{console.url}/console/models/black-forest-labs/FLUX-2-pro")
    record = endpoints_record(console, "black-forest-labs/flux.2-pro")
    await expect(page.get_by_role("heading", level=1)).to_have_text(record["name"])
    for alias in record["aliases"]:
        await expect(page.locator(".tags")).to_contain_text(f"alias: {alias}")
    await page.goto(f"{console.url}/console/models/openai/gpt-image-1-mini")
    await screenshot(page, "model", tmp_path)
    await page.goto(f"{console.url}/console/models/no/such-model")
    await expect(page.get_by_role("alert")).to_contain_text("no/such-model")


async def test_videos_are_listed_with_their_price_per_second(page: Page, console: Gateway) -> None:
    await page.goto(f"{console.url}/console/models?output=video&unavailable=1")
    videos = listed(
        console, "/api/v1/models", output_modalities="video", include_unavailable="true"
    )
    await expect_rows(page, {**videos, "data": videos["data"][:50]}, noun="video")
    veo = page.locator("#results tbody tr[data-model='google/veo-2'] td.num")
    await expect(veo).to_have_text("$0.350 / second")


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory: pytest.TempPathFactory) -> Gateway:
    home = tmp_path_factory.mktemp("big-catalog")
    catalog = home / "catalog.json"
    catalog.write_bytes(orjson.dumps(synthetic_catalog(5000)))
    running = start_gateway(home, catalog=catalog)
    yield running
    running.stop()


async def test_paging_through_5000_models_keeps_one_page_in_the_page(
    page: Page, big_catalog: Gateway
) -> None:
    await page.goto(f"{big_catalog.url}/console/models?sort=name")
    total = listed(big_catalog)["total_count"]
    assert total > 5000
    await expect(page.locator("#page-of")).to_have_text(f"1–50 of {total}")
    began = time.perf_counter()
    for _ in range(3):
        await page.get_by_role("button", name="Next →").click()
    await expect(page.locator("#page-of")).to_have_text(f"151–200 of {total}")
    paged = time.perf_counter() - began
    await expect_rows(page, listed(big_catalog, sort="name", offset="150"))
    await page.get_by_label("Search").fill("model 4999")
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    print(f"3 pages of {total} models in {paged:.2f} s")
