"""Drafts and returned applications nobody works on expire, through the real job machinery.

The hub's own handlers (``hub.jobs.build_job_handlers``) run the hourly ``applications.expire``
job, scheduled as at start-up (``schedule_periodic``); the clock is driven by hand, nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from accesshub import access_hub
from applicationsorg import open_application, setup
from sqlalchemy import select

from core.applications import Application, ApplicationTransition
from core.applications.expiry import EXPIRY_JOB_KIND
from core.audit import AuditEntry
from core.db import utcnow
from core.jobs import Job, JobExecutor, claim_due
from core.jobs.periodic import schedule_periodic
from hub.jobs import build_job_handlers
from hub.settings import load_settings
from plugins.manager import make_plugin_manager


class Clock:
    def __init__(self, monkeypatch):
        self.now = utcnow()
        for target in (
            "core.applications.service.utcnow",
            "core.applications.transitions.utcnow",
            "core.jobs.periodic.utcnow",
            "core.jobs.repository.utcnow",
            "core.jobs.handlers.utcnow",
        ):
            monkeypatch.setattr(target, lambda: self.now)


@pytest.fixture
async def hub(database_url, engine, tmp_path, monkeypatch):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup(client, runtime)
        yield client, runtime, org, Clock(monkeypatch)


async def _run_due(runtime) -> list[str]:
    handlers = build_job_handlers(make_plugin_manager(load_entrypoints=False), load_settings())
    assert handlers.periodic[EXPIRY_JOB_KIND] == timedelta(hours=1)
    executor = JobExecutor(runtime.sessions, handlers, owner="w", lease_seconds=30)
    jobs = await claim_due(runtime.sessions, "w", 30, 100)
    for job in jobs:
        await executor.execute(job)
    return [job.kind for job in jobs]


async def _statuses(runtime) -> dict[str, str]:
    async with runtime.sessions() as session:
        return dict((await session.execute(select(Application.id, Application.status))).all())


async def test_untouched_drafts_and_returned_applications_expire_and_worked_ones_do_not(hub):
    client, runtime, org, clock = hub
    h = org["h"]
    await client.put("/api/applications/policy", json={"draft_expiry_days": 3}, headers=h["admin"])
    idle = await open_application(client, org)
    worked = await open_application(client, org)
    submitted = await open_application(client, org)
    returned = await open_application(client, org)
    for app in (submitted, returned):
        assert (
            await client.post(f"/api/applications/{app['id']}/submit", headers=h["li"])
        ).status_code == 200
    moved = await client.post(
        f"/api/applications/{returned['id']}/transition",
        json={"to": "returned", "reason": "补充材料"},
        headers=h["zhou"],
    )
    assert moved.status_code == 200
    handlers = build_job_handlers(make_plugin_manager(load_entrypoints=False), load_settings())
    await schedule_periodic(runtime.sessions, handlers)  # as every API process and worker does at start

    clock.now += timedelta(days=2)
    await client.patch(f"/api/applications/{worked['id']}", json={"purpose": "教育"}, headers=h["li"])
    clock.now += timedelta(days=1, hours=1)  # idle and returned are past their 3 days; worked is not
    assert EXPIRY_JOB_KIND in await _run_due(runtime)
    statuses = await _statuses(runtime)
    assert (statuses[idle["id"]], statuses[returned["id"]]) == ("expired", "expired")
    assert (statuses[worked["id"]], statuses[submitted["id"]]) == ("draft", "submitted")
    async with runtime.sessions() as session:
        row = await session.scalar(
            select(ApplicationTransition).where(
                ApplicationTransition.application_id == idle["id"],
                ApplicationTransition.to_status == "expired",
            )
        )
        assert (row.from_status, row.actor) == ("draft", "system:applications.expiry")
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.target_id == idle["id"], AuditEntry.action == "applications.transition"
            )
        )
        assert entry.after["status"] == "expired"
        pending = (
            await session.scalars(select(Job).where(Job.kind == EXPIRY_JOB_KIND, Job.status == "pending"))
        ).all()
        assert len(pending) == 1 and pending[0].run_after > clock.now  # the next hour's run is waiting

    clock.now += timedelta(days=2)  # the worked draft's clock (restarted by the change) runs out too
    assert EXPIRY_JOB_KIND in await _run_due(runtime)
    assert (await _statuses(runtime))[worked["id"]] == "expired"
    expired_again = await client.post(f"/api/applications/{idle['id']}/submit", headers=h["li"])
    assert expired_again.status_code == 409 and expired_again.json()["allowed"] == []
