"""``lendhub import customers FILE``: load customers from CSV or Excel, with progress and a report.

Runs as the operator (audited as ``operator:<login>@<host>``), in batches that each commit; run it
again on the same file to resume an interrupted load, or to see the result of a finished one — no
row is loaded twice. Refused rows go to a CSV report beside the file, every reason in Chinese (or
English with ``LANG=en``).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.access import Actor
from core.clock import business_date
from core.imports import service
from core.imports.models import ImportRun
from hub.runtime import Runtime

from .common import cli_language, run_with_runtime
from .output import echo_json, json_option

__all__ = ["import_group"]


@click.group("import")
def import_group() -> None:
    """Bulk loads from CSV or Excel files."""


@import_group.command("customers")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--owner", default=None, help="Username of the officer for rows without a 客户经理 column.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the refused rows (default: FILE.rejected.csv).",
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a blank template (CSV, Chinese headers) to this path and exit.",
)
@click.option("--batch-size", type=click.IntRange(1, 5000), default=service.BATCH_SIZE, show_default=True)
@json_option
def customers(
    file: Path | None,
    owner: str | None,
    report: Path | None,
    template: Path | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Load customers from FILE (.csv, .xlsx, .xls, .ods); rerun to resume."""
    if template is not None:
        template.write_text(service.template_csv(), encoding="utf-8")
        click.echo(f"template written to {template}")
        return
    if file is None:
        raise click.UsageError("give the FILE to import (or --template PATH for a blank template)")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    report = report or file.with_name(file.name + ".rejected.csv")
    actor = Actor.operator()

    async def work(runtime: Runtime) -> tuple[ImportRun, bool]:
        sheet, mapping = service.load_sheet(data, file.name)
        async with runtime.sessions() as session, session.begin():
            run, seen = await service.find_or_start(
                session,
                actor,
                kind="customers",
                filename=file.name,
                data=data,
                default_owner=owner,
                keep_source=False,
            )
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=as_json,
            transient=False,
        ) as progress:
            task = progress.add_task("导入客户 / importing", total=run.total_rows, completed=run.next_row)
            while run.status != "done":
                async with runtime.sessions() as session, session.begin():
                    run = await session.get_one(ImportRun, run.id)
                    handled = await service.process_batch(
                        session, actor, run, sheet, mapping, today=business_date(), size=batch_size
                    )
                progress.advance(task, handled)
        async with runtime.sessions() as session:
            run = await session.get_one(ImportRun, run.id)
            if run.rejected_count:
                report.write_text(
                    "\ufeff" + await service.rejection_report(session, run, cli_language()), encoding="utf-8"
                )
        return run, seen

    run, seen = run_with_runtime(work)
    summary = {
        "import_id": run.id,
        "rows": run.total_rows,
        "created": run.created_count,
        "rejected": run.rejected_count,
        "report": str(report) if run.rejected_count else None,
        "resumed_or_repeated": seen,
    }
    if as_json:
        echo_json(summary)
        return
    if seen:
        click.echo(f"this file was imported before (import {run.id}); nothing was loaded twice")
    click.echo(f"{run.total_rows} rows: {run.created_count} created, {run.rejected_count} refused")
    if run.rejected_count:
        click.echo(f"refused rows and reasons: {report}")
