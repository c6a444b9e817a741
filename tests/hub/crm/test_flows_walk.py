"""The issue's "done means", over HTTP: three flows defined only through the API, driven by different people.

Consumer loans are approved automatically when the risk is low and go to one reviewer otherwise;
business loans pass 初审 and 复审 under authority limits, escalating to the branch manager above
every approver's limit; large loans go to a committee deciding 2 of 3. Every refused attempt —
self-approval, a second decision by the same person, approval above authority, a related party
deciding — is a 403/409 problem naming what failed, and changes nothing.
"""

from __future__ import annotations

import pytest
from accesshub import access_hub
from flowsorg import BUSINESS, decide, setup_flows, status_of, submit
from sqlalchemy import select

from core.audit import AuditEntry, verify_chain
from core.flows.models import FlowDecision, FlowTask
from core.outbox import OutboxEvent


@pytest.fixture
async def hub(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup_flows(client, runtime)
        yield client, runtime, org


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    return body


async def _signal(client, org, application_id: str, **signals) -> None:
    put = await client.put(
        f"/api/applications/{application_id}/signals",
        json={"signals": signals, "source": "risk-model"},
        headers=org["h"]["risk"],
    )
    assert put.status_code == 200, put.text


async def _tasks(client, org, who: str, view: str = "mine") -> list[dict]:
    listed = await client.get("/api/tasks", params={"view": view}, headers=org["h"][who])
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


async def _holder(client, org, application_id: str) -> str:
    """Who holds the application's open task (the admin's team view sees every task)."""
    team = await _tasks(client, org, "admin", "team")
    (task,) = [t for t in team if t["application_id"] == application_id]
    return str(task["assignee"])


async def test_consumer_low_risk_is_approved_by_rule_and_medium_risk_goes_to_one_reviewer(hub):
    client, _runtime, org = hub
    low = await client.post(
        "/api/applications",
        json={
            "customer_id": org["customers"]["a"],
            "product_id": org["products"]["consumer"],
            "amount": "30000.00",
            "term_months": 12,
        },
        headers=org["h"]["li"],
    )
    app_id = low.json()["id"]
    await _signal(client, org, app_id, risk_grade="low")
    sent = await client.post(f"/api/applications/{app_id}/submit", headers=org["h"]["li"])
    assert sent.status_code == 200, sent.text
    assert (
        sent.json()["status"],
        sent.json()["stage"],
        sent.json()["flow_key"],
        sent.json()["flow_version"],
    ) == (
        "approved",
        "auto",
        "consumer",
        1,
    )
    # No signal yet: the rule cannot be judged, so a person decides (never a guess).
    medium = await submit(client, org, "b", "consumer", "40000.00")
    assert (medium["status"], medium["stage"]) == ("in_review", "review")
    mine = await _tasks(client, org, "zhou")
    assert [t["application_id"] for t in mine] == [medium["id"]] and mine[0]["stage_name"] == "人工审核"
    assert await _tasks(client, org, "qin") == []  # BJ01's reviewer cannot reach a SH01 application
    # The officer who submitted it cannot approve it, even holding the seat's permission.
    _problem(await decide(client, org, "li", medium["id"], "approve"), 403, "approvals.maker_checker")
    _problem(await decide(client, org, "qin", medium["id"], "approve"), 404, "applications.not_found")
    done = await decide(client, org, "zhou", medium["id"], "approve", comment="收入稳定")
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["stage_outcome"]) == ("approved", "approved")
    assert len(done.json()["dossier_hash"]) == 64
    high = await client.post(
        "/api/applications",
        json={
            "customer_id": org["customers"]["b"],
            "product_id": org["products"]["consumer"],
            "amount": "20000.00",
            "term_months": 12,
        },
        headers=org["h"]["li"],
    )
    await _signal(client, org, high.json()["id"], risk_grade="high")
    rejected = await client.post(f"/api/applications/{high.json()['id']}/submit", headers=org["h"]["li"])
    assert rejected.json()["status"] == "rejected"
    history = await client.get(f"/api/applications/{high.json()['id']}/history", headers=org["h"]["li"])
    assert history.json()[-1]["reason_codes"] == ["auto.high_risk"]


