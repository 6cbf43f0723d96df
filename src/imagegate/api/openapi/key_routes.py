"""The key and credit routes' operations: the calling key, its credits and its activity (any
key), and key management (the master key only)."""

from __future__ import annotations

from collections.abc import Iterator

from imagegate.api.openapi import activity, keys, query
from imagegate.api.openapi.operation import Answer, Body, Operation

_KEY_ID = {"key_id": "the key's `hash` (`key_...`)"}
_ACTIVITY_DATE = {
    "name": "date",
    "in": "query",
    "description": "one UTC day (YYYY-MM-DD) of the last 30, today included",
    "schema": {"type": "string", "format": "date"},
}


def routes() -> Iterator[tuple[str, Operation]]:
    """The key and credit routes: ("METHOD path", several joined by ", "), and their operation."""
    yield (
        "GET /api/v1/key",
        Operation(
            "The calling key (OpenRouter)",
            "The key's limit, what remains, its usage and its rate limits.",
            "Keys and credits",
            (Answer(200, "The key.", keys.CurrentKeyAnswer),),
            (401, 405, 500),
            auth="key",
        ),
    )
    yield (
        "GET /api/v1/credits",
        Operation(
            "Credits (OpenRouter)",
            "The calling key's limit and usage; for the master key or without keys, the whole "
            "gateway's usage.",
            "Keys and credits",
            (Answer(200, "The credits.", keys.Credits),),
            (401, 405, 500),
            auth="key",
        ),
    )
    yield (
        "GET /api/v1/activity",
        Operation(
            "Spend per day, model and provider (OpenRouter)",
            "What was charged over the last 30 UTC days, today included, one row per (day, "
            "model, provider), sorted by date then model. A key sees its own generations; the "
            "master key (or anyone without keys) sees all, one key's with `api_key_hash`, and "
            "a row per key with `group_by=api_key`.",
            "Keys and credits",
            (Answer(200, "The activity.", activity.Activity),),
            (400, 401, 403, 404, 405, 500),
            query=(
                _ACTIVITY_DATE,
                query.text("api_key_hash", "only this key's generations (its `hash`)"),
                query.choice(
                    "group_by",
                    ("api_key",),
                    "`api_key`: a row per key too, with its `api_key_hash` (master key only)",
                ),
            ),
            auth="key",
            notes={
                400: "An unknown parameter, or `date` not one of the last 30 UTC days.",
                403: "A key asked for another key's activity, or for `group_by=api_key`.",
                404: "The master key asked for a key that does not exist.",
            },
        ),
    )
    yield (
        "POST /api/v1/keys",
        _manages(
            "Create a key",
            "The secret is in this answer only.",
            Answer(201, "The new key, and its secret.", keys.CreatedKey),
            (400, 401, 403, 405, 413, 500),
            body=Body(keys.NewKey, example={"name": "my-app", "limit": 20}),
        ),
    )
    yield (
        "GET /api/v1/keys",
        _manages(
            "List keys",
            "Revoked keys too.",
            Answer(200, "The keys.", keys.KeyList),
            (401, 403, 405, 500),
        ),
    )
    yield (
        "GET /api/v1/keys/{key_id}",
        _manages(
            "A key",
            "",
            Answer(200, "The key.", keys.KeyAnswer),
            (401, 403, 404, 405, 500),
            path=_KEY_ID,
        ),
    )
    yield (
        "PATCH /api/v1/keys/{key_id}",
        _manages(
            "Change a key",
            "`limit: null` removes the limit; `disabled` revokes or restores the key.",
            Answer(200, "The key as changed.", keys.ChangedKey),
            (400, 401, 403, 404, 405, 413, 500),
            body=Body(keys.KeyChanges, example={"limit": 50}),
            path=_KEY_ID,
        ),
    )
    yield (
        "POST /api/v1/keys/{key_id}/webhook-secret",
        _manages(
            "Replace a key's webhook secret",
            "A new webhook signing secret, in this answer only. For a day the secret it replaces "
            "signs too, beside it (Standard Webhooks' rotation: `webhook-signature` carries "
            "both), while receivers move to the new one.",
            Answer(200, "The key, and its new webhook secret.", keys.RotatedWebhookSecret),
            (401, 403, 404, 405, 500),
            path=_KEY_ID,
        ),
    )
    yield (
        "DELETE /api/v1/keys/{key_id}",
        _manages(
            "Revoke a key",
            "The key stops working at once and stays listed, with its history.",
            Answer(200, "The revoked key.", keys.DeletedKey),
            (401, 403, 404, 405, 500),
            path=_KEY_ID,
        ),
    )


def _manages(
    summary: str,
    description: str,
    answer: Answer,
    errors: tuple[int, ...],
    body: Body | None = None,
    path: dict[str, str] | None = None,
) -> Operation:
    """Key management: the master key only."""
    return Operation(
        summary,
        description,
        "Keys and credits",
        (answer,),
        errors,
        body=body,
        path=path or {},
        auth="master",
        notes={
            401: "Not the master key.",
            403: "`IMAGEGATE_MASTER_KEY` is not set: key management over HTTP is off.",
        },
    )
