"""Running applications through their flow: start on submission, enter stages, advance, end.

The engine keeps no state in memory. Everything it knows is on rows: the application's
``flow_key``/``flow_version``/``stage``, the open tasks of its stage and the decisions made. So
any API process or worker can take the next step, a restart loses nothing, and a published new
version never moves a running application (its version is pinned on the first submission).

Status changes go through the applications context's one door (``transition``) with
``authorised=True``: the engine has checked the flow's own rules (the decider's seat, authority,
maker-checker) and the door still checks the state table and the product's gates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, User
from core.applications.gates import GateRegistry
from core.applications.models import Application
from core.applications.transitions import transition
from core.db import utcnow
from core.errors import Conflict
from core.jobs.repository import enqueue
from core.outbox import add_event
from core.products.models import Product

from .context import FlowFacts
from .deciders import askable, authorities, candidates, pick
from .definition import APPROVED, Assignees, Flow, Stage
from .evaluate import auto_outcome, load_facts, route
from .models import FlowDecision, FlowTask
from .rounds import current_round
from .versions import flow_of, published_version, version_of

__all__ = [
    "ACTION_JOB",
    "ENGINE",
    "SLA_DUE_JOB",
    "SLA_REMIND_JOB",
    "STAGE_ENTERED",
    "cancel_open_tasks",
    "cc_names",
    "current_round",
    "enter",
    "finish",
    "flow_for",
    "on_approved_stage",
    "schedule_sla",
    "start",
    "usernames",
]

ENGINE = Actor.system("flows")
STAGE_ENTERED = "application_stage_entered"
ACTION_JOB = "flows.action"
SLA_REMIND_JOB = "flows.sla_remind"
SLA_DUE_JOB = "flows.sla_due"


async def flow_for(session: AsyncSession, application: Application) -> Flow:
    """The flow version the application runs on (pinned at its first submission)."""
    assert application.flow_key is not None and application.flow_version is not None
    return flow_of(await version_of(session, application.flow_key, application.flow_version))


async def start(session: AsyncSession, application: Application, *, gates: GateRegistry) -> bool:
    """After a submission: pin the flow (first time) and enter its first stage, or resume after a return.

    Returns ``False`` for a product without a flow (its applications are reviewed by hand).

    Raises:
        Conflict: ``approvals.flow_not_published`` — the product names a flow with no published
            version; the submission is refused with it (same transaction).
    """
    product = await session.get(Product, application.product_id)
    assert product is not None
    if application.flow_key is None:
        if product.flow_key is None:
            return False
        version = await published_version(session, product.flow_key)
        if version is None:
            raise Conflict("approvals.flow_not_published", flow=product.flow_key)
        application.flow_key, application.flow_version = version.flow_key, version.version
        flow = flow_of(version)
        stage_id = flow.start
    else:
        flow = await flow_for(session, application)
        stage_id = application.stage or flow.start  # a returned application resumes where it was
    await transition(session, ENGINE, application, "in_review", gates=gates, authorised=True)
    await enter(session, application, flow, stage_id, gates=gates)
    return True


async def cancel_open_tasks(session: AsyncSession, application_id: str, outcome: str) -> None:
    """Close every open task of the application (its stage closed without them)."""
    await session.execute(
        update(FlowTask)
        .where(FlowTask.application_id == application_id, FlowTask.status == "open")
        .values(status="cancelled", outcome=outcome, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def _pool(
    session: AsyncSession, application: Application, stage: Stage, round_: int, facts: FlowFacts
) -> tuple[list[User], dict[str, Any]]:
    """Who is asked, and the authority check that chose them (for the event and the dry run)."""
    assert stage.assignees is not None
    people = await askable(
        session,
        application,
        await candidates(session, application, stage.assignees),
        stage=stage.id,
        round_=round_,
    )
    note: dict[str, Any] = {}
    if stage.authority is not None:
        product = await session.get(Product, application.product_id)
        assert product is not None
        measure = facts.exposure.measure(stage.authority)
        limits = await authorities(session, people, product.code)
        within = [user for user in people if (limit := limits[user.id]) is not None and limit >= measure]
        note = {"measure": stage.authority, "exposure": str(measure), "within": len(within)}
        if within:
            people = within
    return people, note


async def _seats(
    session: AsyncSession, application: Application, flow: Flow, stage: Stage, round_: int, people: list[User]
) -> list[FlowTask]:
    now = utcnow()
    due = now + timedelta(hours=float(stage.sla.hours)) if stage.sla else None

    def seat(assignee: User | None, pool: list[User]) -> FlowTask:
        return FlowTask(
            application_id=application.id,
            flow_key=flow.key,
            flow_version=int(application.flow_version or 0),
            stage=stage.id,
            stage_name=stage.name,
            round=round_,
            branch_id=application.branch_id,
            assignee_id=assignee.id if assignee else None,
            pool=[user.id for user in pool],
            status="open",
            escalation=False,
            created_at=now,
            claimed_at=now if assignee else None,
            due_at=due,
        )

    assert stage.assignees is not None
    if stage.kind == "single":
        chosen = await pick(session, people, stage.assignees.pick, flow_key=flow.key, stage=stage.id)
        tasks = [seat(chosen, [] if chosen else people)]
    else:
        tasks = [seat(user, []) for user in people]
    session.add_all(tasks)
    await session.flush()
    if stage.sla:
        for task in tasks:
            await schedule_sla(session, task, stage)
    return tasks


async def schedule_sla(session: AsyncSession, task: FlowTask, stage: Stage) -> None:
    """Durable timers for a task's reminder and deadline (jobs survive restarts; keyed per task)."""
    assert stage.sla is not None and task.due_at is not None
    if stage.sla.remind_before_hours is not None:
        remind = task.due_at - timedelta(hours=float(stage.sla.remind_before_hours))
        await enqueue(
            session,
            SLA_REMIND_JOB,
            {"task_id": task.id},
            run_after=remind,
            dedupe_key=f"flow-remind:{task.id}",
        )
    await enqueue(
        session, SLA_DUE_JOB, {"task_id": task.id}, run_after=task.due_at, dedupe_key=f"flow-due:{task.id}"
    )