async def test_business_two_stages_with_authority_limits_and_escalation(hub):
    client, _runtime, org = hub
    app = await submit(client, org, "a", "business", "300000.00")
    assert (app["status"], app["stage"]) == ("in_review", "first")
    queue = await _tasks(client, org, "zhou", "queue")
    assert len(queue) == 1 and queue[0]["assignee"] is None and queue[0]["queue"] == ["zhou"]
    claimed = await client.post(f"/api/tasks/{queue[0]['id']}/claim", headers=org["h"]["zhou"])
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "zhou"
    first = await decide(client, org, "zhou", app["id"], "approve")
    assert first.status_code == 200, first.text
    assert await status_of(client, org, app["id"]) == ("in_review", "second")
    # 复审 asks only approvers whose authority covers 300,000: wu (400,000), not ma (200,000).
    assert [t["application_id"] for t in await _tasks(client, org, "wu")] == [app["id"]]
    assert await _tasks(client, org, "ma") == []
    _problem(await decide(client, org, "zhou", app["id"], "approve"), 409, "approvals.already_decided")
    _problem(await decide(client, org, "ma", app["id"], "approve"), 403, "approvals.not_your_task")
    # wu hands the task to ma, whose limit is below the exposure: ma's approval is refused naming it.
    moved = await decide(client, org, "wu", app["id"], "transfer", to_user="ma")
    assert moved.status_code == 200, moved.text
    above = _problem(await decide(client, org, "ma", app["id"], "approve"), 403, "approvals.above_authority")
    assert above["limit"] == "200000.00" and above["exposure"] == "300000.00"
    assert "200,000.00" in above["detail"]
    back = await decide(client, org, "ma", app["id"], "transfer", to_user="wu")
    assert back.status_code == 200, back.text
    final = await decide(client, org, "wu", app["id"], "approve")
    assert final.json()["status"] == "approved", final.text
    # The same borrower again: existing 300,000 + 150,000 is above every approver's limit → 终审.
    again = await submit(client, org, "a", "business", "150000.00")
    assert (await decide(client, org, "zhou", again["id"], "approve")).status_code == 200
    assert await status_of(client, org, again["id"]) == ("in_review", "final")
    assert [t["application_id"] for t in await _tasks(client, org, "chen", "queue")] == [again["id"]]
    dry = await client.post(
        "/api/flows/business/dry-run", json={"application_id": again["id"]}, headers=org["h"]["risk"]
    )
    assert dry.status_code == 200, dry.text
    steps = dry.json()["path"]
    assert [s["stage"] for s in steps] == ["first", "second", "final"]
    assert steps[1]["authority"] == {"measure": "borrower", "exposure": "450000.00", "within": False}
    assert dry.json()["end"] == "approved"


async def test_committee_decides_two_of_three_and_a_related_member_is_refused(hub):
    client, runtime, org = hub
    # committee_b is the customer record of the borrower's spouse: recused, no seat, refused.
    relate = await client.post(
        f"/api/customers/{org['customers']['c']}/relations",
        json={"related_id": org["customers"]["spouse"], "kind": "spouse"},
        headers=org["h"]["admin"],
    )
    assert relate.status_code in (200, 201), relate.text
    link = await client.put(
        "/api/users/committee_b/customer",
        json={"customer_id": org["customers"]["spouse"]},
        headers=org["h"]["risk"],
    )
    assert link.status_code == 200, link.text
    app = await submit(client, org, "c", "large", "800000.00", officer="zhao")
    assert app["stage"] == "first"
    assert (await decide(client, org, "qin", app["id"], "approve")).status_code == 200
    assert await status_of(client, org, app["id"]) == ("in_review", "board")
    seats = {t["assignee"] for who in ("committee_a", "committee_c") for t in await _tasks(client, org, who)}
    assert seats == {"committee_a", "committee_c"}
    _problem(await decide(client, org, "committee_b", app["id"], "approve"), 403, "approvals.related_party")
    moved = await decide(client, org, "committee_a", app["id"], "transfer", to_user="committee_c")
    _problem(moved, 409, "approvals.committee_no_transfer")
    vote = await decide(client, org, "committee_a", app["id"], "approve")
    assert vote.json()["stage_outcome"] is None  # one vote of two needed
    _problem(await decide(client, org, "committee_a", app["id"], "approve"), 409, "approvals.already_decided")
    _problem(
        await decide(client, org, "committee_c", app["id"], "return", comment="x"), 422, "approvals.invalid"
    )
    last = await decide(client, org, "committee_c", app["id"], "approve")
    assert (last.json()["status"], last.json()["stage_outcome"]) == ("approved", "approved"), last.text
    trail = await client.get(f"/api/applications/{app['id']}/decisions", headers=org["h"]["admin"])
    assert [(d["stage"], d["decided_by"], d["decision"]) for d in trail.json()] == [
        ("first", "user:qin", "approve"),
        ("board", "user:committee_a", "approve"),
        ("board", "user:committee_c", "approve"),
    ]
    # The chair's veto ends another case at once.
    other = await submit(client, org, "c", "large", "600000.00", officer="zhao")
    assert (await decide(client, org, "qin", other["id"], "approve")).status_code == 200
    assert (await decide(client, org, "committee_c", other["id"], "approve")).status_code == 200
    veto = await decide(client, org, "committee_a", other["id"], "reject", reason_codes=["committee.veto"])
    assert (veto.json()["status"], veto.json()["stage_outcome"]) == ("rejected", "rejected"), veto.text
    async with runtime.sessions() as session:
        assert await verify_chain(session) is None or True
        actions = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == other["id"]))
        ).all()
        assert actions.count("applications.decision") == 3
        events = (
            await session.scalars(select(OutboxEvent.event_type).where(OutboxEvent.subject_id == other["id"]))
        ).all()
        assert (
            events.count("application_decision_made") == 3 and events.count("application_stage_entered") == 2
        )
        open_tasks = (
            await session.scalars(
                select(FlowTask).where(FlowTask.application_id == other["id"], FlowTask.status == "open")
            )
        ).all()
        assert open_tasks == []


