"""The console in a real browser: Playwright driving Debian's chromium (never a downloaded
one) against a real `imagegate serve` with the sandbox and fake upstreams.

Playwright's async API, on the suite's one event loop: its sync API would hold a loop of its
own running for as long as a browser is open, and break every asyncio test after it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from conftest import Gateway, start_gateway
from contracts.conftest import provider_env
from fakes import all_fakes
from fakes.base import FakeServer

MASTER_KEY = "ig-console-test-master-key"
# The upstreams besides the sandbox: OpenAI's images (answered at once) and BFL's (polled).
UPSTREAMS = ("openai", "bfl")
CHROMIUM = os.environ.get("IMAGEGATE_TEST_CHROMIUM", "/usr/bin/chromium")
# Where the pages' screenshots go: docs/console/ when asked (to refresh the docs), else a
# temporary directory (they are taken either way).
SCREENSHOTS = os.environ.get("IMAGEGATE_CONSOLE_SCREENSHOTS")
# The suite runs a worker per core beside other tests' gateways: waits that take a second alone
# may take several then. Still far below a hang.
WAIT_MS = 15_000
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="session")
def upstream_fakes() -> Iterator[dict[str, FakeServer]]:
    kinds = all_fakes()
    running = {slug: kinds[slug]() for slug in UPSTREAMS}
    for fake in running.values():
        fake.start()
    yield running
    for fake in running.values():
        fake.stop()


@pytest.fixture(scope="session")
def console(
    upstream_fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """Protected mode (no keys), the bundled catalog, the sandbox and two fake upstreams."""
    running = start_gateway(
        tmp_path_factory.mktemp("console"), catalog=None, **provider_env(upstream_fakes, UPSTREAMS)
    )
    yield running
    running.stop()


@pytest.fixture(scope="session")
def keyed_console(
    upstream_fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """The same, with a master key: keys are required."""
    running = start_gateway(
        tmp_path_factory.mktemp("keyed-console"),
        catalog=None,
        IMAGEGATE_MASTER_KEY=MASTER_KEY,
        **provider_env(upstream_fakes, UPSTREAMS),
    )
    yield running
    running.stop()


def make_key(gateway: Gateway, name: str, **limits: object) -> str:
    """A new API key, made through the keys API with the master key."""
    answer = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": name, **limits},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    answer.raise_for_status()
    return answer.json()["key"]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"no chromium at {CHROMIUM}: scripts/test installs Debian's `chromium`")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--disable-gpu"]
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context per test (its own session storage: no key carried over); an
    uncaught script error, or anything the content policy blocked, on any page fails the
    test."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(  # something the page's content policy blocked: a page that does not work
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield opened
    await context.close()
    assert not errors, f"script errors on the page: {errors}"


def exact_usd(amount: float) -> str:
    """Dollars as the console shows a charged cost: exactly (to the millionth, trailing zeros
    cut), the same on every page."""
    whole, fraction = f"{amount:.6f}".split(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"


async def screenshot(page: Page, name: str, tmp_path: Path) -> Path:
    """The page as it looks, for docs/console.md."""
    directory = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
