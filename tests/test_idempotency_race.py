"""Repeats of an `Idempotency-Key` that arrive while the first request is failing: each gets a
409 (still in progress) or, once the first has failed and let go of the key, a run of its own;
never "no longer kept". On the embedded store and on PostgreSQL with Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from conftest import STORES, Gateway, start_gateway, store_env

MASTER = "master-for-idempotency-races"
FAILING_SLOWLY = {
    "model": "sandbox/image",
    "prompt": "a lighthouse",
    "provider": {"options": {"sandbox": {"fail": "upstream_error", "delay_ms": 600}}},
}


@pytest.fixture(scope="module", params=STORES)
def racing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp(f"idempotency-{request.param}"),
        IMAGEGATE_MASTER_KEY=MASTER,
        **store_env(request.param, request),
    )
    yield gateway
    gateway.stop()


@pytest.mark.parametrize("round_number", range(3))  # the race is a matter of milliseconds
def test_twenty_repeats_while_the_first_fails(racing: Gateway, round_number: int) -> None:
    headers = {"Authorization": f"Bearer {MASTER}", "Idempotency-Key": f"racing-{round_number}"}

    def post(delay: float) -> httpx.Response:
        time.sleep(delay)
        return httpx.post(
            f"{racing.url}/api/v1/images", json=FAILING_SLOWLY, headers=headers, timeout=60
        )

    first: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: first.append(post(0)))
    thread.start()
    # twenty repeats within a quarter of a second around the moment the first one fails
    with ThreadPoolExecutor(max_workers=20) as pool:
        repeats = list(pool.map(post, [0.45 + 0.0125 * i for i in range(20)]))
    thread.join()

    assert first[0].status_code == 502, first[0].text
    statuses = sorted(response.status_code for response in repeats)
    assert set(statuses) <= {409, 502}, [r.text for r in repeats if r.status_code not in (409, 502)]
    assert statuses.count(409) >= 1  # some arrived while a run held the key
    runs = {
        r.headers["x-imagegate-generation-id"] for r in [*first, *repeats] if r.status_code == 502
    }
    assert len(runs) >= 2  # after the first failed, a repeat ran anew
    assert len(runs) == 1 + statuses.count(502)  # each 502 is a run of its own, never a replay
    for response in repeats:
        if response.status_code == 409:
            assert "still in progress" in response.json()["error"]["message"]
