"""Stage SLAs survive a restart: timers are jobs in the database, run by whichever worker starts next.

The hub that put the application at its stage has no workers and stops before the deadline;
a new hub with workers starts on the same database, reminds the reviewer, then escalates to the
branch manager — who gets a seat of their own — and the inbox shows the task overdue.
"""

from __future__ import annotations

from accesshub import access_hub, bearer
from flowsorg import setup_flows, submit
from sqlalchemy import select
from waiting import wait_for

from core.audit import AuditEntry
from core.flows.models import FlowTask
from core.jobs.models import Job
from core.outbox import OutboxEvent


async def test_an_sla_breach_escalates_after_the_workers_were_restarted(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup_flows(
            client, runtime, sla_hours="0.002", remind_hours="0.001"
        )  # 7.2 s, reminder at 3.6 s
        app = await submit(client, org, "b", "consumer", "40000.00")
        assert app["stage"] == "review"
        async with runtime.sessions() as session:
            kinds = sorted((await session.scalars(select(Job.kind).where(Job.kind.like("flows.sla%")))).all())
        assert kinds == ["flows.sla_due", "flows.sla_remind"]
    # The first hub is gone; nothing ran its timers. A new one, with workers, takes them over.
    async with access_hub(database_url, tmp_path, inprocess_workers=True) as (client, runtime):

        async def escalated() -> list[FlowTask]:
            async with runtime.sessions() as session:
                rows = (
                    await session.scalars(select(FlowTask).where(FlowTask.application_id == app["id"]))
                ).all()
            return list(rows) if any(row.escalated_at for row in rows) and len(rows) == 2 else []

        tasks = await wait_for(escalated, within=40, interval=0.2, what="the SLA escalation")
        original = next(t for t in tasks if not t.escalation)
        seat = next(t for t in tasks if t.escalation)
        assert original.reminded_at is not None and original.reminded_at < original.escalated_at
        assert original.status == "open" and seat.status == "open"
        zhou, chen = await bearer(client, "zhou"), await bearer(client, "chen")
        overdue = await client.get("/api/tasks", params={"overdue": "true"}, headers=zhou)
        assert [(t["application_id"], t["overdue"]) for t in overdue.json()["items"]] == [(app["id"], True)]
        queue = await client.get("/api/tasks", params={"view": "queue"}, headers=chen)
        assert [(t["application_id"], t["escalation"], t["queue"]) for t in queue.json()["items"]] == [
            (app["id"], True, ["chen"])
        ]
        decided = await client.post(
            f"/api/applications/{app['id']}/decisions", json={"decision": "approve"}, headers=chen
        )
        assert decided.json()["status"] == "approved", decided.text
        async with runtime.sessions() as session:
            events = (
                await session.scalars(
                    select(OutboxEvent.event_type).where(OutboxEvent.subject_id == app["id"])
                )
            ).all()
            actions = (
                await session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == original.id))
            ).all()
        assert {"application_task_due_soon", "application_task_escalated"} <= set(events)
        assert sorted(actions) == ["flows.sla_escalated", "flows.sla_reminder"]
