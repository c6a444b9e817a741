"""Delegation, the inbox's claim and release, and what bad input gets: a clear error, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from accesshub import access_hub
from flowsorg import CONSUMER, decide, setup_flows, status_of, submit
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.flows.models import AuthorityLimit, Delegation, FlowVersion


@pytest.fixture
async def hub(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup_flows(client, runtime)
        yield client, runtime, org


def _code(response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["code"])


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def _period(hours_from: float, hours_to: float) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "starts_at": (now + timedelta(hours=hours_from)).isoformat(),
        "ends_at": (now + timedelta(hours=hours_to)).isoformat(),
    }


async def test_a_delegates_decision_records_both_names_and_ends_with_the_period(hub):
    client, runtime, org = hub
    h = org["h"]
    app = await submit(client, org, "b", "business", "300000.00")
    assert (await decide(client, org, "zhou", app["id"], "approve")).status_code == 200
    # wu (the only approver within 300,000) is away; ma stands in for him, with wu's authority.
    given = await client.post(
        "/api/delegations", json={"to_user": "ma", "reason": "年假", **_period(-1, 24)}, headers=h["wu"]
    )
    assert given.status_code == 201 and given.json()["active"] is True, given.text
    mine = await client.get("/api/tasks", headers=h["ma"])
    assert [t["assignee"] for t in mine.json()["items"]] == ["wu"]
    done = await decide(client, org, "ma", app["id"], "approve")
    assert (done.json()["decided_by"], done.json()["on_behalf_of"], done.json()["status"]) == (
        "user:ma",
        "user:wu",
        "approved",
    )
    listed = await client.get("/api/delegations", headers=h["ma"])
    assert [(d["from_user"], d["to_user"]) for d in listed.json()] == [("wu", "ma")]
    revoked = await client.delete(f"/api/delegations/{given.json()['id']}", headers=h["wu"])
    assert revoked.json()["active"] is False
    async with runtime.sessions() as session:
        actions = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == given.json()["id"]))
        ).all()
    assert sorted(actions) == ["flows.delegation_create", "flows.delegation_revoke"]
    # Once revoked, ma no longer sees wu's tasks.
    other = await submit(client, org, "a", "business", "300000.00")
    assert (await decide(client, org, "zhou", other["id"], "approve")).status_code == 200
    assert _code(await decide(client, org, "ma", other["id"], "approve"), 403) == "approvals.not_your_task"


async def test_delegations_refuse_bad_periods_self_chains_and_strangers(hub):
    client, runtime, org = hub
    h = org["h"]
    assert _fields(
        await client.post(
            "/api/delegations", json={"to_user": "wu", "reason": "x", **_period(2, 1)}, headers=h["wu"]
        )
    ) == {
        "to_user": "approvals.delegate_self",
        "ends_at": "approvals.delegation_period",
    }
    assert _fields(
        await client.post(
            "/api/delegations", json={"to_user": "nobody", "reason": "x", **_period(0, 1)}, headers=h["wu"]
        )
    ) == {"to_user": "approvals.user_unknown"}
    assert (
        _code(
            await client.post(
                "/api/delegations",
                json={"to_user": "ma", "from_user": "zhou", "reason": "x", **_period(0, 1)},
                headers=h["wu"],
            ),
            403,
        )
        == "auth.forbidden"
    )
    ok = await client.post(
        "/api/delegations", json={"to_user": "ma", "reason": "出差", **_period(0, 5)}, headers=h["wu"]
    )
    assert ok.status_code == 201
    chained = await client.post(
        "/api/delegations", json={"to_user": "zhou", "reason": "x", **_period(1, 2)}, headers=h["ma"]
    )
    assert _code(chained, 409) == "approvals.delegation_chain"
    assert (
        _code(await client.delete("/api/delegations/nope", headers=h["ma"]), 404)
        == "approvals.delegation_not_found"
    )
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delegation)) == 1


async def test_claim_and_release_a_queue_task(hub):
    client, _runtime, org = hub
    h = org["h"]
    app = await submit(client, org, "a", "business", "100000.00")
    (task,) = (await client.get("/api/tasks", params={"view": "queue"}, headers=h["zhou"])).json()["items"]
    assert (
        _code(await client.post(f"/api/tasks/{task['id']}/release", headers=h["zhou"]), 403)
        == "approvals.not_your_task_to_release"
    )
    assert (
        _code(await client.post(f"/api/tasks/{task['id']}/claim", headers=h["wu"]), 403)
        == "approvals.not_in_pool"
    )
    assert (await client.post(f"/api/tasks/{task['id']}/claim", headers=h["zhou"])).json()[
        "assignee"
    ] == "zhou"
    again = await client.post(f"/api/tasks/{task['id']}/claim", headers=h["zhou"])
    assert again.status_code == 200  # claiming one's own task again changes nothing
    released = await client.post(f"/api/tasks/{task['id']}/release", headers=h["zhou"])
    assert released.json()["assignee"] is None
    assert (
        _code(await client.post("/api/tasks/nope/claim", headers=h["zhou"]), 404)
        == "approvals.task_not_found"
    )
    assert (
        await decide(client, org, "zhou", app["id"], "approve")
    ).status_code == 200  # a queue member decides
    assert (
        _code(await client.post(f"/api/tasks/{task['id']}/claim", headers=h["zhou"]), 409)
        == "approvals.task_closed"
    )
    done = await client.get("/api/tasks", params={"view": "mine", "status": "done"}, headers=h["zhou"])
    assert [(t["id"], t["outcome"]) for t in done.json()["items"]] == [(task["id"], "approve")]
    bad = await client.get("/api/tasks", params={"view": "everyone"}, headers=h["zhou"])
    assert _fields(bad) == {"view": "approvals.view_unknown"}
    assert (await client.get("/api/tasks", headers=h["li"])).status_code == 403  # officers decide nothing


async def test_malformed_decisions_are_refused_with_the_field_and_write_nothing(hub):
    client, runtime, org = hub
    app = await submit(client, org, "a", "business", "100000.00")
    assert _fields(await decide(client, org, "zhou", app["id"], "maybe")) == {
        "decision": "approvals.decision_unknown"
    }
    assert _fields(await decide(client, org, "zhou", app["id"], "reject")) == {
        "reason_codes": "approvals.reason_codes_required"
    }
    assert _fields(await decide(client, org, "zhou", app["id"], "transfer")) == {
        "to_user": "approvals.transfer_needs_user"
    }
    bad_codes = await decide(client, org, "zhou", app["id"], "reject", reason_codes=["Not A Code"])
    assert bad_codes.status_code == 422
    unknown_field = await client.post(
        f"/api/applications/{app['id']}/decisions",
        json={"decision": "approve", "extra": 1},
        headers=org["h"]["zhou"],
    )
    assert unknown_field.status_code == 422
    assert (
        _code(await decide(client, org, "zhou", app["id"], "transfer", to_user="li"), 403)
        == "approvals.transfer_refused"
    )
    assert _code(await decide(client, org, "zhou", "nope", "approve"), 404) == "applications.not_found"
    stale = await decide(client, org, "zhou", app["id"], "approve", version=1)
    assert _code(stale, 409) == "applications.stale"
    assert await status_of(client, org, app["id"]) == ("in_review", "first")
    async with runtime.sessions() as session:
        decisions = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "applications.decision")
        )
    assert decisions == 0


async def test_flows_with_errors_are_refused_with_paths_and_lines(hub):
    client, runtime, org = hub
    h = org["h"]
    broken = (
        CONSUMER.replace("SLA_HOURS", "24")
        .replace("REMIND_HOURS", "4")
        .replace("refer_to: review", "refer_to: nowhere")
    )
    broken = broken.replace("signals.risk_grade == 'high'", "signals.score > 1")
    refused = await client.post("/api/flows", json={"source": broken}, headers=h["risk"])
    errors = {(e["field"], e["code"], e["params"].get("line")) for e in refused.json()["errors"]}
    assert ("stages[0].refer_to", "flows.stage_unknown", 18) in errors, errors
    assert any(
        field == "stages[0].rules[1].when" and code == "flows.unknown_value" for field, code, _ in errors
    )
    syntax = await client.post("/api/flows", json={"source": "key: x\nstages: [\n"}, headers=h["risk"])
    assert syntax.status_code == 422 and syntax.json()["errors"][0]["code"] == "flows.source_syntax"
    neither = await client.post("/api/flows", json={}, headers=h["risk"])
    assert neither.status_code == 422
    assert (
        await client.post("/api/flows", json={"definition": {"key": "x"}}, headers=h["zhou"])
    ).status_code == 403
    same = await client.post(
        "/api/flows",
        json={"source": CONSUMER.replace("SLA_HOURS", "24").replace("REMIND_HOURS", "4")},
        headers=h["risk"],
    )
    assert (same.status_code, same.json()["version"], same.json()["created"]) == (201, 1, False)
    assert _code(await client.post("/api/flows/nope/publish", headers=h["risk"]), 404) == "flows.not_found"
    assert (
        _code(await client.post("/api/flows/consumer/publish", json={"version": 9}, headers=h["risk"]), 404)
        == "flows.version_not_found"
    )
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FlowVersion)) == 3


async def test_authority_table_is_checked_whole(hub):
    client, runtime, org = hub
    h = org["h"]
    bad = {
        "limits": [
            {"subject_kind": "role", "subject": "ghost", "max_exposure": "1.00"},
            {"subject_kind": "user", "subject": "nobody", "max_exposure": "1.00"},
            {"subject_kind": "role", "subject": "approver", "max_exposure": "-5"},
            {"subject_kind": "role", "subject": "approver", "max_exposure": "1.005"},
        ]
    }
    assert _fields(await client.put("/api/authority-limits", json=bad, headers=h["risk"])) == {
        "limits[0].subject": "approvals.limit_unknown_role",
        "limits[1].subject": "approvals.limit_unknown_user",
        "limits[2].max_exposure": "approvals.limit_amount",
        "limits[3].subject": "approvals.limit_duplicate",
        "limits[3].max_exposure": "approvals.limit_amount",
    }
    assert (
        await client.put("/api/authority-limits", json={"limits": []}, headers=h["wu"])
    ).status_code == 403
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuthorityLimit)) == 2  # as set up
    read = await client.get("/api/authority-limits", headers=h["wu"])
    assert [(row["subject"], row["max_exposure"]) for row in read.json()["limits"]] == [
        ("approver", "200000.00"),
        ("wu", "400000.00"),
    ]


async def test_signals_refuse_bad_names_and_values(hub):
    client, _runtime, org = hub
    app = await submit(client, org, "a", "business", "100000.00")
    put = await client.put(
        f"/api/applications/{app['id']}/signals",
        json={"signals": {"Bad Name": 1, "score": {"nested": True}, "grade": "A"}, "source": "model"},
        headers=org["h"]["risk"],
    )
    assert _fields(put) == {
        "signals.Bad Name": "approvals.signal_name",
        "signals.score": "approvals.signal_value",
    }
    officer = await client.put(
        f"/api/applications/{app['id']}/signals",
        json={"signals": {"grade": "A"}, "source": "me"},
        headers=org["h"]["li"],
    )
    assert officer.status_code == 403
    ok = await client.put(
        f"/api/applications/{app['id']}/signals",
        json={"signals": {"grade": "A", "score": 712}, "source": "model"},
        headers=org["h"]["risk"],
    )
    assert ok.json() == {"signals": {"grade": "A", "score": 712}}


async def test_dry_run_of_typed_values_and_the_diagram(hub):
    client, _runtime, org = hub
    h = org["h"]
    dry = await client.post(
        "/api/flows/consumer/dry-run",
        json={
            "values": {"amount": "30000", "product": {"code": "consumer"}, "signals": {"risk_grade": "low"}}
        },
        headers=h["zhou"],
    )
    assert dry.status_code == 200, dry.text
    assert (dry.json()["end"], [s["stage"] for s in dry.json()["path"]]) == ("approved", ["auto"])
    assert dry.json()["path"][0]["reason_codes"] == ["auto.low_risk"]
    missing = await client.post(
        "/api/flows/consumer/dry-run", json={"values": {"amount": "30000"}}, headers=h["zhou"]
    )
    body = missing.json()
    assert body["missing_signals"] == ["signals.risk_grade"]
    assert (
        body["path"][0]["why"] == "signals missing: signals.risk_grade"
    )  # named once, though two rules read it
    assert [s["stage"] for s in body["path"]] == ["auto", "review"] and body["path"][1]["asked"] == [
        {"role": "reviewer"}
    ]
    business = await client.post(
        "/api/flows/business/dry-run",
        json={"values": {"amount": "300000", "product": {"code": "business"}}},
        headers=h["zhou"],
    )
    second = business.json()["path"][1]
    assert second["asked"] == [{"role": "approver", "limit": "200000.00", "within": False}]
    assert business.json()["path"][-1]["stage"] == "final"
    both = await client.post(
        "/api/flows/consumer/dry-run", json={"values": {}, "application_id": "x"}, headers=h["zhou"]
    )
    assert _fields(both) == {"application_id": "approvals.dry_run_input"}
    garbage = await client.post(
        "/api/flows/consumer/dry-run", json={"values": {"amount": "lots"}}, headers=h["zhou"]
    )
    assert _fields(garbage) == {"values": "approvals.dry_run_values"}
    diagram = await client.get("/api/flows/committee/diagram", headers=h["zhou"])
    assert diagram.json()["mermaid"].startswith("flowchart TD") and "贷审会" in diagram.json()["mermaid"]
    assert (await client.get("/api/flows/consumer/diagram", headers=h["li"])).status_code == 403


async def test_a_seat_does_not_outlive_the_permission_and_a_hand_withdrawal_closes_the_tasks(hub):
    from core.access import Actor
    from core.access import service as access
    from core.flows.models import FlowTask

    client, runtime, org = hub
    app = await submit(client, org, "a", "business", "100000.00")
    (task,) = (await client.get("/api/tasks", params={"view": "queue"}, headers=org["h"]["zhou"])).json()[
        "items"
    ]
    assert (await client.post(f"/api/tasks/{task['id']}/claim", headers=org["h"]["zhou"])).status_code == 200
    async with runtime.sessions() as session, session.begin():
        await access.set_user_roles(
            session, Actor.operator("test"), "zhou", ["risk_manager"]
        )  # reads, decides not
    assert _code(await decide(client, org, "zhou", app["id"], "approve"), 403) == "auth.forbidden"
    withdrawn = await client.post(
        f"/api/applications/{app['id']}/transition",
        json={"to": "withdrawn", "reason": "客户撤回"},
        headers=org["h"]["li"],
    )
    assert withdrawn.json()["status"] == "withdrawn", withdrawn.text
    async with runtime.sessions() as session:
        statuses = (
            await session.scalars(select(FlowTask.status).where(FlowTask.application_id == app["id"]))
        ).all()
    assert statuses == ["cancelled"]
