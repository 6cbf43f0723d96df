"""Rules of the attempt loop that a client notices only when something goes wrong: how long an
upstream's Retry-After makes it wait, what an idempotency key's request is, how a stream that
breaks counts against its endpoint, and what becomes of a generation the gateway itself fails."""

from __future__ import annotations

import asyncio
import datetime as dt
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from conftest import start_gateway
from imagegate.config import load_settings
from imagegate.core.request import ImageRequest, RoutingOptions
from imagegate.db.tables import generations
from imagegate.errors import RateLimited
from imagegate.gateway.replay import fingerprint
from imagegate.gateway.service import Gateway
from imagegate.providers.retry_after import retry_after


def _limited(value: str) -> RateLimited:
    return RateLimited("slow down", headers={"Retry-After": value})


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert retry_after(_limited("7")) == 7.0
    assert retry_after(_limited("1.5")) == 1.5
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 25 <= (retry_after(_limited(format_datetime(soon, usegmt=True))) or 0) <= 30
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert retry_after(_limited(format_datetime(past, usegmt=True))) == 0.0
    assert retry_after(_limited("whenever")) is None
    assert retry_after(RateLimited("no header")) is None


def test_routing_is_part_of_what_an_idempotency_key_stands_for() -> None:
    plain = ImageRequest(model="sandbox/image", prompt="a fox")
    ordered = ImageRequest(
        model="sandbox/image", prompt="a fox", routing=RoutingOptions(order=("sandbox",))
    )
    assert fingerprint(plain) != fingerprint(ordered)
    # sets compare by content, whatever order the client listed them in
    one = RoutingOptions(ignore=frozenset(["fal", "replicate", "together"]))
    other = RoutingOptions(ignore=frozenset(["together", "fal", "replicate"]))
    assert fingerprint(ImageRequest(model="m", prompt="p", routing=one)) == fingerprint(
        ImageRequest(model="m", prompt="p", routing=other)
    )


def test_a_reused_idempotency_key_with_other_routing_is_refused(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "home")
    try:
        body = {"model": "sandbox/image", "prompt": "a fox"}
        headers = {"Idempotency-Key": "fox-1"}
        with gateway.client() as client:
            first = client.post("/api/v1/images", json=body, headers=headers)
            assert first.status_code == 200
            again = client.post("/api/v1/images", json=body, headers=headers)
            assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
            elsewhere = {**body, "provider": {"ignore": ["sandbox-eu"]}}
            refused = client.post("/api/v1/images", json=elsewhere, headers=headers)
        assert refused.status_code == 400, refused.text
        assert "Idempotency-Key" in refused.json()["error"]["message"]
    finally:
        gateway.stop()


def _stream(client: httpx.Client, fail: str | None) -> list[bytes]:
    options = {"sandbox": {"fail": fail}} if fail else {}
    body = {
        "model": "sandbox/image-text",
        "stream": True,
        "modalities": ["image", "text"],
        "messages": [{"role": "user", "content": "a lighthouse"}],
        "provider": {"only": ["sandbox"], "options": options},
    }
    with client.stream("POST", "/api/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        return list(response.iter_lines())


def test_a_stream_broken_off_on_request_does_not_count_against_its_endpoint(
    tmp_path: Path,
) -> None:
    """A failure the client asked the sandbox for says nothing about the sandbox: one whole
    stream and one broken off by `fail: midstream` leave its uptime at 100%. (A stream an
    upstream breaks off counts: tests/contracts/test_health_isolation.py.)"""
    gateway = start_gateway(tmp_path / "home")
    try:
        with gateway.client() as client:
            assert any('"finish_reason":"stop"' in line for line in _stream(client, None))
            assert any('"finish_reason":"error"' in line for line in _stream(client, "midstream"))
            listed = client.get("/api/v1/models/sandbox/image-text/endpoints").json()
        endpoint = next(e for e in listed["data"]["endpoints"] if e["tag"] == "sandbox")
        assert endpoint["uptime_last_30m"] == 100.0
    finally:
        gateway.stop()


def test_a_generation_the_gateway_itself_fails_is_recorded_failed(tmp_path: Path) -> None:
    """A bug after the provider answered (here: in finishing) is not left as a pending record
    holding the key's money until the sweep: it is recorded failed, uncharged, at once."""

    async def scenario() -> dict:
        settings = load_settings(home=tmp_path, retries=0, circuit_threshold=0)
        gateway = await Gateway.open(settings, env={})
        try:

            async def broken_finish(*_: object) -> None:
                raise RuntimeError("a bug")

            gateway._finish = broken_finish  # type: ignore[method-assign]
            with pytest.raises(RuntimeError):
                await gateway.generate(ImageRequest(model="sandbox/image", prompt="x"), "test")
            query = select(generations)
            rows = await gateway.database.read(
                lambda connection: connection.execute(query).mappings().all()
            )
            assert len(rows) == 1
            return dict(rows[0])
        finally:
            await gateway.close()

    record = asyncio.run(scenario())
    assert (record["status"], record["error_kind"]) == ("failed", "internal")
    assert record["reserved_usd"] is None and not record["cost_usd"]
