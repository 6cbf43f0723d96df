"""Server-sent events framing. Payloads may hold images' `Base64Text` (see `json_splice`)."""

from __future__ import annotations

from typing import Any

from imagegate.media import json_splice

DONE = b"data: [DONE]\n\n"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def data(payload: Any) -> bytes:
    return b"".join([b"data: ", *json_splice.dumps(payload), b"\n\n"])


def event(name: str, payload: Any) -> bytes:
    return b"event: " + name.encode() + b"\n" + data(payload)
