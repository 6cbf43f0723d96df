"""The service routes' operations: images and videos handed out as URLs (`/media/...`) and
`/health`."""

from __future__ import annotations

from collections.abc import Iterator

from imagegate.api.openapi.operation import Answer, Header, Operation
from imagegate.api.openapi.service import Health

_IMAGE_BYTES = {"schema": {"type": "string", "format": "binary"}}


def routes() -> Iterator[tuple[str, Operation]]:
    """The service routes: ("METHOD path", several joined by ", "), and their operation."""
    yield (
        "GET /media/{token}",
        Operation(
            "An image or a video handed out as a URL",
            "Images answered with `response_format: url`, until they expire "
            "(`media_url_ttl_seconds`); generated videos, with `Range` (`206`), until they "
            "expire (`video_ttl_seconds`), then `410` (docs/video-storage.md).",
            "Media",
            (
                Answer(
                    200,
                    "The image, or the whole video.",
                    media={
                        "image/png": _IMAGE_BYTES,
                        "image/jpeg": _IMAGE_BYTES,
                        "image/webp": _IMAGE_BYTES,
                        "video/mp4": _IMAGE_BYTES,
                    },
                ),
                Answer(
                    206,
                    "The byte range of the video that `Range` asked for.",
                    media={"video/mp4": _IMAGE_BYTES},
                    headers=(Header("Content-Range", "`bytes first-last/size`", required=True),),
                ),
            ),
            (404, 405, 410, 416, 500),
            path={"token": "the token in the URL a generation answered with"},
            notes={
                404: "Unknown, or an expired image.",
                410: "The video expired (`expired`): generate it again.",
                416: "`Range` asks for no byte of the video, or is malformed "
                "(`range_not_satisfiable`); `Content-Range: bytes */<size>`.",
            },
        ),
    )
    yield (
        "GET /health",
        Operation(
            "Health",
            "200 once the gateway has loaded its catalog and opened its database.",
            "Health",
            (Answer(200, "Serving.", Health),),
            (405, 500),
        ),
    )
    yield (
        "GET /metrics",
        Operation(
            "Prometheus metrics",
            "Generations, upstream attempts, circuits, cost, images and bytes, in the Prometheus "
            "text format (OpenMetrics when `Accept` asks for it); see docs/observability.md.",
            "Health",
            (Answer(200, "The metrics.", media={"text/plain": {"schema": {"type": "string"}}}),),
            (401, 404, 405, 500),
            auth="master",
            notes={
                401: "Not the master key (needed once one is set, unless `metrics_public`).",
                404: "`metrics` is off on this gateway.",
            },
        ),
    )
