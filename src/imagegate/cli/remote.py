"""`imagegate generate --url`: images from a running gateway, over its OpenRouter Image API
(`POST /api/v1/images`, streamed; the key from `IMAGEGATE_API_KEY`).

Every way this can fail ends in a `RemoteError` whose message is one line for the terminal: the
gateway cannot be reached, stops answering for longer than the timeout, drops the connection,
answers with an error (its own message), or answers with something that is not an image stream
(another web server at that address, a proxy's error page). httpx's errors become these in one
place, `transport_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pybase64

from imagegate.media.formats import media_type_format

CONNECT_SECONDS = 10.0


class RemoteError(Exception):
    """One line saying why a running gateway gave no images."""


@dataclass(frozen=True, slots=True)
class Received:
    images: list[tuple[bytes, str]]  # (data, format)
    generation_id: str
    cost: float


def generate(
    url: str,
    body: dict[str, Any],
    *,
    api_key: str | None,
    timeout: float,
    on_partial: Callable[[int], None],
) -> Received:
    """Stream one generation from the gateway at `url`; `on_partial(index)` for each preview."""
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    limits = httpx.Timeout(timeout, connect=min(timeout, CONNECT_SECONDS))
    with (
        transport_errors(url, timeout),
        httpx.Client(timeout=limits) as client,
        client.stream(
            "POST",
            f"{url.rstrip('/')}/api/v1/images",
            content=orjson.dumps({**body, "stream": True}),
            headers=headers,
        ) as response,
    ):
        if response.status_code != 200:
            raise RemoteError(error_answer(url, response))
        if media_type(response) != "text/event-stream":
            raise RemoteError(
                f"{url} answered with {media_type(response) or 'no content type'}, not an image "
                "stream; is it an imagegate gateway?"
            )
        return _read_events(url, response, on_partial)


def _read_events(url: str, response: httpx.Response, on_partial: Callable[[int], None]) -> Received:
    images: list[tuple[bytes, str]] = []
    cost = 0.0
    for line in response.iter_lines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        try:
            event = orjson.loads(line[6:])
            kind = event["type"]
            if kind == "image_generation.partial_image":
                on_partial(int(event["partial_image_index"]))
            elif kind == "image_generation.completed":
                data = pybase64.b64decode(event["b64_json"], validate=True)
                format = media_type_format(event.get("media_type", "image/png")) or "png"
                images.append((data, format))
                cost = float((event.get("usage") or {}).get("cost", cost))
            elif kind == "error":
                raise RemoteError(_one_line(str(event["error"]["message"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteError(f"the gateway at {url} sent an event that is not valid") from exc
    if not images:
        raise RemoteError(f"the gateway at {url} ended its answer without an image")
    generation_id = response.headers.get("x-imagegate-generation-id", "")
    return Received(images, generation_id, cost)


def error_answer(url: str, response: httpx.Response) -> str:
    """`HTTP 404: <the gateway's message>`, or what came instead of an error in its shape."""
    response.read()
    try:
        message = orjson.loads(response.content)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = None
    if isinstance(message, str) and message.strip():
        return f"HTTP {response.status_code}: {_one_line(message)}"
    status = " ".join(filter(None, (f"HTTP {response.status_code}", response.reason_phrase)))
    content_type = media_type(response) or "no content type"
    return f"{status} from {url}, with {content_type} rather than an imagegate error"


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


@contextmanager
def transport_errors(url: str, timeout: float) -> Iterator[None]:
    try:
        yield
    except httpx.ConnectTimeout as exc:
        raise RemoteError(
            f"cannot reach the gateway at {url}: no connection within "
            f"{min(timeout, CONNECT_SECONDS):g} s"
        ) from exc
    except httpx.ConnectError as exc:
        raise RemoteError(f"cannot reach the gateway at {url}: {_cause(exc)}") from exc
    except httpx.TimeoutException as exc:
        raise RemoteError(
            f"the gateway at {url} sent nothing for {timeout:g} s; gave up (see --timeout)"
        ) from exc
    except httpx.TransportError as exc:
        raise RemoteError(f"the connection to the gateway at {url} broke: {_cause(exc)}") from exc


def _cause(exc: BaseException) -> str:
    """The operating system's reason (`connection refused`), else httpx's own words."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror[:1].lower() + seen.strerror[1:]
        seen = seen.__cause__ or seen.__context__
    return _one_line(str(exc)) or type(exc).__name__


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text.strip())
