"""A client that goes away: one rule on every surface, streamed or not.

- Gone before the provider delivered: the generation is cancelled where it is (the attempt
  under way is recorded as 499), nothing is charged, the key's hold is dropped.
- Gone after the provider delivered but before the answer was sent: the generation is charged
  (the provider billed for it) and recorded, with its ledger row, as `abandoned`; retrying
  with the same `Idempotency-Key` replays it without a second charge.

The clients here are raw sockets, so the test decides exactly when a connection closes. To
hold a generation between "delivered" and "answered", the test takes SQLite's write lock
(as another process sharing the file would) once the pending record is written: the success
cannot be recorded until it lets go.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from conftest import Gateway, start_gateway

MASTER = "master-for-client-gone"
MODEL = "test/png-only"  # $0.01 an image, served by the sandbox


@dataclass(frozen=True)
class Surface:
    name: str
    path: str
    stream: bool = False

    def body(self, **extra: Any) -> dict[str, Any]:
        if self.path.endswith("/chat/completions"):
            body: dict[str, Any] = {
                "model": MODEL,
                "messages": [{"role": "user", "content": "a lighthouse"}],
            }
        else:
            body = {"model": MODEL, "prompt": "a lighthouse"}
        if self.stream:
            body["stream"] = True
        return {**body, **extra}


SURFACES = [
    Surface("openrouter.images", "/api/v1/images"),
    Surface("openrouter.images.stream", "/api/v1/images", stream=True),
    Surface("openrouter.chat", "/api/v1/chat/completions"),
    Surface("openrouter.chat.stream", "/api/v1/chat/completions", stream=True),
    Surface("openai.generations", "/v1/images/generations"),
    Surface("openai.generations.stream", "/v1/images/generations", stream=True),
    Surface("imagerouter.generations", "/v1/openai/images/generations"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The embedded store (so the test can hold its write lock); keys may ask the sandbox to
    take its time."""
    gateway = start_gateway(
        tmp_path_factory.mktemp("client-gone"),
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_FAULT_SWITCHES_FOR_KEYS="true",
    )
    yield gateway
    gateway.stop()


def _new_key(gateway: Gateway) -> tuple[str, str]:
    response = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "client", "limit": 1},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["hash"], response.json()["key"]


def _open(gateway: Gateway, path: str, body: dict, secret: str, **headers: str) -> socket.socket:
    """Sends the request on a raw connection and returns it, unread."""
    address = urlsplit(gateway.url)
    payload = orjson.dumps(body)
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {address.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        f"Authorization: Bearer {secret}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    connection = socket.create_connection((address.hostname, address.port))
    connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    return connection


def _database(gateway: Gateway) -> sqlite3.Connection:
    return sqlite3.connect(gateway.home / "imagegate.db", timeout=30, isolation_level=None)


def _rows(gateway: Gateway, key_id: str) -> list[tuple]:
    with _database(gateway) as database:
        return database.execute(
            "SELECT g.id, g.status, g.error_kind, g.cost_usd, g.reserved_usd, g.attempts,"
            " l.amount_usd, l.status FROM generations g"
            " LEFT JOIN ledger l ON l.generation_id = g.id WHERE g.api_key_id = ?",
            (key_id,),
        ).fetchall()


def _settled(gateway: Gateway, key_id: str, status: str, timeout: float = 10) -> tuple:
    """The key's one generation once it has `status`, or as it is after `timeout` (a success
    is marked abandoned a moment after it is recorded)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(gateway, key_id)
        assert len(rows) == 1, rows
        if rows[0][1] == status or time.monotonic() > deadline:
            return rows[0]
        time.sleep(0.05)


def _usage(gateway: Gateway, secret: str) -> float:
    return httpx.get(
        f"{gateway.url}/api/v1/key", headers={"Authorization": f"Bearer {secret}"}
    ).json()["data"]["usage"]


def _wait_for_pending(gateway: Gateway, key_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _rows(gateway, key_id):
            return
        time.sleep(0.02)
    raise AssertionError("the generation never began")


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_gone_before_the_provider_delivered_is_cancelled_and_free(
    served: Gateway, surface: Surface
) -> None:
    key_id, secret = _new_key(served)
    slow = {"provider": {"options": {"sandbox": {"delay_ms": 5000}}}}
    connection = _open(served, surface.path, surface.body(**slow), secret)
    _wait_for_pending(served, key_id)
    time.sleep(0.3)
    connection.close()  # the client gives up while the sandbox is still at work
    begun = time.monotonic()
    generation_id, status, kind, cost, reserved, attempts, charged, _ = _settled(
        served, key_id, "failed"
    )
    assert time.monotonic() - begun < 3, "the generation was not stopped when its client left"
    assert (status, kind) == ("failed", "cancelled")
    assert Decimal(str(cost)) == 0 and reserved is None and charged is None
    assert [a["status"] for a in orjson.loads(attempts)] == [499]
    assert _usage(served, secret) == 0
    record = httpx.get(
        f"{served.url}/api/v1/generation",
        params={"id": generation_id},
        headers={"Authorization": f"Bearer {secret}"},
    ).json()["data"]
    assert record["cancelled"] is True and record["total_cost"] == 0


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_gone_after_the_provider_delivered_is_charged_and_abandoned(
    served: Gateway, surface: Surface
) -> None:
    key_id, secret = _new_key(served)
    # the sandbox delivers after one second; the test holds the store's write lock from before
    # then until after the client has gone, so the answer cannot be sent in between
    body = surface.body(provider={"options": {"sandbox": {"delay_ms": 1000}}})
    connection = _open(served, surface.path, body, secret, **{"Idempotency-Key": surface.name})
    _wait_for_pending(served, key_id)
    with _database(served) as lock:
        lock.execute("BEGIN IMMEDIATE")
        time.sleep(1.6)  # the sandbox has delivered; its success waits for the lock
        if surface.stream:
            assert connection.recv(65536).startswith(b"HTTP/1.1 200")  # the stream had begun
        connection.close()
        time.sleep(0.5)
        lock.execute("ROLLBACK")
    generation_id, status, kind, cost, _, _, charged, ledger_status = _settled(
        served, key_id, "abandoned"
    )
    assert (status, kind) == ("abandoned", None)
    assert Decimal(str(cost)) == Decimal(str(charged)) == Decimal("0.01")
    assert ledger_status == "abandoned"
    assert _usage(served, secret) == pytest.approx(0.01)
    record = httpx.get(
        f"{served.url}/api/v1/generation",
        params={"id": generation_id},
        headers={"Authorization": f"Bearer {secret}"},
    ).json()["data"]
    assert record["status"] == "abandoned" and record["total_cost"] == pytest.approx(0.01)

    # the client comes back with the same Idempotency-Key: what it paid for, no second charge
    again = httpx.post(
        f"{served.url}{surface.path}",
        json=body,
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": surface.name},
        timeout=30,
    )
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-imagegate-generation-id"] == generation_id
    assert _usage(served, secret) == pytest.approx(0.01)


def test_a_client_that_stays_is_charged_as_succeeded(served: Gateway) -> None:
    """The rule's other side: an answer sent to the end is a plain success."""
    key_id, secret = _new_key(served)
    response = httpx.post(
        f"{served.url}/api/v1/images",
        json={"model": MODEL, "prompt": "x"},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    _, status, _, cost, _, _, charged, ledger_status = _settled(served, key_id, "succeeded")
    assert (status, ledger_status) == ("succeeded", "succeeded")
    assert Decimal(str(cost)) == Decimal(str(charged)) == Decimal("0.01")
