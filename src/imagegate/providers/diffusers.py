"""Local diffusers pipelines: a model that runs on this machine instead of behind an HTTP API.

Needs the optional extra (`pip install 'imagegate[diffusers]'`); torch and diffusers are
imported only when a pipeline is first loaded, in a worker thread, so imagegate starts and works
without them and a request to a diffusers endpoint without them fails with that install hint.

No bundled provider uses this adapter: a user declares one in their catalog file, with a model
whose endpoint's `native_id` is the pipeline's directory, an absolute path (`~` is expanded),
as written by `save_pretrained`. It is loaded with `DiffusionPipeline.from_pretrained(dir,
local_files_only=True)`, so nothing is ever downloaded. One pipeline per directory, loaded on
the first request that needs it (which waits for the load) and kept for the life of the process.

Each pipeline has its own one-thread executor: its queue. Batches run there one at a time, in
arrival order, off the event loop; a request that gives up while queued leaves the queue, and a
batch whose request gives up while it runs (the provider timeout, the client gone) stops at the
end of its current denoising step (its `callback_on_step_end` raises; pipelines without that
callback run to their end), so the next starts at once.
Pipelines of different directories run side by side, but load one at a time (a process-wide
lock: importing diffusers and building models on torch's meta device are not thread-safe).
Device: CUDA when torch sees one (float16 unless the endpoint's `fixed.torch_dtype` says
`bfloat16` or `float32`), else the CPU (float32).

Mapping: `width`/`height` as given (multiples of 8), or `aspect_ratio` + `resolution` through
the gateway's size table, fitted to multiples of 8 (or the published width range's step) within
the published width/height ranges; with neither, the pipeline's own default size. `steps` →
`num_inference_steps`, `guidance` → `guidance_scale`, `n` → `num_images_per_prompt`,
`negative_prompt` by name, `seed` seeds a CPU `torch.Generator` (the same seed gives the same
starting noise on any device). The endpoint's other `fixed` fields are extra keyword arguments
for the pipeline call (e.g. `{"num_inference_steps": 4, "guidance_scale": 0}` for a turbo
model); request parameters override them. Output is PNG; the gateway converts other formats.
Images a pipeline's safety checker flags are left out; when it flags all, the request is a
content-policy refusal. Load and inference failures are upstream errors naming the directory.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from imagegate.catalog.descriptors import EnumCapability, RangeCapability
from imagegate.catalog.dimensions import DEFAULT_ASPECT_RATIO, DEFAULT_RESOLUTION, dimensions, fit
from imagegate.core.result import GeneratedImage
from imagegate.errors import InvalidRequest, UpstreamError
from imagegate.media.cpu import Stop, Stopped
from imagegate.providers.base import ProviderCall, ProviderContext, ProviderResult
from imagegate.providers.upstream import refused

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'imagegate[diffusers]'"
SIZE_MULTIPLE = 8
DTYPE_OPTION = "torch_dtype"
DTYPES = ("float16", "bfloat16", "float32")
# Held while importing torch/diffusers and loading any pipeline: both touch process-wide state
# (a half-imported lazy module; accelerate patching torch.nn.Module while it builds a model).
_LOADING = threading.Lock()
_CALL_NAMES = {
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
    "n": "num_images_per_prompt",
    "negative_prompt": "negative_prompt",
}


# -- pure converters ----------------------------------------------------------------------


def pipeline_directory(call: ProviderCall) -> Path:
    directory = Path(call.endpoint.native_id).expanduser()
    if not directory.is_absolute():
        raise UpstreamError(
            f"diffusers endpoint of {call.model_id}: native_id must be the pipeline's absolute "
            f"directory, not {call.endpoint.native_id!r}"
        )
    return directory


def dtype_name(call: ProviderCall) -> str | None:
    """The endpoint's `fixed.torch_dtype`, or None for the device's default."""
    name = call.endpoint.fixed.get(DTYPE_OPTION)
    if name is not None and name not in DTYPES:
        raise UpstreamError(
            f"diffusers endpoint of {call.model_id}: {DTYPE_OPTION} must be one of "
            f"{', '.join(DTYPES)}, not {name!r}"
        )
    return name


def call_arguments(call: ProviderCall) -> dict[str, Any]:
    """The pipeline call's keyword arguments, less the generator (made from `seed`)."""
    arguments = {k: v for k, v in call.endpoint.fixed.items() if k != DTYPE_OPTION}
    arguments["prompt"] = call.prompt
    size = output_size(call)
    if size is not None:
        arguments["width"], arguments["height"] = size
    for name, native in _CALL_NAMES.items():
        if name in call.parameters:
            arguments[native] = call.parameters[name]
    return arguments


