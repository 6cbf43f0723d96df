"""How `imagegate jobs wait` shows a job it waits for, on standard error.

On a terminal: a spinner, the job's status, a bar filled from the job's `progress` (0 to 1) when
the upstream reports one and pulsing when it does not, and the time waited. Elsewhere (a log
file, a CI job, a pipe), where a redrawn line would be noise: one line each time the status
changes, the progress passes another tenth, or the gateway cannot be asked (and once more when
it can again).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)


class JobProgress:
    def __init__(self, console: Console, job_id: str) -> None:
        self._console = console
        self._job_id = job_id
        self._live = console.is_terminal
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(escape(job_id), total=None)
        self._shown: tuple[str, int | None, str | None] | None = None

    def __enter__(self) -> JobProgress:
        if self._live:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live:
            self._progress.stop()

    def update(self, job: dict[str, Any], note: str | None = None) -> None:
        """Show `job` as last read; `note` says why it could not be read again (and is kept
        until it is)."""
        status = str(job["status"])
        fraction = _fraction(job.get("progress"))
        aside = f" ({note})" if note else ""
        if self._live:
            self._progress.update(
                self._task,
                description=escape(f"{self._job_id} {status}{aside}"),
                total=None if fraction is None else 1.0,
                completed=fraction or 0.0,
            )
            return
        tenth = None if fraction is None else int(fraction * 10)
        if (status, tenth, note) != self._shown:
            self._shown = (status, tenth, note)
            percent = "" if fraction is None else f" {fraction:.0%}"
            line = f"{self._job_id} {status}{percent}{aside}"
            self._console.print(escape(line), highlight=False, soft_wrap=True)


def _fraction(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return min(max(float(value), 0.0), 1.0)
