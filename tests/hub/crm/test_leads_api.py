"""Leads over HTTP with real tokens: partners push, officers work and convert, scopes hold.

The org is ``accesshub.make_org``: li and wang are loan officers of SH01-T1, zhao of BJ01, chen
manages EAST (above SH01-T1), admin is at HQ. Partners are created by the admin through the API
and push with the token that answer carries, as a partner would.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from accesshub import access_hub, bearer, make_org
from dbfixtures import assert_not_in_dump, raw_dump
from sqlalchemy import func, select

from core.audit import AuditEntry, verify_chain
from core.db import utcnow
from core.jobs import JobExecutor, claim_due
from core.leads import Lead
from core.outbox import OutboxEvent

PERSON = {
    "partner_lead_id": "A-1001",
    "name": "王小明",
    "mobile": "13912345678",
    "id_number": "110105199003071239",
    "product_code": "consumer-std",
    "requested_amount": "50000",
    "campaign": "spring",
}


class Clock:
    """The clock the leads code, its routes and the job claims read, moved by the test."""

    TARGETS = (
        "core.leads.sla.utcnow",
        "core.leads.views.utcnow",
        "core.jobs.repository.utcnow",
        "hub.api.routes.leads.utcnow",
        "hub.api.routes.follow_ups.utcnow",
    )

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        for target in self.TARGETS:
            monkeypatch.setattr(target, self)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


async def _org(client, runtime):
    await make_org(runtime)
    return {name: await bearer(client, name) for name in ("li", "wang", "zhao", "chen", "admin")}


async def _partner(client, admin, code="acme", branch="SH01-T1", **extra):
    created = await client.post(
        "/api/partners", json={"code": code, "name": f"{code} 助贷", "branch": branch, **extra}, headers=admin
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['api_token']}"}


async def _round_robin(client, admin, branch="SH01-T1"):
    rules = await client.put(
        "/api/lead-rules", json={"rules": [{"kind": "round_robin", "branch": branch}]}, headers=admin
    )
    assert rules.status_code == 200, rules.text


async def _run_due_jobs(runtime) -> int:
    """Claim every due job and run it with the hub's real handlers, as a worker would."""
    executor = JobExecutor(runtime.sessions, runtime.handlers, owner="test-worker", lease_seconds=30)
    jobs = await claim_due(runtime.sessions, executor.owner, executor.lease_seconds, 100)
    for job in jobs:
        await executor.execute(job)
    return len(jobs)