def output_size(call: ProviderCall) -> tuple[int, int] | None:
    parameters = call.parameters
    published = call.endpoint.parameters
    if "width" in parameters or "height" in parameters:
        if not ("width" in parameters and "height" in parameters):
            raise InvalidRequest("give width and height together", param="width")
        width, height = int(parameters["width"]), int(parameters["height"])
        if width % SIZE_MULTIPLE or height % SIZE_MULTIPLE:
            raise InvalidRequest(
                f"{width}x{height}: a diffusers pipeline needs sides in multiples of "
                f"{SIZE_MULTIPLE}",
                param="width",
            )
        return width, height
    if "aspect_ratio" not in parameters and "resolution" not in parameters:
        return None
    wanted = dimensions(
        parameters.get("aspect_ratio", DEFAULT_ASPECT_RATIO),
        parameters.get("resolution", _default_resolution(published.get("resolution"))),
    )
    width_range, height_range = published.get("width"), published.get("height")
    if isinstance(width_range, RangeCapability) and isinstance(height_range, RangeCapability):
        return fit(
            *wanted,
            multiple=int(width_range.step or SIZE_MULTIPLE),
            min_side=int(max(width_range.min, height_range.min)),
            max_side=int(min(width_range.max, height_range.max)),
        )
    return fit(*wanted, multiple=SIZE_MULTIPLE)


def _default_resolution(published: object) -> str:
    """1K, unless the endpoint publishes resolutions without it (an SD 1.5 may offer only 512)."""
    if isinstance(published, EnumCapability) and DEFAULT_RESOLUTION not in published.values:
        return published.values[0]
    return DEFAULT_RESOLUTION


# -- the pipelines, each with its own queue ------------------------------------------------


@dataclass
class _Pipeline:
    directory: Path
    dtype: str | None
    executor: ThreadPoolExecutor = field(init=False)
    loaded: Any = None  # the DiffusionPipeline, once loaded (only its own thread touches it)

    def __post_init__(self) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"diffusers:{self.directory}")


class DiffusersProvider:
    handles = frozenset(
        {
            "width",
            "height",
            "aspect_ratio",
            "resolution",
            "steps",
            "guidance",
            "n",
            "negative_prompt",
            "seed",
        }
    )

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self._pipelines: dict[tuple[Path, str | None], _Pipeline] = {}

    async def generate(self, call: ProviderCall) -> ProviderResult:
        pipeline = self._pipeline(pipeline_directory(call), dtype_name(call))
        arguments = call_arguments(call)
        seed = call.parameters.get("seed")
        loop = asyncio.get_running_loop()
        stop = Stop()
        batch = loop.run_in_executor(
            pipeline.executor, partial(_run, pipeline, arguments, seed, stop)
        )
        try:
            images, flagged = await batch
        except asyncio.CancelledError:
            stop.set()  # a batch still queued never starts; a running one stops at its next step
            raise
        pairs = zip(images, flagged, strict=True)
        kept = [GeneratedImage("png", data=data) for data, bad in pairs if not bad]
        if images and not kept:
            raise refused(self.context.info.name, "the pipeline's safety checker flagged it")
        return ProviderResult(images=kept)

    def _pipeline(self, directory: Path, dtype: str | None) -> _Pipeline:
        key = (directory, dtype)
        pipeline = self._pipelines.get(key)
        if pipeline is None:
            pipeline = self._pipelines[key] = _Pipeline(directory, dtype)
        return pipeline


