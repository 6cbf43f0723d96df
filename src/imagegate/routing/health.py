"""Endpoint health from real traffic: uptime over 5 minutes, 30 minutes and a day, latency over
30 minutes, and a circuit breaker.

Every attempt on an endpoint (a provider serving a model) is recorded as an outcome. Only the
upstream's own failures count against it (5xx, timeouts, malformed or empty answers); a rate
limit, an invalid request or a content refusal says nothing about whether it is up, as in
OpenRouter's uptime.

The circuit: after `threshold` failures in a row an endpoint is *open* for `cooldown` seconds
and routing skips it; then it is *half-open*: one request is let through as a probe, whose
success closes the circuit and whose failure opens it again. A probe that ends without a
verdict (say it was rate limited) holds the lease for one cooldown at most.

In one process everything lives in memory; with Redis (`IMAGEGATE_REDIS_URL`) replicas share
outcomes and circuits, so one replica's evidence protects them all; the worker processes of one
`imagegate serve --workers N` without Redis share them through the database (`shared_health.py`).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from imagegate.routing.clock import SYSTEM_CLOCK, Clock
from imagegate.routing.uptime import (
    DAY_SECONDS,
    FIVE_MINUTES,
    MinuteCounts,
    first_minute_of_day,
    minute_of,
    percent,
)

WINDOW_SECONDS = 30 * 60


def _unwatched(endpoint: str, state: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    requests: int  # attempts in the last 30 minutes
    uptime: float | None  # percent of attempts that did not fail upstream, last 30 min
    latency_ms: dict[str, float] | None  # p50, p75, p90, p99 of successful attempts
    uptime_5m: float | None = None  # the same over the last 5 minutes
    uptime_1d: float | None = None  # and over the last day, counted by the minute


@dataclass(frozen=True, slots=True)
class CircuitSettings:
    threshold: int = 3  # failures in a row that open the circuit; 0 turns it off
    cooldown: float = 30.0
    # told `closed`, `open` or `half_open` as an endpoint's circuit is seen to be in that state
    on_change: Callable[[str, str], None] = _unwatched


class HealthStore(Protocol):
    async def record(self, endpoint: str, ok: bool, latency_ms: float) -> None: ...

    async def allows(self, endpoint: str) -> float | None:
        """None when the endpoint may be tried now (closed, or this request is the half-open
        probe); otherwise the seconds until it may be."""
        ...

    async def health(self, endpoints: list[str]) -> dict[str, EndpointHealth]: ...

    async def close(self) -> None: ...


def summarise(
    outcomes: list[tuple[float, bool, float]], now: float, uptime_1d: float | None
) -> EndpointHealth:
    """The health shown for the last 30 minutes' outcomes (when, ok, latency) and the day's
    uptime, counted apart."""
    successes = sorted(latency for _, ok, latency in outcomes if ok)
    recent = [ok for at, ok, _ in outcomes if at >= now - FIVE_MINUTES]
    return EndpointHealth(
        len(outcomes),
        percent(len(successes), len(outcomes)),
        latency_percentiles(successes),
        uptime_5m=percent(sum(recent), len(recent)),
        uptime_1d=uptime_1d,
    )


def latency_percentiles(successes: list[float]) -> dict[str, float] | None:
    """p50, p75, p90 and p99 of sorted latencies; None when there are none."""
    if not successes:
        return None
    return {
        name: _percentile(successes, q)
        for name, q in (("p50", 50), ("p75", 75), ("p90", 90), ("p99", 99))
    }


def _percentile(values: list[float], q: float) -> float:
    rank = max(math.ceil(q / 100 * len(values)) - 1, 0)
    return round(values[rank], 1)


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing_since: float | None = None


@dataclass
class MemoryHealth:
    settings: CircuitSettings = field(default_factory=CircuitSettings)
    clock: Clock = SYSTEM_CLOCK
    _outcomes: dict[str, deque[tuple[float, bool, float]]] = field(default_factory=dict)
    _minutes: dict[str, MinuteCounts] = field(default_factory=dict)
    _circuits: dict[str, _Circuit] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def record(self, endpoint: str, ok: bool, latency_ms: float) -> None:
        now = self.clock.time()
        async with self._lock:
            outcomes = self._outcomes.setdefault(endpoint, deque())
            outcomes.append((now, ok, latency_ms))
            while outcomes and outcomes[0][0] < now - WINDOW_SECONDS:
                outcomes.popleft()
            self._minutes.setdefault(endpoint, MinuteCounts()).add(now, ok)
            circuit = self._circuits.setdefault(endpoint, _Circuit())
            circuit.probing_since = None
            if ok:
                circuit.failures, circuit.opened_at = 0, None
                self.settings.on_change(endpoint, "closed")
            else:
                circuit.failures += 1
                if self.settings.threshold and circuit.failures >= self.settings.threshold:
                    circuit.opened_at = self.clock.monotonic()
                    self.settings.on_change(endpoint, "open")

    async def allows(self, endpoint: str) -> float | None:
        async with self._lock:
            circuit = self._circuits.get(endpoint)
            if circuit is None or circuit.opened_at is None:
                return None
            now = self.clock.monotonic()
            waited = now - circuit.opened_at
            if waited < self.settings.cooldown:
                return self.settings.cooldown - waited
            probing = circuit.probing_since
            if probing is not None and now - probing < self.settings.cooldown:
                return self.settings.cooldown - (now - probing)  # wait for that probe's verdict
            circuit.probing_since = now
            self.settings.on_change(endpoint, "half_open")
            return None

    async def health(self, endpoints: list[str]) -> dict[str, EndpointHealth]:
        now = self.clock.time()
        cutoff = now - WINDOW_SECONDS
        async with self._lock:
            found = {}
            for endpoint in endpoints:
                outcomes = [o for o in self._outcomes.get(endpoint, ()) if o[0] >= cutoff]
                minutes = self._minutes.get(endpoint)
                found[endpoint] = summarise(outcomes, now, minutes.day(now) if minutes else None)
            return found

    async def close(self) -> None:
        return None


_RECORD = """
local now, ok, latency, window = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local threshold, member = tonumber(ARGV[5]), ARGV[6]
redis.call('ZADD', KEYS[1], now, member .. ':' .. ok .. ':' .. latency)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('EXPIRE', KEYS[1], window)
local minute, oldest, day = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
if redis.call('HINCRBY', KEYS[3], minute .. ':n', 1) == 1 then
  for _, name in ipairs(redis.call('HKEYS', KEYS[3])) do
    if tonumber(string.match(name, '^(%d+):')) < oldest then redis.call('HDEL', KEYS[3], name) end
  end
