"""A slug clash (any quarantine) reaches the audit trail once per distinct quarantine."""

from __future__ import annotations

from manager_stubs import ConnectorPlugin, fresh_host, make_bureau
from sqlalchemy import select

from core.audit import AuditEntry, verify_chain
from plugins.quarantine_audit import audit_quarantines


def _clash():
    host = fresh_host()
    host.add_plugin("acme", ConnectorPlugin(make_bureau()), distribution="lendhub-acme", version="0.3.1")
    host.add_plugin("aaa", ConnectorPlugin(make_bureau()), distribution="lendhub-aaa-squat", version="6.6.6")
    return host


async def test_a_slug_clash_is_audited_for_both_claimants_once(session_factory):
    for _ in range(2):  # a second process start with the same plugins adds nothing
        async with session_factory() as session, session.begin():
            await audit_quarantines(session, _clash())
    async with session_factory() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "plugins.quarantined"))
        ).all()
        _, broken = await verify_chain(session)
    assert sorted(e.target_id for e in entries) == ["aaa", "acme"]
    assert all("acme-bureau" in e.after["reason"] and e.actor == "system:plugin-loader" for e in entries)
    assert {e.after["distribution"] for e in entries} == {"lendhub-acme", "lendhub-aaa-squat"}
    assert broken is None


async def test_a_quarantine_for_a_new_reason_is_audited_again(session_factory):
    async with session_factory() as session, session.begin():
        await audit_quarantines(session, _clash())
    host = fresh_host()
    host.add_plugin("acme", ConnectorPlugin(make_bureau()), distribution="lendhub-acme", version="0.4.0")
    host.add_plugin("aaa", ConnectorPlugin(make_bureau()), distribution="lendhub-aaa-squat", version="6.6.6")
    async with session_factory() as session, session.begin():
        assert await audit_quarantines(session, host) == 2  # the reasons name the new version
