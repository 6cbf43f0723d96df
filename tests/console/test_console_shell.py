"""The console's frame: `/` leads to it, every page of the menu answers with the nav and the key
chip, a key typed once is kept for the tab, dark and light, and it stays usable on a phone."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page, expect

from conftest import Gateway, start_gateway
from console.conftest import MASTER_KEY, make_key


async def test_the_root_opens_the_console_in_protected_mode(page: Page, console: Gateway) -> None:
    await page.goto(console.url)
    assert page.url == f"{console.url}/console/"
    await expect(page.locator("#who")).to_have_text("no key needed (protected mode)")
    nav = page.get_by_role("navigation", name="Console")
    for title in ("Models", "Playground", "Compare", "History", "Spend", "Keys"):
        await nav.get_by_role("link", name=title).click()
        await expect(page.get_by_role("heading", level=1).first).to_be_visible()
        await expect(nav.get_by_role("link", name=title)).to_have_attribute("aria-current", "page")


def test_pages_are_served_from_the_package_with_a_strict_policy(console: Gateway) -> None:
    answer = httpx.get(f"{console.url}/console/models")
    assert answer.status_code == 200
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "https://" not in answer.text.replace("https://github", "")  # nothing from a CDN
    missing = httpx.get(f"{console.url}/console/no/such/page/here")
    assert missing.status_code == 404 and "Not found" in missing.text
    chart = httpx.get(f"{console.url}/console/assets/vendor/uPlot.iife.min.js")
    assert chart.status_code == 200 and "uPlot" in chart.text
    # the console is no API: the document lists none of its paths
    paths = httpx.get(f"{console.url}/openapi.json").json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/console")]


async def test_a_key_is_asked_for_once_and_kept_for_the_tab(
    page: Page, keyed_console: Gateway
) -> None:
    key = make_key(keyed_console, "console shell")
    await page.goto(f"{keyed_console.url}/console/")
    await expect(page.locator("#who")).to_have_text("no key: sign in")
    await page.get_by_role("button", name="Key").click()
    await page.get_by_label("Key", exact=True).fill(key)
    await page.get_by_role("button", name="Use this key").click()
    await expect(page.locator("#who")).to_contain_text("key console shell")
    await page.get_by_role("link", name="History").click()
    await expect(page.locator("#who")).to_contain_text("key console shell")  # another page
    await page.get_by_role("button", name="Key").click()
    await page.get_by_label("Key", exact=True).fill(MASTER_KEY)
    await page.get_by_role("button", name="Use this key").click()
    await expect(page.locator("#who")).to_have_text("master key")
    await page.get_by_role("button", name="Key").click()
    await page.get_by_role("button", name="Forget the key").click()
    await expect(page.locator("#who")).to_have_text("no key: sign in")


async def test_dark_and_light_and_a_phone(page: Page, console: Gateway) -> None:
    await page.goto(f"{console.url}/console/")
    background = "getComputedStyle(document.body).backgroundColor"
    first = await page.evaluate(background)
    await page.get_by_role("button", name="Switch between dark and light").click()
    second = await page.evaluate(background)
    assert first != second
    await page.reload()  # the choice is kept
    assert await page.evaluate(background) == second
    await page.set_viewport_size({"width": 390, "height": 844})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    await expect(page.get_by_role("link", name="Playground")).to_be_visible()


def test_the_console_can_be_switched_off(tmp_path) -> None:
    gateway = start_gateway(tmp_path / "home", IMAGEGATE_CONSOLE="false")
    try:
        for path in ("/", "/console/", "/console/assets/console.css"):
            answer = httpx.get(f"{gateway.url}{path}")
            assert answer.status_code == 404, path
            assert answer.json()["error"]["code"] == 404  # the API's own answer
        assert httpx.get(f"{gateway.url}/api/v1/images/models").status_code == 200
    finally:
        gateway.stop()


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_every_page_fits_a_phone_and_is_reached_by_keyboard(
    page: Page, console: Gateway, theme: str
) -> None:
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.emulate_media(color_scheme=theme)
    for path in (
        "models",
        "models/sandbox/image",
        "playground",
        "compare",
        "history",
        "spend",
        "keys",
    ):
        await page.goto(f"{console.url}/console/{path}")
        await expect(page.get_by_role("heading", level=1).first).to_be_visible()
        await page.wait_for_load_state("networkidle")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/console/{path} scrolls sideways on a phone ({width} px)"
    scheme = await page.evaluate("getComputedStyle(document.documentElement).colorScheme")
    assert scheme == theme
    # the keyboard: the first Tab reaches "skip to content", then the menu
    await page.goto(f"{console.url}/console/models")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#main")).to_be_focused()


def test_media_links_to_the_public_url_are_allowed_by_the_pages_policy(tmp_path) -> None:
    """`/media/...` links (thumbnails, videos) are built from `public_url`, which may name
    another origin than the one in the browser: the pages' policy lets images and videos come
    from there, and from nowhere else."""
    gateway = start_gateway(tmp_path / "home", IMAGEGATE_PUBLIC_URL="https://images.example.com/")
    try:
        made = httpx.post(
            f"{gateway.url}/v1/images/generations",
            json={"model": "sandbox/image", "prompt": "a kite", "response_format": "url"},
        )
        assert made.json()["data"][0]["url"].startswith("https://images.example.com/media/")
        policy = httpx.get(f"{gateway.url}/console/history").headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        for name in ("img-src", "media-src"):
            assert directives[name].split() == [
                "'self'",
                "data:",
                "blob:",
                "https://images.example.com",
            ]
        assert directives["default-src"] == "'self'"
    finally:
        gateway.stop()