end
if ok == '1' then redis.call('HINCRBY', KEYS[3], minute .. ':s', 1) end
redis.call('EXPIRE', KEYS[3], day)
redis.call('HDEL', KEYS[2], 'probing')
if ok == '1' then
  redis.call('HSET', KEYS[2], 'failures', 0)
  redis.call('HDEL', KEYS[2], 'opened_at')
else
  local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
  if threshold > 0 and failures >= threshold then
    redis.call('HSET', KEYS[2], 'opened_at', now)
  end
end
redis.call('EXPIRE', KEYS[2], window)
return redis.call('HEXISTS', KEYS[2], 'opened_at')
"""

_ALLOWS = """
local now, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2])
local opened = redis.call('HGET', KEYS[1], 'opened_at')
if not opened then return -1 end
local waited = now - tonumber(opened)
if waited < cooldown then return tostring(cooldown - waited) end
local probing = redis.call('HGET', KEYS[1], 'probing')
if probing and now - tonumber(probing) < cooldown then
  return tostring(cooldown - (now - tonumber(probing)))
end
redis.call('HSET', KEYS[1], 'probing', now)
return -1
"""


class RedisHealth:
    def __init__(self, url: str, settings: CircuitSettings, clock: Clock = SYSTEM_CLOCK) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._settings = settings
        self._clock = clock
        self._record = self._redis.register_script(_RECORD)
        self._allows = self._redis.register_script(_ALLOWS)

    async def record(self, endpoint: str, ok: bool, latency_ms: float) -> None:
        now = self._clock.time()
        opened = await self._record(
            keys=[_outcomes_key(endpoint), _circuit_key(endpoint), _minutes_key(endpoint)],
            args=[
                now,
                "1" if ok else "0",
                round(latency_ms, 1),
                WINDOW_SECONDS,
                self._settings.threshold,
                uuid.uuid4().hex,
                minute_of(now),
                first_minute_of_day(now),
                DAY_SECONDS + 60,
            ],
        )
        self._settings.on_change(endpoint, "open" if opened else "closed")

    async def allows(self, endpoint: str) -> float | None:
        wait = await self._allows(
            keys=[_circuit_key(endpoint)], args=[self._clock.time(), self._settings.cooldown]
        )
        wait = float(wait)
        if wait >= 0:
            self._settings.on_change(endpoint, "open")  # as this replica sees it
        return None if wait < 0 else wait

    async def health(self, endpoints: list[str]) -> dict[str, EndpointHealth]:
        now = self._clock.time()
        pipe = self._redis.pipeline(transaction=False)
        for endpoint in endpoints:
            pipe.zrangebyscore(
                _outcomes_key(endpoint), now - WINDOW_SECONDS, "+inf", withscores=True
            )
            pipe.hgetall(_minutes_key(endpoint))
        found = await pipe.execute()
        result = {}
        for index, endpoint in enumerate(endpoints):
            members, minutes = found[2 * index], found[2 * index + 1]
            outcomes = []
            for member, at in members:
                _, ok, latency = member.decode().rsplit(":", 2)
                outcomes.append((float(at), ok == "1", float(latency)))
            result[endpoint] = summarise(outcomes, now, _day_uptime(minutes, now))
        return result

    async def close(self) -> None:
        await self._redis.aclose()


def endpoint_key(provider: str, model_id: str) -> str:
    return f"{provider}|{model_id}"


def _outcomes_key(endpoint: str) -> str:
    return f"imagegate:health:{endpoint}:outcomes"


def _circuit_key(endpoint: str) -> str:
    return f"imagegate:health:{endpoint}:circuit"


def _minutes_key(endpoint: str) -> str:
    return f"imagegate:health:{endpoint}:minutes"


def _day_uptime(minutes: dict[bytes, bytes], now: float) -> float | None:
    """The day's uptime from the minute counters (`<minute>:n` attempts, `<minute>:s` successes)."""
    oldest = first_minute_of_day(now)
    counts = {"n": 0, "s": 0}
    for name, value in minutes.items():
        minute, kind = name.decode().split(":")
        if int(minute) >= oldest:
            counts[kind] += int(value)
    return percent(counts["s"], counts["n"])
