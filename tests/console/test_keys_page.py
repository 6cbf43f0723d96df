"""Keys: the master key creates a key (its secret shown once, gone on reload), the key works,
its limits are changed (the keys API agrees), it is revoked after a confirm step (then refused
with 401); a refused input says why; without the master key the page explains what is needed."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Locator, Page, expect

from conftest import Gateway
from console.conftest import MASTER_KEY, make_key, screenshot


async def sign_in(page: Page, gateway: Gateway, key: str) -> None:
    """Through the key dialog, as a person would."""
    await page.goto(f"{gateway.url}/console/keys")
    await page.get_by_role("button", name="Key", exact=True).click()
    await page.get_by_label("Key", exact=True).fill(key)
    await page.get_by_role("button", name="Use this key").click()


def creating(page: Page) -> Locator:
    return page.get_by_role("region", name="Create a key")


async def generates(gateway: Gateway, key: str) -> int:
    """The status of a sandbox generation made with `key`."""
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"{gateway.url}/api/v1/images",
            json={"model": "sandbox/image", "prompt": "a key at work", "size": "64x64"},
            headers={"Authorization": f"Bearer {key}"},
        )
    return answer.status_code


async def as_master(gateway: Gateway, path: str) -> dict:
    """An answer of the keys API, asked with the master key."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{gateway.url}{path}", headers={"Authorization": f"Bearer {MASTER_KEY}"}
        )
    answer.raise_for_status()
    return answer.json()


async def key_record(gateway: Gateway, key_hash: str) -> dict:
    return (await as_master(gateway, f"/api/v1/keys/{key_hash}"))["data"]


async def test_create_use_limit_and_revoke_a_key(
    page: Page, keyed_console: Gateway, tmp_path: Path
) -> None:
    name = f"page key {uuid.uuid4().hex[:8]}"
    await page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=keyed_console.url
    )
    await sign_in(page, keyed_console, MASTER_KEY)
    await expect(page.get_by_role("heading", name="Create a key")).to_be_visible()

    await creating(page).get_by_label("Name").fill(name)
    await creating(page).get_by_label("Limit (USD)").fill("3")
    await creating(page).get_by_label("Requests per minute").fill("30")
    await page.get_by_role("button", name="Create key").click()
    secret_box = page.get_by_label(f"Secret of {name}")
    await expect(secret_box).to_have_value(re.compile(r"^ig-.{20,}$"))
    secret = await secret_box.input_value()
    await expect(page.get_by_role("alert")).to_contain_text("shown only this once")
    await page.get_by_role("button", name="Copy", exact=True).click()
    await expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    listed = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    await expect(listed).to_contain_text("$3.00")
    await expect(listed).to_contain_text("30 / —")
    await expect(listed).to_contain_text("active")
    key_hash = await listed.get_attribute("data-hash")
    await screenshot(page, "keys", tmp_path)

    assert await generates(keyed_console, secret) == 200  # the new key works
    await page.reload()  # the secret was shown once: it is in the page no more
    await expect(listed).to_be_visible()
    assert secret not in await page.content()
    await expect(page.locator("#new-secret")).to_be_hidden()

    await listed.get_by_role("button", name="Limits").click()
    dialog = page.get_by_role("dialog", name=f"Limits of {name}")
    await expect(dialog.get_by_label("Limit (USD)")).to_have_value("3")
    await dialog.get_by_label("Limit (USD)").fill("7.5")
    await dialog.get_by_label("Requests per minute").fill("")  # no limit
    await dialog.get_by_label("Images per minute").fill("12")
    await dialog.get_by_role("button", name="Save limits").click()
    await expect(dialog).to_be_hidden()
    await expect(listed).to_contain_text("$7.50")
    await expect(listed).to_contain_text("— / 12")
    stored = await key_record(keyed_console, key_hash)
    assert (stored["limit"], stored["requests_per_minute"], stored["images_per_minute"]) == (
        7.5,
        None,
        12,
    )

    await listed.get_by_role("button", name="Revoke").click()
    confirm = page.get_by_role("dialog", name=f"Revoke {name}?")
    await confirm.get_by_role("button", name="Keep it").click()  # the confirm step: nothing yet
    await expect(confirm).to_be_hidden()
    assert (await key_record(keyed_console, key_hash))["disabled"] is False
    assert await generates(keyed_console, secret) == 200
    await listed.get_by_role("button", name="Revoke").click()
    await confirm.get_by_role("button", name="Revoke the key").click()
    await expect(listed).to_contain_text("revoked")
    await expect(listed.get_by_role("button")).to_have_count(0)
    assert (await key_record(keyed_console, key_hash))["disabled"] is True
    assert await generates(keyed_console, secret) == 401


async def test_a_refused_input_says_why(page: Page, keyed_console: Gateway) -> None:
    name = f"refused {uuid.uuid4().hex[:8]}"
    await sign_in(page, keyed_console, MASTER_KEY)
    await creating(page).get_by_label("Name").fill(name)
    await creating(page).get_by_label("Limit (USD)").fill("-1")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#create-status")).to_contain_text("The key was not created: limit")
    await expect(page.locator("#new-secret")).to_be_hidden()
    await creating(page).get_by_label("Limit (USD)").fill("")
    await creating(page).get_by_label("Name").fill("")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#create-status")).to_have_text("Give the key a name.")
    # what the browser cannot read as a number is refused, not taken as "no limit"
    await creating(page).get_by_label("Name").fill(name)
    await creating(page).get_by_label("Limit (USD)").press_sequentially("5e")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#create-status")).to_contain_text(
        "The key was not created: Limit (USD): not a number"
    )
    keys = (await as_master(keyed_console, "/api/v1/keys"))["data"]
    assert name not in [key["name"] for key in keys]


async def test_a_revoked_key_is_told_apart_from_none(page: Page, keyed_console: Gateway) -> None:
    key = make_key(keyed_console, f"soon revoked {uuid.uuid4().hex[:8]}")
    await sign_in(page, keyed_console, key)
    await expect(page.locator("#who")).to_contain_text("key soon revoked")
    async with httpx.AsyncClient() as client:
        hashed = (
            await client.get(
                f"{keyed_console.url}/api/v1/key", headers={"Authorization": f"Bearer {key}"}
            )
        ).json()["data"]["hash"]
        revoked = await client.delete(
            f"{keyed_console.url}/api/v1/keys/{hashed}",
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
        )
    assert revoked.status_code == 200
    await page.reload()
    chip = page.locator("#who")
    await expect(chip).to_have_text("key refused: sign in again")
    await expect(chip).to_have_attribute("title", "the API key is not valid or has been revoked")


async def test_without_the_master_key_the_page_says_what_is_needed(
    page: Page, console: Gateway, keyed_console: Gateway
) -> None:
    await page.goto(f"{console.url}/console/keys")  # protected mode: no keys at all
    await expect(page.locator("#keys-status")).to_contain_text("Set IMAGEGATE_MASTER_KEY")
    await expect(page.get_by_role("heading", name="Create a key")).to_be_hidden()
    await sign_in(page, keyed_console, make_key(keyed_console, "ordinary"))
    await expect(page.locator("#keys-status")).to_contain_text("needs the master key")
    await expect(page.get_by_role("button", name="Create key")).to_be_hidden()
