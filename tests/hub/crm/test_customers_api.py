"""Customers over HTTP, as two officers of different branches and a manager above one of them.

li (SH01-T1) and zhao (BJ01) are loan officers, chen manages EAST (above SH01-T1). Each sees and
counts only their scope, another branch's customer is a 404, personal fields stay masked unless
revealed with a purpose (audited), and the database holds no clear ID number or mobile.
"""

from __future__ import annotations

import asyncio

from accesshub import access_hub, bearer, make_org
from dbfixtures import assert_not_in_dump, raw_dump
from sqlalchemy import select

from core.audit import AuditEntry, verify_chain

LI_PERSON = {"kind": "person", "name": "张三", "id_number": "11010519491231002X", "mobile": "13800138000"}
ZHAO_PERSON = {
    "kind": "person",
    "name": "李四",
    "id_number": "11010119900307803X",
    "mobile": "+86 139-0013-9000",
}
COMPANY = {"kind": "enterprise", "name": "上海测试科技有限公司", "uscc": "91350100M000100Y43"}


async def _org(client, runtime):
    await make_org(runtime)
    return {name: await bearer(client, name) for name in ("li", "zhao", "chen", "admin")}


async def test_each_sees_and_counts_only_their_scope_and_masked(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        li = await client.post("/api/customers", json=LI_PERSON, headers=h["li"])
        assert li.status_code == 201, li.text
        body = li.json()
        assert body["id_number"] == "110105********002X" and body["mobile"] == "138****8000"
        assert body["owner"] == "li" and body["branch"] == "SH01-T1" and body["age"] == 76
        assert body["gender"] == "female" and body["birth_date"] is None and body["revealed"] == []
        zhao = await client.post("/api/customers", json=ZHAO_PERSON, headers=h["zhao"])
        assert zhao.status_code == 201, zhao.text
        li_id, zhao_id = li.json()["id"], zhao.json()["id"]

        async def listed(who):
            page = (await client.get("/api/customers", headers=h[who])).json()
            return page["total"], {c["id"] for c in page["items"]}

        assert await listed("li") == (1, {li_id})
        assert await listed("zhao") == (1, {zhao_id})
        assert await listed("chen") == (1, {li_id})  # EAST holds SH01-T1, not BJ01
        assert await listed("admin") == (2, {li_id, zhao_id})
        other = await client.get(f"/api/customers/{zhao_id}", headers=h["li"])
        assert other.status_code == 404 and other.json()["code"] == "customers.not_found"
        assert (await client.get(f"/api/customers/{zhao_id}/360", headers=h["chen"])).status_code == 404
        # Searching by the other branch's ID number finds nothing, and counts nothing.
        page = (
            await client.get("/api/customers", params={"q": ZHAO_PERSON["id_number"]}, headers=h["li"])
        ).json()
        assert page["total"] == 0 and page["items"] == []

        dump = await raw_dump(engine)
        assert_not_in_dump(
            dump, LI_PERSON["id_number"], "13800138000", ZHAO_PERSON["id_number"], "13900139000"
        )


async def test_search_by_full_or_masked_id_and_mobile_through_blind_indexes(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        first = (await client.post("/api/customers", json=LI_PERSON, headers=h["li"])).json()["id"]
        await client.post("/api/customers", json=COMPANY, headers=h["li"])
        for q in ("11010519491231002x", "110105********002X", "138****8000", "+86 13800138000", "张"):
            page = (await client.get("/api/customers", params={"q": q}, headers=h["li"])).json()
            assert [c["id"] for c in page["items"]] == [first], q
        for q in ("110105********0021", "138****8001", "王", "100%", "_"):
            page = (await client.get("/api/customers", params={"q": q}, headers=h["li"])).json()
            assert page["total"] == 0, q
        company = (
            await client.get("/api/customers", params={"q": "91350100m000100y43"}, headers=h["li"])
        ).json()
        assert [c["kind"] for c in company["items"]] == ["enterprise"]
        by_kind = await client.get(
            "/api/customers", params={"kind": "enterprise", "sort": "name"}, headers=h["li"]
        )
        assert by_kind.json()["total"] == 1
        bad_sort = await client.get("/api/customers", params={"sort": "id_number"}, headers=h["li"])
        assert bad_sort.status_code == 422 and bad_sort.json()["errors"][0]["field"] == "sort"


async def test_field_errors_name_each_field_in_the_callers_language(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        bad = {
            "kind": "person",
            "name": "王五",
            "id_number": "11010519491231002Y",
            "mobile": "12345",
            "bank_card": "6222021234567890127",
        }
        zh = await client.post("/api/customers", json=bad, headers=h["li"])
        assert zh.status_code == 422 and zh.headers["content-type"] == "application/problem+json"
        errors = {e["field"]: e for e in zh.json()["errors"]}
        assert set(errors) == {"id_number", "mobile", "bank_card"}
        assert errors["id_number"]["code"] == "customers.id_number_format"
        assert "校验位" in errors["bank_card"]["message"]
        en = await client.post("/api/customers", json=bad, headers={**h["li"], "Accept-Language": "en"})
        assert "check digit" in {e["field"]: e for e in en.json()["errors"]}["bank_card"]["message"]
        for body, field in [
            ({"kind": "robot", "name": "x"}, "kind"),
            (
                {"kind": "person", "name": " ", "id_number": LI_PERSON["id_number"], "mobile": "13800138000"},
                "name",
            ),
            ({"kind": "enterprise", "name": "某公司", "uscc": "91350100M000100Y44"}, "uscc"),
            (
                {
                    "kind": "enterprise",
                    "name": "某公司",
                    "id_number": LI_PERSON["id_number"],
                    "uscc": COMPANY["uscc"],
                },
                "id_number",
            ),
            ({**LI_PERSON, "channel": "tv"}, "channel"),
        ]:
            refused = await client.post("/api/customers", json=body, headers=h["li"])
            assert refused.status_code == 422, body
            assert field in {e["field"] for e in refused.json()["errors"]}, refused.json()
        unknown_member = await client.post("/api/customers", json={**LI_PERSON, "salary": 1}, headers=h["li"])
        assert unknown_member.status_code == 422 and unknown_member.json()["errors"][0]["field"] == "salary"
        async with runtime.sessions() as session:
            assert (
                await session.scalar(select(AuditEntry).where(AuditEntry.action == "customers.create"))
            ) is None


async def test_duplicates_refused_or_flagged_and_concurrent_registration_yields_one(
    database_url, engine, tmp_path
):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        first = (await client.post("/api/customers", json=LI_PERSON, headers=h["li"])).json()["id"]
        again = await client.post("/api/customers", json={**LI_PERSON, "name": "张叁"}, headers=h["li"])
        assert again.status_code == 409 and again.json()["code"] == "customers.duplicate"
        assert first in again.json()["detail"] and again.json()["errors"][0]["field"] == "id_number"
        elsewhere = await client.post("/api/customers", json=LI_PERSON, headers=h["zhao"])
        assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "customers.duplicate_elsewhere"
        assert first not in elsewhere.text  # zhao may not learn the id of li's customer
        # Same mobile, another person: registered, and flagged as a possible duplicate.
        spouse = {
            "kind": "person",
            "name": "张太",
            "id_number": "11010119900307803X",
            "mobile": "13800138000",
        }
        created = await client.post("/api/customers", json=spouse, headers=h["li"])
        assert created.status_code == 201 and created.json()["possible_duplicates"] == [first]
        company = [client.post("/api/customers", json=COMPANY, headers=h["li"]) for _ in range(4)]
        answers = await asyncio.gather(*company)
        assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]


async def test_reveal_needs_permission_and_purpose_and_is_audited(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        cid = (await client.post("/api/customers", json=LI_PERSON, headers=h["li"])).json()["id"]
        url = f"/api/customers/{cid}"
        no_purpose = await client.get(url, params={"reveal": "mobile"}, headers=h["li"])
        assert no_purpose.status_code == 422
        shown = await client.get(url, params={"reveal": "mobile", "purpose": "回访核实"}, headers=h["li"])
        assert shown.status_code == 200 and shown.json()["mobile"] == "13800138000"
        assert shown.json()["id_number"] == "110105********002X" and shown.json()["revealed"] == ["mobile"]
        no_grant = await client.get(
            url, params={"reveal": "id_number", "purpose": "核实身份"}, headers=h["li"]
        )
        assert no_grant.status_code == 403 and "pii.reveal.id_number" in no_grant.json()["detail"]
        full = await client.get(
            url, params={"reveal": ["id_number"], "purpose": "核实身份"}, headers=h["admin"]
        )
        assert (
            full.json()["id_number"] == LI_PERSON["id_number"] and full.json()["birth_date"] == "1949-12-31"
        )
        weird = await client.get(
            url, params={"reveal": "password", "purpose": "just looking"}, headers=h["admin"]
        )
        assert weird.status_code == 422
        async with runtime.sessions() as session:
            reveals = (
                await session.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal"))
            ).all()
            assert [(r.actor, r.after["class"], r.after["purpose"]) for r in reveals] == [
                ("user:li", "mobile", "回访核实"),
                ("user:admin", "id_number", "核实身份"),
            ]
            assert (await verify_chain(session))[1] is None


async def test_update_with_version_relations_merge_and_the_360(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        h = await _org(client, runtime)
        person = (await client.post("/api/customers", json=LI_PERSON, headers=h["li"])).json()
        company = (await client.post("/api/customers", json=COMPANY, headers=h["li"])).json()
        url = f"/api/customers/{person['id']}"
        changed = await client.patch(
            url, json={"mobile": "13900001111", "tags": ["vip"], "version": 1}, headers=h["li"]
        )
        assert (
            changed.status_code == 200
            and changed.json()["version"] == 2
            and changed.json()["mobile"] == "139****1111"
        )
        stale = await client.patch(url, json={"name": "张三丰", "version": 1}, headers=h["li"])
        assert stale.status_code == 409 and stale.json()["code"] == "customers.stale"
        rel = f"/api/customers/{company['id']}/relations"
        ok = await client.post(
            rel, json={"related_id": person["id"], "kind": "legal_representative"}, headers=h["li"]
        )
        assert ok.status_code == 201 and ok.json()[0]["name"] == "张三"
        again = await client.post(
            rel, json={"related_id": person["id"], "kind": "legal_representative"}, headers=h["li"]
        )
        assert again.status_code == 409
        wrong = await client.post(
            f"{url}/relations", json={"related_id": company["id"], "kind": "spouse"}, headers=h["li"]
        )
        assert wrong.status_code == 422
        view = (await client.get(f"{url}/360", headers=h["li"])).json()
        assert view["customer"]["id"] == person["id"]
        assert [(r["direction"], r["kind"], r["name"]) for r in view["relationships"]] == [
            ("incoming", "legal_representative", "上海测试科技有限公司")
        ]
        actions = [a["action"] for a in view["recent_audit"]]
        assert actions[0] == "customers.update" and actions[-1] == "customers.create"
        # A second record of the same company, registered after the first was fixed, then merged.
        copy = {"kind": "enterprise", "name": "上海测试科技", "uscc": "91110108551385082Q"}
        dup = (await client.post("/api/customers", json=copy, headers=h["li"])).json()
        await client.post(
            f"/api/customers/{dup['id']}/relations",
            json={"related_id": person["id"], "kind": "actual_controller"},
            headers=h["li"],
        )
        officer = await client.post(
            f"/api/customers/{dup['id']}/merge", json={"into": company["id"]}, headers=h["li"]
        )
        assert officer.status_code == 403  # merging needs customers.merge
        merged = await client.post(
            f"/api/customers/{dup['id']}/merge", json={"into": company["id"]}, headers=h["chen"]
        )
        assert merged.status_code == 200, merged.text
        gone = (await client.get(f"/api/customers/{dup['id']}", headers=h["li"])).json()
        assert gone["status"] == "merged" and gone["merged_into"] == company["id"]
        kinds = {
            r["kind"]
            for r in (await client.get(f"/api/customers/{company['id']}/360", headers=h["li"])).json()[
                "relationships"
            ]
        }
        assert kinds == {"legal_representative", "actual_controller"}
        twice = await client.post(
            f"/api/customers/{dup['id']}/merge", json={"into": company["id"]}, headers=h["chen"]
        )
        assert twice.status_code == 409
        listed = (await client.get("/api/customers", headers=h["li"])).json()
        assert dup["id"] not in {c["id"] for c in listed["items"]}
