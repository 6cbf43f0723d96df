"""`GET /api/v1/generations`: the caller's generation records, newest first, filtered and paged,
against a real gateway on the embedded SQLite store and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import OVERLAY, STORES, Gateway, start_gateway, store_env

MASTER = "master-secret-for-generation-lists"
PNG_ONLY = "test/png-only"  # served by the sandbox provider only
PNG_ALIAS = "test/png-alias"  # this module's catalog gives test/png-only this alias
SANDBOX = "sandbox/image"  # served by the sandbox and by the overlay's sandbox-eu
EU = "IMAGEGATE_TEST_SANDBOX_EU_KEY"


@dataclass
class History:
    """What the fixture generated, each list newest first."""

    store: str
    gateway: Gateway
    key_a: tuple[str, str]  # (hash, secret)
    key_b: tuple[str, str]
    a: list[str]  # key A's generation ids
    b: list[str]
    keyless: str  # one the master key made, last
    since: str  # when the first of them was made
    a_failed: str
    a_eu: str  # key A's one generation that sandbox-eu produced
    a_png: list[str]  # key A's test/png-only generations (one asked for by its alias)
    everyones: list[str]  # both keys' generations


def _catalog(directory: Path) -> Path:
    """The test overlay, with an alias for test/png-only."""
    catalog = json.loads(OVERLAY.read_text())
    png_only = next(model for model in catalog["models"] if model["id"] == PNG_ONLY)
    png_only["aliases"] = [PNG_ALIAS]
    path = directory / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def _client(gateway: Gateway, secret: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.Client(base_url=gateway.url, headers=headers, timeout=30)


def _new_key(gateway: Gateway, name: str) -> tuple[str, str]:
    with _client(gateway, MASTER) as admin:
        response = admin.post("/api/v1/keys", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["data"]["hash"], response.json()["key"]


def _generate(client: httpx.Client, model: str, **fields: Any) -> tuple[int, str]:
    response = client.post("/api/v1/images", json={"model": model, "prompt": "x", **fields})
    return response.status_code, response.headers["x-imagegate-generation-id"]


def _only(provider: str, **options: Any) -> dict[str, Any]:
    preferences: dict[str, Any] = {"only": [provider]}
    if options:
        preferences["options"] = {"sandbox": options}
    return {"provider": preferences}


@pytest.fixture(scope="module", params=STORES)
def history(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[History]:
    """Two keys' generations (several models and providers, a failed one), and the master
    key's one; on each store."""
    home = tmp_path_factory.mktemp(f"generation-list-{request.param}")
    gateway = start_gateway(
        home,
        catalog=_catalog(home),
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_FAULT_SWITCHES_FOR_KEYS="true",
        **{EU: "test-key"},
        **store_env(request.param, request),
    )
    try:
        key_a, key_b = _new_key(gateway, "a"), _new_key(gateway, "b")
        made: list[tuple[str, str, int]] = []  # (whose, id, status)
        with _client(gateway, key_a[1]) as a, _client(gateway, key_b[1]) as b:
            for who, client, model, fields in (
                ("a", a, SANDBOX, _only("sandbox")),
                ("b", b, PNG_ONLY, {}),
                ("a", a, PNG_ONLY, {}),
                ("a", a, SANDBOX, _only("sandbox-eu")),
                ("b", b, SANDBOX, _only("sandbox")),
                ("a", a, SANDBOX, _only("sandbox", fail="upstream_error")),
                ("a", a, PNG_ALIAS, {}),
            ):
                status, generation = _generate(client, model, **fields)
                made.append((who, generation, status))
        with _client(gateway, MASTER) as master:
            status, keyless = _generate(master, SANDBOX, **_only("sandbox"))
        assert status == 200
        assert [status for _, _, status in made] == [200, 200, 200, 200, 200, 502, 200]
        newest_first = made[::-1]
        ids_a = [generation for who, generation, _ in newest_first if who == "a"]
        yield History(
            request.param,
            gateway,
            key_a,
            key_b,
            a=ids_a,
            b=[generation for who, generation, _ in newest_first if who == "b"],
            keyless=keyless,
            since=_record(gateway, made[0][1])["created_at"],
            a_failed=made[5][1],
            a_eu=made[3][1],
            a_png=[made[6][1], made[2][1]],
            everyones=[generation for _, generation, _ in newest_first],
        )
    finally:
        gateway.stop()


