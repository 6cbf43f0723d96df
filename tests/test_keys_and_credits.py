"""Keys, auth in every dialect, USD limits, rate limits, idempotency, and the ledger: on the
embedded SQLite store and on PostgreSQL with Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from openrouter import OpenRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import STORES, Gateway, clean_env, free_port, start_gateway, store_env

MASTER = "master-secret-for-tests"
PNG_ONLY = {"model": "test/png-only", "prompt": "x"}  # $0.01 an image, served by the sandbox


@pytest.fixture(scope="module", params=STORES)
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A gateway with a master key, on the embedded store and on PostgreSQL with Redis; keys
    may use the sandbox's fault switches, to make a keyed generation fail or take its time."""
    running = start_gateway(
        tmp_path_factory.mktemp(f"secured-{request.param}"),
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_FAULT_SWITCHES_FOR_KEYS="true",
        **store_env(request.param, request),
    )
    yield running
    running.stop()


def _admin(gateway: Gateway) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {MASTER}"}, timeout=30
    )


def _new_key(gateway: Gateway, **fields) -> tuple[str, str]:
    with _admin(gateway) as admin:
        response = admin.post("/api/v1/keys", json={"name": "test", **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["data"]["hash"], body["key"]


def _as(gateway: Gateway, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def test_protected_mode_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "imagegate",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
        ],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without IMAGEGATE_MASTER_KEY" in result.stderr


def test_without_keys_loopback_serves_anyone_and_ignores_tokens(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/images",
        json={"model": "sandbox/image", "prompt": "x"},
        headers={"Authorization": "Bearer whatever-an-sdk-sends"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "shape"),
    [
        ("/api/v1/images", {"model": "sandbox/image", "prompt": "x"}, "openrouter"),
        ("/v1/images/generations", {"model": "sandbox/image", "prompt": "x"}, "openai"),
        ("/v1/openai/images/generations", {"model": "sandbox/image", "prompt": "x"}, "imagerouter"),
        (
            "/api/v1/chat/completions",
            {"model": "sandbox/image", "messages": [{"role": "user", "content": "x"}]},
            "openrouter",
        ),
    ],
)
def test_keys_are_required_once_a_master_key_is_set(
    secured: Gateway, path: str, body: dict, shape: str
) -> None:
    missing = httpx.post(f"{secured.url}{path}", json=body)
    assert missing.status_code == 401
    error = missing.json()["error"]
    if shape == "openrouter":
        assert error["code"] == 401
    else:
        assert error["type"] in ("authentication_error", "unauthorized")
    wrong = httpx.post(
        f"{secured.url}{path}", json=body, headers={"Authorization": "Bearer ig-nope"}
    )
    assert wrong.status_code == 401
    assert "not valid or has been revoked" in wrong.json()["error"]["message"]
    assert httpx.get(f"{secured.url}/api/v1/images/models").status_code == 200  # listings stay open


def test_key_lifecycle_through_the_admin_api(secured: Gateway) -> None:
    key_id, secret = _new_key(secured, limit=5, requests_per_minute=100)
    assert secret.startswith("ig-")
    with _as(secured, secret) as user:
        assert (
            user.post("/api/v1/images", json={"model": "sandbox/image", "prompt": "x"}).status_code
            == 200
        )
    with _admin(secured) as admin:
        listed = admin.get("/api/v1/keys").json()["data"]
        mine = next(k for k in listed if k["hash"] == key_id)
        assert mine["limit"] == 5 and mine["disabled"] is False
        assert secret not in str(listed)  # the secret is never shown again
        assert (
            admin.patch(f"/api/v1/keys/{key_id}", json={"limit": 7.5}).json()["data"]["limit"]
            == 7.5
        )
        assert admin.delete(f"/api/v1/keys/{key_id}").json()["data"]["disabled"] is True
    with _as(secured, secret) as user:
        assert (
            user.post("/api/v1/images", json={"model": "sandbox/image", "prompt": "x"}).status_code
            == 401
        )
    with _as(secured, "wrong") as stranger:
        assert stranger.get("/api/v1/keys").status_code == 401
    assert httpx.get(f"{secured.url}/api/v1/keys").status_code == 401


def test_admin_api_is_off_without_a_master_key(client: httpx.Client) -> None:
    response = client.post("/api/v1/keys", json={"name": "x"})
    assert response.status_code == 403
    assert "IMAGEGATE_MASTER_KEY" in response.json()["error"]["message"]


def test_openrouter_sdk_reads_key_and_credits(secured: Gateway) -> None:
    _, secret = _new_key(secured, limit=1, requests_per_minute=60)
    with _as(secured, secret) as user:
        assert user.post("/api/v1/images", json=PNG_ONLY).status_code == 200
    with OpenRouter(api_key=secret, server_url=f"{secured.url}/api/v1") as sdk:
        key = sdk.api_keys.get_current_key_metadata().data
        assert (
            key.limit == 1
            and key.usage == pytest.approx(0.01)
            and key.limit_remaining == pytest.approx(0.99)
        )
        assert key.usage_daily == pytest.approx(0.01)
        assert key.rate_limit.requests == 60
        credits = sdk.credits.get_credits().data
        assert credits.total_credits == 1 and credits.total_usage == pytest.approx(0.01)
    with OpenRouter(api_key=MASTER, server_url=f"{secured.url}/api/v1") as admin:
        created = admin.api_keys.create(name="from the sdk", limit=2)
        assert created.key.startswith("ig-") and created.data.limit == 2


def test_usd_limit_refuses_what_would_overspend_and_failures_cost_nothing(secured: Gateway) -> None:
    key_id, secret = _new_key(secured, limit=0.025)
    with _as(secured, secret) as user:
        assert user.post("/api/v1/images", json=PNG_ONLY).status_code == 200
        failed = user.post(
            "/api/v1/images",
            json={**PNG_ONLY, "provider": {"options": {"sandbox": {"fail": "upstream_error"}}}},
        )
        assert failed.status_code == 502
        assert user.post("/api/v1/images", json=PNG_ONLY).status_code == 200
        refused = user.post("/api/v1/images", json=PNG_ONLY)
        assert refused.status_code == 402
        assert refused.json()["error"]["message"] == (
            "this request may cost $0.01 and the key has $0.005 left of its $0.025 limit"
        )
        usage = user.get("/api/v1/key").json()["data"]
        assert usage["usage"] == pytest.approx(0.02)
        assert usage["limit_remaining"] == pytest.approx(0.005)
    _check_ledger_matches_records(secured, key_id, Decimal("0.02"))


def test_concurrent_requests_never_overspend_a_key(secured: Gateway) -> None:
    """Twenty requests at once against a key with room for five: the holds are taken one at a
    time, so exactly five run and the ledger equals the records."""
    key_id, secret = _new_key(secured, limit=0.05)
    body = {**PNG_ONLY, "provider": {"options": {"sandbox": {"delay_ms": 300}}}}

    def generate(_: int) -> int:
        with _as(secured, secret) as user:
            return user.post("/api/v1/images", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(generate, range(20)))
    assert sorted(statuses) == [200] * 5 + [402] * 15
    _check_ledger_matches_records(secured, key_id, Decimal("0.05"), charges=5)


def _check_ledger_matches_records(
    gateway: Gateway, key_id: str, expected: Decimal, charges: int = 2
) -> None:
    async def read() -> tuple:
        engine = create_async_engine(gateway.database_url)
        try:
            async with engine.connect() as connection:

                async def one(sql: str) -> tuple:
                    return (await connection.execute(text(sql), {"key": key_id})).one()

                return (
                    await one(
                        "SELECT SUM(amount_usd), COUNT(*) FROM ledger WHERE api_key_id = :key"
                    ),
                    await one(
                        "SELECT SUM(cost_usd) FROM generations"
                        " WHERE api_key_id = :key AND status = 'succeeded'"
                    ),
                    await one("SELECT usage_usd FROM api_keys WHERE id = :key"),
                )
        finally:
            await engine.dispose()

    ledger, records, usage = asyncio.run(read())
    assert Decimal(str(ledger[0])) == Decimal(str(records[0])) == Decimal(str(usage[0])) == expected
    assert ledger[1] == charges


def test_requests_per_minute(secured: Gateway) -> None:
    _, secret = _new_key(secured, requests_per_minute=2)
    with _as(secured, secret) as user:
        statuses = [
            user.post("/api/v1/images", json={"model": "sandbox/image", "prompt": "x"})
            for _ in range(3)
        ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert 1 <= int(statuses[2].headers["retry-after"]) <= 60
    assert statuses[2].json()["error"]["metadata"]["kind"] == "rate_limited"


def test_images_per_minute(secured: Gateway) -> None:
    _, secret = _new_key(secured, images_per_minute=3)
    with _as(secured, secret) as user:
        first = user.post(
            "/v1/images/generations", json={"model": "sandbox/image", "prompt": "x", "n": 2}
        )
        second = user.post(
            "/v1/images/generations", json={"model": "sandbox/image", "prompt": "x", "n": 2}
        )
        third = user.post(
            "/v1/images/generations", json={"model": "sandbox/image", "prompt": "x", "n": 1}
        )
    assert (first.status_code, second.status_code, third.status_code) == (200, 429, 200)
    assert second.json()["error"]["type"] == "rate_limit_error"


def test_idempotency_key_replays_without_charging_again(secured: Gateway) -> None:
    _, secret = _new_key(secured, limit=1)
    headers = {"Idempotency-Key": "order-42"}
    with _as(secured, secret) as user:
        first = user.post("/api/v1/images", json={**PNG_ONLY, "n": 2}, headers=headers)
        again = user.post("/api/v1/images", json={**PNG_ONLY, "n": 2}, headers=headers)
        other_dialect = user.post(
            "/v1/images/generations", json={**PNG_ONLY, "n": 2}, headers=headers
        )
        different = user.post("/api/v1/images", json={**PNG_ONLY, "n": 1}, headers=headers)
        usage = user.get("/api/v1/key").json()["data"]["usage"]
    assert first.status_code == again.status_code == other_dialect.status_code == 200
    assert (
        again.headers["idempotent-replayed"] == "true"
        and "idempotent-replayed" not in first.headers
    )
    assert again.json()["id"] == first.json()["id"]
    assert [d["b64_json"] for d in again.json()["data"]] == [
        d["b64_json"] for d in first.json()["data"]
    ]
    assert [d["b64_json"] for d in other_dialect.json()["data"]] == [
        d["b64_json"] for d in first.json()["data"]
    ]
    assert (
        different.status_code == 400 and "different request" in different.json()["error"]["message"]
    )
    assert usage == pytest.approx(0.02)  # charged once


def test_idempotency_key_while_the_first_is_running_is_a_409(secured: Gateway) -> None:
    _, secret = _new_key(secured)
    body = {
        "model": "sandbox/image",
        "prompt": "x",
        "provider": {"options": {"sandbox": {"delay_ms": 1500}}},
    }
    results: list[httpx.Response] = []

    def first() -> None:
        with _as(secured, secret) as user:
            results.append(
                user.post("/api/v1/images", json=body, headers={"Idempotency-Key": "slow-1"})
            )

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.5)
    with _as(secured, secret) as user:
        concurrent = user.post("/api/v1/images", json=body, headers={"Idempotency-Key": "slow-1"})
    thread.join()
    assert concurrent.status_code == 409
    assert results[0].status_code == 200


def test_a_failed_first_attempt_lets_the_key_be_retried(secured: Gateway) -> None:
    _, secret = _new_key(secured)
    failing = {
        "model": "sandbox/image",
        "prompt": "x",
        "provider": {"options": {"sandbox": {"fail": "upstream_error"}}},
    }
    with _as(secured, secret) as user:
        assert (
            user.post("/api/v1/images", json=failing, headers={"Idempotency-Key": "k"}).status_code
            == 502
        )
        retried = user.post("/api/v1/images", json=failing, headers={"Idempotency-Key": "k"})
    assert retried.status_code == 502
    assert "idempotent-replayed" not in retried.headers


def test_generation_records_belong_to_their_key(secured: Gateway) -> None:
    _, alice = _new_key(secured)
    _, bob = _new_key(secured)
    with _as(secured, alice) as user:
        generation = user.post(
            "/api/v1/images", json={"model": "sandbox/image", "prompt": "x"}
        ).headers["x-imagegate-generation-id"]
        assert user.get("/api/v1/generation", params={"id": generation}).status_code == 200
    with _as(secured, bob) as other:
        assert other.get("/api/v1/generation", params={"id": generation}).status_code == 404


def test_keys_created_by_the_cli_work_on_the_running_gateway(secured: Gateway) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "imagegate", "keys", "create", "from-cli", "--limit", "3"],
        env=clean_env(secured.home, **secured.env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    with _as(secured, secret) as user:
        assert user.get("/api/v1/key").json()["data"]["limit"] == 3
    listed = subprocess.run(
        [sys.executable, "-m", "imagegate", "keys", "list", "--json"],
        env=clean_env(secured.home, **secured.env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "from-cli" in listed.stdout and secret not in listed.stdout


def _who(url: str, token: str | None = None) -> tuple[int, str | None, bool | None]:
    """`GET /api/v1/key` as a browser client reads it: (status, mode, manages keys)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{url}/api/v1/key", headers=headers, timeout=30)
    if response.status_code != 200:
        return response.status_code, None, None
    data = response.json()["data"]
    return 200, data["mode"], data["is_management_key"]


def test_one_call_tells_a_client_who_it_is(secured: Gateway, gateway: Gateway) -> None:
    _, secret = _new_key(secured)
    assert _who(secured.url, MASTER) == (200, "master", True)
    assert _who(secured.url, secret) == (200, "key", False)
    assert _who(secured.url, "ig-nope")[0] == 401
    assert _who(secured.url)[0] == 401
    # protected mode (no master key, no keys): no key needed, a token sent is ignored, and
    # key management is off (403), so it is not a management key
    assert _who(gateway.url) == (200, "protected", False)
    assert _who(gateway.url, "whatever-an-sdk-sends") == (200, "protected", False)
    assert httpx.get(f"{gateway.url}/api/v1/keys").status_code == 403


def test_the_master_key_reads_the_whole_gateways_usage(secured: Gateway) -> None:
    with _admin(secured) as admin:
        before = admin.get("/api/v1/key").json()["data"]
        assert admin.post("/api/v1/images", json=PNG_ONLY).status_code == 200
        _, secret = _new_key(secured)
        with _as(secured, secret) as user:
            assert user.post("/api/v1/images", json={**PNG_ONLY, "n": 2}).status_code == 200
        after = admin.get("/api/v1/key").json()["data"]
        credits = admin.get("/api/v1/credits").json()["data"]
    assert (after["hash"], after["label"], after["mode"]) == (None, "master key", "master")
    assert after["is_management_key"] is after["is_provisioning_key"] is True
    assert (after["limit"], after["limit_remaining"], after["budgets"]) == (None, None, [])
    # its own generation and the key's: everything charged through the gateway
    assert after["usage"] - before["usage"] == pytest.approx(0.03)
    assert after["usage_daily"] - before["usage_daily"] == pytest.approx(0.03)
    assert after["usage"] == pytest.approx(credits["total_usage"])
    with OpenRouter(api_key=MASTER, server_url=f"{secured.url}/api/v1") as sdk:
        key = sdk.api_keys.get_current_key_metadata().data
    assert key.is_management_key is True and key.label == "master key" and key.limit is None


def test_protected_mode_reads_the_whole_gateways_usage(client: httpx.Client) -> None:
    before = client.get("/api/v1/key").json()["data"]
    assert client.post("/api/v1/images", json=PNG_ONLY).status_code == 200
    after = client.get("/api/v1/key").json()["data"]
    assert (after["label"], after["limit"]) == ("protected mode", None)
    assert after["usage"] - before["usage"] == pytest.approx(0.01)
    assert after["usage"] == pytest.approx(
        client.get("/api/v1/credits").json()["data"]["total_usage"]
    )
