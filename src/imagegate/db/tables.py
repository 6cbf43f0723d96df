"""The database schema, as SQLAlchemy Core tables. Changes go through a migration."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

metadata = MetaData()

generations = Table(
    "generations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("surface", String(64), nullable=False),
    Column("model", Text, nullable=False),  # as the client asked for it
    Column("model_id", Text),  # the catalog id it resolved to
    Column("provider", String(64)),  # the provider that produced the result
    # pending | succeeded | failed | abandoned (delivered by the provider, charged, and the
    # client gone before it was sent)
    Column("status", String(16), nullable=False),
    Column("error_kind", String(32)),
    Column("error_message", Text),  # what the client was told
    Column("error_detail", Text),  # what the upstream said, redacted: for the master key only
    Column("images", Integer, nullable=False, default=0),
    Column("streamed", Boolean, nullable=False, default=False),
    Column("parameters", JSON, nullable=False),
    Column("dropped_parameters", JSON, nullable=False),
    Column("usage", JSON),
    Column("cost_usd", Numeric(20, 10)),
    Column("latency_ms", Integer),
    Column("attempts", JSON, nullable=False),
    Column("api_key_id", String(40)),
    Column("reserved_usd", Numeric(20, 10)),  # held against the key's limit while pending
    Column("idempotency_scope", String(40)),  # the key id, or "anonymous"
    Column("idempotency_key", String(255)),
    Column("fingerprint", String(64)),  # of the request an idempotency key was first used with
    Column("text", Text),  # what an image+text model wrote, kept for idempotent replays
    Column("user_agent", Text),
)
Index("ix_generations_created_at", generations.c.created_at)
Index("ix_generations_key_status", generations.c.api_key_id, generations.c.status)
# a key's generations, newest first (`GET /api/v1/generations`)
Index("ix_generations_key_created_at", generations.c.api_key_id, generations.c.created_at)
Index(
    "ux_generations_idempotency",
    generations.c.idempotency_scope,
    generations.c.idempotency_key,
    unique=True,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("limit_usd", Numeric(20, 10)),
    Column("usage_usd", Numeric(20, 10), nullable=False),
    Column("requests_per_minute", Integer),
    Column("images_per_minute", Integer),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("generation_id", String(40), nullable=False, unique=True),  # charged at most once
    Column("api_key_id", String(40)),
    Column("amount_usd", Numeric(20, 10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # succeeded, or abandoned: the provider delivered (and billed) but the client was gone
    Column("status", String(16), nullable=False, server_default="succeeded"),
)
Index("ix_ledger_api_key_id", ledger.c.api_key_id)

media = Table(
    "media",
    metadata,
    Column("id", String(64), primary_key=True),  # unguessable token in the URL
    Column("generation_id", String(40), nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("content", LargeBinary, nullable=True),  # NULL: the bytes are kept by `backend`
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False, default=0),  # order within the generation
    # "replay", "url" or "video"
    Column("purpose", String(8), nullable=False, server_default="replay"),
    Column("size", BigInteger, nullable=True),  # bytes, for content kept elsewhere
    Column("backend", String(16), nullable=True),  # "filesystem" or "postgresql"
    Column("details", JSON, nullable=True),  # a video's seconds, width, height, has_audio
)
Index("ix_media_expires_at", media.c.expires_at)
Index("ix_media_generation_id", media.c.generation_id)

# A video kept in the database (`media_backend: postgresql`), in 1 MiB pieces: read one piece
# at a time, so serving it (with `Range`) never holds it whole.
media_chunks = Table(
    "media_chunks",
    metadata,
    Column("media_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# State that the processes of one `imagegate serve --workers N` share when there is no Redis
# (see accounting/shared_rate_limits.py and routing/shared_health.py).
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("minute", Integer, primary_key=True),  # unix time // 60
    Column("requests", Integer, nullable=False),
    Column("images", Integer, nullable=False),
)

endpoint_outcomes = Table(
    "endpoint_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint", String(255), nullable=False),
    Column("at", Float, nullable=False),  # unix time
    Column("ok", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
)
Index("ix_endpoint_outcomes_endpoint_at", endpoint_outcomes.c.endpoint, endpoint_outcomes.c.at)
Index("ix_endpoint_outcomes_at", endpoint_outcomes.c.at)

# attempts and successes per endpoint and minute, for the day's uptime (routing/uptime.py)
endpoint_minutes = Table(
    "endpoint_minutes",
    metadata,
    Column("endpoint", String(255), primary_key=True),
    Column("minute", Integer, primary_key=True),  # unix time // 60
    Column("attempts", Integer, nullable=False),
    Column("successes", Integer, nullable=False),
)

# one row per endpoint with failures in a row; none once it succeeds again
endpoint_circuits = Table(
    "endpoint_circuits",
    metadata,
    Column("endpoint", String(255), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("opened_at", Float),  # unix time
    Column("probing_since", Float),
)

# Jobs (issue 14): a generation that outlives its request, a row from the moment it is accepted.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("api_key_id", String(40)),  # whose job it is (None: anonymous or the master key)
    Column("master", Boolean, nullable=False),  # submitted with the master key
    Column("surface", String(64), nullable=False),  # whose dialect its result is written in
    Column("request", JSON, nullable=False),  # the ImageRequest, as `core.request_json` writes it
    # queued | running | completed | failed | cancelled | expired
    Column("status", String(16), nullable=False),
    Column("progress", Float),  # 0..1, when the upstream says
    Column("generation_id", String(40)),  # the generation record that carries the result
    Column("error", JSON),  # {kind, message, status} once failed
    Column("lease_owner", String(64)),  # the worker running it
    Column("lease_until", DateTime(timezone=True)),  # after which another worker may take it
    Column("attempts", Integer, nullable=False),  # times a worker has claimed it
    Column("callback_url", Text),
    Column("upstream", JSON),  # an asynchronous upstream's task: resumed, never submitted again
    Column("expires_at", DateTime(timezone=True), nullable=False),  # of the job and its result
    # its estimate, held against its key from acceptance until its generation holds it instead
    Column("reserved_usd", Numeric(20, 10)),
    # the submission's Idempotency-Key, in its key's scope, and what the request was
    Column("idempotency_scope", String(40)),
    Column("idempotency_key", String(255)),
    Column("fingerprint", String(64)),
)
Index("ix_jobs_status_created_at", jobs.c.status, jobs.c.created_at)
Index("uq_jobs_idempotency", jobs.c.idempotency_scope, jobs.c.idempotency_key, unique=True)
Index("ix_jobs_api_key_id_created_at", jobs.c.api_key_id, jobs.c.created_at)

# Webhooks of jobs (issue 14): one row per job that has one, created when the job ends, and one
# row per delivery attempt. `webhook_id` is the Standard Webhooks `webhook-id`, the same on every
# retry; `payload` is the body exactly as sent (and signed) each time.
job_webhooks = Table(
    "job_webhooks",
    metadata,
    Column("job_id", String(40), primary_key=True),  # one webhook per job, at most
    Column("webhook_id", String(40), nullable=False),  # msg_...
    Column("url", Text, nullable=False),
    Column("event_type", String(32), nullable=False),  # job.completed, job.failed, ...
    Column("payload", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed | stopped
    Column("attempts", Integer, nullable=False),
    Column("next_at", DateTime(timezone=True)),  # the next attempt, while pending
    Column("lease_owner", String(64)),  # the process sending an attempt now
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_job_webhooks_state_next_at", job_webhooks.c.state, job_webhooks.c.next_at)

job_webhook_attempts = Table(
    "job_webhook_attempts",
    metadata,
    Column("job_id", String(40), primary_key=True),
    Column("attempt", Integer, primary_key=True),  # 1, 2, ...
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", Integer),  # the receiver's HTTP status; None: no answer (or not sent)
    Column("error", Text),  # why it did not count as delivered
    Column("duration_ms", Integer, nullable=False),
)

# A key's default webhook: its URL and the secret its webhooks are signed with (kept to sign, so
# in clear; never listed or logged). After a rotation the previous secret signs too, until then.
api_keys.append_column(Column("webhook_url", Text))
api_keys.append_column(Column("webhook_secret", Text))
api_keys.append_column(Column("webhook_secret_previous", Text))
api_keys.append_column(Column("webhook_previous_until", DateTime(timezone=True)))
# the webhook deliverer looks for jobs that ended lately
Index("ix_jobs_updated_at", jobs.c.updated_at)