# -- in the pipeline's thread --------------------------------------------------------------


def _runtime() -> tuple[Any, Any]:
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise UpstreamError(
            f"the diffusers provider needs torch and diffusers, which are not installed "
            f"({exc.msg}): {INSTALL_HINT}"
        ) from exc
    return torch, diffusers


def _load(pipeline: _Pipeline) -> Any:
    torch, diffusers = _runtime()
    directory = pipeline.directory
    if not directory.is_dir():
        raise UpstreamError(f"no diffusers pipeline at {directory}: the directory does not exist")
    cuda = torch.cuda.is_available()
    dtype = getattr(torch, pipeline.dtype or ("float16" if cuda else "float32"))
    started = time.monotonic()
    try:
        loaded = diffusers.DiffusionPipeline.from_pretrained(
            str(directory), local_files_only=True, dtype=dtype
        )
        loaded = loaded.to(torch.device("cuda" if cuda else "cpu"))
    except Exception as exc:
        log.warning("cannot load the diffusers pipeline at %s", directory, exc_info=True)
        raise UpstreamError(
            f"cannot load the diffusers pipeline at {directory}: {type(exc).__name__}: {exc}"
        ) from exc
    loaded.set_progress_bar_config(disable=True)
    log.info(
        "%s: loaded %s on %s (%s) in %.1fs",
        directory,
        type(loaded).__name__,
        "cuda" if cuda else "cpu",
        str(dtype).removeprefix("torch."),
        time.monotonic() - started,
    )
    return loaded


def _run(
    pipeline: _Pipeline, arguments: dict[str, Any], seed: int | None, stop: Stop
) -> tuple[list[bytes], list[bool]]:
    """One batch: load the pipeline if needed, generate, encode PNGs. Images and NSFW flags."""
    if pipeline.loaded is None:
        with _LOADING:
            pipeline.loaded = _load(pipeline)
    stop.check()  # given up on while the pipeline loaded
    torch, _ = _runtime()
    generator = None if seed is None else torch.Generator("cpu").manual_seed(int(seed))
    if _takes_step_callback(pipeline.loaded):
        arguments = {**arguments, "callback_on_step_end": partial(_stop_between_steps, stop)}
    started = time.monotonic()
    log.info("%s: batch started %s", pipeline.directory, _described(arguments, seed))
    ended = "finished"
    try:
        output = pipeline.loaded(**arguments, generator=generator, output_type="pil")
    except Stopped as stopped:
        ended = f"stopped after {stopped.args[0]} steps (its request is gone)"
        raise
    except Exception as exc:
        log.warning("diffusers pipeline at %s failed", pipeline.directory, exc_info=True)
        raise UpstreamError(
            f"the diffusers pipeline at {pipeline.directory} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        log.info("%s: batch %s in %.2fs", pipeline.directory, ended, time.monotonic() - started)
    images = list(output.images)
    flags = getattr(output, "nsfw_content_detected", None) or [False] * len(images)
    return [_png(image) for image in images], [bool(flag) for flag in flags]


def _takes_step_callback(loaded: Any) -> bool:
    return "callback_on_step_end" in inspect.signature(loaded.__call__).parameters


def _stop_between_steps(
    stop: Stop, pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]
) -> dict[str, Any]:
    """Called by the pipeline after each denoising step: once the request is gone, the batch
    ends there. (Setting the pipeline's `_interrupt` would skip the steps left but still
    decode the latents, which can take as long as many steps.)"""
    if stop.is_set():
        raise Stopped(step + 1)
    return {}


def _described(arguments: dict[str, Any], seed: int | None) -> str:
    """The batch's settings for the log, without the prompts' text."""
    hidden = ("prompt", "negative_prompt", "callback_on_step_end")
    shown = {k: v for k, v in arguments.items() if k not in hidden}
    shown["negative_prompt"] = "negative_prompt" in arguments
    shown["seed"] = seed
    return orjson.dumps(shown, default=repr).decode()


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
