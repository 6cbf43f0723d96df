"""The pure rules of job webhooks: signatures a Standard Webhooks verifier (the
`standardwebhooks` package, not our code) accepts, which callback URLs are refused before
anything is stored, and the retry schedule."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from imagegate.errors import InvalidRequest
from imagegate.jobs.webhooks.schedule import DEFAULT, RetrySchedule
from imagegate.jobs.webhooks.signing import (
    InvalidSecret,
    new_secret,
    secret_key,
    signature_header,
)
from imagegate.jobs.webhooks.targets import checked_callback_url
from imagegate.media.fetch import FetchPolicy
from imagegate.redaction import Redactor

BODY = b'{"type":"job.completed","timestamp":"2026-12-06T10:00:00Z","data":{"id":"job_1"}}'


def _headers(secrets: list[str], webhook_id: str = "msg_abc", at: int | None = None) -> dict:
    timestamp = int(time.time()) if at is None else at
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, webhook_id, timestamp, BODY),
    }


def test_signatures_verify_with_the_standard_webhooks_library() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret_key(secret)) == 32
    assert Webhook(secret).verify(BODY, _headers([secret]))["data"]["id"] == "job_1"
    for wrong in (
        lambda: Webhook(new_secret()).verify(BODY, _headers([secret])),  # another secret
        lambda: Webhook(secret).verify(BODY + b" ", _headers([secret])),  # another body
        lambda: Webhook(secret).verify(BODY, _headers([secret], at=int(time.time()) - 600)),
    ):
        with pytest.raises(WebhookVerificationError):
            wrong()
    headers = _headers([secret])
    headers["webhook-id"] = "msg_other"  # the id is signed too
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_a_header_with_two_signatures_verifies_with_either_secret() -> None:
    old, new = new_secret(), new_secret()
    headers = _headers([new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(BODY, headers) == Webhook(new).verify(BODY, headers)


def test_a_secret_of_someone_elses_making_is_taken_as_the_spec_says() -> None:
    made = "whsec_" + base64.b64encode(bytes(range(24))).decode()
    assert Webhook(made).verify(BODY, _headers([made]))["type"] == "job.completed"
    for bad in ("not-a-secret", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidSecret):
            secret_key(bad)


def test_secrets_are_redacted_wherever_they_are_written() -> None:
    secret = new_secret()
    assert secret not in Redactor().redact(f"signing with {secret} now")


PUBLIC = FetchPolicy()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hook", "not a public address"),
        ("http://127.1.2.3:9000/hook", "not a public address"),
        ("http://127.1/hook", "not a public address"),  # the spellings resolvers accept
        ("http://2130706433/hook", "not a public address"),
        ("http://0x7f.1/hook", "not a public address"),
        ("http://012.0.0.1/hook", "not a public address"),  # octal: 10.0.0.1
        ("http://LOCALHOST./hook", "not a public address"),
        ("http://api.localhost/hook", "not a public address"),
        ("http://[::1]:8080/hook", "not a public address"),
        ("http://[::ffff:127.0.0.1]/hook", "not a public address"),
        ("http://10.1.2.3/hook", "not a public address"),
        ("http://192.168.0.10/hook", "not a public address"),
        ("http://169.254.169.254/latest", "not a public address"),
        ("http://0.0.0.0/hook", "not a public address"),
        ("ftp://example.com/hook", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("/relative/hook", "http or https"),
        ("https://", "no host"),
        ("https://u:p@example.com/", "credentials"),
        ("https://u@example.com/", "credentials"),
        ("https://example.com:0/", "port 0"),
        ("https://[fe80::1%25eth0]/", "zone id"),
        ("https://example.com/a b", "contains ' '"),
        ("https://example.com/\x00", "contains"),
        ("https://example.com/" + "a" * 2030, "longer than 2048"),
    ],
)
def test_callback_urls_that_may_not_be_called_are_refused(url: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        checked_callback_url(url, PUBLIC)
    assert reason in refused.value.message and refused.value.param == "callback_url"


def test_public_urls_and_allowed_networks_pass() -> None:
    for url in (
        "https://hooks.example.com/imagegate?token=abc",
        "http://93.184.216.34:8080/hook",
        "HTTPS://Example.COM/hook",
    ):
        assert checked_callback_url(url, PUBLIC) == url
    allowed = FetchPolicy.from_strings(["127.0.0.0/8"])
    assert checked_callback_url("http://localhost:9/hook", allowed)
    assert checked_callback_url("http://127.0.0.1:9/hook", allowed)
    with pytest.raises(InvalidRequest):
        checked_callback_url("http://10.0.0.1/hook", allowed)
    with pytest.raises(InvalidRequest) as named:
        checked_callback_url("ftp://x", PUBLIC, param="webhook_url")
    assert named.value.param == "webhook_url"


def test_the_default_schedule_retries_for_more_than_a_day() -> None:
    schedule = RetrySchedule()
    assert schedule.attempts == 10 and schedule.delays == DEFAULT
    assert sum(DEFAULT) == 75 * 3600 + 35 * 60 + 5  # 75:35:05, as the spec's table says
    assert 5 <= schedule.delay_after(1) <= 5.5  # type: ignore[operator]
    assert 86400 <= schedule.delay_after(9) <= 86400 * 1.1  # type: ignore[operator]
    assert schedule.delay_after(10) is None  # the tenth attempt was the last


def test_a_schedule_is_read_from_its_setting() -> None:
    assert RetrySchedule.parse("1, 2.5,3").delays == (1.0, 2.5, 3.0)
    assert RetrySchedule.parse("").attempts == 1
    for bad in ("1,two", "-1"):
        with pytest.raises(ValueError, match="a retry schedule"):
            RetrySchedule.parse(bad)