async def usernames(session: AsyncSession, ids: list[str]) -> list[str]:
    """Usernames of ``ids``, sorted (for events and answers)."""
    if not ids:
        return []
    return sorted((await session.scalars(select(User.username).where(User.id.in_(ids)))).all())


async def cc_names(session: AsyncSession, application: Application, cc: tuple[Assignees, ...]) -> list[str]:
    """The people a stage informs (CC, 抄送): named users, role members in scope, the branch manager."""
    names: set[str] = set()
    for who in cc:
        names |= {user.username for user in await candidates(session, application, who)}
    return sorted(names)


async def enter(
    session: AsyncSession,
    application: Application,
    flow: Flow,
    stage_id: str,
    *,
    gates: GateRegistry,
    escalated: str | None = None,
    facts: FlowFacts | None = None,
) -> None:
    """Put the application at ``stage_id``: judge it (automatic) or ask people (tasks, timers, event).

    ``facts`` read for this application in the same transaction may be passed on: a stage
    change does not change them.
    """
    stage = flow.stage(stage_id)
    round_ = await current_round(session, application)
    application.stage = stage.id
    await session.flush()
    facts = facts or await load_facts(session, application)
    if stage.kind == "automatic":
        await _automatic(session, application, flow, stage, round_, facts, gates=gates)
        return
    people, authority = await _pool(session, application, stage, round_, facts)
    if authority and not authority["within"] and stage.escalate_to:
        await audit.record(
            session,
            ENGINE,
            "flows.escalated",
            target_type="application",
            target_id=application.id,
            after={"from": stage.id, "to": stage.escalate_to, "why": "authority", **authority},
        )
        await enter(
            session, application, flow, stage.escalate_to, gates=gates, escalated="authority", facts=facts
        )
        return
    tasks = await _seats(session, application, flow, stage, round_, people)
    for action in stage.on_enter:
        await enqueue(
            session,
            ACTION_JOB,
            {"action": action, "application_id": application.id, "stage": stage.id, "round": round_},
            dedupe_key=f"flow-action:{application.id}:{stage.id}:{round_}:{action}",
        )
    names = dict(zip([u.id for u in people], [u.username for u in people], strict=True))
    assignees = sorted(names[t.assignee_id] for t in tasks if t.assignee_id)
    queue = sorted(names[uid] for t in tasks for uid in t.pool)
    payload = {
        "application_id": application.id,
        "flow_key": flow.key,
        "flow_version": application.flow_version,
        "stage": stage.id,
        "stage_name": stage.name,
        "kind": stage.kind,
        "round": round_,
        "assignees": assignees,
        "queue": queue,
        "cc": await cc_names(session, application, stage.cc),
        "due_at": tasks[0].due_at.isoformat() if tasks and tasks[0].due_at else None,
        "escalated": escalated is not None,
    }
    await add_event(
        session,
        event_type=STAGE_ENTERED,
        subject_type="application",
        subject_id=application.id,
        payload=payload,
    )
    await audit.record(
        session,
        ENGINE,
        "flows.stage_entered",
        target_type="application",
        target_id=application.id,
        after={
            "stage": stage.id,
            "round": round_,
            "assignees": assignees,
            "queue": queue,
            "authority": authority or None,
            "escalated": escalated,
        },
    )


