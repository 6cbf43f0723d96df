"""`GET /api/v1/activity`: what was charged per UTC day, model and provider, from a real
gateway on the embedded SQLite store and on PostgreSQL, and the UTC day bucket on both."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openrouter import OpenRouter
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, insert, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from conftest import STORES, Gateway, start_gateway, store_env
from imagegate.db.connect import open_database
from imagegate.db.day_bucket import utc_day
from imagegate.db.generations import GenerationStore
from imagegate.db.tables import generations

MASTER = "master-secret-for-activity-tests"
PNG_ONLY = "test/png-only"  # $0.01 an image, on the sandbox
FAIL = {"provider": {"options": {"sandbox": {"fail": "upstream_error"}}}}


@pytest.fixture(scope="module", params=STORES)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A master key; `sandbox/image` served by the free sandbox and by `sandbox-eu` at $0.002;
    keys may use the sandbox's fault switch."""
    running = start_gateway(
        tmp_path_factory.mktemp(f"activity-{request.param}"),
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_FAULT_SWITCHES_FOR_KEYS="true",
        IMAGEGATE_TEST_SANDBOX_EU_KEY="test-key",
        **store_env(request.param, request),
    )
    yield running
    running.stop()


def _as(gateway: Gateway, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )


def _new_key(gateway: Gateway) -> tuple[str, str]:
    with _as(gateway, MASTER) as admin:
        response = admin.post("/api/v1/keys", json={"name": "activity"})
    assert response.status_code == 201, response.text
    return response.json()["data"]["hash"], response.json()["key"]


def _generate(client: httpx.Client, model: str, prompt: str = "x", **body) -> str:
    response = client.post("/api/v1/images", json={"model": model, "prompt": prompt, **body})
    assert response.status_code == 200, response.text
    return response.headers["x-imagegate-generation-id"]


