"""The loop every `imagegate serve` process runs: it opens the webhooks of jobs that ended and
sends each attempt when it is due.

Every `poll_seconds` (or at once, when `wake` is called) it looks for jobs that ended since it
last looked, less `SLACK` for writes that committed late (at start, since `lookback`: a job
whose result is no longer kept gets no webhook), and gives each with a webhook URL its row. Then
it claims due attempts, up to `concurrency` at once. An attempt is signed afresh (a new
`webhook-timestamp`, the same `webhook-id`) with the job's key's secret, or the gateway's
(`webhook_secret`) for a job whose key has none. 2xx: delivered. 410: stopped. A refused URL:
failed. Anything else (another status, a timeout, no connection, no secret to sign with) is
tried again on the schedule, and failed after its last attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid

from imagegate.db.database import Database
from imagegate.db.timestamps import utcnow
from imagegate.jobs.webhooks.config import WebhookConfig
from imagegate.jobs.webhooks.deliveries import (
    DELIVERED,
    FAILED,
    PENDING,
    STOPPED,
    Attempt,
    Delivery,
    WebhookStore,
)
from imagegate.jobs.webhooks.schedule import RetrySchedule
from imagegate.jobs.webhooks.sender import Sent, WebhookSender
from imagegate.jobs.webhooks.signing import signature_header
from imagegate.version import __version__

log = logging.getLogger("imagegate")
SLACK = dt.timedelta(seconds=60)
OPEN_BATCH = 100
LEASE_MARGIN_SECONDS = 30  # beyond the attempt's timeout
NO_SECRET = (
    "not sent: no secret to sign it with (the job's key has no webhook secret, and "
    "IMAGEGATE_WEBHOOK_SECRET is not set)"
)


class WebhookDeliverer:
    def __init__(
        self,
        store: WebhookStore,
        sender: WebhookSender,
        schedule: RetrySchedule,
        gateway_secret: str | None,
        lookback: dt.timedelta,
        concurrency: int = 16,
        poll_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self._sender = sender
        self._schedule = schedule
        self._gateway_secret = gateway_secret
        self._lookback = lookback
        self._slots = asyncio.Semaphore(concurrency)
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        self.owner = uuid.uuid4().hex[:12]

    def wake(self) -> None:
        """A job ended: look now."""
        self._wake.set()

    async def close(self) -> None:
        await self._sender.close()

    async def run_forever(self) -> None:
        since = utcnow() - self._lookback
        try:
            while True:
                looked = utcnow()
                if await self._open_new(since):
                    since = max(since, looked - SLACK)
                # read first: an idle gateway writes nothing (a claim is a write)
                due = await self._next_due()
                if due is not None and due <= utcnow():
                    await self._send_due()
                    due = await self._next_due()
                await self._sleep(due)
        finally:
            for task in self._sending:
                task.cancel()  # their leases run out, and the attempts are sent again
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def _open_new(self, since: dt.datetime) -> bool:
        """Whether every job that ended since then has its row now."""
        try:
            while await self.store.open_new(since, OPEN_BATCH) == OPEN_BATCH:
                pass
            return True
        except Exception:
            log.exception("could not open the webhooks of jobs that ended")
            return False

    async def _send_due(self) -> None:
        while not self._slots.locked():
            await self._slots.acquire()
            try:
                delivery = await self.store.claim(self.owner)
            except Exception:
                log.exception("could not claim a webhook")
                delivery = None
            if delivery is None:
                self._slots.release()
                return
            task = asyncio.create_task(self._attempt(delivery))
            self._sending.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._slots.release()
        self._wake.set()  # a slot is free: another attempt may be due

    async def _next_due(self) -> dt.datetime | None:
        try:
            return await self.store.next_due()
        except Exception:  # the database away: look again after a poll
            log.warning("could not read when the next webhook is due", exc_info=True)
            return None

    async def _sleep(self, due: dt.datetime | None) -> None:
        """Until `due`, a poll's time, or a wake (a job ended, or an attempt made room)."""
        timeout = self._poll_seconds
        if due is not None and not self._slots.locked():
            timeout = min(timeout, max(0.05, (due - utcnow()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            sent = await self._send(delivery)
            number = delivery.attempts + 1
            state, next_at = self._after(sent, number)
            recorded = await self.store.record(delivery, self.owner, sent.attempt, state, next_at)
        except Exception:  # its lease runs out, and it is sent again
            log.exception("job %s: its webhook attempt could not be made", delivery.job_id)
            return
        if not recorded:
            log.warning("job %s: its webhook's lease passed to another process", delivery.job_id)
        elif state != DELIVERED:
            log.warning(
                "job %s: webhook attempt %d %s (%s)",
                delivery.job_id,
                number,
                {PENDING: "failed, retried later", FAILED: "failed, the last", STOPPED: "410"}[
                    state
                ],
                sent.attempt.error,
            )

    async def _send(self, delivery: Delivery) -> Sent:
        secrets = delivery.key_secrets or ((self._gateway_secret,) if self._gateway_secret else ())
        if not secrets:
            return Sent(Attempt(utcnow(), None, NO_SECRET, 0))
        timestamp = int(time.time())
        headers = {
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                secrets, delivery.webhook_id, timestamp, delivery.body
            ),
        }
        return await self._sender.send(delivery.url, headers, delivery.body)

    def _after(self, sent: Sent, number: int) -> tuple[str, dt.datetime | None]:
        """The webhook's state after attempt `number`, and when the next is due."""
        if sent.delivered:
            return DELIVERED, None
        if sent.gone:
            return STOPPED, None
        delay = None if sent.refused else self._schedule.delay_after(number)
        if delay is None:
            return FAILED, None
        return PENDING, utcnow() + dt.timedelta(seconds=delay)


def open_deliverer(database: Database, config: WebhookConfig) -> WebhookDeliverer:
    return WebhookDeliverer(
        WebhookStore(database, config.timeout_seconds + LEASE_MARGIN_SECONDS),
        WebhookSender(config.policy, config.timeout_seconds, f"imagegate/{__version__} (webhooks)"),
        config.schedule,
        config.gateway_secret,
        config.lookback,
    )
