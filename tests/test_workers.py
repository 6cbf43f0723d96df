"""`imagegate serve --workers 2` on the embedded SQLite, without Redis: one port, two processes,
and nothing a client can tell apart from one process: rate limits, circuits, endpoint health,
idempotency and `/metrics` hold across them; Ctrl-C and SIGTERM stop them all; a killed worker
is replaced.

Which worker served a request is read from the kernel, not from the gateway (which tells
clients nothing about its processes): the worker holding the server end of the request's
connection (`/proc/net/tcp` and each worker's file descriptors). The tests pick connections
that landed on each worker, so "spread over both" is a fact, not a hope.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Gateway, clean_env, start_gateway
from fakes.fal import FalFake

MASTER = "workers-master"
IMAGE = {"model": "sandbox/image", "prompt": "x"}
SCHNELL = "black-forest-labs/flux.1-schnell"  # Together first (cheapest), then fal


# -- which worker holds a connection --------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _socket_inode(server_port: int, client_port: int) -> str | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return fields[9]
    return None


def _holder(inode: str, pids: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return pid
    return None


def _worker_of(connection: http.client.HTTPConnection, gateway: Gateway) -> int:
    """The worker process that accepted this (open) connection."""
    assert connection.sock is not None
    server_port = int(gateway.url.rsplit(":", 1)[1])
    client_port = connection.sock.getsockname()[1]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        inode = _socket_inode(server_port, client_port)
        if inode is not None:
            holder = _holder(inode, _children(gateway.process.pid))
            if holder is not None:
                return holder
        time.sleep(0.01)
    raise AssertionError("no worker accepted the connection")


def _connections(gateway: Gateway, each: int) -> dict[int, list[http.client.HTTPConnection]]:
    """`each` open connections on every one of the two workers, by worker pid (waiting up to
    30 s for a worker still starting, as right after `serve` printed its line)."""
    port = int(gateway.url.rsplit(":", 1)[1])
    by_worker: dict[int, list[http.client.HTTPConnection]] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.connect()
        held = by_worker.setdefault(_worker_of(connection, gateway), [])
        if len(held) < each:
            held.append(connection)
        else:
            connection.close()
            time.sleep(0.02)  # the other worker may not be accepting yet
        if len(by_worker) == 2 and all(len(held) == each for held in by_worker.values()):
            break
    assert len(by_worker) == 2 and all(len(held) == each for held in by_worker.values()), {
        pid: len(held) for pid, held in by_worker.items()
    }
    return by_worker


def _post(
    connection: http.client.HTTPConnection, path: str, body: dict, headers: dict[str, str]
) -> tuple[int, dict, dict[str, str]]:
    connection.request(
        "POST", path, json.dumps(body), {"Content-Type": "application/json", **headers}
    )
    response = connection.getresponse()
    payload = json.loads(response.read())
    return response.status, payload, {k.lower(): v for k, v in response.getheaders()}


def _key(gateway: Gateway, **fields) -> str:
    response = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "workers", **fields},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["key"]


def _scrape(connection: http.client.HTTPConnection) -> dict[str, float]:
    """`/metrics` through this connection's worker: each metric's samples summed over labels."""
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {MASTER}"})
    response = connection.getresponse()
    text = response.read().decode()
    assert response.status == 200, text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def _metrics_dir(worker: int) -> Path:
    """The directory where a worker keeps its metrics (what `serve` exported to it)."""
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    (found,) = [v for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return Path(found.split(b"=", 1)[1].decode())


def _in_one_window() -> None:
    """Rate limits count in fixed one-minute windows: keep a burst inside one."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fal() -> Iterator[FalFake]:
    fake = FalFake()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def workers(fal: FalFake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(
        tmp_path_factory.mktemp("workers"),
        IMAGEGATE_WORKERS="2",
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_CIRCUIT_THRESHOLD="2",
        IMAGEGATE_CIRCUIT_COOLDOWN_SECONDS="60",
        FAL_KEY="fal-key-for-tests",
        FAL_BASE_URL=fal.base_url,
        TOGETHER_API_KEY="together-key-for-tests",
        TOGETHER_BASE_URL="http://127.0.0.1:9",  # never reached in these tests
        IMAGEGATE_FETCH_ALLOW_NETWORKS="127.0.0.0/8",  # fal's results, on the fake
    )
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """Two workers that have served nothing yet: their metrics start at zero."""
    gateway = start_gateway(
        tmp_path_factory.mktemp("metered"), IMAGEGATE_WORKERS="2", IMAGEGATE_MASTER_KEY=MASTER
    )
    yield gateway
    gateway.stop()


# -- tests ----------------------------------------------------------------------------------


def test_a_key_with_rpm_10_gets_exactly_10_of_30_requests_spread_over_both_workers(
    workers: Gateway,
) -> None:
    secret = _key(workers, requests_per_minute=10)
    by_worker = _connections(workers, each=15)
    _in_one_window()
    jobs = [(pid, connection) for pid, held in by_worker.items() for connection in held]
    start = threading.Barrier(len(jobs))

    def send(job: tuple[int, http.client.HTTPConnection]) -> tuple[int, int, dict]:
        pid, connection = job
        start.wait()
        status, body, _ = _post(
            connection, "/api/v1/images", IMAGE, {"Authorization": f"Bearer {secret}"}
        )
        return pid, status, body

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(send, jobs))
    statuses = [status for _, status, _ in results]
    assert statuses.count(200) == 10 and statuses.count(429) == 20, statuses
    assert {pid for pid, _, _ in results} == set(by_worker)  # 15 through each worker
    for _, status, body in results:
        if status == 429:
            assert body["error"]["metadata"]["kind"] == "rate_limited"
    for held in by_worker.values():  # the minute's ten are spent for both
        status, _, _ = _post(
            held[0], "/api/v1/images", IMAGE, {"Authorization": f"Bearer {secret}"}
        )
        assert status == 429
        for connection in held:
            connection.close()


