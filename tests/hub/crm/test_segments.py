"""Segments: rules over customer facts, recomputed in the background when facts or rules change,
each member showing the rule and the facts that put it there."""

from __future__ import annotations

from datetime import date

from accesshub import access_hub, bearer, make_org
from sqlalchemy import select
from waiting import wait_for

from core.access import Actor
from core.customers import Customer
from core.segments import service as segments
from core.segments.models import SegmentMember

PERSON = {"kind": "person", "name": "张三", "id_number": "11010519491231002X", "mobile": "13800138000"}
YOUNG = {"kind": "person", "name": "李四", "id_number": "110105200002290048", "mobile": "13900139000"}


async def test_members_are_recomputed_by_the_workers_and_explained(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path, inprocess_workers=True) as (client, runtime):
        await make_org(runtime)
        h = {name: await bearer(client, name) for name in ("li", "admin", "zhao")}
        old = (await client.post("/api/customers", json={**PERSON, "tags": ["vip"]}, headers=h["li"])).json()
        young = (await client.post("/api/customers", json=YOUNG, headers=h["li"])).json()
        rule = {"name": "高价值", "rule": 'customer.age >= 60 && "vip" in customer.tags'}
        assert (await client.put("/api/segments/high_value", json=rule, headers=h["li"])).status_code == 403
        defined = await client.put("/api/segments/high_value", json=rule, headers=h["admin"])
        assert defined.status_code == 200 and defined.json()["version"] == 1

        async def members():
            ids = (await client.get("/api/segments/high_value/members", headers=h["li"])).json()
            return ids or None

        assert await wait_for(members, within=20, what="the first members") == [old["id"]]
        view = (await client.get(f"/api/customers/{old['id']}/360", headers=h["li"])).json()
        (membership,) = view["segments"]
        assert membership["code"] == "high_value" and membership["rule"] == rule["rule"]
        assert membership["facts"]["age"] == 76 and membership["facts"]["tags"] == ["vip"]
        assert "id_number" not in membership["facts"] and "13800138000" not in str(membership["facts"])
        # The facts change: the young customer becomes a VIP, but is under 60 — still out; the rule
        # changes to 18+: both in, at version 2.
        await client.patch(f"/api/customers/{young['id']}", json={"tags": ["vip"]}, headers=h["li"])
        changed = {**rule, "rule": 'customer.age >= 18 && "vip" in customer.tags'}
        assert (await client.put("/api/segments/high_value", json=changed, headers=h["admin"])).json()[
            "version"
        ] == 2

        async def both():
            ids = (await client.get("/api/segments/high_value/members", headers=h["li"])).json()
            return sorted(ids) if len(ids) == 2 else None

        assert await wait_for(both, within=20, what="both members") == sorted([old["id"], young["id"]])
        assert (await client.get("/api/segments/high_value/members", headers=h["zhao"])).json() == []  # scope
        listed = (await client.get("/api/segments", headers=h["li"])).json()
        assert [(s["code"], s["members"], s["version"]) for s in listed] == [("high_value", 2, 2)]


async def test_bad_rules_are_refused_with_their_position(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        for rule, code in [
            ("customer.age >=", "expressions.syntax"),
            ("applicant.age > 3", "expressions.undeclared"),
            ("", "expressions.empty"),
        ]:
            refused = await client.put("/api/segments/x1", json={"name": "x", "rule": rule}, headers=admin)
            assert refused.status_code == 422, rule
            assert (
                refused.json()["errors"][0]["field"] == "rule" and refused.json()["errors"][0]["code"] == code
            )
        bad_code = await client.put("/api/segments/X-1", json={"name": "x", "rule": "true"}, headers=admin)
        assert bad_code.status_code == 422 and bad_code.json()["code"] == "segments.code_invalid"
        assert (await client.get("/api/segments/nope/members", headers=admin)).status_code == 404


async def test_a_missing_fact_leaves_the_customer_out_and_merged_customers_drop_out(session_factory, engine):
    from core.access import service as access
    from core.customers import service as customers
    from core.customers.graph import merge

    op = Actor.operator("test")
    today = date(2026, 12, 6)
    async with session_factory() as session, session.begin():
        await access.ensure_builtin_roles(session, op)
        await access.add_branch(session, op, code="HQ", name="HQ", parent=None)
        await access.add_user(
            session, op, username="li", password="Corr3ct-horse", roles=["loan_officer"], branch="HQ"
        )
        a = await customers.register(session, op, customers.CustomerFields(**PERSON, owner="li"), today=today)
        b = await customers.register(
            session,
            op,
            customers.CustomerFields(**{**YOUNG, "profile": {"income": 30000}}, owner="li"),
            today=today,
        )
        await segments.define(
            session, op, code="rich", name="收入高", rule="customer.profile.income >= 20000"
        )
        assert await segments.refresh(session, today=today) == 2
        assert await segments.refresh(session, today=today) == 0  # nothing stale any more
        members = (await session.scalars(select(SegmentMember.customer_id))).all()
        assert members == [b.id]  # a has no income in its profile: not a member, and no error
        await customers.update(
            session, op, a.id, customers.CustomerFields(profile={"income": 50000}), today=today
        )
        assert await segments.refresh(session, today=today) == 1
        assert sorted((await session.scalars(select(SegmentMember.customer_id))).all()) == sorted(
            [a.id, b.id]
        )
        await merge(session, op, b.id, a.id)  # b was a duplicate record of a
        stale = (await session.scalars(select(Customer.id).where(Customer.segments_at.is_(None)))).all()
        assert sorted(stale) == sorted([a.id, b.id])
        assert await segments.refresh(session, today=today) == 2
        assert (await session.scalars(select(SegmentMember.customer_id))).all() == [a.id]
