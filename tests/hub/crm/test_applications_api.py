"""Loan applications over HTTP, as officers, reviewers of two branches, a manager and an admin.

li opens an application for her customer, fills it, submits it against the form version it was
opened with (a newer one published meanwhile changes nothing); zhou (a reviewer of SH01) reviews
and decides; zhao and qin (BJ01) see none of it. Every refusal is a problem naming the field or
the rule, and leaves nothing written.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from accesshub import access_hub
from applicationsorg import FORM, PRODUCT, VALUES, open_application, setup
from dbfixtures import assert_not_in_dump, raw_dump
from sqlalchemy import func, select

from core.access import User
from core.access.repository import user_actor
from core.applications import Application, ApplicationTransition
from core.applications.service import create_draft
from core.audit import AuditEntry, verify_chain
from core.errors import Invalid
from core.outbox import OutboxEvent


@pytest.fixture
async def hub(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        org = await setup(client, runtime)
        yield client, runtime, org


async def _count(runtime, table, *where) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _fields(response) -> dict[str, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return {e["field"]: e["code"] for e in response.json()["errors"]}


async def test_officer_fills_and_submits_against_the_form_version_it_was_opened_with(hub, engine):
    client, runtime, org = hub
    h = org["h"]
    draft = await open_application(client, org, values={"income": {"monthly": 18000}})
    assert (
        draft["status"] == "draft" and draft["form_version"] == 1 and draft["product_code"] == "consumer-12"
    )
    assert (draft["amount"], draft["term_months"], draft["repayment_method"]) == (
        "100000.00",
        12,
        "equal_installment",
    )
    assert (draft["channel"], draft["owner"], draft["branch"], draft["version"]) == (
        "partner_referral",
        "li",
        "SH01-T1",
        1,
    )
    assert draft["next_statuses"] == ["submitted", "withdrawn", "expired"] and draft["expires_at"]
    # A stricter version 2 is published while li fills the form in; her application keeps version 1.
    stricter = {
        **FORM,
        "json_schema": {**FORM["json_schema"], "required": ["amount", "income", "employer", "x"]},
    }
    assert (
        await client.put(f"/api/products/{org['product']}/form", json=stricter, headers=h["admin"])
    ).json()["version"] == 2
    changed = await client.patch(
        f"/api/applications/{draft['id']}", json={"values": VALUES, "version": 1}, headers=h["li"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["values"] == VALUES
    submitted = await client.post(
        f"/api/applications/{draft['id']}/submit", json={"version": 2}, headers=h["li"]
    )
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] == "submitted" and body["form_version"] == 1 and body["submitted_at"]
    assert body["expires_at"] is None and body["next_statuses"] == [
        "in_review",
        "returned",
        "rejected",
        "withdrawn",
    ]
    history = (await client.get(f"/api/applications/{draft['id']}/history", headers=h["li"])).json()
    assert [(row["from_status"], row["to_status"], row["actor"]) for row in history] == [
        (None, "draft", "user:li"),
        ("draft", "submitted", "user:li"),
    ]
    async with runtime.sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_id == draft["id"]).order_by(AuditEntry.seq)
            )
        ).all()
        assert actions == ["applications.create", "applications.update", "applications.transition"]
        event = await session.scalar(select(OutboxEvent).where(OutboxEvent.subject_id == draft["id"]))
        assert event.event_type == "application_submitted"
        assert event.payload["amount"] == "100000.00" and event.payload["channel"] == "partner_referral"
        assert (await verify_chain(session))[1] is None
    # The form's values are sealed at rest: neither the employer nor the income is in the file.
    assert_not_in_dump(await raw_dump(engine), "上海某某科技有限公司", "18000")
    # Once submitted it cannot be changed.
    late = await client.patch(f"/api/applications/{draft['id']}", json={"purpose": "教育"}, headers=h["li"])
    assert late.status_code == 409 and late.json()["code"] == "applications.not_editable"


async def test_amounts_outside_the_product_and_bad_values_are_422_naming_the_field_and_write_nothing(hub):
    client, runtime, org = hub
    h = org["h"]
    base = {
        "customer_id": org["customers"]["li"],
        "product_id": org["product"],
        "amount": "100000.00",
        "term_months": 12,
    }
    for changes, fields in [
        ({"amount": "999.99"}, {"amount": "products.amount_out_of_range"}),
        (
            {"amount": "500000.01", "term_months": 18},
            {"amount": "products.amount_out_of_range", "term_months": "products.term_not_offered"},
        ),
        ({"repayment_method": "bullet"}, {"repayment_method": "products.method_not_offered"}),
        ({"values": {"amount": 5, "income": {}}}, {"values.amount": "applications.value_is_a_field"}),
        ({"purpose": "x" * 201}, {"purpose": "validation.string_too_long"}),
        ({"amount": "1e5"}, {"amount": "validation.value_error"}),
        ({"amount": "100.001"}, {"amount": "validation.decimal_max_places"}),
        ({"surprise": 1}, {"surprise": "validation.extra_forbidden"}),
    ]:
        refused = await client.post("/api/applications", json={**base, **changes}, headers=h["li"])
        assert refused.status_code == 422, (changes, refused.text)
        assert _fields(refused) == fields, changes
    english = await client.post(
        "/api/applications", json={**base, "amount": "999.99"}, headers={**h["li"], "Accept-Language": "en"}
    )
    assert "from 1000.00 to 500000.00" in english.json()["errors"][0]["message"]
    assert await _count(runtime, Application) == 0 and await _count(runtime, ApplicationTransition) == 0
    assert await _count(runtime, AuditEntry, AuditEntry.action.startswith("applications.")) == 0

    draft = await open_application(client, org, values={"income": {"monthly": 0}, "employer": {"name": "某"}})
    refused = await client.post(f"/api/applications/{draft['id']}/submit", headers=h["li"])
    assert refused.status_code == 422 and refused.json()["code"] == "forms.submission_invalid"
    assert _fields(refused) == {"values.employer.name": "forms.min_length"}
    # Schema satisfied, a rule broken: the rule names its field (a form value) and itself.
    risky = {"income": {"monthly": 10000, "debt": 8000}, "employer": {"name": "某某公司"}}
    await client.patch(f"/api/applications/{draft['id']}", json={"values": risky}, headers=h["li"])
    refused = await client.post(f"/api/applications/{draft['id']}/submit", headers=h["li"])
    assert _fields(refused) == {"values.income.debt": "forms.debt_to_income_too_high"}
    assert refused.json()["errors"][0]["params"] == {"rule": "debt_to_income"}
    # A value the schema does not know: additionalProperties false names it.
    await client.patch(
        f"/api/applications/{draft['id']}", json={"values": {**VALUES, "salary": 1}}, headers=h["li"]
    )
    refused = await client.post(f"/api/applications/{draft['id']}/submit", headers=h["li"])
    assert _fields(refused) == {"values.salary": "forms.unexpected"}
    assert (await client.get(f"/api/applications/{draft['id']}", headers=h["li"])).json()["status"] == "draft"
    assert await _count(runtime, ApplicationTransition, ApplicationTransition.to_status == "submitted") == 0
    assert await _count(runtime, OutboxEvent) == 0

    # A deactivated product takes no new application and no submission.
    await client.patch(f"/api/products/{org['product']}", json={"active": False}, headers=h["admin"])
    inactive = await client.post("/api/applications", json=base, headers=h["li"])
    assert inactive.status_code == 409 and inactive.json()["code"] == "products.inactive"
    assert (await client.post(f"/api/applications/{draft['id']}/submit", headers=h["li"])).status_code == 409


async def test_illegal_transitions_are_409_naming_the_allowed_ones(hub):
    client, _, org = hub
    h = org["h"]
    draft = await open_application(client, org)
    refused = await client.post(
        f"/api/applications/{draft['id']}/transition",
        json={"to": "approved"},
        headers={**h["zhou"], "Accept-Language": "en"},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "applications.transition_refused"
    assert refused.json()["allowed"] == ["submitted", "withdrawn", "expired"]
    assert refused.json()["current"] == "draft"
    assert "submitted, withdrawn, expired" in refused.json()["detail"]
    assert _fields(refused) == {"to": "applications.transition_refused"}
    unknown = await client.post(
        f"/api/applications/{draft['id']}/transition", json={"to": "paid"}, headers=h["li"]
    )
    assert unknown.status_code == 422 and _fields(unknown) == {"to": "applications.status_unknown"}
    expire = await client.post(
        f"/api/applications/{draft['id']}/transition", json={"to": "expired"}, headers=h["li"]
    )
    assert expire.status_code == 403 and expire.json()["code"] == "applications.system_only"
    withdrawn = await client.post(
        f"/api/applications/{draft['id']}/transition",
        json={"to": "withdrawn", "reason": "客户不需要了"},
        headers=h["li"],
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["next_statuses"] == []
    final = await client.post(f"/api/applications/{draft['id']}/submit", headers=h["li"])
    assert final.status_code == 409 and final.json()["allowed"] == []


async def test_another_branch_sees_nothing_and_cannot_open_for_a_customer_outside_its_scope(hub):
    client, _, org = hub
    h = org["h"]
    mine = await open_application(client, org)
    for who in ("zhao", "qin", "wang"):
        assert (await client.get(f"/api/applications/{mine['id']}", headers=h[who])).status_code == 404
        page = (await client.get("/api/applications", headers=h[who])).json()
        assert page["total"] == 0 and page["items"] == []
        moved = await client.post(
            f"/api/applications/{mine['id']}/transition", json={"to": "withdrawn"}, headers=h[who]
        )
        assert moved.status_code == 404 and moved.json()["code"] == "applications.not_found"
    assert (await client.get(f"/api/applications/{mine['id']}/history", headers=h["zhao"])).status_code == 404
    foreign = await client.post(
        "/api/applications",
        json={
            "customer_id": org["customers"]["li"],
            "product_id": org["product"],
            "amount": "5000",
            "term_months": 6,
        },
        headers=h["zhao"],
    )
    assert foreign.status_code == 404 and foreign.json()["code"] == "customers.not_found"
    for who in ("chen", "zhou", "sun"):  # EAST's manager, SH01's reviewer, the auditor
        page = (await client.get("/api/applications", headers=h[who])).json()
        assert [item["id"] for item in page["items"]] == [mine["id"]], who
        assert page["items"][0]["values"] is None  # lists never carry form values
    filtered = await client.get(
        "/api/applications",
        params={"status": "draft", "owner": "li", "channel": "partner_referral", "sort": "-amount"},
        headers=h["chen"],
    )
    assert filtered.json()["total"] == 1
    for params in ({"status": "submitted"}, {"owner": "nobody"}, {"customer": org["customers"]["zhao"]}):
        assert (await client.get("/api/applications", params=params, headers=h["chen"])).json()["total"] == 0
    bad_sort = await client.get("/api/applications", params={"sort": "values"}, headers=h["chen"])
    assert bad_sort.status_code == 422 and _fields(bad_sort) == {"sort": "applications.sort_unknown"}
    view = (await client.get(f"/api/customers/{org['customers']['li']}/360", headers=h["li"])).json()
    assert [(a["id"], a["status"], a["amount"]) for a in view["applications"]] == [
        (mine["id"], "draft", "100000.00")
    ]
    other = (await client.get(f"/api/customers/{org['customers']['zhao']}/360", headers=h["zhao"])).json()
    assert other["applications"] == []


async def test_reviewer_reviews_returns_approves_and_rejects_with_reason_codes(hub):
    client, runtime, org = hub
    h = org["h"]

    async def move(app_id, who, **body):
        return await client.post(f"/api/applications/{app_id}/transition", json=body, headers=h[who])

    first = await open_application(client, org)
    await client.post(f"/api/applications/{first['id']}/submit", headers=h["li"])
    officer = await move(first["id"], "li", to="in_review")
    assert officer.status_code == 403 and "applications.decide" in officer.json()["detail"]
    assert (await move(first["id"], "zhou", to="in_review")).json()["status"] == "in_review"
    no_reason = await move(first["id"], "zhou", to="returned")
    assert no_reason.status_code == 422 and _fields(no_reason) == {"reason": "applications.reason_required"}
    returned = await move(first["id"], "zhou", to="returned", reason="请补充工作单位电话")
    assert returned.json()["status"] == "returned" and returned.json()["expires_at"]
    fixed = {**VALUES, "employer": {"name": "上海某某科技有限公司", "phone": "021-12345678"}}
    patched = await client.patch(f"/api/applications/{first['id']}", json={"values": fixed}, headers=h["li"])
    assert patched.status_code == 200
    assert (await client.post(f"/api/applications/{first['id']}/submit", headers=h["li"])).json()[
        "status"
    ] == "submitted"
    await move(first["id"], "zhou", to="in_review")
    stale = await move(first["id"], "zhou", to="approved", version=1)
    assert stale.status_code == 409 and stale.json()["code"] == "applications.stale"
    approved = await move(first["id"], "zhou", to="approved")
    assert approved.status_code == 200 and approved.json()["decided_at"]
    assert approved.json()["next_statuses"] == ["contracted", "in_review", "withdrawn"]

    second = await open_application(client, org, amount="20000")
    await client.post(f"/api/applications/{second['id']}/submit", headers=h["li"])
    no_codes = await move(second["id"], "zhou", to="rejected", reason="收入不足")
    assert no_codes.status_code == 422 and _fields(no_codes) == {
        "reason_codes": "applications.reason_codes_required"
    }
    bad_codes = await move(second["id"], "zhou", to="rejected", reason_codes=["ok", "ok"])
    assert bad_codes.status_code == 422 and "reason_codes" in _fields(bad_codes)
    rejected = await move(
        second["id"], "zhou", to="rejected", reason_codes=["income_insufficient", "dti.high"]
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    history = (await client.get(f"/api/applications/{second['id']}/history", headers=h["chen"])).json()
    assert (
        history[-1]["reason_codes"] == ["income_insufficient", "dti.high"]
        and history[-1]["actor"] == "user:zhou"
    )
    assert (await move(second["id"], "qin", to="in_review")).status_code == 404  # BJ01's reviewer
    async with runtime.sessions() as session:
        decided = {
            row.subject_id: row.payload
            for row in await session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type == "application_decided")
            )
        }
    assert (
        decided[first["id"]]["decision"] == "approved"
        and decided[first["id"]]["approved_amount"] == "100000.00"
    )
    assert decided[second["id"]] == {
        "application_id": second["id"],
        "decision": "declined",
        "reasons": ["income_insufficient", "dti.high"],
        "approved_amount": None,
        "channel": "partner_referral",
    }


async def test_withdrawal_needs_write_and_the_reviewer_cannot_withdraw(hub):
    client, _, org = hub
    h = org["h"]
    app = await open_application(client, org)
    await client.post(f"/api/applications/{app['id']}/submit", headers=h["li"])
    reviewer = await client.post(
        f"/api/applications/{app['id']}/transition", json={"to": "withdrawn"}, headers=h["zhou"]
    )
    assert reviewer.status_code == 403 and "applications.write" in reviewer.json()["detail"]
    officer = await client.post(
        f"/api/applications/{app['id']}/transition",
        json={"to": "withdrawn", "reason": "客户撤回"},
        headers=h["li"],
    )
    assert officer.status_code == 200 and officer.json()["status"] == "withdrawn"


async def test_unmet_gates_are_409_with_a_machine_readable_unmet_list(hub):
    client, runtime, org = hub
    h = org["h"]
    url = f"/api/products/{org['product']}/gates"
    assert (await client.get(url, headers=h["li"])).json()["gates"] == []
    bad = await client.put(
        url,
        json={
            "gates": [
                {"before": "draft", "gate": "required_fields", "params": {"fields": ["income.monthly"]}},
                {"before": "submitted", "gate": "face_match", "params": {"threshold": 0.9}},
                {"before": "approved", "gate": "required_fields", "params": {"fields": []}},
                {"before": "in_review", "gate": "required_fields", "params": {"paths": ["x"]}},
            ]
        },
        headers=h["admin"],
    )
    assert bad.status_code == 422 and _fields(bad) == {
        "gates[0].before": "applications.gate_state",
        "gates[1].gate": "applications.gate_unknown",
        "gates[2].params.fields": "applications.gate_fields_param",
        "gates[3].params.paths": "applications.gate_param_unknown",
    }
    gates = [
        {
            "before": "submitted",
            "gate": "required_fields",
            "params": {"fields": ["employer.phone", "purpose"]},
        }
    ]
    assert (await client.put(url, json={"gates": gates}, headers=h["li"])).status_code == 403
    saved = await client.put(url, json={"gates": gates}, headers=h["admin"])
    assert (
        saved.status_code == 200
        and saved.json()["gates"] == gates
        and "required_fields" in saved.json()["kinds"]
    )
    app = await open_application(client, org, purpose=None)
    refused = await client.post(
        f"/api/applications/{app['id']}/submit", headers={**h["li"], "Accept-Language": "en"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "applications.gates_unmet"
    assert refused.json()["unmet"] == [
        {"gate": "required_fields", "before": "submitted", "missing": ["employer.phone", "purpose"]}
    ]
    assert _fields(refused) == {
        "values.employer.phone": "applications.gate_field_missing",
        "purpose": "applications.gate_field_missing",
    }
    assert (await client.get(f"/api/applications/{app['id']}", headers=h["li"])).json()["status"] == "draft"
    filled = {**VALUES, "employer": {"name": "上海某某科技有限公司", "phone": "021-12345678"}}
    await client.patch(
        f"/api/applications/{app['id']}", json={"values": filled, "purpose": "装修"}, headers=h["li"]
    )
    assert (await client.post(f"/api/applications/{app['id']}/submit", headers=h["li"])).status_code == 200
    async with runtime.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "applications.gates_set"))
        assert entry.after == {"gates": gates} and entry.before == {"gates": []}


async def test_expiry_policy_is_set_by_product_managers_and_applies_to_new_clocks(hub):
    client, _, org = hub
    h = org["h"]
    assert (await client.get("/api/applications/policy", headers=h["li"])).json()["draft_expiry_days"] == 30
    assert (
        await client.put("/api/applications/policy", json={"draft_expiry_days": 7}, headers=h["li"])
    ).status_code == 403
    bad = await client.put("/api/applications/policy", json={"draft_expiry_days": 0}, headers=h["admin"])
    assert bad.status_code == 422 and "draft_expiry_days" in _fields(bad)
    before = await open_application(client, org)
    assert (
        await client.put("/api/applications/policy", json={"draft_expiry_days": 7}, headers=h["admin"])
    ).json()["draft_expiry_days"] == 7
    after = await open_application(client, org)
    assert before["expires_at"] > after["expires_at"]  # 30 days from then, 7 from now


async def test_two_reviewers_deciding_at_once_one_wins_and_the_other_is_told(hub):
    client, runtime, org = hub
    h = org["h"]
    app = await open_application(client, org)
    await client.post(f"/api/applications/{app['id']}/submit", headers=h["li"])
    await client.post(
        f"/api/applications/{app['id']}/transition", json={"to": "in_review"}, headers=h["zhou"]
    )
    url = f"/api/applications/{app['id']}/transition"
    answers = await asyncio.gather(
        client.post(url, json={"to": "approved"}, headers=h["zhou"]),
        client.post(url, json={"to": "rejected", "reason_codes": ["policy"]}, headers=h["chen"]),
        client.post(url, json={"to": "returned", "reason": "补充"}, headers=h["zhou"]),
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
        "applications.transition_refused",
        "applications.changed_meanwhile",
    }
    decided = await _count(runtime, ApplicationTransition, ApplicationTransition.from_status == "in_review")
    assert decided == 1


async def test_a_double_submission_is_refused_and_a_product_without_a_form_takes_no_values(hub):
    client, _, org = hub
    h = org["h"]
    app = await open_application(client, org)
    first, second = [
        await client.post(f"/api/applications/{app['id']}/submit", headers=h["li"]) for _ in range(2)
    ]
    assert first.status_code == 200 and second.status_code == 409
    assert second.json()["allowed"] == ["in_review", "returned", "rejected", "withdrawn"]
    plain = await client.post(
        "/api/products", json={**PRODUCT, "code": "plain-6", "terms_months": [6]}, headers=h["admin"]
    )
    body = {
        "customer_id": org["customers"]["li"],
        "product_id": plain.json()["id"],
        "amount": "5000",
        "term_months": 6,
    }
    refused = await client.post("/api/applications", json={**body, "values": {"income": 1}}, headers=h["li"])
    assert refused.status_code == 422 and _fields(refused) == {"values": "applications.no_form"}
    draft = await client.post("/api/applications", json=body, headers=h["li"])
    assert draft.status_code == 201 and draft.json()["form_version"] is None
    submitted = await client.post(f"/api/applications/{draft.json()['id']}/submit", headers=h["li"])
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"


async def test_lead_conversion_opens_a_draft_in_python_carrying_the_leads_channel(hub):
    client, runtime, org = hub
    h = org["h"]
    async with runtime.sessions() as session, session.begin():
        li = await user_actor(session, await session.scalar(select(User).where(User.username == "li")))
        with pytest.raises(Invalid) as refused:
            await create_draft(
                session, li, org["customers"]["li"], org["product"], Decimal("100000.00"), 12, channel="tv"
            )
        assert [e["field"] for e in refused.value.errors] == ["channel"]
        draft = await create_draft(
            session,
            li,
            org["customers"]["li"],
            org["product"],
            Decimal("50000.00"),
            6,
            lead_id="lead-0001",
            channel="online",
            channel_partner="partner-x",
        )
    page = (await client.get("/api/applications", params={"lead": "lead-0001"}, headers=h["li"])).json()
    assert [(i["id"], i["channel"], i["channel_partner"], i["lead_id"]) for i in page["items"]] == [
        (draft.id, "online", "partner-x", "lead-0001")
    ]