def _record(gateway: Gateway, generation: str) -> dict[str, Any]:
    with _client(gateway, MASTER) as master:
        response = master.get("/api/v1/generation", params={"id": generation})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _list(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/generations", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"data", "total_count"}
    return body


def _ids(client: httpx.Client, **params: Any) -> list[str]:
    body = _list(client, **params)
    ids = [item["id"] for item in body["data"]]
    assert body["total_count"] == len(ids), "a page that holds every match counts them all"
    return ids


def test_a_key_lists_its_own_generations_newest_first(history: History) -> None:
    with _client(history.gateway, history.key_a[1]) as a:
        assert _ids(a, limit=100) == history.a
    with _client(history.gateway, history.key_b[1]) as b:
        assert _ids(b, limit=100) == history.b


def test_each_item_is_the_generation_record(history: History) -> None:
    """The list and `GET /api/v1/generation?id=` render one object, thumbnails included; what
    an upstream said about a failure stays the operator's."""
    with _client(history.gateway, history.key_a[1]) as a:
        records = {g: _record_with_thumbnails(a, g) for g in history.a}
        listed = _list(a, limit=100)["data"]
    assert listed == [records[g] for g in history.a]
    assert all(item["thumbnails"] for item in listed if item["status"] == "succeeded")
    failed = next(item for item in listed if item["id"] == history.a_failed)
    assert failed["status"] == "failed" and failed["total_cost"] == 0
    assert failed["error"]["kind"] == "upstream_error"
    assert "detail" not in failed["error"]
    assert all("detail" not in attempt for attempt in failed["provider_responses"])
    with _client(history.gateway, MASTER) as master:
        seen = _list(master, api_key_hash=history.key_a[0], status="failed")["data"]
    assert [item["id"] for item in seen] == [history.a_failed]
    assert "detail" in seen[0]["error"]
    assert all("detail" in attempt for attempt in seen[0]["provider_responses"])


def _record_with_thumbnails(client: httpx.Client, generation: str) -> dict[str, Any]:
    """The record once its thumbnails are made (in the background, after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        response = client.get("/api/v1/generation", params={"id": generation})
        record = response.json()["data"]
        if record["thumbnails"] or record["status"] != "succeeded":
            return record
        assert time.monotonic() < deadline, f"{generation} has no thumbnails yet"
        time.sleep(0.05)


def test_the_master_key_sees_everyone_and_picks_a_key(history: History) -> None:
    """Every key's and the keyless one, newest first (other tests' generations interleave on a
    shared PostgreSQL: only ours are compared)."""
    ours = {*history.a, *history.b, history.keyless}
    with _client(history.gateway, MASTER) as master:
        everything = _ids(master, since=history.since, limit=100)
        assert [g for g in everything if g in ours] == [history.keyless, *history.everyones]
        assert _ids(master, api_key_hash=history.key_b[0]) == history.b
        unknown = master.get("/api/v1/generations", params={"api_key_hash": "key_nobody"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["metadata"] == {"kind": "not_found", "param": "api_key_hash"}


def test_a_key_may_name_only_itself(history: History) -> None:
    (hash_a, secret_a), (hash_b, _) = history.key_a, history.key_b
    with _client(history.gateway, secret_a) as a:
        assert _ids(a, api_key_hash=hash_a, limit=100) == history.a
        for other in (hash_b, "key_nobody"):
            refused = a.get("/api/v1/generations", params={"api_key_hash": other})
            assert refused.status_code == 403, refused.text
            error = refused.json()["error"]
            assert error["code"] == 403 and error["metadata"]["param"] == "api_key_hash"
    assert httpx.get(f"{history.gateway.url}/api/v1/generations").status_code == 401


def test_filters_filter(history: History) -> None:
    with _client(history.gateway, history.key_a[1]) as a:
        assert _ids(a, status="failed") == [history.a_failed]
        assert _ids(a, status="succeeded,failed") == history.a
        assert _ids(a, status="pending,abandoned") == []
        assert _ids(a, provider="sandbox-eu") == [history.a_eu]
        # a failed generation was produced by no provider
        sandbox = [g for g in history.a if g not in (history.a_eu, history.a_failed)]
        assert _ids(a, provider="sandbox") == sandbox
        assert _ids(a, provider="sandbox,sandbox-eu") == [
            g for g in history.a if g != history.a_failed
        ]
        # by id or alias, any case: a generation matches the model its name resolved to
        assert _ids(a, model=PNG_ONLY) == history.a_png
        assert _ids(a, model=PNG_ALIAS.upper()) == history.a_png
        assert _ids(a, model=f"{PNG_ONLY},{SANDBOX}") == history.a
        on_sandbox = [g for g in history.a if g not in history.a_png]
        assert _ids(a, model=SANDBOX) == on_sandbox
        assert _ids(a, model=SANDBOX, status="succeeded", provider="sandbox") == [
            g for g in on_sandbox if g not in (history.a_eu, history.a_failed)
        ]
        assert _ids(a, model="gone/model") == []  # not a 400: see the next test


def test_a_name_the_catalog_does_not_know_is_matched_as_written(history: History) -> None:
    """A model since removed from the catalog: its records stay findable by its name."""
    _, secret = _new_key(history.gateway, "unknown model")
    with _client(history.gateway, secret) as client:
        status, generation = _generate(client, "Gone/Model")
        assert status == 404  # not in the catalog: a failed record, resolved to nothing
        assert _ids(client, model="gone/model") == [generation]
        assert _ids(client, model="gone/other") == []


def test_since_and_until(history: History) -> None:
    with _client(history.gateway, history.key_a[1]) as a:
        listed = _list(a, limit=100)["data"]
        created = [dt.datetime.fromisoformat(item["created_at"]) for item in listed]
        middle = created[2]  # newest first: two are newer
        assert _ids(a, since=middle.isoformat()) == history.a[:3]
        assert _ids(a, until=middle.isoformat()) == history.a[2:]
        # another zone, the same instant ('+' travels as %2B)
        elsewhere = middle.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))
        assert "+05:30" in elsewhere.isoformat()
        assert _ids(a, since=elsewhere.isoformat()) == history.a[:3]
        # without a zone: UTC
        naive = middle.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        assert _ids(a, until=naive) == history.a[2:]
        # a day is the whole UTC day, from its start (since) to its end (until)
        today = created[0].astimezone(dt.UTC).date()
        first_day = created[-1].astimezone(dt.UTC).date()
        assert _ids(a, since=str(first_day), until=str(today)) == history.a
        assert _ids(a, until=str(first_day - dt.timedelta(days=1))) == []
        assert _ids(a, since=str(today + dt.timedelta(days=1))) == []
        # an empty range is no generations, not an error
        assert _ids(a, since=str(today), until=str(first_day - dt.timedelta(days=1))) == []


def test_limit_and_offset_page_through(history: History) -> None:
    with _client(history.gateway, history.key_a[1]) as a:
        pages = [_list(a, limit=2, offset=offset) for offset in range(0, 8, 2)]
        default = _list(a)
    assert [item["id"] for page in pages for item in page["data"]] == history.a
    assert [len(page["data"]) for page in pages] == [2, 2, 1, 0]
    assert {page["total_count"] for page in pages} == {len(history.a)}
    assert [item["id"] for item in default["data"]] == history.a  # 20 a page by default
    with _client(history.gateway, history.key_a[1]) as a:
        beyond = _list(a, offset=2**31 - 1)  # the largest offset both databases take
    assert beyond == {"data": [], "total_count": len(history.a)}


@pytest.mark.parametrize(
    ("params", "param", "says"),
    [
        ({"models": "sandbox/image"}, "models", "unknown query parameter 'models'"),
        ({"status": "done"}, "status", "'status' has unknown value(s) done"),
        ({"provider": "nobody"}, "provider", "'provider' has unknown value(s) nobody"),
        ({"model": "sandbox/image,,x"}, "model", "'model' has an empty item"),
        ({"since": "yesterday"}, "since", "'since' must be a day (YYYY-MM-DD) or a date and"),
        ({"until": "2026-02-30"}, "until", "'until' must be a day"),
        ({"since": "2026-12-06T25:00:00Z"}, "since", "'since' must be a day"),
        ({"limit": "0"}, "limit", "'limit' must be an integer from 1 to 100"),
        ({"limit": "101"}, "limit", "'limit' must be an integer from 1 to 100"),
        ({"offset": "-1"}, "offset", "'offset' must be an integer from 0"),
        ({"offset": str(2**31)}, "offset", "'offset' must be an integer from 0 to 2147483647"),
        ({"api_key_hash": " "}, "api_key_hash", "'api_key_hash' is empty"),
        # PostgreSQL refuses a NUL in a text parameter: refused before the query, on both stores
        ({"model": "sandbox/image,a\x00b"}, "model", "'model' holds a NUL character"),
        ({"api_key_hash": "key_\x00"}, "api_key_hash", "'api_key_hash' holds a NUL"),
    ],
)
def test_bad_parameters_are_400s_in_openrouters_dialect(
    history: History, params: dict[str, str], param: str, says: str
) -> None:
    with _client(history.gateway, history.key_a[1]) as a:
        response = a.get("/api/v1/generations", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and says in error["message"]
    assert error["metadata"] == {"kind": "invalid_request", "param": param}


def test_a_plus_sent_unencoded_is_explained(history: History) -> None:
    with _client(history.gateway, history.key_a[1]) as a:
        response = a.get("/api/v1/generations?since=2026-12-06T10:00:00+01:00")
    assert response.status_code == 400
    assert "write %2B, or Z" in response.json()["error"]["message"]


def test_a_generation_under_way_is_listed_pending_under_its_model(history: History) -> None:
    """Its record is written as it starts, before its model is resolved: the model filter
    finds it by the name it asked for, here an alias."""
    _, secret = _new_key(history.gateway, "pending")
    slow = _only("sandbox", delay_ms=3000)
    answered: list[int] = []
    with _client(history.gateway, secret) as client:
        worker = threading.Thread(
            target=lambda: answered.append(_generate(client, PNG_ALIAS, **slow)[0])
        )
        worker.start()
        try:
            pending: list[str] = []
            deadline = time.monotonic() + 2.5
            while not pending and time.monotonic() < deadline:
                pending = _ids(client, model=PNG_ONLY, status="pending")
            assert len(pending) == 1 and not answered
        finally:
            worker.join()
        assert answered == [200]
        assert _ids(client, status="pending") == []
        assert _ids(client, model=PNG_ONLY, status="succeeded") == pending


def test_protected_mode_lists_everyones_with_details(client: httpx.Client) -> None:
    """Without keys anyone is the operator: every generation, upstream details included."""
    failed = client.post(
        "/api/v1/images",
        json={"model": SANDBOX, "prompt": "x", **_only("sandbox", fail="upstream_error")},
    )
    assert failed.status_code == 502
    generation = failed.headers["x-imagegate-generation-id"]
    record = client.get("/api/v1/generation", params={"id": generation}).json()["data"]
    listed = _list(client, since=record["created_at"], status="failed")["data"]
    assert [item["id"] for item in listed] == [generation]
    assert "detail" in listed[0]["error"]


def _indexes(gateway: Gateway) -> dict[str, list[str]]:
    async def read() -> dict[str, list[str]]:
        engine = create_async_engine(gateway.database_url)
        try:
            async with engine.connect() as connection:
                found = await connection.run_sync(
                    lambda sync: inspect(sync).get_indexes("generations")
                )
        finally:
            await engine.dispose()
        return {index["name"]: index["column_names"] for index in found}

    return asyncio.run(read())


def test_migration_indexes_a_keys_generations_by_time(history: History) -> None:
    indexes = _indexes(history.gateway)
    assert indexes["ix_generations_key_created_at"] == ["api_key_id", "created_at"]


_PAGE = (
    "SELECT id FROM generations WHERE api_key_id = :key ORDER BY created_at DESC, id DESC LIMIT 20"
)


def test_a_keys_page_is_read_through_that_index(history: History) -> None:
    """The plan of a key's page. PostgreSQL would scan a table this small whatever its
    indexes, so it is told to avoid scans: it then picks the index that serves the page best."""
    key = history.key_a[0]

    async def plan() -> str:
        engine = create_async_engine(history.gateway.database_url)
        try:
            async with engine.connect() as connection:
                if history.store == "embedded":
                    rows = await connection.execute(
                        text(f"EXPLAIN QUERY PLAN {_PAGE}"), {"key": key}
                    )
                else:
                    await connection.execute(text("SET enable_seqscan = off"))
                    rows = await connection.execute(text(f"EXPLAIN {_PAGE}"), {"key": key})
                return " ".join(str(row[-1]) for row in rows)
        finally:
            await engine.dispose()

    assert "ix_generations_key_created_at" in asyncio.run(plan())
