"""`imagegate jobs list|show|wait|cancel`: a running gateway's jobs (docs/jobs.md), over its HTTP
API (remote_jobs.py) with the same `--url` and `IMAGEGATE_API_KEY` as `generate --url`.

`wait` polls the job until it ends, showing its status and progress (job_progress.py), and saves a
completed job's images as `generate` does. A job outlives its gateway's restarts, so once the job
has been read, a gateway that stops answering for a while is waited out (within `--timeout`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imagegate.cli.help_format import NamedCommand, NamedGroup
from imagegate.cli.remote_options import GatewayUrl, api_key

if TYPE_CHECKING:
    from imagegate.cli.job_progress import JobProgress
    from imagegate.cli.remote_jobs import Job, JobsClient

app = typer.Typer(
    help="Follow, wait for and cancel the jobs of a running gateway.",
    cls=NamedGroup,
    no_args_is_help=True,
)

REQUEST_SECONDS = 30.0  # each request; a job's own wait is --timeout
FIRST_POLL, LONGEST_POLL = 0.25, 2.0  # seconds between looks at a job, growing
UNFINISHED = ("queued", "running")

JobId = Annotated[str, typer.Argument(metavar="ID", help="the job's id (job_...)")]
AsJson = Annotated[bool, typer.Option("--json", help="print the job as JSON")]
Output = Annotated[
    str,
    typer.Option("--output", "-o", metavar="PATH", help="a file, or a directory (ending in /)"),
]


@app.command("list", cls=NamedCommand)
def list_jobs(
    url: GatewayUrl,
    status: Annotated[
        str | None,
        typer.Option(
            metavar="STATUS",
            help="only these: queued, running, completed, failed, cancelled or expired",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(metavar="N", help="at most N (gateway: 20, max 100)")
    ] = None,
    offset: Annotated[int | None, typer.Option(metavar="N", help="skip the N newest")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON records")] = False,
) -> None:
    """List jobs, newest first (the key's own; every job for the master key)."""
    with _client(url) as client:
        jobs = client.list_jobs(status, limit, offset)
    if as_json:
        typer.echo(orjson.dumps(jobs, option=orjson.OPT_INDENT_2))
        return
    if not jobs:
        typer.secho("no jobs" + (f" {status}" if status else ""), err=True)
        return
    table = Table("id", "status", "model", "created", "generation")
    for job in jobs:
        table.add_row(
            job["id"],
            _styled_status(job["status"]),
            escape(str(job.get("model") or "")),
            _when(job.get("created")),
            job.get("generation_id") or "—",
        )
    _stdout().print(table)


@app.command("show", cls=NamedCommand)
def show(
    job_id: JobId,
    url: GatewayUrl,
    as_json: AsJson = False,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="save a completed job's images: a file, or a directory (ending in /)",
        ),
    ] = None,
) -> None:
    """Show a job: its status, its error if it failed, its result if it completed."""
    with _client(url) as client:
        job = client.get(job_id)
    if as_json:
        typer.echo(orjson.dumps(job, option=orjson.OPT_INDENT_2))
    else:
        _describe(job)
    if output is not None:
        if job["status"] != "completed":
            raise _fail(f"{job_id} is {job['status']}; it has no images to save")
        _save(job, output, paths_to_stdout=not as_json)


@app.command("wait", cls=NamedCommand)
def wait(
    job_id: JobId,
    url: GatewayUrl,
    output: Output = "./",
    timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", help="how long to wait for the job to end; 0: no limit"),
    ] = 600,
) -> None:
    """Wait for a job to end, showing its progress; save its images when it completes.

    Exits 1 with the reason if the job failed, was cancelled or expired, or is still unfinished
    after --timeout (it goes on running; wait again to collect it).
    """
    from imagegate.cli.job_progress import JobProgress

    deadline = time.monotonic() + timeout if timeout > 0 else None
    console = Console(stderr=True)
    try:
        with _client(url, deadline) as client, JobProgress(console, job_id) as progress:
            job = _poll(client, job_id, deadline, progress)
    except KeyboardInterrupt:
        typer.secho(f"imagegate: stopped waiting; {job_id} goes on", err=True)
        raise typer.Exit(130) from None
    if job["status"] in UNFINISHED:
        raise _fail(
            f"{job_id} is still {job['status']} after {timeout:g} s; it goes on "
            "(wait again, or see --timeout)"
        )
    if job["status"] != "completed":
        raise _fail(_ended(job))
    _save(job, output, paths_to_stdout=True)


@app.command("cancel", cls=NamedCommand)
def cancel(job_id: JobId, url: GatewayUrl, as_json: AsJson = False) -> None:
    """Cancel a job that has not ended: a queued one never runs, a running one is stopped."""
    with _client(url) as client:
        job = client.cancel(job_id)
    if as_json:
        typer.echo(orjson.dumps(job, option=orjson.OPT_INDENT_2))
    else:
        typer.echo(f"{job['id']} {job['status']}")


