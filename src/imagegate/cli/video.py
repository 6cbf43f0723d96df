"""`imagegate generate` for video models: the video written to the `-o` file, with a progress
bar while it is made.

Without `--url` the gateway runs in this process: the provider's own progress (the sandbox's
frames, an upstream's percentage) drives the bar, reported through the same hook a job's
worker listens on (`providers/upstream_tasks.py`). With `--url` it asks the running gateway for
a video job (`POST /api/v1/videos`), polls it (`GET /api/v1/jobs/{id}`, whose `progress` drives
the bar) and downloads the video a piece at a time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from rich.progress import Progress

from imagegate.cli.remote import RemoteError
from imagegate.config import load_settings

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")
POLL_SECONDS = 1.0


class BarLog:
    """A `TaskLog` (providers/upstream_tasks.py) for one generation in this process: it shows
    the provider's progress, and keeps the provider's task in memory, so an attempt that runs
    out of time polls that task again instead of paying for another."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self._progress, self._bar = progress, task
        self.task: dict[str, Any] | None = None

    async def sending(self, provider: str) -> None:
        return None

    async def submitted(self, task: dict[str, Any]) -> None:
        self.task = task

    def resumable(self, provider: str, native_model: str) -> dict[str, Any] | None:
        task = self.task
        if task is None or (task["provider"], task["native_model"]) != (provider, native_model):
            return None
        return dict(task["handle"])

    async def ended(self) -> None:
        self.task = None

    async def progress(self, value: float) -> None:
        self._progress.update(self._bar, completed=max(0.0, min(1.0, value)) * 100)

    @property
    def cancelling(self) -> bool:
        return False


def target_path(output: str, generation_id: str) -> Path:
    path = Path(output)
    if output.endswith("/") or path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return path / f"{generation_id}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


async def local_video(
    model: str,
    prompt: str,
    parameters: dict[str, Any],
    first_frame: bytes | None,
    output: str,
    progress: Progress,
) -> tuple[Path, str, str, float]:
    from imagegate import Gateway, ImageRequest
    from imagegate.media.sources import ImageSource
    from imagegate.providers import upstream_tasks

    settings = load_settings()
    settings = settings.model_copy(update={"database_url": settings.resolved_database_url})
    request = ImageRequest(
        model=model,
        prompt=prompt,
        parameters=parameters,
        modalities=frozenset({"video"}),
        first_frame_source=ImageSource("--input", data=first_frame) if first_frame else None,
    )
    task = progress.add_task(f"generating with {model}", total=100)
    async with Gateway(settings, surface="cli") as gateway:
        listening = upstream_tasks.current.set(BarLog(progress, task))
        try:
            result = await gateway.generate(request)
        finally:
            upstream_tasks.current.reset(listening)
        progress.update(task, completed=100)
        path = await gateway.save_video(result.videos[0], target_path(output, result.id))
    return path, result.id, result.provider_name, float(result.cost_usd)


def remote_video(
    url: str,
    key: str | None,
    timeout: float,
    body: dict[str, Any],
    output: str,
    progress: Progress,
) -> tuple[Path, str, str, float]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    task = progress.add_task(f"generating with {body['model']}", total=100)
    with httpx.Client(base_url=url, headers=headers, timeout=timeout) as client:
        submitted = client.post("/api/v1/videos", json=body)
        if submitted.status_code != 202:
            raise RemoteError(_message(submitted))
        job_id = submitted.json()["id"]
        while True:
            polled = client.get(f"/api/v1/jobs/{job_id}")
            if polled.status_code != 200:
                raise RemoteError(_message(polled))
            job = polled.json()
            progress.update(task, completed=(job.get("progress") or 0) * 100)
            if job["status"] == "completed":
                break
            if job["status"] in ("failed", "cancelled", "expired"):
                error = job.get("error") or {}
                raise RemoteError(f"the video job {job['status']}: {error.get('message', '')}")
            time.sleep(POLL_SECONDS)
        progress.update(task, completed=100)
        generation = job["generation_id"]
        path = target_path(output, generation)
        with client.stream("GET", f"/api/v1/videos/{job_id}/content?index=0") as answer:
            if answer.status_code != 200:
                answer.read()
                raise RemoteError(_message(answer))
            with path.open("wb") as file:
                for piece in answer.iter_bytes(1024 * 1024):
                    file.write(piece)
        cost = float(job["result"]["usage"]["cost"]) if job.get("result") else 0.0
    return path, generation, url, cost


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"HTTP {response.status_code}: {error.get('message', response.text)}"
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
