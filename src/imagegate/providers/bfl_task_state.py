"""The task states of Black Forest Labs' API, which Fireworks' FLUX Kontext workflow answers in
too: `{id, status, result: {sample}, progress, details}`. `Ready` is done; `Request Moderated`
and `Content Moderated` are content-policy refusals; `Error`, `Failed` and `Task not found` are
failures; any other status (`Pending`) is not final, and its `progress` (0..1) is the job's.
"""

from __future__ import annotations

from typing import Any

from imagegate.errors import UpstreamError
from imagegate.providers import upstream_tasks
from imagegate.providers.upstream import refused

READY = "Ready"
MODERATED = frozenset({"Request Moderated", "Content Moderated"})
FAILED = frozenset({"Error", "Failed", "Task not found"})


async def checked(name: str, state: Any) -> dict[str, Any]:
    """A polled state that is not a refusal or a failure (which raise, and end the kept task,
    so that a retry submits anew)."""
    if not isinstance(state, dict):
        raise UpstreamError(f"{name} answered the poll with an unexpected body")
    status = state.get("status")
    if status in MODERATED or status in FAILED:
        await upstream_tasks.ended()
    if status in MODERATED:
        raise refused(name, str(status))
    if status in FAILED:
        raise UpstreamError(
            f"{name} failed ({status})", detail=str(state.get("details") or state.get("result"))
        )
    await upstream_tasks.progress(state.get("progress"))
    return state


def is_ready(state: dict[str, Any]) -> bool:
    return state.get("status") == READY


def sample(name: str, state: dict[str, Any]) -> str:
    """The finished task's `result.sample` (a URL, or base64 on Fireworks)."""
    found = (state.get("result") or {}).get("sample")
    if not isinstance(found, str) or not found:
        raise UpstreamError(f"{name} said Ready but gave no result.sample")
    return found