def _activity(client: httpx.Client, **params: str) -> list[dict]:
    response = client.get("/api/v1/activity", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _date(days_ago: int) -> str:
    return (_today() - dt.timedelta(days=days_ago)).isoformat()


def _row(model: str, provider: str, provider_name: str, **figures) -> dict:
    return {
        "date": _date(0),
        "model": model,
        "model_permaslug": model,
        "endpoint_id": f"{provider}|{model}",
        "provider_name": provider_name,
        "provider_slug": provider,
        "byok_usage_inference": 0.0,
        "completion_tokens": 0,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
        **figures,
    }


def _key_rows(rows: list[dict], key_id: str | None) -> list[dict]:
    found = [dict(row) for row in rows if row["api_key_hash"] == key_id]
    for row in found:
        del row["api_key_hash"]
    return found


def test_rows_are_what_was_charged_per_day_model_and_provider(gateway: Gateway) -> None:
    _, secret = _new_key(gateway)
    with _as(gateway, secret) as user:
        _generate(user, PNG_ONLY, "one two", n=2)  # $0.02, 2 images, 2 prompt tokens
        _generate(user, PNG_ONLY, "three words here")  # $0.01
        failed = user.post("/api/v1/images", json={"model": PNG_ONLY, "prompt": "x", **FAIL})
        assert failed.status_code == 502  # recorded, never charged: not counted
        _generate(user, "sandbox/image", "a", provider={"only": ["sandbox-eu"]})  # $0.002
        _generate(user, "sandbox/image", "b c", provider={"only": ["sandbox"]})  # free
        rows = _activity(user)
        usage = user.get("/api/v1/key").json()["data"]["usage"]

    assert rows == [  # sorted by date, model, provider
        _row(
            "sandbox/image",
            "sandbox",
            "imagegate sandbox",
            usage=0.0,
            requests=1,
            images=1,
            prompt_tokens=2,
        ),
        _row(
            "sandbox/image",
            "sandbox-eu",
            "Sandbox EU",
            usage=pytest.approx(0.002),
            requests=1,
            images=1,
            prompt_tokens=1,
        ),
        _row(
            PNG_ONLY,
            "sandbox",
            "imagegate sandbox",
            usage=pytest.approx(0.03),
            requests=2,
            images=3,
            prompt_tokens=5,
        ),
    ]
    assert sum(row["usage"] for row in rows) == pytest.approx(usage)  # the ledger's total


def test_the_openrouter_sdk_reads_the_activity(gateway: Gateway) -> None:
    key_id, secret = _new_key(gateway)
    with _as(gateway, secret) as user:
        _generate(user, PNG_ONLY)
    with OpenRouter(api_key=secret, server_url=f"{gateway.url}/api/v1") as sdk:
        items = sdk.analytics.get_user_activity(request={"date_": _date(0)}).data
    assert [(item.date_, item.model, item.requests) for item in items] == [(_date(0), PNG_ONLY, 1)]
    assert items[0].usage == pytest.approx(0.01)
    with OpenRouter(api_key=MASTER, server_url=f"{gateway.url}/api/v1") as admin:
        mine = admin.analytics.get_user_activity(request={"api_key_hash": key_id}).data
    assert [(item.model, item.provider_name) for item in mine] == [(PNG_ONLY, "imagegate sandbox")]


def test_a_key_sees_its_own_activity_and_the_operator_everyones(gateway: Gateway) -> None:
    alice_id, alice = _new_key(gateway)
    bob_id, bob = _new_key(gateway)
    with _as(gateway, MASTER) as admin:
        before = _key_rows(_activity(admin, group_by="api_key"), None)
        _generate(admin, "sandbox/image", provider={"only": ["sandbox-eu"]})
        after = _key_rows(_activity(admin, group_by="api_key"), None)
    with _as(gateway, alice) as user:
        _generate(user, PNG_ONLY)
        _generate(user, PNG_ONLY)
        alice_rows = _activity(user)
        assert _activity(user, api_key_hash=alice_id) == alice_rows
    with _as(gateway, bob) as user:
        _generate(user, PNG_ONLY, n=2)
        bob_rows = _activity(user)
        for params in ({"api_key_hash": alice_id}, {"group_by": "api_key"}):
            refused = user.get("/api/v1/activity", params=params)
            assert refused.status_code == 403, params
            assert refused.json()["error"]["code"] == 403
    assert [(r["model"], r["requests"], r["usage"]) for r in alice_rows] == [
        (PNG_ONLY, 2, pytest.approx(0.02))
    ]
    assert [(r["model"], r["requests"], r["images"]) for r in bob_rows] == [(PNG_ONLY, 1, 2)]

    with _as(gateway, MASTER) as admin:
        assert _activity(admin, api_key_hash=alice_id) == alice_rows
        assert _activity(admin, api_key_hash=bob_id) == bob_rows
        by_key = _activity(admin, group_by="api_key")
        everyone = _activity(admin)
        unknown = admin.get("/api/v1/activity", params={"api_key_hash": "key_nobody"})
    assert _key_rows(by_key, alice_id) == alice_rows
    assert _key_rows(by_key, bob_id) == bob_rows
    # the master key's own generation: in the keyless row, one more request and $0.002
    eu = [(r["requests"], r["usage"]) for r in after if r["provider_slug"] == "sandbox-eu"]
    eu_before = [(r["requests"], r["usage"]) for r in before if r["provider_slug"] == "sandbox-eu"]
    (requests, usage), *_ = eu
    (requests_before, usage_before), *_ = eu_before or [(0, 0.0)]
    assert (requests - requests_before, usage - usage_before) == (1, pytest.approx(0.002))
    # without group_by, each (day, model, provider) row adds up every key's
    png_today = [r for r in everyone if (r["date"], r["model"]) == (_date(0), PNG_ONLY)]
    assert [r["requests"] for r in png_today] == [
        sum(r["requests"] for r in by_key if (r["date"], r["model"]) == (_date(0), PNG_ONLY))
    ]
    assert "api_key_hash" not in everyone[0]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["metadata"]["param"] == "api_key_hash"


def test_an_abandoned_generation_counts_as_it_was_charged(gateway: Gateway) -> None:
    """Delivered by the provider, charged, its client gone before the answer: the charge
    stays, so does its activity (the store's own `abandon`, as the gateway does it)."""
    _, secret = _new_key(gateway)
    with _as(gateway, secret) as user:
        generation = _generate(user, PNG_ONLY)
        _generate(user, PNG_ONLY)

        async def abandon() -> int:
            database = await open_database(gateway.database_url)
            try:
                return await GenerationStore(database).abandon([generation])
            finally:
                await database.close()

        assert asyncio.run(abandon()) == 1
        record = user.get("/api/v1/generation", params={"id": generation}).json()["data"]
        assert record["status"] == "abandoned"
        rows = _activity(user)
    assert [(r["requests"], r["usage"]) for r in rows] == [(2, pytest.approx(0.02))]


def _move(gateway: Gateway, moves: dict[str, dt.datetime]) -> None:
    """Dates generations as if they had begun at those moments (the only way to have last
    month's generations in a test): the records' own column, nothing else."""

    async def run() -> None:
        engine = create_async_engine(gateway.database_url)
        try:
            async with engine.begin() as connection:
                for generation, moment in moves.items():
                    await connection.execute(
                        update(generations)
                        .where(generations.c.id == generation)
                        .values(created_at=moment)
                    )
        finally:
            await engine.dispose()

    asyncio.run(run())


def _at(days_ago: int, hour: int, minute: int, second: int, microsecond: int = 0) -> dt.datetime:
    day = _today() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour, minute, second, microsecond), tzinfo=dt.UTC)


