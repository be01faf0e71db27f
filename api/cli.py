"""The `fieldlog` command line (typer + rich)."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console

from api.heap import freeze_startup_objects
from incidents.application import FieldLog
from incidents.config import ConfigurationError, Settings
from incidents.errors import DomainError
from projections.process import PARENT_ENV, WorkerProcess, stop_with_parent

cli = typer.Typer(
    help="fieldlog: an event-sourced incident log for field-crew safety events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
token_cli = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")
projections_cli = typer.Typer(
    help="Run, rebuild and inspect the read models.", no_args_is_help=True
)
cli.add_typer(projections_cli, name="projections")
console = Console()
err = Console(stderr=True)


def open_fieldlog() -> FieldLog:
    """The application on the configured store, or a clear message and exit 2."""
    try:
        return FieldLog(Settings.from_env())
    except ConfigurationError as e:
        err.print(f"[red]configuration:[/red] {e}")
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes sharing the store")] = 1,
) -> None:
    """Run the API and web pages."""
    import uvicorn

    try:
        Settings.from_env().eventsourcing_env()
    except ConfigurationError as e:
        err.print(f"[red]configuration:[/red] {e}")
        raise typer.Exit(2) from None
    console.print(f"fieldlog serving on http://{host}:{port} (API docs at /docs)")
    worker = own_projection_worker()
    try:
        uvicorn.run(
            "api.app:served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
        )
    finally:
        if worker is not None:
            worker.stop()


def own_projection_worker() -> WorkerProcess | None:
    """Unless FIELDLOG_PROJECTIONS says otherwise (`inline`: a worker thread in each API
    process; `external`: none, run `fieldlog projections run` yourself), `serve` runs one
    projection worker in a process of its own, and its API processes none."""
    if os.environ.get("FIELDLOG_PROJECTIONS"):
        return None
    os.environ["FIELDLOG_PROJECTIONS"] = "external"  # for the API processes
    worker = WorkerProcess()
    worker.start()
    return worker


@cli.command()
def demo() -> None:
    """Load the two stories of the seed page (idempotent) and print a fresh token per role."""
    from incidents.demo import CHIKAN_MV, CHIKAN_SCENIC, DemoLoadError, load_demo
    from incidents.tokens import TokenBook

    app = open_fieldlog()
    try:
        summary = load_demo(app)
    except DemoLoadError as e:
        err.print(f"[red]demo not loaded:[/red] {e}")
        raise typer.Exit(1) from None
    console.print(
        f"demo data: {summary.stored} events stored, {summary.duplicate} already there; "
        f"registry: {summary.registry_stored} new, {summary.registry_duplicate} already there"
    )
    book = TokenBook(app.store)
    book.revoke_prefix("demo-")
    console.print("tokens (the previous demo tokens are revoked):")
    for role, crew_id in (
        ("admin", None),
        ("safety", None),
        ("hr", None),
        ("crew", CHIKAN_MV.crew_id),
        ("crew", CHIKAN_SCENIC.crew_id),
    ):
        suffix = f"-{crew_id}" if crew_id else ""
        issued = book.create(role, crew_id=crew_id, name=f"demo-{role}{suffix}-{_stamp()}")
        label = f"{role} ({crew_id})" if crew_id else role
        print(f"  {label:<22} {issued.token}")
    app.close()


def _stamp() -> str:
    import secrets

    return secrets.token_hex(3)


@token_cli.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="crew, safety, hr or admin")],
    crew: Annotated[str | None, typer.Option(help="the crew a crew token is bound to")] = None,
    name: Annotated[str | None, typer.Option(help="unique name (default: generated)")] = None,
    expires_days: Annotated[
        int | None, typer.Option(help="days until the token expires (default: never)")
    ] = None,
) -> None:
    """Print a new token on the last line of stdout; only its hash is stored."""
    from incidents.tokens import TokenBook

    app = open_fieldlog()
    try:
        if role == "crew" and crew and app.get_crew(crew) is None:
            err.print(f"[red]refused:[/red] crew {crew} is not registered")
            raise typer.Exit(1)
        expires = timedelta(days=expires_days) if expires_days else None
        issued = TokenBook(app.store).create(role, crew_id=crew, name=name, expires_in=expires)
    except DomainError as e:
        err.print(f"[red]refused:[/red] {e.detail}")
        raise typer.Exit(1) from None
    finally:
        app.close()
    err.print(
        f"token {issued.name} for role {issued.role}"
        + (f", crew {issued.crew_id}" if issued.crew_id else "")
    )
    print(issued.token)


@token_cli.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")]) -> None:
    """The token stops working at once."""
    from incidents.tokens import TokenBook

    app = open_fieldlog()
    try:
        TokenBook(app.store).revoke(name)
    except DomainError as e:
        err.print(f"[red]refused:[/red] {e.detail}")
        raise typer.Exit(1) from None
    finally:
        app.close()
    console.print(f"token {name} revoked")


@cli.command()
def replay(
    incident_id: Annotated[str, typer.Argument(help="the incident's UUID")],
    as_of: Annotated[str | None, typer.Option(help="keep what had happened by then")] = None,
    known_at: Annotated[str | None, typer.Option(help="keep what was recorded by then")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Print the incident step by step in the terminal."""
    from uuid import UUID

    from api.terminal import print_replay
    from incidents.roles import Actor
    from projections.queries import LogReadModel
    from projections.window import BadWindowError, Window

    if lang not in ("zh", "en"):
        err.print("[red]refused:[/red] --lang must be zh or en")
        raise typer.Exit(2)
    app = open_fieldlog()
    try:
        tz = app.settings.tz
        try:
            cut_as_of = Window.parse(as_of, None, tz).start
            cut_known_at = Window.parse(known_at, None, tz).start
            incident = UUID(incident_id)
        except (BadWindowError, ValueError) as e:
            err.print(f"[red]refused:[/red] {e}")
            raise typer.Exit(2) from None
        found = LogReadModel(app).incident_replay(
            incident, Actor("admin", "cli"), as_of=cut_as_of, known_at=cut_known_at
        )
        if found is None:
            err.print(f"[red]no incident {incident_id}[/red]")
            raise typer.Exit(1)
        print_replay(found, lang, tz, console)
    finally:
        app.close()