def test_failures_through_one_worker_open_the_circuit_for_the_other(
    workers: Gateway, fal: FalFake
) -> None:
    (first, *_), (second, *_) = _connections(workers, each=1).values()
    auth = {"Authorization": f"Bearer {_key(workers)}"}
    only_fal = {"model": SCHNELL, "prompt": "x", "provider": {"only": ["fal"]}}
    fal.reset()
    fal.fault = "server_error"
    try:
        for _ in range(2):  # two failures in a row, all through the first worker
            status, body, _ = _post(first, "/api/v1/images", only_fal, auth)
            assert status == 502, body
    finally:
        fal.fault = None

    second.request("GET", f"/api/v1/models/{SCHNELL}/endpoints", headers=auth)
    listed = json.loads(second.getresponse().read())
    by_name = {e["provider_name"]: e for e in listed["data"]["endpoints"]}
    assert by_name["fal"]["uptime_last_30m"] == 0.0  # the first worker's outcomes
    assert by_name["fal"]["uptime_last_5m"] == by_name["fal"]["uptime_last_1d"] == 0.0

    status, body, headers = _post(second, "/api/v1/images", only_fal, auth)
    assert status == 503 and "resting" in body["error"]["message"], body
    assert 50 <= int(headers["retry-after"]) <= 60
    assert len(fal.requests) == 2  # the second worker sent nothing to the resting endpoint
    first.close()
    second.close()


def test_one_idempotency_key_sent_to_both_workers_runs_one_generation(workers: Gateway) -> None:
    (first, *_), (second, *_) = _connections(workers, each=1).values()
    slow = {**IMAGE, "provider": {"options": {"sandbox": {"delay_ms": 800}}}}
    headers = {"Authorization": f"Bearer {MASTER}", "Idempotency-Key": "one-for-both"}

    with ThreadPoolExecutor(max_workers=2) as pool:
        racing = [pool.submit(_post, c, "/api/v1/images", slow, headers) for c in (first, second)]
        answers = [future.result() for future in racing]
    statuses = sorted(status for status, _, _ in answers)
    assert statuses in ([200, 200], [200, 409]), [body for _, body, _ in answers]
    generations = {h["x-imagegate-generation-id"] for s, _, h in answers if s == 200}
    assert len(generations) == 1  # a 200 on both is the same generation, replayed

    after = [_post(c, "/api/v1/images", slow, headers) for c in (first, second)]
    assert [status for status, _, _ in after] == [200, 200]  # both workers replay it
    assert {h["x-imagegate-generation-id"] for _, _, h in after} == generations
    with sqlite3.connect(workers.home / "imagegate.db") as database:
        (runs,) = database.execute(
            "SELECT count(*) FROM generations WHERE idempotency_key = 'one-for-both'"
        ).fetchone()
    assert runs == 1
    first.close()
    second.close()