async def test_a_partner_lead_followed_up_and_converted(database_url, engine, tmp_path, clock):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        await _round_robin(client, h["admin"])
        acme = await _partner(client, h["admin"])
        pushed = await client.post("/api/leads", json=PERSON, headers=acme)
        assert pushed.status_code == 201, pushed.text
        assert pushed.json() | {"id": "-"} == {
            "id": "-",
            "partner_lead_id": "A-1001",
            "status": "new",
            "created": True,
            "duplicate": False,
            "linked_to": [],
        }
        lead_id = pushed.json()["id"]
        mine = (await client.get("/api/leads", headers=h["li"])).json()
        assert mine["total"] == 1
        lead = mine["items"][0]
        assert (lead["owner"], lead["branch"], lead["partner"], lead["channel"]) == (
            "li",
            "SH01-T1",
            "acme",
            "partner_referral",
        )
        assert lead["mobile"] == "139****5678" and lead["id_number"] == "110105********1239"
        assert lead["requested_amount"] == "50000.00" and lead["campaign"] == "spring"
        due = datetime.fromisoformat(lead["first_contact_due_at"])
        assert due - datetime.fromisoformat(lead["assigned_at"]) == timedelta(hours=2)

        clock.advance(minutes=30)
        call = await client.post(
            f"/api/leads/{lead_id}/follow-ups",
            json={
                "kind": "call",
                "outcome": "接通，有意向",
                "next_action": "上门收集收入证明",
                "next_due_at": (clock.now + timedelta(days=1)).isoformat(),
            },
            headers=h["li"],
        )
        assert call.status_code == 201, call.text
        assert call.json()["owner"] == "li" and call.json()["overdue"] is False
        after_call = (await client.get(f"/api/leads/{lead_id}", headers=h["li"])).json()
        assert after_call["status"] == "contacting" and after_call["first_contacted_at"] is not None
        qualified = await client.post(
            f"/api/leads/{lead_id}/transition", json={"to": "qualified"}, headers=h["li"]
        )
        assert qualified.status_code == 200 and qualified.json()["status"] == "qualified"
        docs = await client.post(
            f"/api/leads/{lead_id}/follow-ups",
            json={"kind": "document_received", "outcome": "收到收入证明与银行流水"},
            headers=h["li"],
        )
        assert docs.status_code == 201
        listed = (await client.get(f"/api/leads/{lead_id}/follow-ups", headers=h["li"])).json()
        assert listed["total"] == 2 and all(f["done"] for f in listed["items"])  # the visit was answered

        converted = await client.post(f"/api/leads/{lead_id}/convert", json={}, headers=h["li"])
        assert converted.status_code == 200, converted.text
        result = converted.json()
        assert result["customer_created"] is True and result["application_id"] is None
        assert (
            result["lead"]["status"] == "converted" and result["lead"]["customer_id"] == result["customer_id"]
        )
        customer = (await client.get(f"/api/customers/{result['customer_id']}", headers=h["li"])).json()
        assert (customer["name"], customer["owner"], customer["channel"], customer["channel_partner"]) == (
            "王小明",
            "li",
            "partner_referral",
            "acme",
        )
        view = (await client.get(f"/api/customers/{result['customer_id']}/360", headers=h["li"])).json()
        assert [(x["id"], x["status"]) for x in view["leads"]] == [(lead_id, "converted")]
        assert [f["kind"] for f in view["follow_ups"]] == ["document_received", "call"]
        again = await client.post(f"/api/leads/{lead_id}/convert", json={}, headers=h["li"])
        assert again.status_code == 409 and again.json()["code"] == "leads.transition_refused"

        async with runtime.sessions() as session:
            entries = (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.target_id == lead_id).order_by(AuditEntry.seq)
                )
            ).all()
            assert [(e.actor, e.action) for e in entries] == [
                ("token:partner-acme-1", "leads.create"),
                ("user:li", "leads.follow_up"),
                ("user:li", "leads.transition"),
                ("user:li", "leads.follow_up"),
                ("user:li", "leads.convert"),
            ]
            assert entries[0].after["mobile"] == "139****5678"
            events = (await session.scalars(select(OutboxEvent.event_type))).all()
            assert events == ["lead.converted"]
            assert (await verify_chain(session))[1] is None
        assert_not_in_dump(await raw_dump(engine), PERSON["mobile"], PERSON["id_number"])


async def test_a_push_repeated_or_concurrent_is_one_lead_and_a_changed_body_is_409(
    database_url, engine, tmp_path
):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        acme = await _partner(client, h["admin"])
        first = await client.post("/api/leads", json=PERSON, headers=acme)
        assert first.status_code == 201
        retry = await client.post("/api/leads", json={**PERSON, "mobile": "+86 139-1234-5678"}, headers=acme)
        assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
        assert retry.json()["created"] is False
        changed = await client.post("/api/leads", json={**PERSON, "requested_amount": "80000"}, headers=acme)
        assert changed.status_code == 409 and changed.json()["code"] == "leads.partner_lead_id_reused"
        assert changed.json()["errors"][0]["field"] == "partner_lead_id"

        other = {**PERSON, "partner_lead_id": "A-2002", "mobile": "13700001111", "id_number": None}
        answers = await asyncio.gather(
            *[client.post("/api/leads", json=other, headers=acme) for _ in range(5)]
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
        assert len({a.json()["id"] for a in answers}) == 1
        async with runtime.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(Lead))
            created = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "leads.create")
            )
        assert (count, created) == (2, 2)