async def _automatic(
    session: AsyncSession,
    application: Application,
    flow: Flow,
    stage: Stage,
    round_: int,
    facts: FlowFacts,
    *,
    gates: GateRegistry,
) -> None:
    from .dossier import dossier_hash  # the dossier reads decisions; imported late to keep modules small

    outcome, why = auto_outcome(stage, facts, flow)
    decision = {"approve": "approve", "reject": "reject", "refer": "refer"}[outcome]
    session.add(
        FlowDecision(
            application_id=application.id,
            stage=stage.id,
            round=round_,
            decision=decision,
            comment=why.why[:2000],
            reason_codes=list(why.reason_codes),
            decided_by=ENGINE.audit_name,
            exposure=facts.exposure.borrower,
            dossier_hash=await dossier_hash(session, application),
            at=utcnow(),
        )
    )
    await audit.record(
        session,
        ENGINE,
        "applications.decision",
        target_type="application",
        target_id=application.id,
        after={
            "stage": stage.id,
            "round": round_,
            "decision": decision,
            "why": why.why,
            "reason_codes": list(why.reason_codes),
            "missing": list(why.missing),
        },
    )
    if outcome == "approve":
        await on_approved_stage(session, ENGINE, application, flow, stage, facts, gates=gates)
    elif outcome == "reject":
        await finish(session, ENGINE, application, "rejected", gates=gates, reason_codes=why.reason_codes)
    else:
        assert stage.refer_to is not None
        await enter(session, application, flow, stage.refer_to, gates=gates, facts=facts)


async def on_approved_stage(
    session: AsyncSession,
    actor: Actor,
    application: Application,
    flow: Flow,
    stage: Stage,
    facts: FlowFacts | None = None,
    *,
    gates: GateRegistry,
) -> None:
    """A stage approved: follow its branches to the next stage, or approve the application."""
    facts = facts or await load_facts(session, application)
    outcome = route(stage, facts, flow)
    await cancel_open_tasks(session, application.id, "stage_closed")
    if outcome.target == APPROVED:
        await finish(session, actor, application, "approved", gates=gates, reason=outcome.why)
        return
    await enter(session, application, flow, outcome.target, gates=gates, facts=facts)


async def finish(
    session: AsyncSession,
    actor: Actor,
    application: Application,
    to: str,
    *,
    gates: GateRegistry,
    reason: str | None = None,
    reason_codes: tuple[str, ...] | list[str] = (),
) -> None:
    """End the review: ``approved``, ``rejected`` or ``returned`` (the stage is kept for the resumption)."""
    await cancel_open_tasks(session, application.id, to)
    await transition(
        session,
        actor,
        application,
        to,
        (reason or "")[:500] or None,
        list(reason_codes),
        gates=gates,
        authorised=True,
    )
