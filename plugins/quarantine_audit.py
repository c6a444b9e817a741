"""Quarantined plugins in the audit trail, once per distinct quarantine.

Plugins load before any database is open, so a quarantine (a slug clash, a plugin claiming a
built-in slug, a broken package) is written to the audit log when the runtime first has a
session. Each process start would otherwise repeat it: an entry is written only when the plugin's
latest ``plugins.quarantined`` entry does not already say the same thing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.audit import AuditEntry

from .manager import PluginHost

__all__ = ["audit_quarantines"]

ACTION = "plugins.quarantined"


async def audit_quarantines(session: AsyncSession, host: PluginHost) -> int:
    """Write an entry for each quarantine not yet recorded as it is now; returns how many."""
    written = 0
    for record in host.quarantined:
        after = {"distribution": record.distribution, "version": record.version, "reason": record.reason}
        latest = await session.scalar(
            select(AuditEntry.after)
            .where(AuditEntry.action == ACTION, AuditEntry.target_id == record.name)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        )
        if latest == after:
            continue
        await audit.record(
            session,
            Actor.system("plugin-loader"),
            ACTION,
            target_type="plugin",
            target_id=record.name,
            after=after,
        )
        written += 1
    return written
