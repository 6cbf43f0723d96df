"""The access log of `imagegate serve` as it runs by default: uvicorn's lines, word for word,
with any credential in a requested URL masked."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import clean_env, free_port

LINE = re.compile(
    r'^INFO:     127\.0\.0\.1:\d+ - "(?P<request>[^"]+)" (?P<status>\d{3} [A-Za-z ]+)$'
)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_each_request_is_one_uvicorn_style_line_with_credentials_masked(
    tmp_path: Path, workers: str
) -> None:
    port = free_port()
    log = tmp_path / "stdout.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "imagegate", "serve", "--port", str(port)],
            env=clean_env(tmp_path / "home", IMAGEGATE_WORKERS=workers),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        secret = "sk-proj-" + "Q7w" * 12
        httpx.get(f"{base}/v1/models?api_key={secret}", timeout=10)
        answer = httpx.post(
            f"{base}/v1/images/generations",
            json={"model": "sandbox/image", "prompt": "a fox", "size": "1024x1024"},
            timeout=60,
        )
        assert answer.status_code == 200
        httpx.get(f"{base}/v1/no-such-path", timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=20)
    text = log.read_text()
    assert secret not in text
    lines = {m["request"]: m["status"] for m in map(LINE.match, text.splitlines()) if m}
    assert lines["POST /v1/images/generations HTTP/1.1"] == "200 OK"
    assert lines["GET /v1/no-such-path HTTP/1.1"] == "404 Not Found"
    masked = [request for request in lines if request.startswith("GET /v1/models?api_key=")]
    assert masked and "Q7w" * 4 not in masked[0]
