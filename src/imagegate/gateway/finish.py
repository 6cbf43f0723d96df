"""Ending a generation: its images in the asked-for format, its cost, its record and charge."""

from __future__ import annotations

import logging
from typing import Any

from imagegate.core.cost import actual_cost
from imagegate.core.result import GeneratedImage, GeneratedVideo, ImageResult, StoredVideo, Usage
from imagegate.core.validate import PreparedCall
from imagegate.core.video_length import billed_length
from imagegate.db.generations import GenerationStore
from imagegate.db.media import MediaStore
from imagegate.db.timestamps import utcnow
from imagegate.errors import GatewayError, InternalError, UpstreamError
from imagegate.gateway.headers import GENERATION_HEADER
from imagegate.gateway.run import Run
from imagegate.media.convert import convert_off_loop
from imagegate.media.video_probe import probe_video_off_loop
from imagegate.providers.base import ProviderResult

log = logging.getLogger("imagegate")


async def postprocess(image: GeneratedImage, call: PreparedCall) -> GeneratedImage:
    target = call.convert_to or image.format
    recompress = call.compression is not None and target in ("jpeg", "webp")
    if target == image.format and not recompress:
        return image
    data = await convert_off_loop(image.data, target, call.compression)
    return GeneratedImage(target, data=data)


async def finish(
    run: Run,
    call: PreparedCall,
    result: ProviderResult,
    records: GenerationStore,
    media: MediaStore,
    keep_seconds: int,
    video_ttl_seconds: int = 24 * 3600,
) -> ImageResult:
    """Records success and charges the key in one transaction; an idempotent request's images
    are kept so a repeat can be answered without generating again."""
    images = [await postprocess(image, call) for image in result.images]
    try:
        await run.recorded()
    except Exception as exc:
        raise InternalError(
            "the generation's record could not be written, so it cannot be charged or kept"
        ) from exc
    videos = [
        await store_video(run.id, position, video, call, media, video_ttl_seconds)
        for position, video in enumerate(result.videos)
    ]
    cost = actual_cost(
        call.view.endpoint.pricing,
        call.priced,
        len(images),
        call.input_images,
        result.usage,
        result.cost_usd,
        tuple(video.seconds for video in videos),
    )
    usage = result.usage or Usage()
    text = result.text if "text" in (run.request.modalities or ()) else None
    dropped = (*call.dropped, *(name for name in result.ignored if name not in call.dropped))
    if run.idempotent:
        for position, image in enumerate(images):
            await media.put(
                run.id, image.data, image.media_type, keep_seconds, position, purpose="replay"
            )
    await records.succeed(
        run.id,
        model_id=call.model.id,
        provider=call.provider,
        images=len(images) + len(videos),
        parameters=jsonable(call.accepted),
        dropped=list(dropped),
        usage={
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "image_tokens": usage.image_tokens,
            **({"video_seconds": sum(v.seconds for v in videos)} if videos else {}),
        },
        cost_usd=cost,
        latency_ms=run.elapsed_ms(),
        attempts=[a.as_record() for a in run.attempts],
        api_key_id=run.caller.key_id,
        text=text,
    )
    finished = ImageResult(
        id=run.id,
        model_id=call.model.id,
        provider=call.provider,
        provider_name=call.view.provider.name,
        created=utcnow(),
        images=images,
        text=text,
        usage=usage,
        cost_usd=cost,
        dropped_parameters=dropped,
        parameters=call.accepted,
        attempts=list(run.attempts),
        finish_reason=result.finish_reason,
        latency_ms=run.elapsed_ms(),
        videos=videos,
    )
    run.telemetry.succeeded(finished)
    return finished


async def store_video(
    generation_id: str,
    position: int,
    video: GeneratedVideo,
    call: PreparedCall,
    media: MediaStore,
    ttl_seconds: int,
) -> StoredVideo:
    """The video moved into the media store, with its facts and the length it is billed at
    (`core/video_length.py`)."""
    facts = await probe_video_off_loop(video.path)
    # what the request asked for, or the endpoint's default (not the estimate's longest)
    asked = call.accepted.get("duration", call.view.endpoint.defaults.get("duration"))
    seconds = billed_length(
        video.seconds,
        facts.seconds,
        float(asked) if asked is not None else None,
        call.view.endpoint.parameters.get("duration"),
    )
    return await media.put_video(
        generation_id,
        video.path,
        video.media_type,
        ttl_seconds,
        position,
        seconds=seconds,
        width=facts.width,
        height=facts.height,
        has_audio=facts.has_audio,
    )


async def fail(
    run: Run, error: Exception, records: GenerationStore, kind: str | None = None
) -> None:
    """Records the failure (nothing is charged) and tags the error with the generation's id.
    An error that is not a `GatewayError` is a bug, not an upstream's answer: it is logged
    and recorded as `internal` (the surface's 500 handler answers it)."""
    if not isinstance(error, GatewayError):
        log.error("generation %s failed with an unexpected error", run.id, exc_info=error)
        error = InternalError(f"the gateway failed: {type(error).__name__}")
    error.headers.setdefault(GENERATION_HEADER, run.id)
    run.telemetry.failed(kind or error.kind)
    error.metadata.setdefault("generation_id", run.id)
    try:
        await run.recorded()
    except Exception:  # no pending record was written, so there is none to mark failed
        log.exception("generation %s: its record could not be written", run.id)
        return
    await records.fail(
        run.id,
        error_kind=kind or error.kind,
        message=error.message,
        model_id=run.model.id if run.model else None,
        latency_ms=run.elapsed_ms(),
        attempts=[a.as_record() for a in run.attempts],
        dropped=list(run.plan.calls[0].dropped) if run.plan else [],
        detail=error.detail,
    )


async def cancel(run: Run, records: GenerationStore, interrupted: bool = False) -> None:
    """The client went away before the provider delivered (or, `interrupted`, the gateway is
    shutting down and cut the generation off): the generation is recorded as such (the attempt
    under way with status 499), its hold dropped, nothing charged."""
    if interrupted:
        error = UpstreamError("the gateway shut down before the generation finished")
        await fail(run, error, records, kind="interrupted")
        return
    error = UpstreamError("the client went away before the generation finished")
    await fail(run, error, records, kind="cancelled")


def jsonable(parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in parameters.items()
        if isinstance(value, str | int | float | bool)
    }
