"""The webhook settings, checked once when the app is made: a malformed `webhook_secret` or
`webhook_retry_schedule` stops the gateway from starting, with a message saying which."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from imagegate.config import Settings
from imagegate.errors import ConfigurationError
from imagegate.jobs.webhooks.schedule import RetrySchedule
from imagegate.jobs.webhooks.signing import InvalidSecret, secret_key
from imagegate.jobs.webhooks.targets import callback_policy
from imagegate.media.fetch import FetchPolicy


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    gateway_secret: str | None  # for jobs whose key has no secret of its own
    schedule: RetrySchedule
    policy: FetchPolicy  # where callback URLs may point
    timeout_seconds: float
    lookback: dt.timedelta  # how long after a job ended its webhook is still opened

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        if secret is not None:
            try:
                secret_key(secret)
            except InvalidSecret as exc:
                raise ConfigurationError(f"webhook_secret: {exc}") from exc
        try:
            schedule = RetrySchedule.parse(settings.webhook_retry_schedule)
        except ValueError as exc:
            raise ConfigurationError(f"webhook_retry_schedule: {exc}") from exc
        return cls(
            gateway_secret=secret,
            schedule=schedule,
            policy=callback_policy(settings),
            timeout_seconds=settings.webhook_timeout_seconds,
            # a job whose result is no longer kept gets no webhook
            lookback=dt.timedelta(seconds=settings.job_ttl_seconds),
        )
