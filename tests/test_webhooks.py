"""Job webhooks through a served gateway and a real receiver: a job that ends is POSTed to its
key's webhook URL (or its `callback_url`), signed per Standard Webhooks and checked here with the
`standardwebhooks` package, retried on the schedule until a 2xx, stopped by a 410, and every
attempt is readable at `GET /api/v1/jobs/{id}/deliveries`. Callback URLs follow the SSRF rules
of image URLs: this gateway lets loopback through (`IMAGEGATE_FETCH_ALLOW_NETWORKS`), and the
last tests show one that does not."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from conftest import Gateway, clean_env, start_gateway
from fakes.webhook_receiver import WebhookReceiver
from imagegate.jobs.webhooks.signing import new_secret

MASTER = "master-secret-for-webhook-tests"
GATEWAY_SECRET = new_secret()
ASYNC = {"Prefer": "respond-async"}
SANDBOX = {"model": "sandbox/image", "prompt": "a lighthouse", "seed": 7}
RETRIES = "1,1,1,1,1,1"  # seconds between attempts: seven attempts within ten seconds
ENV = {
    "IMAGEGATE_MASTER_KEY": MASTER,
    "IMAGEGATE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
    "IMAGEGATE_WEBHOOK_RETRY_SCHEDULE": RETRIES,
    "IMAGEGATE_WEBHOOK_TIMEOUT_SECONDS": "1",
    "IMAGEGATE_WEBHOOK_SECRET": GATEWAY_SECRET,
}
ADMIN = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start_gateway(tmp_path_factory.mktemp("webhooks"), **ENV)
    yield gateway
    gateway.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    running = WebhookReceiver()
    yield running
    running.close()


def _new_key(gateway: Gateway, name: str, **fields: Any) -> tuple[httpx.Client, dict[str, Any]]:
    """A client with a new key, and the create answer (its `webhook_secret`, if given one)."""
    created = httpx.post(f"{gateway.url}/api/v1/keys", json={"name": name, **fields}, headers=ADMIN)
    assert created.status_code == 201, created.text
    body = created.json()
    client = httpx.Client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {body['key']}"}, timeout=30
    )
    return client, body


def _submit(client: httpx.Client, **fields: Any) -> str:
    accepted = client.post("/api/v1/images", json={**SANDBOX, **fields}, headers=ASYNC)
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["id"]


def _deliveries(client: httpx.Client, job_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/jobs/{job_id}/deliveries")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _wait_deliveries(
    client: httpx.Client,
    job_id: str,
    until: Callable[[dict[str, Any]], bool],
    seconds: float = 30,
) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = _deliveries(client, job_id)
        if until(found):
            return found
        time.sleep(0.1)
    raise AssertionError(f"deliveries of {job_id} never got there: {found}")


def _state(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda found: found["webhook"] is not None and found["webhook"]["state"] == state


def test_a_keys_webhook_is_signed_and_delivered_once(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    client, created = _new_key(served, "hooked", webhook_url=receiver.url)
    secret = created["webhook_secret"]
    assert secret.startswith("whsec_") and created["data"]["webhook_url"] == receiver.url
    with client:
        job_id = _submit(client)
        [received] = receiver.wait_for(1)
        event = Webhook(secret).verify(received.body, received.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(received.body, received.headers)
        assert received.headers["content-type"] == "application/json"
        assert received.headers["webhook-id"].startswith("msg_")
        assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 10
        # the job as GET shows it, without its result (the receiver fetches it)
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        assert event["type"] == "job.completed"
        assert event["data"] == {name: value for name, value in job.items() if name != "result"}
        assert job["result"]["data"] and "result" not in event["data"]
        ended = dt.datetime.fromisoformat(event["timestamp"])
        assert int(ended.timestamp()) == job["updated"]
        found = _wait_deliveries(client, job_id, _state("delivered"))
        webhook = found["webhook"]
        assert webhook["id"] == received.headers["webhook-id"]
        assert (webhook["url"], webhook["type"], webhook["attempts"]) == (
            receiver.url,
            "job.completed",
            1,
        )
        assert webhook["next_attempt"] is None
        [attempt] = found["data"]
        assert (attempt["attempt"], attempt["status"], attempt["error"]) == (1, 204, None)
        time.sleep(2.5)  # past two retry delays: a delivered webhook is not sent again
        assert len(receiver.bodies()) == 1
    # the secret was in the create answer only: not in listings, nor in the gateway's log
    listed = httpx.get(f"{served.url}/api/v1/keys", headers=ADMIN)
    assert receiver.url in listed.text and secret not in listed.text
    one = httpx.get(f"{served.url}/api/v1/keys/{created['data']['hash']}", headers=ADMIN)
    assert one.status_code == 200 and secret not in one.text and "webhook_secret" not in one.text
    assert secret not in served.log.read_text()


def test_a_receiver_down_for_a_while_gets_the_webhook_when_it_is_back(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    receiver.answer = "unavailable"
    client, created = _new_key(served, "flaky receiver", webhook_url=receiver.url)
    with client:
        job_id = _submit(client)
        receiver.wait_for(2)  # two attempts answered 503
        receiver.down()
        _wait_deliveries(
            client, job_id, lambda found: any(a["status"] is None for a in found["data"])
        )
        receiver.answer = "ok"
        receiver.up()
        found = _wait_deliveries(client, job_id, _state("delivered"))
    received = receiver.bodies()
    statuses = [attempt["status"] for attempt in found["data"]]
    assert statuses[:2] == [503, 503] and statuses[-1] == 204, statuses
    assert set(statuses[2:-1]) == {None}  # refused while it was down
    assert [item.answered for item in received] == [503, 503, 204]
    assert found["data"][0]["error"] == "HTTP 503: down for maintenance"
    assert "could not connect" in found["data"][2]["error"]
    assert [a["attempt"] for a in found["data"]] == list(range(1, len(statuses) + 1))
    assert found["webhook"]["attempts"] == len(statuses)
    # one webhook, re-signed for each attempt: the same id and body, a fresh timestamp
    assert {item.headers["webhook-id"] for item in received} == {found["webhook"]["id"]}
    assert len({item.body for item in received}) == 1
    timestamps = [int(item.headers["webhook-timestamp"]) for item in received]
    assert timestamps == sorted(timestamps) and timestamps[-1] > timestamps[0]
    for item in received:
        assert Webhook(created["webhook_secret"]).verify(item.body, item.headers)["data"]["id"] == (
            job_id
        )


def test_a_receiver_that_answers_410_is_sent_nothing_more(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    receiver.answer = "gone"
    client, _ = _new_key(served, "gone receiver", webhook_url=receiver.url)
    with client:
        job_id = _submit(client)
        receiver.wait_for(1)
        found = _wait_deliveries(client, job_id, _state("stopped"))
        time.sleep(3)  # three retry delays
        assert len(receiver.bodies()) == 1
        assert _deliveries(client, job_id) == found
    assert found["webhook"]["next_attempt"] is None
    assert [(a["status"], a["error"]) for a in found["data"]] == [(410, "HTTP 410")]


def test_redirects_are_not_followed_and_a_slow_receiver_times_out(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    receiver.answer = "redirect"
    client, _ = _new_key(served, "odd receiver", webhook_url=receiver.url)
    with client:
        job_id = _submit(client)
        receiver.wait_for(1)
        receiver.answer = "slow"  # 3 s, past the gateway's 1 s
        receiver.wait_for(2)
        receiver.answer = "ok"
        found = _wait_deliveries(client, job_id, _state("delivered"))
    first, second = found["data"][:2]
    assert first["status"] == 302 and "redirects are not followed" in first["error"]
    assert second["status"] is None and second["error"] == "no answer within 1 s"
    assert 900 <= second["duration_ms"] < 2500
    assert {item.path for item in receiver.bodies()} == {"/hooks/imagegate"}  # never /elsewhere


def test_deliveries_are_the_callers_alone(served: Gateway, receiver: WebhookReceiver) -> None:
    owner, _ = _new_key(served, "deliveries owner", webhook_url=receiver.url)
    stranger, _ = _new_key(served, "deliveries stranger")
    with owner, stranger:
        job_id = _submit(owner)
        _wait_deliveries(owner, job_id, _state("delivered"))
        assert stranger.get(f"/api/v1/jobs/{job_id}/deliveries").status_code == 404
        unknown = owner.get("/api/v1/jobs/job_nothing/deliveries")
        assert unknown.status_code == 404 and "job_nothing" in unknown.json()["error"]["message"]
    admin = httpx.get(f"{served.url}/api/v1/jobs/{job_id}/deliveries", headers=ADMIN)
    assert admin.status_code == 200 and admin.json()["webhook"]["state"] == "delivered"


def test_a_job_without_a_webhook_has_no_deliveries(served: Gateway) -> None:
    client, created = _new_key(served, "no webhook")
    assert "webhook_secret" not in created and created["data"]["webhook_url"] is None
    with client:
        job_id = _submit(client)
        deadline = time.monotonic() + 30
        while client.get(f"/api/v1/jobs/{job_id}").json()["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.5)  # the deliverer has looked
        assert _deliveries(client, job_id) == {"job_id": job_id, "webhook": None, "data": []}


def test_a_callback_url_is_called_signed_with_the_keys_secret_or_the_gateways(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    default = WebhookReceiver()
    try:
        hooked, created = _new_key(served, "callback over default", webhook_url=default.url)
        plain, _ = _new_key(served, "callback only")
        with hooked, plain:
            # the job's own callback_url wins over its key's default
            ours = _submit(hooked, callback_url=receiver.url)
            [received] = receiver.wait_for(1)
            event = Webhook(created["webhook_secret"]).verify(received.body, received.headers)
            assert event["data"]["id"] == ours
            # a key without a secret of its own, and the master key: the gateway's secret
            theirs = _submit(plain, callback_url=receiver.url)
            with httpx.Client(base_url=served.url, headers=ADMIN, timeout=30) as admin:
                master = _submit(admin, callback_url=receiver.url)
            received = receiver.wait_for(3)
            by_job = {
                Webhook(GATEWAY_SECRET).verify(item.body, item.headers)["data"]["id"]
                for item in received[1:]
            }
            assert by_job == {theirs, master}
            _wait_deliveries(hooked, ours, _state("delivered"))
        assert default.bodies() == []
    finally:
        default.close()


def test_a_rotated_secret_signs_beside_the_new_one_for_a_while(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    client, created = _new_key(served, "rotating", webhook_url=receiver.url)
    old = created["webhook_secret"]
    rotated = httpx.post(
        f"{served.url}/api/v1/keys/{created['data']['hash']}/webhook-secret", headers=ADMIN
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new.startswith("whsec_") and new != old
    with client:
        _submit(client)
        [received] = receiver.wait_for(1)
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert Webhook(secret).verify(received.body, received.headers)["type"] == "job.completed"
    not_a_key = httpx.post(f"{served.url}/api/v1/keys/key_none/webhook-secret", headers=ADMIN)
    assert not_a_key.status_code == 404


def test_patching_a_webhook_url_gives_a_secret_once(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    client, created = _new_key(served, "patched")
    key_id = created["data"]["hash"]
    url = f"{served.url}/api/v1/keys/{key_id}"
    first = httpx.patch(url, json={"webhook_url": receiver.url}, headers=ADMIN).json()
    assert first["data"]["webhook_url"] == receiver.url
    secret = first["webhook_secret"]
    again = httpx.patch(url, json={"webhook_url": receiver.url + "/v2"}, headers=ADMIN).json()
    assert "webhook_secret" not in again and again["data"]["webhook_url"] == receiver.url + "/v2"
    with client:
        _submit(client)
        [received] = receiver.wait_for(1)
        assert received.path == "/hooks/imagegate/v2"
        assert Webhook(secret).verify(received.body, received.headers)["type"] == "job.completed"
    removed = httpx.patch(url, json={"webhook_url": None}, headers=ADMIN).json()
    assert removed["data"]["webhook_url"] is None


def test_keys_created_by_the_cli_get_a_webhook_secret(
    served: Gateway, receiver: WebhookReceiver
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "imagegate", "keys", *args],
            env=clean_env(served.home, **served.env),
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = cli("create", "cli hooked", "--webhook-url", receiver.url)
    assert created.returncode == 0, created.stderr
    secret, webhook_secret = created.stdout.split()
    assert webhook_secret.startswith("whsec_") and "second line" in created.stderr
    with httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    ) as client:
        job_id = _submit(client)
        [received] = receiver.wait_for(1)
    assert Webhook(webhook_secret).verify(received.body, received.headers)["data"]["id"] == job_id
    listed = cli("list", "--json")
    assert receiver.url in listed.stdout and webhook_secret not in listed.stdout
    refused = cli("create", "cli bad", "--webhook-url", "ftp://example.com/hook")
    assert refused.returncode == 1 and "http or https" in refused.stderr


# -- a gateway that keeps to public addresses ------------------------------------------------


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    env = {name: value for name, value in ENV.items() if name != "IMAGEGATE_FETCH_ALLOW_NETWORKS"}
    gateway = start_gateway(tmp_path_factory.mktemp("webhooks-strict"), **env)
    yield gateway
    gateway.stop()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "not a public address"),
        ("http://localhost/hook", "not a public address"),
        ("http://[::1]/hook", "not a public address"),
        ("http://[::ffff:10.0.0.1]/hook", "not a public address"),
        ("http://169.254.169.254/latest/meta-data", "not a public address"),
        ("ftp://example.com/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("https://user:password@example.com/hook", "credentials"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
        ("https:///hook", "no host"),
    ],
)
def test_webhook_urls_that_could_reach_inside_are_refused(
    strict: Gateway, url: str, reason: str
) -> None:
    created = httpx.post(
        f"{strict.url}/api/v1/keys", json={"name": "bad hook", "webhook_url": url}, headers=ADMIN
    )
    assert created.status_code == 400, created.text
    error = created.json()["error"]
    assert reason in error["message"] and error["metadata"]["param"] == "webhook_url"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "not a public address"),
        ("gopher://example.com/hook", "http or https"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
    ],
)
def test_callback_urls_that_could_reach_inside_are_refused(
    strict: Gateway, url: str, reason: str
) -> None:
    with httpx.Client(base_url=strict.url, headers=ADMIN, timeout=30) as admin:
        refused = admin.post("/api/v1/images", json={**SANDBOX, "callback_url": url}, headers=ASYNC)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert reason in error["message"] and error["metadata"]["param"] == "callback_url"
        assert admin.get("/api/v1/jobs").json()["data"] == []


def test_a_public_webhook_url_is_accepted(strict: Gateway) -> None:
    created = httpx.post(
        f"{strict.url}/api/v1/keys",
        json={"name": "public hook", "webhook_url": "https://hooks.example.com/imagegate"},
        headers=ADMIN,
    )
    assert created.status_code == 201 and created.json()["webhook_secret"].startswith("whsec_")


def test_a_name_that_resolves_inwards_is_not_called(
    strict: Gateway, receiver: WebhookReceiver
) -> None:
    """A host name passes when the URL is given (it is not an address), and is refused when
    each attempt is sent, on the address it resolves to: here the machine's own name, which
    resolves to a loopback or private address, where the receiver listens."""
    name = socket.gethostname()
    address = socket.gethostbyname(name)
    if not address.startswith(("127.", "10.", "172.", "192.168.")):
        pytest.skip(f"{name} resolves to {address}, not an inward address")
    url = receiver.url.replace("127.0.0.1", name)
    client, _ = _new_key(strict, "inward name", webhook_url=url)
    with client:
        job_id = _submit(client)
        found = _wait_deliveries(client, job_id, lambda f: len(f["data"]) >= 2)
    assert receiver.bodies() == []
    assert all(a["status"] is None for a in found["data"])
    assert f"not sent: {name} resolves to {address}" in found["data"][0]["error"]


def test_a_url_accepted_once_is_refused_when_the_allow_list_is_gone(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """The policy is the one in force when each attempt is sent: a loopback URL that an earlier
    allow-list let in is refused, without sending, once the gateway runs without it."""
    allowed = start_gateway(tmp_path / "home", **ENV)
    try:
        client, created = _new_key(allowed, "once allowed", webhook_url=receiver.url)
        secret = created["key"]
        client.close()
    finally:
        allowed.stop()
    env = {name: value for name, value in ENV.items() if name != "IMAGEGATE_FETCH_ALLOW_NETWORKS"}
    restarted = start_gateway(tmp_path / "home", **env)
    try:
        with httpx.Client(
            base_url=restarted.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        ) as client:
            job_id = _submit(client)
            found = _wait_deliveries(client, job_id, _state("failed"))
    finally:
        restarted.stop()
    assert receiver.bodies() == []
    [attempt] = found["data"]
    assert attempt["status"] is None and "not sent" in attempt["error"]
    assert "not a public address" in attempt["error"]


def test_without_a_secret_to_sign_with_nothing_is_sent(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """A master-key job on a gateway without `webhook_secret` has no secret to be signed with:
    its attempts are recorded as not sent, and nothing unsigned leaves."""
    env = {name: value for name, value in ENV.items() if name != "IMAGEGATE_WEBHOOK_SECRET"}
    env["IMAGEGATE_WEBHOOK_RETRY_SCHEDULE"] = "0.5"
    gateway = start_gateway(tmp_path / "home", **env)
    try:
        with httpx.Client(base_url=gateway.url, headers=ADMIN, timeout=30) as admin:
            job_id = _submit(admin, callback_url=receiver.url)
            found = _wait_deliveries(admin, job_id, _state("failed"))
    finally:
        gateway.stop()
    assert receiver.bodies() == []
    assert [a["error"] for a in found["data"]] == [found["data"][0]["error"]] * 2
    assert "IMAGEGATE_WEBHOOK_SECRET" in found["data"][0]["error"]


def test_a_malformed_gateway_secret_stops_the_gateway_from_starting(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="webhook_secret: a webhook secret starts with whsec_"):
        start_gateway(tmp_path / "home", IMAGEGATE_WEBHOOK_SECRET="not-a-secret")