@cli.command()
def verify(
    checkpoint: Annotated[
        str | None, typer.Option(help="a checkpoint file whose prefix the log must still hold")
    ] = None,
) -> None:
    """Check the integrity of the whole log; exit 1 naming the first position that breaks."""
    import orjson
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from incidents.audit import CheckpointError, check_signature, public_key_text, verify_log

    expected = None
    if checkpoint:
        try:
            with open(checkpoint, "rb") as f:
                expected = orjson.loads(f.read())
            check_signature(expected)
        except (OSError, orjson.JSONDecodeError, CheckpointError) as e:
            err.print(f"[red]checkpoint refused:[/red] {e}")
            raise typer.Exit(1) from None
    app = open_fieldlog()
    try:
        if expected and expected.get("public_key") != public_key_text(app.master_key):
            err.print("[red]checkpoint refused:[/red] it was not signed by this log's key")
            print("checkpoint signed by another key")
            raise typer.Exit(1)
        head = app.recorder.max_notification_id() or 0
        with Progress(
            TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), console=err
        ) as progress:
            task = progress.add_task("verify", total=head)
            verdict = verify_log(app.store, expected, lambda n: progress.advance(task, n))
    finally:
        app.close()
    if verdict.failure is not None:
        err.print(
            f"[red]BROKEN at position {verdict.failure.position}:[/red] {verdict.failure.reason}"
        )
        print(f"broken at position {verdict.failure.position}")
        raise typer.Exit(1)
    suffix = f"; holds checkpoint {expected['position']}" if expected else ""
    console.print(
        f"ok: {verdict.events} events verify up to position "
        f"{verdict.head_position} (hash {verdict.head_hash[:16]}…){suffix}"
    )


