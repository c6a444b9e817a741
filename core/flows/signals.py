"""Risk signals of an application (a score, a grade, a litigation hit): what flows' conditions read.

Signals come from outside the engine — a risk model, a bureau report, an integrator's script,
later the enrichment step — and are stored by name with their source. A flow declares the
signals it reads; a condition over one the application lacks does not hold and the name is
reported, so a late signal never silently approves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.applications.repository import get_visible
from core.db import utcnow
from core.errors import Invalid

from .definition import SIGNAL_NAME
from .models import SignalValue

__all__ = ["MAX_SIGNALS", "record_signals"]

MAX_SIGNALS = 50


def _errors(values: Any) -> list[dict[str, Any]]:
    if not isinstance(values, Mapping) or not values or len(values) > MAX_SIGNALS:
        return [{"field": "signals", "code": "approvals.signals_shape", "params": {"max": MAX_SIGNALS}}]
    errors = []
    for name, value in values.items():
        if not isinstance(name, str) or not SIGNAL_NAME.match(name):
            errors.append(
                {"field": f"signals.{str(name)[:50]}", "code": "approvals.signal_name", "params": {}}
            )
        elif not (
            value is None
            or isinstance(value, bool | int | float)
            or (isinstance(value, str) and len(value) <= 200)
        ) or (isinstance(value, float) and value != value):
            errors.append({"field": f"signals.{name}", "code": "approvals.signal_value", "params": {}})
    return errors


async def record_signals(
    session: AsyncSession, actor: Actor, application_id: str, values: Mapping[str, Any], source: str
) -> dict[str, Any]:
    """Set the named signals of the application (others stay); every signal changed is audited."""
    application = await get_visible(session, actor, application_id, "applications.signals", for_update=True)
    errors = _errors(values)
    if not source.strip() or len(source) > 200:
        errors.append({"field": "source", "code": "approvals.signal_source", "params": {"max": 200}})
    if errors:
        raise Invalid("approvals.invalid", errors=errors, count=len(errors))
    existing = {
        row.name: row
        for row in (
            await session.scalars(select(SignalValue).where(SignalValue.application_id == application.id))
        ).all()
    }
    now = utcnow()
    before, after = {}, {}
    for name, value in values.items():
        row = existing.get(name)
        if row is not None and row.value == value and row.source == source:
            continue
        before[name] = row.value if row else None
        after[name] = value
        if row is None:
            session.add(
                SignalValue(
                    application_id=application.id, name=name, value=value, source=source, updated_at=now
                )
            )
        else:
            row.value, row.source, row.updated_at = value, source, now
    if after:
        await session.flush()
        await audit.record(
            session,
            actor,
            "applications.signals",
            target_type="application",
            target_id=application.id,
            before=before,
            after={**after, "source": source},
        )
    rows = await session.scalars(select(SignalValue).where(SignalValue.application_id == application.id))
    return {row.name: row.value for row in rows.all()}
