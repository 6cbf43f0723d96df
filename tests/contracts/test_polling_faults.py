"""Faults that hit only the polling of an asynchronous provider (BFL, fal, Replicate): the submit
goes through, then the status poll, the result URL or the output download misbehaves.

A poll answered with 429 (honouring its Retry-After), 5xx or a malformed body is tried again
within the attempt, so a passing fault costs nothing and the job is never submitted twice; a
fault that persists ends the attempt with the documented kind (and the job is cancelled where
the provider can cancel). The harness's provider timeout is 3 s; the fakes' Retry-After is set
to 1 s here so that a retry fits.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from contracts.conftest import upstream_said
from fakes.base import FakeServer, Recorded
from fakes.replicate import ReplicateFake

RETRY_AFTER = "1"


@dataclass(frozen=True)
class Polled:
    provider: str
    model: str
    submit: str  # the submit's path
    poll: str | re.Pattern[str]  # the polls' paths (fault_paths entry)
    download: str  # the output files' paths, fetched without the key
    cancel: str | None  # the method of its cancel request, if it can cancel
    hold_back: bool = False  # Replicate: make the held request come back unfinished

    def polls(self, fake: FakeServer) -> list[Recorded]:
        return [r for r in fake.requests if r.method == "GET" and _matches(self.poll, r.path)]

    def submits(self, fake: FakeServer) -> list[Recorded]:
        return [r for r in fake.requests if r.method == "POST" and r.path == self.submit]

    def cancels(self, fake: FakeServer) -> list[Recorded]:
        return [r for r in fake.requests if r.path.endswith("/cancel")]


def _matches(pattern: str | re.Pattern[str], path: str) -> bool:
    return path.startswith(pattern) if isinstance(pattern, str) else bool(pattern.fullmatch(path))


BFL = Polled(
    "bfl",
    "black-forest-labs/flux.2-pro",
    submit="/v1/flux-2-pro",
    poll="/v1/get_result",
    download="/samples/",
    cancel=None,  # BFL has no cancel
)
FAL = Polled(
    "fal",
    "black-forest-labs/flux.1-schnell",
    submit="/fal-ai/flux/schnell",
    poll=re.compile(r"/fal-ai/flux/requests/[^/]+/status"),
    download="/files/",
    cancel="PUT",
)
FAL_RESULT = re.compile(r"/fal-ai/flux/requests/[^/]+")  # response_url: with the key
REPLICATE = Polled(
    "replicate",
    "black-forest-labs/flux.1-schnell",
    submit="/v1/models/black-forest-labs/flux-schnell/predictions",
    poll="/v1/predictions/",
    download="/delivery/",
    cancel="POST",
    hold_back=True,
)
POLLED = [BFL, FAL, REPLICATE]
PERSISTENT = {
    "rate_limit": (429, "rate_limited"),
    "server_error": (502, "upstream_error"),
    "malformed": (502, "upstream_error"),
}


def _run(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    case: Polled,
    fault: str,
    paths: tuple[str | re.Pattern[str], ...],
    times: int | None,
) -> tuple[FakeServer, httpx.Response]:
    fake = fakes[case.provider]
    fake.fault, fake.fault_paths, fake.fault_times = fault, paths, times
    fake.retry_after = RETRY_AFTER
    if case.hold_back:
        assert isinstance(fake, ReplicateFake)
        fake.hold_back = True
    response = upstream.post(
        "/api/v1/images",
        json={"model": case.model, "prompt": "a fox", "provider": {"only": [case.provider]}},
    )
    return fake, response


def _gaps(requests: list[Recorded]) -> list[float]:
    return [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]


def _assert_error(response: httpx.Response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["metadata"]["kind"]) == (status, kind)
    if kind == "rate_limited":
        assert response.headers.get("retry-after") == RETRY_AFTER


@pytest.mark.parametrize("fault", list(PERSISTENT))
@pytest.mark.parametrize("case", POLLED, ids=lambda c: c.provider)
def test_a_passing_fault_on_a_poll_is_ridden_out_without_resubmitting(
    upstream: httpx.Client, fakes: dict[str, FakeServer], case: Polled, fault: str
) -> None:
    fake, response = _run(upstream, fakes, case, fault, (case.poll,), times=1)
    assert response.status_code == 200, response.text
    assert len(case.submits(fake)) == 1, "the job was submitted once"
    polls = case.polls(fake)
    assert len(polls) >= 2, "the failed poll was tried again"
    assert not case.cancels(fake)
    if fault == "rate_limit":
        assert _gaps(polls)[0] >= float(RETRY_AFTER) * 0.9, "Retry-After was honoured"


@pytest.mark.parametrize(("fault", "expected"), list(PERSISTENT.items()))
@pytest.mark.parametrize("case", POLLED, ids=lambda c: c.provider)
def test_a_fault_that_persists_on_the_polls_maps_to_its_kind(
    upstream: httpx.Client,
    fakes: dict[str, FakeServer],
    case: Polled,
    fault: str,
    expected: tuple[int, str],
) -> None:
    fake, response = _run(upstream, fakes, case, fault, (case.poll,), times=None)
    _assert_error(response, *expected)
    assert len(case.submits(fake)) == 1, "a failing poll never resubmits the job"
    polls = case.polls(fake)
    assert len(polls) >= 2, "polling was retried before giving up"
    if fault == "rate_limit":
        assert min(_gaps(polls)) >= float(RETRY_AFTER) * 0.9
    assert not [r for r in fake.requests if r.path.startswith(case.download)]
    if case.cancel is not None:
        cancels = case.cancels(fake)
        assert [r.method for r in cancels] == [case.cancel], "the abandoned job was cancelled"


@pytest.mark.parametrize(("fault", "expected"), list(PERSISTENT.items()))
def test_fals_result_url_rides_out_a_passing_fault_and_maps_a_lasting_one(
    upstream: httpx.Client, fakes: dict[str, FakeServer], fault: str, expected: tuple[int, str]
) -> None:
    def results(fake: FakeServer) -> list[Recorded]:
        return [r for r in fake.requests if r.method == "GET" and FAL_RESULT.fullmatch(r.path)]

    fake, response = _run(upstream, fakes, FAL, fault, (FAL_RESULT,), times=1)
    assert response.status_code == 200, response.text
    assert len(results(fake)) == 2 and len(FAL.submits(fake)) == 1
    assert all(r.headers["authorization"] == "Key key-for-fal" for r in results(fake))

    fake.reset()
    fake, response = _run(upstream, fakes, FAL, fault, (FAL_RESULT,), times=None)
    _assert_error(response, *expected)
    assert len(results(fake)) >= 2 and len(FAL.submits(fake)) == 1
    assert not [r for r in fake.requests if r.path.startswith(FAL.download)]


DOWNLOAD_FAULTS: dict[str, Callable[[str], str]] = {
    "rate_limit": lambda message: "HTTP 429" in message,
    "server_error": lambda message: "HTTP 500" in message,
    "malformed": lambda message: "not an image" in message,
}


@pytest.mark.parametrize("fault", list(DOWNLOAD_FAULTS))
@pytest.mark.parametrize("case", [BFL, REPLICATE], ids=lambda c: c.provider)
def test_a_failed_download_of_the_output_is_an_upstream_error(
    upstream: httpx.Client, fakes: dict[str, FakeServer], case: Polled, fault: str
) -> None:
    """Output files (BFL's signed `result.sample`, Replicate's delivery URLs) come through the
    safe fetcher without the key; any answer but an image is an upstream error (502)."""
    fake, response = _run(upstream, fakes, case, fault, (case.download,), times=None)
    _assert_error(response, 502, "upstream_error")
    message = response.json()["error"]["message"]
    assert DOWNLOAD_FAULTS[fault](f"{message} | {upstream_said(upstream, response)}")
    downloads = [r for r in fake.requests if r.path.startswith(case.download)]
    assert downloads and all("authorization" not in r.headers for r in downloads)
    assert all("x-key" not in r.headers for r in downloads)
    assert len(case.submits(fake)) == 1
