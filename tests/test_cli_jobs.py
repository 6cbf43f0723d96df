"""`imagegate generate --async` and `imagegate jobs list|show|wait|cancel`, run as a user runs
them (the CLI as a subprocess) against a real gateway: a job started from the command line is
waited for and its image saved, listed, shown, cancelled while queued; a failed or unknown job
and a refused key are one line on stderr with a non-zero exit; a wait outlasts a gateway restart.

To keep a job queued, a gateway runs one job at a time (`IMAGEGATE_JOB_CONCURRENCY=1`) and is
given a slow one first (the sandbox's `delay_ms`, an operator's switch: sent with the master
key)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web
from PIL import Image
from rich.console import Console

import conftest
from conftest import Gateway, clean_env, free_port, start_gateway
from fakes.base import FakeServer
from imagegate.cli.job_progress import JobProgress

MASTER = "master-secret-for-cli-job-tests"
ONE_AT_A_TIME = {"IMAGEGATE_MASTER_KEY": MASTER, "IMAGEGATE_JOB_CONCURRENCY": "1"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("cli-jobs"), IMAGEGATE_MASTER_KEY=MASTER)
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def secret(served: Gateway) -> str:
    """An API key's secret, as `IMAGEGATE_API_KEY` gives it to the CLI."""
    created = httpx.post(
        f"{served.url}/api/v1/keys",
        json={"name": "cli-jobs"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code in (200, 201), created.text
    return created.json()["key"]


def _cli(
    tmp_path: Path, *args: str, key: str | None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    extra = {"IMAGEGATE_API_KEY": key} if key else {}
    return subprocess.run(
        [sys.executable, "-m", "imagegate", *args],
        env=clean_env(tmp_path / "home", **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
    )


def _operator_job(gateway: Gateway, **sandbox: Any) -> str:
    """A job sent with the master key, with the sandbox's switches (`delay_ms`, `fail`)."""
    body = {
        "model": "sandbox/image",
        "prompt": "held up",
        "provider": {"options": {"sandbox": sandbox}},
    }
    accepted = httpx.post(
        f"{gateway.url}/api/v1/images",
        json=body,
        headers={"Authorization": f"Bearer {MASTER}", "Prefer": "respond-async"},
    )
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["id"]


def _status(gateway: Gateway, job_id: str) -> str:
    answer = httpx.get(
        f"{gateway.url}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {MASTER}"}
    )
    return answer.json()["status"]


def _until(gateway: Gateway, job_id: str, status: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while _status(gateway, job_id) != status:
        assert time.monotonic() < deadline, f"{job_id} never {status}"
        time.sleep(0.05)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("imagegate:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_an_async_job_is_waited_for_listed_and_shown(
    tmp_path: Path, served: Gateway, secret: str
) -> None:
    url = served.url
    started = _cli(
        tmp_path, "generate", "a kite", "-m", "sandbox/image", "--size", "300x200", "--async",
        "--url", url, key=secret,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.strip()  # the id alone, for JOB=$(imagegate generate --async ...)
    assert started.stdout == f"{job_id}\n" and job_id.startswith("job_")
    assert f"imagegate jobs wait {job_id}" in started.stderr

    waited = _cli(tmp_path, "jobs", "wait", job_id, "--url", url, "-o", "kite.png", key=secret)
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout == "kite.png\n"
    assert f"{job_id} completed" in waited.stderr
    with Image.open(tmp_path / "kite.png") as image:
        assert image.format == "PNG" and image.size == (300, 200)

    shown = _cli(tmp_path, "jobs", "show", job_id, "--url", url, "--json", key=secret)
    assert shown.returncode == 0, shown.stderr
    job = orjson.loads(shown.stdout)
    assert job["id"] == job_id and job["status"] == "completed"
    assert job["model"] == "sandbox/image" and job["generation_id"].startswith("gen-")
    assert job["generation_id"] in waited.stderr  # wait's note: generation · provider · cost

    listed = _cli(tmp_path, "jobs", "list", "--url", url, key=secret)
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if job_id in line]
    for cell in ("completed", "sandbox/image", job["generation_id"]):
        assert cell in row, row
    as_json = _cli(tmp_path, "jobs", "list", "--url", url, "--json", key=secret)
    assert job_id in [item["id"] for item in orjson.loads(as_json.stdout)]

    described = _cli(tmp_path, "jobs", "show", job_id, "--url", url, "-o", "again/", key=secret)
    assert described.returncode == 0, described.stderr
    assert "completed" in described.stdout and "1 image(s) (image/png)" in described.stdout
    (saved,) = (tmp_path / "again").iterdir()
    assert saved.name == f"{job['generation_id']}-1.png"
    assert saved.read_bytes() == (tmp_path / "kite.png").read_bytes()


def test_generate_async_json_prints_the_job(tmp_path: Path, served: Gateway, secret: str) -> None:
    result = _cli(
        tmp_path, "generate", "x", "-m", "sandbox/image", "--async", "--json", "--url",
        served.url, key=secret,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    job = orjson.loads(result.stdout)
    assert job["object"] == "job" and job["status"] == "queued"
    assert job["polling_url"] == f"/api/v1/jobs/{job['id']}"


def test_jobs_are_cancelled_and_a_wait_times_out(tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "gateway", **ONE_AT_A_TIME)
    try:
        url = gateway.url
        slow = _operator_job(gateway, delay_ms=60000)  # runs past the end of this test
        _until(gateway, slow, "running")
        started = _cli(
            tmp_path, "generate", "behind it", "-m", "sandbox/image", "--async", "--url", url,
            key=MASTER,
        )  # fmt: skip
        queued = started.stdout.strip()
        listed = _cli(tmp_path, "jobs", "list", "--status", "queued", "--url", url, key=MASTER)
        (row,) = [line for line in listed.stdout.splitlines() if queued in line]
        assert "queued" in row and "sandbox/image" in row

        # the one running job keeps the other queued: a short wait for it gives up
        impatient = _cli(
            tmp_path, "jobs", "wait", queued, "--url", url, "--timeout", "1", key=MASTER
        )
        assert _one_error_line(impatient) == (
            f"imagegate: {queued} is still queued after 1 s; it goes on (wait again, or see "
            "--timeout)"
        )
        assert f"{queued} queued" in impatient.stderr
        assert _status(gateway, queued) == "queued"

        cancelled = _cli(tmp_path, "jobs", "cancel", queued, "--url", url, key=MASTER)
        assert (cancelled.returncode, cancelled.stdout) == (0, f"{queued} cancelled\n")
        shown = _cli(tmp_path, "jobs", "show", queued, "--url", url, "--json", key=MASTER)
        assert orjson.loads(shown.stdout)["status"] == "cancelled"
        waited = _cli(tmp_path, "jobs", "wait", queued, "--url", url, key=MASTER)
        assert _one_error_line(waited) == f"imagegate: {queued} was cancelled"
        assert list(tmp_path.glob("*.png")) == []
        # an ended job cannot be cancelled, in the gateway's words
        again = _cli(tmp_path, "jobs", "cancel", queued, "--url", url, key=MASTER)
        line = _one_error_line(again)
        assert line.startswith("imagegate: HTTP 409: ") and queued in line

        running = _cli(tmp_path, "jobs", "wait", slow, "--url", url, "--timeout", "1", key=MASTER)
        assert _one_error_line(running).startswith(f"imagegate: {slow} is still running after 1 s")
        assert f"{slow} running" in running.stderr
        stopped = _cli(tmp_path, "jobs", "cancel", slow, "--url", url, key=MASTER)
        assert stopped.returncode == 0 and stopped.stdout.startswith(f"{slow} "), stopped
        waited = _cli(tmp_path, "jobs", "wait", slow, "--url", url, key=MASTER)
        assert _one_error_line(waited) == f"imagegate: {slow} was cancelled"
    finally:
        gateway.stop()


def test_a_failed_job_exits_with_its_error(tmp_path: Path, served: Gateway) -> None:
    failing = _operator_job(served, fail="content_policy")
    waited = _cli(tmp_path, "jobs", "wait", failing, "--url", served.url, key=MASTER)
    line = _one_error_line(waited)
    assert line.startswith(f"imagegate: {failing} failed (content_policy): sandbox: ")
    assert list(tmp_path.glob("*.png")) == []
    shown = _cli(tmp_path, "jobs", "show", failing, "--url", served.url, key=MASTER)
    assert shown.returncode == 0, shown.stderr
    assert "failed" in shown.stdout and "content_policy (HTTP 403): sandbox: " in shown.stdout
    nothing = _cli(
        tmp_path, "jobs", "show", failing, "--url", served.url, "-o", "x.png", key=MASTER
    )
    assert _one_error_line(nothing) == f"imagegate: {failing} is failed; it has no images to save"


def test_the_gateways_refusals_are_one_line(tmp_path: Path, served: Gateway, secret: str) -> None:
    url = served.url
    for command in (["show", "job_nothing"], ["wait", "job_nothing"], ["cancel", "job_nothing"]):
        result = _cli(tmp_path, "jobs", *command, "--url", url, key=secret)
        assert _one_error_line(result) == "imagegate: HTTP 404: no job job_nothing", command
    # another key's job is as unknown as one that does not exist
    theirs = _operator_job(served)
    other = _cli(tmp_path, "jobs", "show", theirs, "--url", url, key=secret)
    assert _one_error_line(other) == f"imagegate: HTTP 404: no job {theirs}"

    keyless = _cli(tmp_path, "jobs", "list", "--url", url, key=None)
    assert _one_error_line(keyless).startswith("imagegate: HTTP 401: ")
    wrong = _cli(tmp_path, "jobs", "list", "--url", url, key="sk-ig-not-a-key")
    assert _one_error_line(wrong).startswith("imagegate: HTTP 401: ")
    bad_status = _cli(tmp_path, "jobs", "list", "--status", "sleeping", "--url", url, key=secret)
    assert "'sleeping'" in _one_error_line(bad_status)
    refused = _cli(
        tmp_path, "generate", "x", "-m", "nobody/nothing", "--async", "--url", url, key=secret
    )
    assert _one_error_line(refused).startswith(
        "imagegate: HTTP 404: model 'nobody/nothing' is not in the catalog"
    )
    down = f"http://127.0.0.1:{free_port()}"
    unreachable = _cli(tmp_path, "jobs", "wait", "job_x", "--url", down, key=secret)
    assert _one_error_line(unreachable) == (
        f"imagegate: cannot reach the gateway at {down}: connection refused"
    )


@pytest.mark.parametrize(
    ("options", "mistake"),
    [
        (["--async"], "a job runs on a serving gateway: give its --url"),
        (["--callback-url", "https://example.com/hook"], "goes with --async"),
        (["--json"], "goes with --async"),
        (["--async", "--url", "http://127.0.0.1:9", "-o", "a.png"], "not by --async"),
    ],
)
def test_async_usage_mistakes(tmp_path: Path, options: list[str], mistake: str) -> None:
    result = _cli(tmp_path, "generate", "x", "-m", "sandbox/image", *options, key=None)
    assert result.returncode == 2 and result.stdout == ""
    assert mistake in " ".join(result.stderr.split())


class RecordingGateway(FakeServer):
    """Answers `POST /api/v1/images` as a gateway that accepts every job (recording what it was
    sent), or with `fault = "synchronous"` as one that ignores `Prefer: respond-async` and answers
    with images at once; `GET /api/v1/jobs/...` with HTML, as a web server that is no gateway."""

    provider = "recording-gateway"
    faults = (*FakeServer.faults, "synchronous")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/images", self.images)
        app.router.add_get("/api/v1/jobs/{job_id}", self.job)

    def error(self, status: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"error": {"code": status, "message": message}}, status=status)

    async def images(self, request: web.Request) -> web.Response:
        await self.read_json(request)
        if self.fault == "synchronous":
            body = {
                "id": "gen-1",
                "data": [{"b64_json": "iVBORw0KGgo=", "media_type": "image/png"}],
            }
            return web.json_response(body, headers={"X-Imagegate-Generation-Id": "gen-1"})
        job = {"id": "job_recorded", "object": "job", "status": "queued", "polling_url": "/x"}
        return web.json_response(job, status=202)

    async def job(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")


@pytest.fixture(scope="module")
def recording() -> Iterator[RecordingGateway]:
    server = RecordingGateway()
    server.start()
    yield server
    server.stop()


def test_what_generate_async_sends(tmp_path: Path, recording: RecordingGateway) -> None:
    recording.reset()
    result = _cli(
        tmp_path, "generate", "a kite", "-m", "sandbox/image", "--seed", "4", "--async",
        "--callback-url", "https://hooks.example.com/done", "--url", recording.url,
        key="sk-ig-mine",
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "job_recorded\n"), result.stderr
    (sent,) = recording.requests
    assert sent.headers["prefer"] == "respond-async"
    assert sent.headers["authorization"] == "Bearer sk-ig-mine"
    assert sent.json == {
        "model": "sandbox/image",
        "prompt": "a kite",
        "seed": 4,
        "callback_url": "https://hooks.example.com/done",
    }


def test_a_server_that_runs_no_jobs(tmp_path: Path, recording: RecordingGateway) -> None:
    recording.reset()
    recording.fault = "synchronous"
    result = _cli(
        tmp_path, "generate", "x", "-m", "sandbox/image", "--async", "--url", recording.url,
        key=None,
    )  # fmt: skip
    assert _one_error_line(result) == (
        f"imagegate: the gateway at {recording.url} answered HTTP 200 instead of accepting a "
        "job; it does not run jobs (it generated gen-1 at once)"
    )
    recording.reset()
    html = _cli(tmp_path, "jobs", "show", "job_1", "--url", recording.url, key=None)
    assert _one_error_line(html) == (
        f"imagegate: {recording.url} answered with text/html, not a job; is it an imagegate "
        "gateway?"
    )


def test_a_wait_outlasts_a_gateway_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job outlives its gateway; so does a wait for it. The gateway is killed while the job
    is queued and started again on the same port: the wait says it cannot reach it, keeps
    trying, and saves the image once the restarted gateway has run the job."""
    port = free_port()
    monkeypatch.setattr(conftest, "free_port", lambda: port)  # the same address both times
    env = {**ONE_AT_A_TIME, "IMAGEGATE_JOB_LEASE_SECONDS": "1"}
    first = start_gateway(tmp_path / "gateway", **env)
    _until(first, _operator_job(first, delay_ms=20000), "running")
    queued = _operator_job(first)
    waiting = subprocess.Popen(
        [sys.executable, "-m", "imagegate", "jobs", "wait", queued, "--url", first.url,
         "-o", "after.png"],
        env=clean_env(tmp_path / "home", IMAGEGATE_API_KEY=MASTER),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )  # fmt: skip
    second = None
    try:
        assert waiting.stderr is not None
        assert waiting.stderr.readline() == f"{queued} queued\n"  # it has read the job
        first.process.kill()
        first.process.wait()
        time.sleep(1.0)  # the wait finds nobody there
        second = start_gateway(tmp_path / "gateway", **env)
        stdout, stderr = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, stderr
        assert "cannot reach the gateway" in stderr and "trying again" in stderr
        assert stdout == "after.png\n"
        with Image.open(tmp_path / "after.png") as image:
            assert image.format == "PNG"
    finally:
        waiting.kill()
        first.stop()
        if second is not None:
            second.stop()


def test_progress_is_a_bar_when_the_job_reports_it() -> None:
    """On a terminal: the status and a bar filled to the job's `progress`; in a log: a line each
    time the status changes or the progress passes another tenth."""
    terminal = io.StringIO()
    console = Console(file=terminal, force_terminal=True, width=100, color_system=None)
    with JobProgress(console, "job_x") as progress:
        progress.update({"status": "running", "progress": 0.5})
    assert "job_x running" in terminal.getvalue() and "50%" in terminal.getvalue()

    log = io.StringIO()
    with JobProgress(Console(file=log, width=100), "job_x") as progress:
        seen = [("queued", None), ("queued", None), ("running", 0.42), ("running", 0.45)]
        for status, fraction in [*seen, ("running", 0.51), ("completed", 1.0)]:
            progress.update({"status": status, "progress": fraction})
    assert log.getvalue().splitlines() == [
        "job_x queued",
        "job_x running 42%",
        "job_x running 51%",
        "job_x completed 100%",
    ]
