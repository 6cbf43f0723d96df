"""The memory budget for decoded pixels: its rules on their own, and a gateway whose budget is
smaller than any one image still serving every request, with the same bytes.

(How much memory the gateway holds with and without it is a benchmark's business:
`benchmarks/memory.py`, figures in docs/benchmarks.md.)
"""

from __future__ import annotations

import asyncio
import base64
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from conftest import Gateway, start_gateway
from imagegate.media.budget import MemoryBudget

MB = 2**20


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_reservations_wait_their_turn_in_arrival_order() -> None:
    budget = MemoryBudget(100 * MB)
    first = await budget.reserve(60 * MB)
    large = asyncio.ensure_future(budget.reserve(80 * MB))
    small = asyncio.ensure_future(budget.reserve(10 * MB))  # would fit, but comes after
    await _settle()
    assert not large.done() and not small.done()
    first()
    await _settle()
    assert large.done() and small.done()
    assert budget.in_use == 90 * MB
    large.result()()
    small.result()()
    assert budget.in_use == 0


async def test_one_larger_than_the_budget_waits_for_all_of_it_then_runs_alone() -> None:
    budget = MemoryBudget(100 * MB)
    held = await budget.reserve(1 * MB)
    huge = asyncio.ensure_future(budget.reserve(500 * MB))
    await _settle()
    assert not huge.done()
    held()
    release = await huge
    assert budget.in_use == 100 * MB
    release()
    release()  # giving back twice gives back once
    assert budget.in_use == 0


async def test_a_waiter_that_gives_up_leaves_the_line() -> None:
    budget = MemoryBudget(100 * MB)
    held = await budget.reserve(90 * MB)
    impatient = asyncio.ensure_future(budget.reserve(50 * MB))
    behind = asyncio.ensure_future(budget.reserve(10 * MB))
    await _settle()
    impatient.cancel()
    await _settle()
    assert behind.done()  # the one ahead of it left: it fits now
    held()
    behind.result()()
    assert budget.in_use == 0


async def test_idle_is_reported_when_the_last_reservation_ends() -> None:
    idle: list[int] = []
    budget = MemoryBudget(100 * MB, on_idle=lambda: idle.append(budget.in_use))
    one, two = await budget.reserve(10 * MB), await budget.reserve(10 * MB)
    one()
    assert idle == []
    two()
    assert idle == [0]


async def test_threads_and_loops_share_one_budget() -> None:
    """Released from a worker thread (where jobs end), a waiter on the loop is woken."""
    budget = MemoryBudget(10 * MB)
    held = await budget.reserve(10 * MB)
    waiting = asyncio.ensure_future(budget.reserve(5 * MB))
    await _settle()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(held).result()
    release = await asyncio.wait_for(waiting, 5)
    release()


def _references(count: int) -> list[dict]:
    images = []
    for number in range(count):
        size = (4000, 3000)  # 12 MP: 48 MB decoded, far over a 1 MB budget
        gradient = Image.linear_gradient("L").resize(size)
        image = Image.merge("RGB", (gradient, Image.new("L", size, 60 * number), gradient))
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=1)
        url = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
        images.append({"type": "image_url", "image_url": {"url": url}})
    return images


def test_a_budget_smaller_than_any_image_still_serves_every_request_alike(
    gateway: Gateway, tmp_path: Path
) -> None:
    tight = start_gateway(tmp_path, IMAGEGATE_DECODE_MEMORY_BYTES=str(MB))
    try:
        references = _references(3)
        bodies = [
            {
                "model": "sandbox/image",
                "prompt": f"a collage, take {take}",
                "input_references": references,
            }
            for take in range(4)
        ]

        def answers(url: str) -> list[str]:
            def one(body: dict) -> str:
                response = httpx.post(f"{url}/api/v1/images", json=body, timeout=120)
                assert response.status_code == 200, response.text
                return response.json()["data"][0]["b64_json"]

            with ThreadPoolExecutor(len(bodies)) as pool:
                return list(pool.map(one, bodies))

        assert answers(tight.url) == answers(gateway.url)
    finally:
        tight.stop()
