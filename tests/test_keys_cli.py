"""`imagegate keys update` and `keys revoke`, run as an operator would (the CLI entry point on
the gateway's own database) while the gateway serves: on the embedded SQLite store and on
PostgreSQL with Redis. A change made by the CLI reaches the running gateway within a second
(see accounting/keys.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import STORES, Gateway, clean_env, start_gateway, store_env

MASTER = "keys-cli-master"
PNG_ONLY = {"model": "test/png-only", "prompt": "x"}  # $0.01 an image, served by the sandbox
SEEN = 1.2  # the gateway remembers a looked-up key for a second


@pytest.fixture(scope="module", params=STORES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    running = start_gateway(
        tmp_path_factory.mktemp(f"keys-cli-{request.param}"),
        IMAGEGATE_MASTER_KEY=MASTER,
        **store_env(request.param, request),
    )
    yield running
    running.stop()


def _cli(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagegate", "keys", *args],
        env=clean_env(gateway.home, **gateway.env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _create(gateway: Gateway, name: str, *options: str) -> tuple[str, str]:
    """(key id, secret) of a key made with `imagegate keys create`."""
    created = _cli(gateway, "create", name, *options)
    assert created.returncode == 0, created.stderr
    key_id = created.stderr.split()[0]
    assert key_id.startswith("key_"), created.stderr
    return key_id, created.stdout.strip()


def _as(gateway: Gateway, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def _in_one_window() -> None:
    """Rate limits count in fixed one-minute windows: keep a test's requests inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_keys_update_changes_what_the_running_gateway_enforces(served: Gateway) -> None:
    key_id, secret = _create(served, "before", "--limit", "3")

    updated = _cli(served, "update", key_id, "--name", "after", "--limit", "0.005")
    assert updated.returncode == 0, updated.stderr
    record = json.loads(updated.stdout)
    assert (record["id"], record["name"], record["limit_usd"]) == (key_id, "after", 0.005)
    time.sleep(SEEN)
    with _as(served, secret) as user:
        key = user.get("/api/v1/key").json()["data"]
        assert (key["name"], key["limit"], key["limit_remaining"]) == ("after", 0.005, 0.005)
        refused = user.post("/api/v1/images", json=PNG_ONLY)  # $0.01 is over what is left
        assert refused.status_code == 402, refused.text

    updated = _cli(served, "update", key_id, "--no-limit", "--rpm", "1", "--ipm", "5")
    assert updated.returncode == 0, updated.stderr
    record = json.loads(updated.stdout)
    assert record["limit_usd"] is None
    assert (record["requests_per_minute"], record["images_per_minute"]) == (1, 5)
    time.sleep(SEEN)
    _in_one_window()
    with _as(served, secret) as user:
        key = user.get("/api/v1/key").json()["data"]
        assert key["limit"] is None and key["rate_limit"]["requests"] == 1
        assert user.post("/api/v1/images", json=PNG_ONLY).status_code == 200  # no USD limit now
        limited = user.post("/api/v1/images", json=PNG_ONLY)  # one request a minute
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["metadata"]["kind"] == "rate_limited"


def test_keys_update_refuses_an_unknown_key_or_no_change(served: Gateway) -> None:
    unknown = _cli(served, "update", "key_0000000000000000", "--rpm", "3")
    assert unknown.returncode == 1
    assert "no API key key_0000000000000000" in unknown.stderr
    key_id, _ = _create(served, "unchanged")
    nothing = _cli(served, "update", key_id)
    assert nothing.returncode != 0
    assert "nothing to change" in nothing.stderr


def test_keys_revoke_shuts_a_key_out_of_the_running_gateway(served: Gateway) -> None:
    key_id, secret = _create(served, "to-revoke")
    _, other = _create(served, "bystander")
    with _as(served, secret) as user:
        assert user.get("/api/v1/key").status_code == 200
        assert user.post("/api/v1/images", json=PNG_ONLY).status_code == 200

    revoked = _cli(served, "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"{key_id} revoked"
    time.sleep(SEEN)
    with _as(served, secret) as user:
        for response in (
            user.post("/api/v1/images", json=PNG_ONLY),
            user.post("/v1/images/generations", json=PNG_ONLY),
            user.get("/api/v1/key"),
        ):
            assert response.status_code == 401, response.text
    with _as(served, other) as bystander:  # only that key
        assert bystander.post("/api/v1/images", json=PNG_ONLY).status_code == 200

    listed = _cli(served, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    by_id = {key["id"]: key for key in json.loads(listed.stdout)}
    assert by_id[key_id]["revoked_at"] is not None
    assert by_id[key_id]["usage_usd"] == 0.01  # its history stays
