"""Loading customers from a file in batches: every row created or refused with its reasons.

Each batch commits its customers, its refusals and the run's progress together, so a run cut off
anywhere resumes at the first row not committed, and no row is loaded twice or lost. Every row goes
through ``core.customers.service.register`` — the same checks, duplicate detection, placement rules
and audit entry as a customer created by hand.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.customers import service as customers
from core.db import refresh_statistics, utcnow
from core.errors import Conflict, DomainError, Invalid
from core.i18n import translate

from .customers import HeaderProblem, map_header, row_fields, template_header
from .models import ImportRejection, ImportRun
from .reader import Sheet, UnreadableFile, read_sheet

__all__ = ["BATCH_SIZE", "find_or_start", "load_sheet", "process_batch", "rejection_report", "template_csv"]

BATCH_SIZE = 500
KINDS = ("customers",)


def load_sheet(data: bytes, filename: str) -> tuple[Sheet, dict[int, str]]:
    """The file's rows and its column mapping, or a 422 naming what is wrong with the file."""
    try:
        sheet = read_sheet(data, filename)
        return sheet, map_header(sheet.header)
    except UnreadableFile as exc:
        raise Invalid(
            "imports.unreadable", errors=[{"field": "file", "code": "imports.unreadable"}], reason=str(exc)
        ) from None
    except HeaderProblem as exc:
        raise Invalid(
            exc.code, errors=[{"field": "file", "code": exc.code}], columns=", ".join(exc.columns)
        ) from None


async def find_or_start(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: str,
    filename: str,
    data: bytes,
    default_owner: str | None,
    keep_source: bool,
) -> tuple[ImportRun, bool]:
    """The run for this file: an earlier one (``True``) if the same file was loaded before, else a new one."""
    if kind not in KINDS:
        raise Invalid(
            "imports.kind_unknown", errors=[{"field": "kind", "code": "imports.kind_unknown"}], kind=kind
        )
    digest = hashlib.sha256(data).hexdigest()
    existing = await session.scalar(
        select(ImportRun).where(ImportRun.kind == kind, ImportRun.sha256 == digest)
    )
    if existing is not None:
        return existing, True
    sheet, _ = load_sheet(data, filename)
    run = ImportRun(
        kind=kind,
        filename=filename[-255:],
        sha256=digest,
        source=data if keep_source else None,
        header=sheet.header,
        total_rows=len(sheet.rows),
        default_owner=default_owner,
        requested_by=actor.audit_name,
        requested_by_id=actor.id,
        owner_id=actor.id,
        branch_id=actor.branch_id,
    )
    session.add(run)
    await session.flush()
    await audit.record(
        session,
        actor,
        "imports.start",
        target_type="import",
        target_id=run.id,
        after={"kind": kind, "filename": run.filename, "sha256": digest, "rows": run.total_rows},
    )
    return run, False


async def process_batch(
    session: AsyncSession,
    actor: Actor,
    run: ImportRun,
    sheet: Sheet,
    mapping: dict[int, str],
    *,
    today: date,
    size: int = BATCH_SIZE,
) -> int:
    """Load the next ``size`` rows of ``run``; the caller commits. Returns how many were handled."""
    if run.status == "done":
        return 0
    if run.total_rows != len(sheet.rows):
        raise Conflict("imports.file_changed", expected=run.total_rows, found=len(sheet.rows))
    run.status = "running"
    batch = sheet.rows[run.next_row : run.next_row + size]
    async with audit.batched(session):
        await _load_rows(session, actor, run, batch, mapping, today=today)
    run.next_row += len(batch)
    if run.next_row >= run.total_rows:
        run.status = "done"
        run.finished_at = utcnow()
        await audit.record(
            session,
            actor,
            "imports.finish",
            target_type="import",
            target_id=run.id,
            after={"created": run.created_count, "rejected": run.rejected_count},
        )
        await session.flush()
        await refresh_statistics(session)  # thousands of new rows: the planner should know
    await session.flush()
    return len(batch)


async def _load_rows(
    session: AsyncSession,
    actor: Actor,
    run: ImportRun,
    batch: list[tuple[int, list[str]]],
    mapping: dict[int, str],
    *,
    today: date,
) -> None:
    batch_fields = [row_fields(mapping, cells, default_owner=run.default_owner) for _, cells in batch]
    results = await customers.register_many(session, actor, batch_fields, today=today)
    for (number, cells), result in zip(batch, results, strict=True):
        if not isinstance(result, DomainError):
            run.created_count += 1
            continue
        errors = result.errors or [{"field": None, "code": result.code}]
        params = dict(result.params)
        if result.code == "customers.duplicate_in_batch":  # name the row, not the batch entry
            errors = [{**e, "code": "imports.duplicate_row"} for e in errors]
            params = {"row": batch[int(params["position"]) - 1][0]}
        reasons = [{**e, "params": {**params, **e.get("params", {})}} for e in errors]
        session.add(ImportRejection(run_id=run.id, row_number=number, errors=_plain(reasons), cells=cells))
        run.rejected_count += 1


def _plain(reasons: list[dict[str, object]]) -> list[dict[str, object]]:
    """Reasons as JSON: params made strings (a ``Decimal`` or ``date`` would not serialise)."""
    return [
        {**r, "params": {k: str(v) for k, v in dict(r.get("params") or {}).items()}}  # type: ignore[call-overload]
        for r in reasons
    ]


async def rejection_report(session: AsyncSession, run: ImportRun, language: str) -> str:
    """The refused rows as CSV: the original cells, the row number, and every reason in ``language``."""
    rows: Sequence[ImportRejection] = (
        await session.scalars(
            select(ImportRejection)
            .where(ImportRejection.run_id == run.id)
            .order_by(ImportRejection.row_number)
        )
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    header = translate("imports.report_row", language), translate("imports.report_reasons", language)
    writer.writerow([*header, *run.header])
    for row in rows:
        reasons = "; ".join(
            f"{e.get('field') or '-'}: {translate(str(e['code']), language, **dict(e.get('params') or {}))}"
            for e in row.errors
        )
        writer.writerow([row.row_number, reasons, *row.cells])
    return out.getvalue()


def template_csv() -> str:
    """A blank template with one example person and one enterprise (UTF-8 with BOM, for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(template_header())
    writer.writerow(
        [
            "个人",
            "张三",
            "11010519491231002X",
            "",
            "13800138000",
            "",
            "上海市浦东新区",
            "线下",
            "",
            "新客",
            "li",
        ]
    )
    writer.writerow(
        [
            "企业",
            "上海测试科技有限公司",
            "",
            "91350100M000100Y43",
            "",
            "",
            "",
            "合作方推荐",
            "某担保公司",
            "",
            "li",
        ]
    )
    return "\ufeff" + out.getvalue()
