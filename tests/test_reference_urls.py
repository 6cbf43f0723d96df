"""Image URLs a client sends: every malformed one is a 400 that names its field, on every surface
that takes URLs, with the generation's id, and nothing in the server log; never a 500 or a
reset connection. Each is refused before anything is resolved or connected to (no test here
reaches the network). The scheme is case-insensitive."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from conftest import Gateway, start_gateway

GENERATION_HEADER = "x-imagegate-generation-id"

MALFORMED = [
    # from the issue
    "http://[::1",
    "http://:0/",
    "http://example.com:99999/",
    "http://[1.2.3.4]/",
    "http://127.0.0.1:1\\@example.com/",
    "http://xn--/",
    "http:\\\\example.com\\a.png",
    # IDNA oddities
    "http://xn--zz/",
    "http://xn--a.example/",
    "http://\u00ad/",  # a soft hyphen: IDNA maps it to nothing
    "http://a..b/",
    "http://.example.com/",
    "http://-example.com/",
    "http://%41.com/",
    # control characters, spaces, backslashes
    "http://exa\x00mple.com/",
    "http://example.com/\r\nX-Injected: 1",
    "http://example.com/a\x7f.png",
    "http://exa\tmple.com/",
    "http://exa mple.com/",
    "http://example.com\\@127.0.0.1/a.png",
    # userinfo tricks
    "http://user:secret@example.com/a.png",
    "http://@/",
    "http://a@b@example.com/",
    "http://[::1]@example.com/",
    # no host
    "http:///a.png",
    "http://",
    "https://",
    "http://?x",
    "http://#x",
    "http:/a.png",
    "http:a.png",
    # ports
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://example.com:-1/",
    "http://example.com:80a/",
    # IPv6 zones and futures
    "http://[fe80::1%25eth0]/",
    "http://[fe80::1%eth0]/",
    "http://[v1.fe]/",
    # lengths
    "http://" + "a" * 64 + ".example/",
    "http://" + ("a" * 60 + ".") * 5 + "example/",
    "http://example.com/" + "a" * 9000,
    "HTTPS://[::1",
]


@pytest.fixture(scope="module")
def url_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    running = start_gateway(tmp_path_factory.mktemp("urls-home"))
    yield running
    running.stop()


def _surfaces(url: str) -> list[tuple[str, dict, str]]:
    """(path, body, the field the error must name) for each JSON surface that takes URLs."""
    return [
        (
            "/api/v1/images",
            {
                "model": "sandbox/image",
                "prompt": "x",
                "input_references": [{"type": "image_url", "image_url": {"url": url}}],
            },
            "input_references[0]",
        ),
        ("/v1/images/edits", {"model": "sandbox/image", "prompt": "x", "image": url}, "image[0]"),
        (
            "/api/v1/chat/completions",
            {
                "model": "sandbox/image",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "x"},
                            {"type": "image_url", "image_url": {"url": url}},
                        ],
                    }
                ],
            },
            "image_url[0]",
        ),
    ]


def _param(path: str, error: dict) -> str | None:
    return error.get("param") if path.startswith("/v1/") else error["metadata"].get("param")


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_a_400_naming_its_field(url_gateway: Gateway, url: str) -> None:
    logged = url_gateway.log.stat().st_size
    with httpx.Client(base_url=url_gateway.url, timeout=30) as client:
        for path, body, field in _surfaces(url):
            response = client.post(path, json=body)
            assert response.status_code == 400, (path, response.text)
            error = response.json()["error"]
            assert _param(path, error) == field, (path, error)
            assert field in error["message"], (path, error)
            assert GENERATION_HEADER in response.headers, path
    with url_gateway.log.open() as log:
        log.seek(logged)
        assert "Traceback" not in log.read()


def test_the_scheme_is_case_insensitive(restricted_gateway: Gateway, image_servers) -> None:
    base = image_servers["127.0.0.2"]
    for url in (base.replace("http://", "HTTP://") + "/red.png", f" Http{base[4:]}/red.png "):
        with httpx.Client(base_url=restricted_gateway.url, timeout=30) as client:
            for path, body, _ in _surfaces(url):
                assert client.post(path, json=body).status_code == 200, (url, path)


def test_an_uppercase_scheme_is_still_checked_for_where_it_points(
    url_gateway: Gateway, image_servers
) -> None:
    url = image_servers["127.0.0.1"].replace("http://", "HTTP://") + "/red.png"
    path, body, _ = _surfaces(url)[0]
    response = httpx.post(url_gateway.url + path, json=body, timeout=30)
    assert response.status_code == 400
    assert "not a public address" in response.json()["error"]["message"]


def test_a_redirect_to_a_malformed_url_is_a_400(restricted_gateway: Gateway, image_servers) -> None:
    logged = restricted_gateway.log.stat().st_size
    target = urllib.parse.quote("http://[::1", safe="")
    url = f"{image_servers['127.0.0.2']}/to?url={target}"
    path, body, field = _surfaces(url)[0]
    response = httpx.post(restricted_gateway.url + path, json=body, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["metadata"]["param"] == field
    assert "redirected to a malformed URL" in error["message"]
    with restricted_gateway.log.open() as log:
        log.seek(logged)
        assert "Traceback" not in log.read()