def test_days_are_utc_days_and_the_window_is_thirty_with_today(gateway: Gateway) -> None:
    _, secret = _new_key(gateway)
    with _as(gateway, secret) as user:
        ids = [_generate(user, PNG_ONLY) for _ in range(5)]
        _move(
            gateway,
            {
                ids[0]: _at(3, 23, 59, 59, 900_000),  # the last moment of a day...
                ids[1]: _at(2, 0, 0, 0, 100_000),  # ...and the first of the next
                ids[2]: _at(2, 12, 0, 0),
                ids[3]: _at(29, 0, 0, 1),  # the window's first day
                ids[4]: _at(30, 23, 59, 59),  # a day before it: gone
            },
        )
        rows = _activity(user)
        one_day = _activity(user, date=_date(2))
        first_day = _activity(user, date=_date(29))
        outside = user.get("/api/v1/activity", params={"date": _date(30)})
        tomorrow = user.get("/api/v1/activity", params={"date": _date(-1)})
        empty_day = _activity(user, date=_date(0))
    assert [(r["date"], r["requests"], r["usage"]) for r in rows] == [
        (_date(29), 1, pytest.approx(0.01)),
        (_date(3), 1, pytest.approx(0.01)),
        (_date(2), 2, pytest.approx(0.02)),
    ]
    assert one_day == [rows[2]]
    assert first_day == [rows[0]]
    assert empty_day == []
    for refused in (outside, tomorrow):
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["metadata"]["param"] == "date"
        assert "last 30 UTC days, today included" in error["message"]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"user_id": "u"}, "'user_id'"),  # OpenRouter's, not ours
        ({"date": "2026-1-5"}, "YYYY-MM-DD"),
        ({"date": "yesterday"}, "YYYY-MM-DD"),
        ({"date": ""}, "'date' is empty"),
        ({"group_by": "workspace"}, "'group_by' must be one of api_key"),
        ({"api_key_hash": " "}, "'api_key_hash' is empty"),
    ],
)
def test_bad_queries_are_400s_in_openrouter_dialect(
    gateway: Gateway, params: dict[str, str], names: str
) -> None:
    with _as(gateway, MASTER) as admin:
        response = admin.get("/api/v1/activity", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400 and names in error["message"]


def test_activity_needs_a_key_once_keys_are_required(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.url}/api/v1/activity").status_code == 401
    with _as(gateway, "ig-not-a-key") as stranger:
        assert stranger.get("/api/v1/activity").status_code == 401


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        return f"sqlite+aiosqlite:///{tmp_path / 'days.db'}"
    return request.getfixturevalue("shared_stores")[0]


async def test_utc_day_is_the_utc_day_whatever_the_session_time_zone(database_url: str) -> None:
    """Stored as the gateway stores them (aware UTC): on PostgreSQL a cast to `date` would
    follow the session's zone; the bucket must not."""
    probe = Table(
        "day_bucket_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False),
        prefixes=["TEMPORARY"],
    )
    moments = [
        dt.datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 2, 13, 30, tzinfo=dt.UTC),
    ]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(probe.create)
            await connection.execute(
                insert(probe), [{"id": n, "at": at} for n, at in enumerate(moments)]
            )
            zones = ("Pacific/Kiritimati", "Pacific/Pago_Pago")  # UTC+14 and UTC-11
            for zone in zones if engine.dialect.name == "postgresql" else (None,):
                if zone:
                    await connection.execute(text(f"SET TIME ZONE '{zone}'"))
                days = (
                    await connection.execute(select(utc_day(probe.c.at)).order_by(probe.c.id))
                ).scalars()
                assert list(days) == ["2026-03-01", "2026-03-02", "2026-03-02"], zone
    finally:
        await engine.dispose()