def _poll(client: JobsClient, job_id: str, deadline: float | None, progress: JobProgress) -> Job:
    """The job once it has ended, or as last seen when the deadline comes. The first look must
    succeed (a wrong URL or id is said at once); later, a gateway that cannot be asked is waited
    out."""
    from imagegate.cli.remote_jobs import GatewayUnavailable

    job = client.get(job_id)
    pause, note = FIRST_POLL, None
    while job["status"] in UNFINISHED:
        progress.update(job, note)
        if deadline is not None and time.monotonic() + pause > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 1.5, LONGEST_POLL)
        try:
            job, note = client.get(job_id), None
        except GatewayUnavailable as exc:
            note = f"{exc}; trying again"
    progress.update(job)
    return job


def _ended(job: Job) -> str:
    """Why a job gave no images, in one line."""
    error = job.get("error") or {}
    if job["status"] == "failed":
        kind, message = error.get("kind"), error.get("message")
        return f"{job['id']} failed" + (f" ({kind})" if kind else "") + f": {message}"
    ended = {"cancelled": "was cancelled", "expired": "expired"}.get(job["status"])
    said = f": {error['message']}" if error.get("message") else ""
    return f"{job['id']} {ended or 'is ' + job['status']}{said}"


def _save(job: Job, output: str, paths_to_stdout: bool) -> None:
    from imagegate.cli.image_files import write_images
    from imagegate.cli.remote import RemoteError
    from imagegate.cli.remote_jobs import result_images

    try:
        blobs = result_images(job)
    except RemoteError as exc:
        raise _fail(str(exc)) from exc
    result = job["result"]
    generation_id = job.get("generation_id") or result.get("id") or job["id"]
    for path in write_images(blobs, output, generation_id):
        typer.echo(str(path), err=not paths_to_stdout)
    cost = float((result.get("usage") or {}).get("cost") or 0)
    Console(stderr=True).print(
        f"[dim]{escape(generation_id)} · {escape(str(result.get('provider')))} · ${cost:.4f}[/dim]",
        highlight=False,
        soft_wrap=True,
    )


def _describe(job: Job) -> None:
    console = _stdout()
    console.print(f"[bold]{escape(job['id'])}[/bold]  {_styled_status(job['status'])}")
    rows = Table.grid(padding=(0, 2))
    rows.add_row("model", escape(str(job.get("model"))))
    rows.add_row("surface", escape(str(job.get("surface"))))
    rows.add_row("created", _when(job.get("created")))
    rows.add_row("updated", _when(job.get("updated")))
    if job.get("progress") is not None:
        rows.add_row("progress", f"{float(job['progress']):.0%}")
    if job.get("generation_id"):
        rows.add_row("generation", escape(job["generation_id"]))
    error = job.get("error")
    if error:
        status = f" (HTTP {error['status']})" if error.get("status") else ""
        rows.add_row("error", escape(f"{error.get('kind')}{status}: {error.get('message')}"))
    result = job.get("result")
    if result:
        images = result.get("data") or []
        cost = float((result.get("usage") or {}).get("cost") or 0)
        kinds = ", ".join(sorted({str(item.get("media_type")) for item in images}))
        rows.add_row(
            "result",
            escape(f"{len(images)} image(s) ({kinds}) · {result.get('provider')} · ${cost:.4f}"),
        )
    console.print(rows)


STATUS_STYLES = {"completed": "green", "failed": "red", "running": "cyan", "queued": "yellow"}


def _styled_status(status: str) -> str:
    style = STATUS_STYLES.get(status, "dim")
    return f"[{style}]{escape(status)}[/{style}]"


def _when(timestamp: Any) -> str:
    if not isinstance(timestamp, int | float):
        return "—"
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _stdout() -> Console:
    """A terminal's own width; a wide one when piped, so a table keeps one row per job."""
    return Console(width=None if sys.stdout.isatty() else 200)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"imagegate: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@contextmanager
def _client(url: str, deadline: float | None = None) -> Iterator[JobsClient]:
    """The gateway's jobs API; a `RemoteError` anywhere inside is the command's one-line error."""
    from imagegate.cli.remote import RemoteError
    from imagegate.cli.remote_jobs import JobsClient

    seconds = REQUEST_SECONDS
    if deadline is not None:
        seconds = max(1.0, min(seconds, deadline - time.monotonic()))
    try:
        with JobsClient(url, api_key=api_key(), timeout=seconds) as client:
            yield client
    except RemoteError as exc:
        raise _fail(str(exc)) from exc