async def test_the_same_person_from_two_partners_is_a_linked_duplicate(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        await _round_robin(client, h["admin"])
        acme = await _partner(client, h["admin"])
        beta = await _partner(client, h["admin"], code="beta", branch="BJ01")
        first = (await client.post("/api/leads", json=PERSON, headers=acme)).json()
        same_mobile = {**PERSON, "partner_lead_id": "B-77", "id_number": None, "name": "王晓明"}
        dup = await client.post("/api/leads", json=same_mobile, headers=beta)
        assert dup.status_code == 201, dup.text
        assert dup.json()["status"] == "duplicate" and dup.json()["duplicate"] is True
        assert dup.json()["linked_to"] == ["lead"] and first["id"] not in dup.text  # no other partner's id
        seen = (await client.get(f"/api/leads/{dup.json()['id']}", headers=h["li"])).json()
        assert (seen["duplicate_of"], seen["owner"], seen["partner"]) == (first["id"], "li", "beta")
        assert (await client.get(f"/api/leads/{dup.json()['id']}", headers=h["zhao"])).status_code == 404

        customer = await client.post(
            "/api/customers",
            json={
                "kind": "person",
                "name": "赵六",
                "id_number": "310104198506152344",
                "mobile": "13600136000",
            },
            headers=h["zhao"],
        )
        assert customer.status_code == 201
        known = {
            "partner_lead_id": "B-78",
            "name": "赵六",
            "mobile": "13511112222",
            "id_number": "310104198506152344",
        }
        linked = (await client.post("/api/leads", json=known, headers=beta)).json()
        assert (linked["status"], linked["linked_to"]) == ("duplicate", ["customer"])
        zhaos = (await client.get(f"/api/leads/{linked['id']}", headers=h["zhao"])).json()
        assert zhaos["customer_id"] == customer.json()["id"] and zhaos["owner"] == "zhao"

        fresh = {"name": "钱七", "mobile": "13822223333"}
        together = await asyncio.gather(
            client.post("/api/leads", json={**fresh, "partner_lead_id": "A-9"}, headers=acme),
            client.post("/api/leads", json={**fresh, "partner_lead_id": "B-9"}, headers=beta),
        )
        assert sorted(a.json()["status"] for a in together) == ["duplicate", "new"]


async def test_a_partner_over_its_rate_gets_429_with_retry_after(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        slow = await _partner(client, h["admin"], code="slow", rate_limit_per_minute=3)
        other = await _partner(client, h["admin"], code="other", rate_limit_per_minute=3)
        pushes = [
            {**PERSON, "partner_lead_id": f"S-{i}", "mobile": f"1391111000{i}", "id_number": None}
            for i in range(4)
        ]
        answers = [await client.post("/api/leads", json=body, headers=slow) for body in pushes]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        limited = answers[-1]
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["code"] == "leads.rate_limited" and "3" in limited.json()["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert (await client.post("/api/leads", json=pushes[3], headers=other)).status_code == 201
        async with runtime.sessions() as session:
            assert (
                await session.scalar(
                    select(func.count()).select_from(Lead).where(Lead.partner_lead_id == "S-3")
                )
                == 1
            )


async def test_only_a_live_partner_token_may_push(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        admin_push = await client.post("/api/leads", json=PERSON, headers=h["admin"])
        assert admin_push.status_code == 403 and admin_push.json()["code"] == "leads.not_a_partner"
        officer_push = await client.post("/api/leads", json=PERSON, headers=h["li"])
        assert officer_push.status_code == 403 and "leads.push" in officer_push.json()["detail"]
        acme = await _partner(client, h["admin"])
        paused = await client.patch("/api/partners/acme", json={"active": False}, headers=h["admin"])
        assert paused.status_code == 200 and paused.json()["active"] is False
        refused = await client.post("/api/leads", json=PERSON, headers=acme)
        assert refused.status_code == 403 and refused.json()["code"] == "leads.partner_inactive"
        await client.patch("/api/partners/acme", json={"active": True}, headers=h["admin"])
        reissued = await client.post("/api/partners/acme/token", headers=h["admin"])
        assert reissued.status_code == 200 and reissued.json()["token"] == "partner-acme-2"
        assert (await client.post("/api/leads", json=PERSON, headers=acme)).status_code == 401  # revoked
        new = {"Authorization": f"Bearer {reissued.json()['api_token']}"}
        assert (await client.post("/api/leads", json=PERSON, headers=new)).status_code == 201
        bad = await client.post(
            "/api/leads",
            json={**PERSON, "partner_lead_id": "x", "mobile": "12345", "requested_amount": "-5"},
            headers=new,
        )
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"mobile", "requested_amount"}
        bad_partner = await client.post(
            "/api/partners", json={"code": "No Good", "name": "", "branch": "XX"}, headers=h["admin"]
        )
        assert bad_partner.status_code == 422
        assert {e["field"] for e in bad_partner.json()["errors"]} == {"code", "name", "branch"}


async def test_illegal_transitions_are_refused_naming_the_allowed_ones(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        lead = await client.post(
            "/api/leads/register", json={"name": "孙八", "mobile": "13633334444"}, headers=h["li"]
        )
        assert (
            lead.status_code == 201 and lead.json()["owner"] == "li" and lead.json()["channel"] == "offline"
        )
        url = f"/api/leads/{lead.json()['id']}"
        jump = await client.post(f"{url}/transition", json={"to": "qualified"}, headers=h["li"])
        assert jump.status_code == 409 and jump.json()["code"] == "leads.transition_refused"
        assert jump.json()["errors"][0]["params"]["allowed_statuses"] == [
            "contacting",
            "disqualified",
            "duplicate",
        ]
        assert "contacting, disqualified, duplicate" in jump.json()["detail"]
        early = await client.post(f"{url}/convert", json={}, headers=h["li"])
        assert early.status_code == 409 and "contacting" in early.json()["detail"]
        nonsense = await client.post(f"{url}/transition", json={"to": "won"}, headers=h["li"])
        assert nonsense.status_code == 422 and nonsense.json()["errors"][0]["field"] == "to"
        no_reason = await client.post(f"{url}/transition", json={"to": "disqualified"}, headers=h["li"])
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
        for step in ("contacting", "qualified"):
            assert (
                await client.post(f"{url}/transition", json={"to": step}, headers=h["li"])
            ).status_code == 200
        direct = await client.post(f"{url}/transition", json={"to": "converted"}, headers=h["li"])
        assert direct.status_code == 409 and direct.json()["code"] == "leads.convert_required"
        stale = await client.post(
            f"{url}/transition", json={"to": "disqualified", "reason": "x", "version": 1}, headers=h["li"]
        )
        assert stale.status_code == 409 and stale.json()["code"] == "leads.stale"
        out = await client.post(
            f"{url}/transition", json={"to": "disqualified", "reason": "无还款能力"}, headers=h["li"]
        )
        assert out.status_code == 200 and out.json()["reason"] == "无还款能力"
        final = await client.post(f"{url}/transition", json={"to": "contacting"}, headers=h["li"])
        assert final.status_code == 409 and final.json()["errors"][0]["params"]["allowed_statuses"] == []
        closed = await client.post(
            f"{url}/follow-ups", json={"kind": "call", "outcome": "x"}, headers=h["li"]
        )
        assert closed.status_code == 409 and closed.json()["code"] == "leads.closed"


async def test_another_branch_sees_404_and_the_queue_is_taken_not_worked(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        acme = await _partner(client, h["admin"])  # no rules: its leads wait in SH01-T1's queue
        lead_id = (await client.post("/api/leads", json=PERSON, headers=acme)).json()["id"]
        url = f"/api/leads/{lead_id}"
        for who in ("li", "wang", "chen"):
            page = (await client.get("/api/leads", params={"queued": "true"}, headers=h[who])).json()
            assert [x["id"] for x in page["items"]] == [lead_id], who
        assert (await client.get("/api/leads", headers=h["zhao"])).json()["total"] == 0
        for method, path, body in [
            ("GET", url, None),
            ("POST", f"{url}/transition", {"to": "contacting"}),
            ("POST", f"{url}/follow-ups", {"kind": "call", "outcome": "x"}),
            ("POST", f"{url}/assign", {"owner": "zhao"}),
            ("POST", f"{url}/convert", {}),
        ]:
            answer = await client.request(method, path, json=body, headers=h["zhao"])
            assert answer.status_code == 404 and answer.json()["code"] == "leads.not_found", (method, path)
        # li sees the queued lead but works it only once taken.
        untaken = await client.post(f"{url}/transition", json={"to": "contacting"}, headers=h["li"])
        assert untaken.status_code == 404
        give = await client.post(f"{url}/assign", json={"owner": "zhao"}, headers=h["li"])
        assert give.status_code == 403 and give.json()["code"] == "leads.owner_out_of_scope"
        dealt = await client.post(f"{url}/assign", json={}, headers=h["li"])
        assert dealt.status_code == 403 and dealt.json()["code"] == "leads.deal_needs_scope"
        taken = await client.post(f"{url}/assign", json={"owner": "li"}, headers=h["li"])
        assert taken.status_code == 200 and taken.json()["owner"] == "li" and taken.json()["queued"] is False
        assert taken.json()["first_contact_due_at"] is not None
        assert (await client.get(url, headers=h["wang"])).status_code == 404
        assert (
            await client.post(f"{url}/transition", json={"to": "contacting"}, headers=h["li"])
        ).status_code == 200
        moved = await client.post(f"{url}/assign", json={"owner": "wang"}, headers=h["chen"])
        assert moved.status_code == 200 and moved.json()["owner"] == "wang"
        assert (await client.get(url, headers=h["li"])).status_code == 404
        shown = await client.get(url, params={"reveal": "mobile", "purpose": "回访客户"}, headers=h["wang"])
        assert shown.json()["mobile"] == PERSON["mobile"] and shown.json()["revealed"] == ["mobile"]


async def test_sla_breach_is_reminded_once_by_the_worker_and_overdue_lists_fill(
    database_url, engine, tmp_path, clock
):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        await _round_robin(client, h["admin"])
        put = await client.put(
            "/api/lead-sla", json={"first_contact_hours": {"partner_referral": 4}}, headers=h["admin"]
        )
        assert put.status_code == 200 and put.json()["first_contact_hours"]["partner_referral"] == 4
        acme = await _partner(client, h["admin"])
        late = (await client.post("/api/leads", json=PERSON, headers=acme)).json()["id"]  # li
        contacted = {**PERSON, "partner_lead_id": "A-2", "mobile": "13700002222", "id_number": None}
        early = (await client.post("/api/leads", json=contacted, headers=acme)).json()["id"]  # wang
        await client.post(
            f"/api/leads/{early}/follow-ups",
            json={
                "kind": "message",
                "outcome": "已发短信",
                "next_action": "回电",
                "next_due_at": (clock.now + timedelta(hours=1)).isoformat(),
            },
            headers=h["wang"],
        )
        assert await _run_due_jobs(runtime) == 0  # nothing is due yet
        clock.advance(hours=4, minutes=1)
        assert await _run_due_jobs(runtime) == 2  # both leads' deadlines; only the uncontacted one is late
        assert await _run_due_jobs(runtime) == 1  # the reminder's outbox dispatch
        assert await _run_due_jobs(runtime) == 0

        async def breaches():
            async with runtime.sessions() as session:
                rows = (
                    await session.scalars(
                        select(OutboxEvent).where(OutboxEvent.event_type == "lead.sla_breached")
                    )
                ).all()
                return [(r.subject_id, r.payload["owner"]) for r in rows]

        assert await breaches() == [(late, "li")]
        async with runtime.sessions() as session:  # a duplicated wake-up, or the handler run again by hand
            from core.leads.sla import remind_if_breached

            assert await remind_if_breached(session, late, clock.now) is False
        assert await breaches() == [(late, "li")]
        overdue = (await client.get("/api/leads", params={"overdue": "true"}, headers=h["li"])).json()
        assert [x["id"] for x in overdue["items"]] == [late] and overdue["items"][0]["first_contact_overdue"]
        wangs = (await client.get("/api/leads", params={"overdue": "true"}, headers=h["wang"])).json()
        assert [x["id"] for x in wangs["items"]] == [early]  # contacted in time, but its next action is late
        assert wangs["items"][0]["first_contact_overdue"] is False
        actions = (await client.get("/api/follow-ups", params={"overdue": "true"}, headers=h["wang"])).json()
        assert actions["total"] == 1 and actions["items"][0]["next_action"] == "回电"
        assert (await client.get("/api/follow-ups", params={"overdue": "true"}, headers=h["li"])).json()[
            "total"
        ] == 0
        done = await client.post(f"/api/follow-ups/{actions['items'][0]['id']}/done", headers=h["wang"])
        assert done.status_code == 200 and done.json()["done"] is True
        assert (await client.get("/api/follow-ups", params={"overdue": "true"}, headers=h["wang"])).json()[
            "total"
        ] == 0

        # A new owner gets a new clock, and a new breach is a new reminder.
        moved = await client.post(f"/api/leads/{late}/assign", json={"owner": "wang"}, headers=h["chen"])
        assert moved.json()["sla_breached_at"] is None
        clock.advance(hours=5)
        assert await _run_due_jobs(runtime) == 1
        assert await breaches() == [(late, "li"), (late, "wang")]
