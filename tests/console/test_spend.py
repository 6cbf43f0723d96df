"""Spend: a paid generation moves the total, the chart's bar for today and the table by exactly its
recorded cost (a free one moves only the counts); the split per provider; and the master key
sees a series per key, where an ordinary key is offered none."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from conftest import Gateway
from console.conftest import MASTER_KEY, exact_usd, make_key, screenshot

PAID = "openai/gpt-image-2"  # the fake OpenAI upstream's model has a price; the sandbox is free


async def generate(gateway: Gateway, key: str, model: str, **extra: Any) -> dict[str, Any]:
    """A generation made with `key`, and its record (what the ledger charged for it)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        made = await client.post(
            f"{gateway.url}/api/v1/images",
            json={"model": model, "prompt": "spend a little", "size": "1024x1024", **extra},
        )
        made.raise_for_status()
        answer = await client.get(
            f"{gateway.url}/api/v1/generation", params={"id": made.json()["id"]}
        )
    answer.raise_for_status()
    return answer.json()["data"]


def dollars(text: str) -> float:
    return 0.0 if text in ("—", "free") else float(text.removeprefix("$"))


async def totals(page: Page) -> tuple[float, int, int]:
    """The figures above the chart: spent, requests, images."""
    await expect(page.locator("#spend-chart")).to_have_attribute("aria-busy", "false")
    await expect(page.locator("#spend-status")).to_be_empty()
    spent = await page.locator("#spend-total").inner_text()
    requests = await page.locator("#spend-requests").inner_text()
    images = await page.locator("#spend-images").inner_text()
    return dollars(spent), int(requests), int(images)


async def todays_legend(page: Page) -> dict[str, float]:
    """What the chart's legend says for today's bar (the last), series by series."""
    await expect(page.locator("#spend-chart")).to_have_attribute("aria-busy", "false")
    plot = page.locator("#spend-chart .u-over")
    box = await plot.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    series = page.locator("#spend-chart .u-legend .u-series")
    await expect(series.first.locator(".u-value")).not_to_have_text("--")
    labels = await series.locator(".u-label").all_inner_texts()
    values = await series.locator(".u-value").all_inner_texts()
    assert labels[0] == "Day (UTC)"  # the bar's day, then the amounts
    return {label: dollars(value) for label, value in zip(labels[1:], values[1:], strict=True)}


def close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


async def test_spend_moves_by_exactly_a_generations_cost(
    page: Page, keyed_console: Gateway
) -> None:
    key = make_key(keyed_console, f"spend {uuid.uuid4().hex[:8]}")
    await generate(keyed_console, key, PAID)  # something to start from
    await page.add_init_script(f"sessionStorage.setItem('imagegate.key', {key!r})")
    await page.goto(f"{keyed_console.url}/console/spend")
    spent, requests, images = await totals(page)
    before = await todays_legend(page)
    assert close(before["Total"], spent) and spent > 0
    await expect(page.get_by_role("button", name="Per key")).to_be_hidden()  # a key: no per-key

    paid = await generate(keyed_console, key, PAID, n=2)
    free = await generate(keyed_console, key, "sandbox/image")
    assert paid["total_cost"] > 0 and free["total_cost"] == 0
    await page.reload()
    after_spent, after_requests, after_images = await totals(page)
    assert close(after_spent, spent + paid["total_cost"])
    assert (after_requests, after_images) == (requests + 2, images + 3)
    after = await todays_legend(page)
    assert close(after["Total"], before["Total"] + paid["total_cost"])
    assert close(after[PAID], before[PAID] + paid["total_cost"])
    assert after["sandbox/image"] == 0
    # the table holds the same rows as the API
    table = page.locator("#spend-table tbody tr").filter(has_text=PAID)
    await expect(table).to_have_count(1)
    await expect(table.locator("td").last).to_have_text(exact_usd(spent + paid["total_cost"]))

    await page.get_by_role("button", name="Per provider").click()
    await expect(page.get_by_role("button", name="Per provider")).to_have_attribute(
        "aria-pressed", "true"
    )
    providers = await todays_legend(page)
    assert close(providers["OpenAI"], after[PAID])
    assert providers["imagegate sandbox"] == 0


async def test_the_master_key_sees_a_series_per_key(
    page: Page, keyed_console: Gateway, tmp_path: Path
) -> None:
    names = [f"team {uuid.uuid4().hex[:6]}", f"team {uuid.uuid4().hex[:6]}"]
    keys = [make_key(keyed_console, name) for name in names]
    costs = [
        (await generate(keyed_console, keys[0], PAID))["total_cost"],
        (await generate(keyed_console, keys[1], PAID, n=2))["total_cost"],
    ]
    await generate(keyed_console, keys[1], "sandbox/image")
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{keyed_console.url}/api/v1/activity",
            params={"group_by": "api_key"},
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
        )
    today = max(row["date"] for row in answer.json()["data"])

    await page.add_init_script(f"sessionStorage.setItem('imagegate.key', {MASTER_KEY!r})")
    await page.goto(f"{keyed_console.url}/console/spend")
    await page.get_by_role("button", name="Per key").click()
    await expect(page.locator("#spend-table thead")).to_contain_text("Key")
    legend = await todays_legend(page)
    for name, cost in zip(names, costs, strict=True):
        assert close(legend[name], cost), (name, legend)
        rows = page.locator("#spend-table tbody tr").filter(has_text=name).filter(has_text=PAID)
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text(today)
    everyone = sum(row["usage"] for row in answer.json()["data"] if row["date"] == today)
    assert close(legend["Total"], everyone)
    await screenshot(page, "spend", tmp_path)