def test_a_killed_worker_is_replaced(workers: Gateway) -> None:
    (first, *_), (second, *_) = _connections(workers, each=1).values()
    victim = _worker_of(first, workers)
    survivor = _worker_of(second, workers)
    first.close()
    second.close()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a new worker, serving
        with contextlib.suppress(AssertionError):
            by_worker = _connections(workers, each=1)
            if survivor in by_worker and victim not in by_worker:
                break
        time.sleep(0.2)
    else:
        raise AssertionError("the killed worker was not replaced")
    for held in by_worker.values():
        status, body, _ = _post(
            held[0], "/api/v1/images", IMAGE, {"Authorization": f"Bearer {MASTER}"}
        )
        assert status == 200, body
        held[0].close()
    assert workers.process.poll() is None


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_port_0_with_workers_says_its_port_and_a_signal_stops_every_worker(
    tmp_path: Path, stop: signal.Signals
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "imagegate", "serve", "--port", "0", "--workers", "2"],
        env=clean_env(tmp_path, IMAGEGATE_WORKERS="1"),  # the option wins over the variable
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(
            r"imagegate: \d+ of \d+ models available \(providers: sandbox\); "
            r"serving on http://127\.0\.0\.1:(\d+) \(2 workers\)\n",
            line,
        )
        assert found, line
        gateway = Gateway(f"http://127.0.0.1:{found[1]}", tmp_path, process, tmp_path / "none")
        held = _connections(gateway, each=1)  # two workers on that port
        for connections in held.values():
            status, body, _ = _post(connections[0], "/api/v1/images", IMAGE, {})
            assert status == 200, body
            connections[0].close()
        every = _children(process.pid)
        assert set(held) <= set(every)
        metrics_dir = _metrics_dir(next(iter(held)))
        assert metrics_dir.name.startswith("imagegate-metrics-")
        assert metrics_dir.stat().st_mode & 0o777 == 0o700  # the workers' files, private
        assert list(metrics_dir.glob("counter_*.db"))
    finally:
        process.send_signal(stop)
        _, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    assert not metrics_dir.exists()  # removed when the server stopped
    deadline = time.monotonic() + 5  # no orphans: the workers, and multiprocessing's helper
    while [pid for pid in every if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in every if _alive(pid)]


def test_every_scrape_through_either_worker_shows_the_whole_servers_counts(
    metered: Gateway,
) -> None:
    by_worker = _connections(metered, each=4)
    auth = {"Authorization": f"Bearer {MASTER}"}
    for held in by_worker.values():  # 4 generations through each worker
        for connection in held:
            status, body, _ = _post(connection, "/api/v1/images", IMAGE, auth)
            assert status == 200, body
    for _ in range(3):  # several scrapes, each worker answering in turn
        for pid, held in by_worker.items():
            totals = _scrape(held[0])
            assert totals.get("imagegate_requests_total") == 8, (pid, totals)
            assert totals.get("imagegate_generation_duration_seconds_count") == 8, pid
            assert totals.get("imagegate_images_total") == 8, pid
            assert totals.get("imagegate_generations_in_flight") == 0, pid
            assert totals.get("imagegate_queue_depth") == 0, pid
    for held in by_worker.values():
        for connection in held:
            connection.close()


def test_a_killed_workers_generation_stops_counting_in_flight(metered: Gateway) -> None:
    (doomed, *_), (watcher, *_) = _connections(metered, each=1).values()
    before = _scrape(watcher)
    slow = {**IMAGE, "provider": {"options": {"sandbox": {"delay_ms": 30000}}}}

    def send() -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):  # dies with its worker
            _post(doomed, "/api/v1/images", slow, {"Authorization": f"Bearer {MASTER}"})

    request = threading.Thread(target=send, daemon=True)
    request.start()
    deadline = time.monotonic() + 10
    while _scrape(watcher).get("imagegate_generations_in_flight") != 1:
        assert time.monotonic() < deadline, "the slow generation never showed in flight"
        time.sleep(0.05)

    os.kill(_worker_of(doomed, metered), signal.SIGKILL)
    deadline = time.monotonic() + 15  # the supervisor notices within a second or two
    while (totals := _scrape(watcher)).get("imagegate_generations_in_flight") != 0:
        assert time.monotonic() < deadline, "a dead worker's generation still counts in flight"
        time.sleep(0.1)
    # What the dead worker counted before it died still counts.
    assert totals.get("imagegate_requests_total") == before.get("imagegate_requests_total")
    request.join(timeout=5)
    doomed.close()
    watcher.close()


def test_a_metrics_directory_the_user_chose_is_used_and_kept(tmp_path: Path) -> None:
    chosen = tmp_path / "prometheus"  # not there yet: serve makes it
    gateway = start_gateway(
        tmp_path / "home",
        IMAGEGATE_WORKERS="2",
        IMAGEGATE_MASTER_KEY=MASTER,
        PROMETHEUS_MULTIPROC_DIR=str(chosen),
    )
    try:
        by_worker = _connections(gateway, each=1)
        auth = {"Authorization": f"Bearer {MASTER}"}
        for (connection,) in by_worker.values():
            status, body, _ = _post(connection, "/api/v1/images", IMAGE, auth)
            assert status == 200, body
        for pid, (connection,) in by_worker.items():
            assert _metrics_dir(pid) == chosen
            assert _scrape(connection).get("imagegate_requests_total") == 2
            connection.close()
    finally:
        gateway.stop()
    assert {f"counter_{pid}.db" for pid in by_worker} <= {f.name for f in chosen.iterdir()}
