"""The video routes' operations (`api/openrouter/videos.py`, `api/openai/videos.py`,
`api/imagerouter/videos.py`; docs/video.md)."""

from __future__ import annotations

from collections.abc import Iterator

from imagegate.api.openapi import query
from imagegate.api.openapi.operation import Answer, Body, Operation
from imagegate.api.openapi.videos import (
    ImageRouterVideoRequest,
    ImageRouterVideoResponse,
    OpenAIVideo,
    OpenAIVideoDeleted,
    OpenAIVideoForm,
    OpenAIVideoList,
    OpenAIVideoRequest,
    OpenRouterVideoJob,
    OpenRouterVideoModels,
    OpenRouterVideoRequest,
)

_MP4 = {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}
_JOB = {"job_id": "the video job's id (`job_...`)"}
_VIDEO = {"video_id": "the video's id (`job_...`)"}
_CONTENT = {
    404: "No such video job, or no video at that index.",
    409: "The job has not completed.",
    410: "The video expired.",
    416: "The Range asked for is not in the video.",
}


def routes() -> Iterator[tuple[str, Operation]]:
    yield (
        "POST /api/v1/videos",
        Operation(
            "Generate a video (OpenRouter)",
            "Always a job: `202` with its `polling_url`.",
            "Video",
            (Answer(202, "The job.", OpenRouterVideoJob),),
            (400, 401, 402, 403, 404, 405, 413, 429, 500, 503),
            body=Body(
                OpenRouterVideoRequest,
                example={"model": "sandbox/video", "prompt": "a kite", "duration": 2},
            ),
            auth="key",
        ),
    )
    yield (
        "GET /api/v1/videos/models",
        Operation(
            "Video models (OpenRouter)",
            "The catalog's video models in OpenRouter's shape.",
            "Video",
            (Answer(200, "The models.", OpenRouterVideoModels),),
            (401, 405, 500),
            auth="key",
        ),
    )
    yield (
        "GET /api/v1/videos/{job_id}",
        Operation(
            "A video job (OpenRouter)",
            "Its status; once completed its content URLs and cost.",
            "Video",
            (Answer(200, "The job.", OpenRouterVideoJob),),
            (401, 404, 405, 500),
            path=_JOB,
            auth="key",
        ),
    )
    yield (
        "GET /api/v1/videos/{job_id}/content",
        Operation(
            "A video job's video (OpenRouter)",
            "`video/mp4`, with `Range`.",
            "Video",
            (Answer(200, "The video.", media=_MP4), Answer(206, "Part of it.", media=_MP4)),
            (400, 401, 404, 405, 409, 410, 416, 500),
            query=(query.integer("index", "which video (0)", 0),),
            path=_JOB,
            auth="key",
            notes=_CONTENT,
        ),
    )
    yield (
        "POST /v1/videos",
        Operation(
            "Create a video (OpenAI)",
            "Always a job: the video object, `queued`.",
            "Video",
            (Answer(202, "The video, queued.", OpenAIVideo),),
            (400, 401, 402, 403, 404, 405, 413, 429, 500, 503),
            body=Body(
                OpenAIVideoRequest,
                OpenAIVideoForm,
                example={"model": "sandbox/video", "prompt": "a kite", "seconds": "2"},
            ),
            auth="key",
        ),
    )
    yield (
        "GET /v1/videos",
        Operation(
            "The calling key's videos (OpenAI)",
            "Cursor pages: `after`, `limit`, `order`.",
            "Video",
            (Answer(200, "A page of videos.", OpenAIVideoList),),
            (400, 401, 405, 500),
            query=(
                query.integer("limit", "videos per page (default 20)", 1, 100),
                query.choice("order", ("asc", "desc"), "by creation (default desc)"),
                query.text("after", "the last id of the previous page"),
            ),
            auth="key",
        ),
    )
    yield (
        "GET /v1/videos/{video_id}",
        Operation(
            "A video (OpenAI)",
            "Its status and progress; `openai-poll-after-ms` paces polling.",
            "Video",
            (Answer(200, "The video.", OpenAIVideo),),
            (401, 404, 405, 500),
            path=_VIDEO,
            auth="key",
        ),
    )
    yield (
        "DELETE /v1/videos/{video_id}",
        Operation(
            "Delete a video (OpenAI)",
            "Cancels it if it is still being made; deletes its record and video once ended.",
            "Video",
            (Answer(200, "Deleted.", OpenAIVideoDeleted),),
            (401, 404, 405, 500),
            path=_VIDEO,
            auth="key",
        ),
    )
    yield (
        "GET /v1/videos/{video_id}/content",
        Operation(
            "A video's content (OpenAI)",
            "`video/mp4`, with `Range`.",
            "Video",
            (
                Answer(
                    200,
                    "The video, or its thumbnail.",
                    media={**_MP4, "image/jpeg": _MP4["video/mp4"]},
                ),
                Answer(206, "Part of it.", media=_MP4),
            ),
            (400, 401, 404, 405, 409, 410, 416, 500),
            query=(query.choice("variant", ("video", "thumbnail"), "video: the first frame"),),
            path=_VIDEO,
            auth="key",
            notes=_CONTENT,
        ),
    )
    yield (
        "POST /v1/openai/videos/generations",
        Operation(
            "Generate a video (ImageRouter)",
            "Answers `200` at once, spaces while the video is made, then the result.",
            "Video",
            (Answer(200, "The video.", ImageRouterVideoResponse),),
            (400, 401, 402, 403, 404, 405, 413, 429, 500, 503),
            body=Body(
                ImageRouterVideoRequest,
                example={"model": "sandbox/video", "prompt": "a kite", "seconds": 2},
            ),
            auth="key",
        ),
    )