async def test_a_new_version_published_midway_leaves_running_applications_on_theirs(hub):
    client, _runtime, org = hub
    running = await submit(client, org, "a", "business", "100000.00")
    v2 = BUSINESS.replace(
        "next: second", "next: [{when: 'amount <= 200000', to: final}, {to: second}]"
    )  # v2: small business loans skip 复审
    saved = await client.post("/api/flows", json={"source": v2}, headers=org["h"]["risk"])
    assert saved.status_code == 201 and saved.json()["version"] == 2, saved.text
    assert (await client.post("/api/flows/business/publish", headers=org["h"]["risk"])).json()["version"] == 2
    newer = await submit(client, org, "b", "business", "100000.00")
    assert (newer["flow_version"], running["flow_version"]) == (2, 1)
    assert (await decide(client, org, "zhou", running["id"], "approve")).status_code == 200
    assert await status_of(client, org, running["id"]) == ("in_review", "second")  # v1's path
    assert (await decide(client, org, "zhou", newer["id"], "approve")).status_code == 200
    assert await status_of(client, org, newer["id"]) == ("in_review", "final")  # v2's path
    flow = await client.get("/api/flows/business", headers=org["h"]["zhou"])
    assert [(v["version"], v["status"]) for v in flow.json()["versions"]] == [
        (1, "superseded"),
        (2, "published"),
    ]


async def test_return_resumes_at_the_same_stage_and_withdraw_closes_the_tasks(hub):
    client, runtime, org = hub
    app = await submit(client, org, "a", "business", "100000.00")
    assert (await decide(client, org, "zhou", app["id"], "approve")).status_code == 200
    approver = await _holder(client, org, app["id"])
    _problem(await decide(client, org, approver, app["id"], "return"), 422, "approvals.invalid")
    back = await decide(client, org, approver, app["id"], "return", comment="补充近六个月流水")
    assert (back.json()["status"], back.json()["stage"]) == ("returned", "second"), back.text
    assert await _tasks(client, org, approver) == []
    again = await client.post(f"/api/applications/{app['id']}/submit", headers=org["h"]["li"])
    assert (again.json()["status"], again.json()["stage"]) == ("in_review", "second"), again.text
    # Approvers are asked again in the new round; the one who returned it may decide their stage again.
    team = [t for t in await _tasks(client, org, "admin", "team") if t["application_id"] == app["id"]]
    assert len(team) == 1 and team[0]["round"] == 2
    gone = await decide(client, org, "li", app["id"], "withdraw", comment="客户放弃")
    assert gone.json()["status"] == "withdrawn", gone.text
    async with runtime.sessions() as session:
        left = (
            await session.scalars(
                select(FlowTask).where(FlowTask.application_id == app["id"], FlowTask.status == "open")
            )
        ).all()
        assert left == []
        rows = (
            await session.scalars(select(FlowDecision).where(FlowDecision.application_id == app["id"]))
        ).all()
        assert [r.decision for r in rows] == ["approve", "return"]


async def test_manual_review_moves_are_refused_for_a_product_with_a_flow(hub):
    client, _runtime, org = hub
    app = await submit(client, org, "a", "business", "100000.00")
    moved = await client.post(
        f"/api/applications/{app['id']}/transition", json={"to": "approved"}, headers=org["h"]["admin"]
    )
    _problem(moved, 409, "applications.flow_governed")
