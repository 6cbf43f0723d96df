"""No secret leaves: an upstream that repeats the key it was sent (as OpenAI's "Incorrect API key
provided: sk-…" does) and a connection error that names the upstream's address reach neither
a client's answer, nor the generation record a key reads, nor the server log. The client reads
a short message per kind of failure; the master key's record view keeps what the upstream said,
redacted."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import Gateway, free_port
from contracts.conftest import start_routed
from fakes.base import FakeServer

OPENAI_KEY = "sk-proj-" + secrets.token_urlsafe(36)
BFL_KEY = secrets.token_hex(20)  # no recognisable shape: only its configured value gives it away
MASTER = "master-" + secrets.token_hex(16)
SECRETS = (OPENAI_KEY, BFL_KEY, MASTER)
MODEL = "openai/gpt-image-2"


def _requests(model: str) -> list[tuple[str, dict[str, Any]]]:
    """One request per surface, streamed where the surface streams."""
    prompt = "a lighthouse"
    only = {"provider": {"only": ["openai"]}}  # Azure OpenAI serves the model too
    chat = {"model": model, "messages": [{"role": "user", "content": prompt}], **only}
    image = {"model": model, "prompt": prompt, **only}
    return [
        ("/api/v1/images", image),
        ("/api/v1/images", {**image, "stream": True}),
        ("/api/v1/chat/completions", chat),
        ("/api/v1/chat/completions", {**chat, "stream": True}),
        ("/v1/images/generations", image),
        ("/v1/images/generations", {**image, "stream": True}),
        ("/v1/openai/images/generations", image),
    ]


@pytest.fixture(scope="module")
def guarded(
    fakes: dict[str, FakeServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, str]]:
    """A keyed gateway over the fakes whose OpenAI and BFL keys look real; BFL's base URL is a
    port nobody listens on. Yields the gateway and an API key's secret."""
    closed = free_port()
    gateway = start_routed(
        fakes,
        tmp_path_factory.mktemp("secrets"),
        OPENAI_API_KEY=OPENAI_KEY,
        BFL_API_KEY=BFL_KEY,
        BFL_BASE_URL=f"http://127.0.0.1:{closed}",
        IMAGEGATE_MASTER_KEY=MASTER,
        IMAGEGATE_RETRIES="0",
    )
    created = httpx.post(
        f"{gateway.url}/api/v1/keys",
        json={"name": "app"},
        headers={"Authorization": f"Bearer {MASTER}"},
    )
    assert created.status_code == 201, created.text
    yield gateway, created.json()["key"]
    gateway.stop()


def _record(gateway: Gateway, generation_id: str, bearer: str) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}/api/v1/generation",
        params={"id": generation_id},
        headers={"Authorization": f"Bearer {bearer}"},
    )


def _assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret leaked into {where}"


@pytest.mark.parametrize("fault", ["echo_key_401", "echo_key_500"])
def test_an_upstream_echoing_its_key_leaks_it_nowhere(
    guarded: tuple[Gateway, str], fakes: dict[str, FakeServer], fault: str
) -> None:
    gateway, key = guarded
    fakes["openai"].fault = fault
    seen: list[str] = []
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for path, body in _requests(MODEL):
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 502, response.text
            _assert_no_secret(response.text, f"the answer of {path}")
            _assert_no_secret(str(response.headers), f"the headers of {path}")
            message = response.text
            if fault == "echo_key_401":
                assert "OpenAI refused the gateway's credentials (HTTP 401)" in message
            else:
                assert "OpenAI failed with HTTP 500" in message
            assert "Incorrect API key" not in message  # the upstream's words are not relayed
            seen.append(response.headers["x-imagegate-generation-id"])
    assert len(fakes["openai"].requests) == len(seen)  # every request reached the upstream

    for generation_id in seen:
        as_key = _record(gateway, generation_id, key)
        as_master = _record(gateway, generation_id, MASTER)
        assert as_key.status_code == as_master.status_code == 200
        _assert_no_secret(as_key.text, "the record a key reads")
        _assert_no_secret(as_master.text, "the record the master key reads")
        attempt = as_key.json()["data"]["provider_responses"][0]
        assert "detail" not in attempt and "detail" not in as_key.json()["data"]["error"]
        detail = as_master.json()["data"]["provider_responses"][0]["detail"]
        assert detail == "Incorrect API key provided: [REDACTED]."  # kept, for the operator

    log = gateway.log.read_text()
    _assert_no_secret(log, "the server log")
    assert "upstream said: Incorrect API key provided: [REDACTED]." in log


def test_a_connection_error_names_no_address(guarded: tuple[Gateway, str]) -> None:
    gateway, key = guarded
    port = gateway.env["BFL_BASE_URL"].rsplit(":", 1)[1]
    response = httpx.post(
        f"{gateway.url}/api/v1/images",
        json={
            "model": "black-forest-labs/flux.2-pro",
            "prompt": "x",
            "provider": {"only": ["bfl"]},
        },
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["message"] == "could not reach Black Forest Labs"
    for leak in ("127.0.0.1", port, "Client", "ConnectionKey", "Errno"):
        assert leak not in response.text
    generation_id = response.headers["x-imagegate-generation-id"]
    as_key = _record(gateway, generation_id, key).json()["data"]
    assert port not in str(as_key)
    as_master = _record(gateway, generation_id, MASTER).json()["data"]
    assert "ClientConnectorError" in as_master["provider_responses"][0]["detail"]
    _assert_no_secret(gateway.log.read_text(), "the server log")