@cli.command()
def checkpoint(
    output: Annotated[str | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """Write a signed checkpoint (head position and hash) to keep outside the system."""
    import orjson

    from incidents.audit import sign_checkpoint, verify_log

    app = open_fieldlog()
    try:
        verdict = verify_log(app.store)
        if not verdict.ok:
            assert verdict.failure is not None
            err.print(
                f"[red]refused:[/red] the log is broken at position "
                f"{verdict.failure.position}: {verdict.failure.reason}"
            )
            raise typer.Exit(1)
        document = orjson.dumps(
            sign_checkpoint(app.store, app.master_key), option=orjson.OPT_INDENT_2
        )
    finally:
        app.close()
    if output:
        with open(output, "wb") as f:
            f.write(document + b"\n")
        err.print(f"wrote {output}")
    else:
        print(document.decode())


@cli.command("erase-personal-data")
def erase_personal_data(
    incident_id: Annotated[str, typer.Argument(help="the incident's UUID")],
) -> None:
    """Crypto-shred one incident's personal data (records PersonalDataErased)."""
    from uuid import UUID

    from incidents.roles import Actor

    try:
        incident = UUID(incident_id)
    except ValueError:
        err.print(f"[red]refused:[/red] {incident_id} is not an incident id (a UUID)")
        raise typer.Exit(2) from None
    app = open_fieldlog()
    try:
        outcome = app.erase_personal_data(incident, Actor("admin", "cli"))
    except DomainError as e:
        err.print(f"[red]refused:[/red] {e.detail}")
        raise typer.Exit(1) from None
    finally:
        app.close()
    if outcome.result == "duplicate":
        console.print(f"incident {incident_id}: personal data was already erased")
    else:
        console.print(
            f"incident {incident_id}: key destroyed, PersonalDataErased recorded "
            f"at position {outcome.position}"
        )


report_cli = typer.Typer(help="Reports for HR.", no_args_is_help=True)
cli.add_typer(report_cli, name="report")


@report_cli.command("recognition")
def report_recognition(
    from_: Annotated[str | None, typer.Option("--from", help="date or RFC 3339 time")] = None,
    to: Annotated[str | None, typer.Option(help="date (inclusive) or time (exclusive)")] = None,
    format: Annotated[str, typer.Option(help="csv, pdf or json")] = "csv",
    output: Annotated[str | None, typer.Option("-o", "--output", help="file to write")] = None,
) -> None:
    """The HR recognition report (csv by default) to stdout or a file."""
    import sys

    import orjson

    from api.recognition_export import render
    from api.recognition_pdf import MissingFontError
    from projections.projected import ProjectedReadModel
    from projections.runner import ProjectionWorker
    from projections.window import BadWindowError, Window

    if format not in ("csv", "pdf", "json"):
        err.print("[red]refused:[/red] --format must be csv, pdf or json")
        raise typer.Exit(2)
    if format == "pdf" and output is None and sys.stdout.isatty():
        err.print("[red]refused:[/red] a PDF needs -o FILE (or a pipe)")
        raise typer.Exit(2)
    app = open_fieldlog()
    try:
        try:
            window = Window.parse(from_, to, app.settings.tz)
        except BadWindowError as e:
            err.print(f"[red]refused:[/red] {e}")
            raise typer.Exit(2) from None
        worker = ProjectionWorker(app)
        worker.catch_up()
        try:
            body, _ = render(ProjectedReadModel(worker), window, format, app.settings.tz)
        except MissingFontError as e:
            err.print(f"[red]refused:[/red] {e}")
            raise typer.Exit(1) from None
    finally:
        app.close()
    data = orjson.dumps(body, option=orjson.OPT_INDENT_2) if isinstance(body, dict) else body
    if output:
        with open(output, "wb") as f:
            f.write(data)
        err.print(f"wrote {output}")
    else:
        sys.stdout.buffer.write(data)


@projections_cli.command("run")
def projections_run() -> None:
    """Run a projection worker that follows the log (for scale-out beside `serve`)."""
    from projections.runner import ProjectionWorker

    app = open_fieldlog()
    worker = ProjectionWorker(app)
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    stop_with_parent()
    freeze_startup_objects()
    started_by = os.environ.get(PARENT_ENV)
    stops = f"stops with fieldlog serve (pid {started_by})" if started_by else "Ctrl-C stops"
    console.print(
        f"projection worker following the log (head {worker.head()}); {stops}", soft_wrap=True
    )
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()


@projections_cli.command("rebuild")
def projections_rebuild() -> None:
    """Rebuild every read model from the log, with a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from projections.runner import ProjectionWorker

    app = open_fieldlog()
    worker = ProjectionWorker(app)
    head = worker.head()
    columns = (
        TextColumn("rebuilding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>9} events/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    import time

    started = time.monotonic()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("rebuild", total=head, rate="-")

        def advance(count: int) -> None:
            done = progress.tasks[0].completed + count
            rate = done / max(time.monotonic() - started, 1e-6)
            progress.update(task, advance=count, rate=f"{rate:,.0f}")

        processed = worker.rebuild(on_batch=advance)
    elapsed = time.monotonic() - started
    console.print(
        f"rebuilt {len(worker.projections)} read models from {processed} events in {elapsed:.1f} s"
    )
    app.close()


@projections_cli.command("status")
def projections_status() -> None:
    """Each projection's position and lag behind the log's head."""
    from rich.table import Table

    from projections.runner import ProjectionWorker

    app = open_fieldlog()
    worker = ProjectionWorker(app)
    head = worker.head()
    table = Table(title=f"log head: position {head}")
    table.add_column("projection")
    table.add_column("position", justify="right")
    table.add_column("lag", justify="right")
    for name, position in worker.positions().items():
        table.add_row(name, str(position), str(max(head - position, 0)))
    console.print(table)
    app.close()


def main() -> None:
    cli()
