"""`db.prepared`: a statement run on SQLite's own cursor stores exactly what SQLAlchemy would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from sqlalchemy import bindparam, create_engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from imagegate.db.prepared import Prepared
from imagegate.db.tables import api_keys, generations, metadata

ROW = {
    "created_at": dt.datetime(2026, 12, 6, 10, 30, 1, 123456, tzinfo=dt.UTC),
    "surface": "openai.images.generations",
    "model": "openai/gpt-image-1",
    "status": "pending",
    "images": 0,
    "streamed": False,
    "parameters": {"size": "1024x1024", "quality": "high", "n": 1, "é": ["ü", None]},
    "dropped_parameters": ["style"],
    "attempts": [],
    "api_key_id": None,
    "idempotency_scope": None,
    "idempotency_key": None,
    "fingerprint": None,
    "user_agent": "wrk/4",
}


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        json_serializer=lambda value: orjson.dumps(value).decode(),
    )
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_an_insert_stores_what_sqlalchemy_stores(engine) -> None:  # type: ignore[no-untyped-def]
    statement = insert(generations)
    prepared = Prepared(statement, ("id", *ROW))
    with engine.begin() as connection:
        connection.execute(statement, {"id": "by-sqlalchemy", **ROW})
        assert prepared.run(connection, {"id": "prepared", **ROW}) == 1
    with engine.connect() as connection:
        rows = {
            row.id: row._asdict()
            for row in connection.execute(select(generations).order_by(generations.c.id))
        }
        raw = {
            row[0]: row[1:]
            for row in connection.exec_driver_sql(
                "SELECT id, created_at, parameters FROM generations"
            )
        }
    by_sqlalchemy, by_prepared = rows["by-sqlalchemy"], rows["prepared"]
    by_prepared["id"] = "by-sqlalchemy"
    assert by_prepared == by_sqlalchemy
    assert by_prepared["parameters"] == ROW["parameters"]
    # the same text in the file, not only the same values read back
    assert raw["prepared"] == raw["by-sqlalchemy"]


def test_an_update_with_literals_and_an_expression_matches_only_its_rows(engine) -> None:  # type: ignore[no-untyped-def]
    add_usage = Prepared(
        update(api_keys)
        .where(api_keys.c.id == bindparam("key"), api_keys.c.revoked_at.is_(None))
        .values(usage_usd=api_keys.c.usage_usd + bindparam("amount")),
        ("key", "amount"),
    )
    created = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for key, revoked in (("k1", None), ("k2", created)):
            connection.execute(
                insert(api_keys),
                {
                    "id": key,
                    "name": key,
                    "secret_hash": key * 8,
                    "prefix": key,
                    "created_at": created,
                    "revoked_at": revoked,
                    "usage_usd": Decimal("0.5"),
                },
            )
        assert add_usage.run(connection, {"key": "k1", "amount": Decimal("0.0425")}) == 1
        assert add_usage.run(connection, {"key": "k2", "amount": Decimal("1")}) == 0  # revoked
        assert add_usage.run(connection, {"key": "nobody", "amount": Decimal("1")}) == 0
    with engine.connect() as connection:
        usage = dict(connection.execute(select(api_keys.c.id, api_keys.c.usage_usd)).all())
    assert usage == {"k1": Decimal("0.5425000000"), "k2": Decimal("0.5000000000")}


def test_a_value_the_statement_needs_and_is_not_given_is_refused_at_once(engine) -> None:  # type: ignore[no-untyped-def]
    prepared = Prepared(update(api_keys).where(api_keys.c.id == bindparam("key")), ("name",))
    with engine.begin() as connection, pytest.raises(ValueError, match="no value given for key"):
        prepared.run(connection, {"name": "x"})


def test_a_duplicate_key_is_sqlalchemys_integrity_error(engine) -> None:  # type: ignore[no-untyped-def]
    prepared = Prepared(insert(generations), ("id", *ROW))
    with engine.begin() as connection:
        prepared.run(connection, {"id": "once", **ROW})
        with pytest.raises(IntegrityError):
            prepared.run(connection, {"id": "once", **ROW})
