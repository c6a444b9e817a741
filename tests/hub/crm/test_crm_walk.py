"""Issue 11's walk, end to end over the API with real tokens: a partner's lead is followed up and
converted into a customer with a draft application, the ID copy is uploaded, the application is
filled and submitted against its form version, and the 360° view shows all of it — while another
branch's officer sees none of it and the database holds no clear ID number or mobile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import docsamples
from accesshub import access_hub, bearer, make_org
from applicationsorg import FORM, PRODUCT, VALUES
from dbfixtures import assert_not_in_dump, raw_dump

PUSH = {
    "partner_lead_id": "P-77",
    "name": "赵小明",
    "mobile": "13912345678",
    "id_number": "110105199003071239",
    "product_code": "consumer-12",
    "requested_amount": "60000.00",
}


async def test_partner_lead_to_submitted_application_seen_whole_in_the_360(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path, documents_dir=tmp_path / "docs") as (client, runtime):
        await make_org(runtime)
        h = {name: await bearer(client, name) for name in ("li", "zhao", "admin")}
        product = (await client.post("/api/products", json=PRODUCT, headers=h["admin"])).json()["id"]
        assert (
            await client.put(f"/api/products/{product}/form", json=FORM, headers=h["admin"])
        ).status_code == 201
        gates = {
            "gates": [
                {"before": "submitted", "gate": "documents", "params": {"doc_types": ["id_card_front"]}}
            ]
        }
        assert (
            await client.put(f"/api/products/{product}/gates", json=gates, headers=h["admin"])
        ).status_code == 200
        rules = {"rules": [{"kind": "round_robin", "branch": "SH01-T1", "officers": ["li"]}]}
        assert (await client.put("/api/lead-rules", json=rules, headers=h["admin"])).status_code == 200
        partner = await client.post(
            "/api/partners",
            json={"code": "acme", "name": "Acme 助贷", "branch": "SH01-T1"},
            headers=h["admin"],
        )
        acme = {"Authorization": f"Bearer {partner.json()['api_token']}"}

        lead = (await client.post("/api/leads", json=PUSH, headers=acme)).json()["id"]
        follow_up = {
            "kind": "call",
            "outcome": "接通，有意向",
            "next_action": "收集身份证复印件",
            "next_due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        }
        assert (
            await client.post(f"/api/leads/{lead}/follow-ups", json=follow_up, headers=h["li"])
        ).status_code == 201
        assert (
            await client.post(f"/api/leads/{lead}/transition", json={"to": "qualified"}, headers=h["li"])
        ).is_success
        converted = await client.post(
            f"/api/leads/{lead}/convert", json={"application": {"term_months": 12}}, headers=h["li"]
        )
        assert converted.status_code == 200, converted.text
        customer, application = converted.json()["customer_id"], converted.json()["application_id"]
        assert application is not None

        draft = (await client.get(f"/api/applications/{application}", headers=h["li"])).json()
        assert (draft["status"], draft["amount"], draft["lead_id"], draft["channel"]) == (
            "draft",
            "60000.00",
            lead,
            "partner_referral",
        )
        filled = await client.patch(
            f"/api/applications/{application}",
            json={"values": VALUES, "version": draft["version"]},
            headers=h["li"],
        )
        assert filled.status_code == 200, filled.text
        held = await client.post(f"/api/applications/{application}/submit", json={}, headers=h["li"])
        assert held.status_code == 409 and held.json()["unmet"][0]["missing"] == ["id_card_front"]
        uploaded = await client.put(
            f"/api/customers/{customer}/documents/id_card_front",
            params={"filename": "身份证正面.png"},
            content=docsamples.png(),
            headers={**h["li"], "Content-Type": "image/png"},
        )
        assert uploaded.status_code == 201, uploaded.text
        submitted = await client.post(f"/api/applications/{application}/submit", json={}, headers=h["li"])
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "submitted" and submitted.json()["form_version"] == 1

        view = (await client.get(f"/api/customers/{customer}/360", headers=h["li"])).json()
        assert view["customer"]["channel_partner"] == "acme" and view["customer"]["mobile"] == "139****5678"
        assert [(x["id"], x["status"]) for x in view["leads"]] == [(lead, "converted")]
        assert [f["outcome"] for f in view["follow_ups"]] == ["接通，有意向"]
        assert [(a["id"], a["status"]) for a in view["applications"]] == [(application, "submitted")]
        assert [d["doc_type"] for d in view["documents"]] == ["id_card_front"]
        actions = {entry["action"] for entry in view["recent_audit"]}
        assert "customers.create" in actions

        for url in (
            f"/api/customers/{customer}/360",
            f"/api/applications/{application}",
            f"/api/leads/{lead}",
        ):
            assert (await client.get(url, headers=h["zhao"])).status_code == 404, url
        assert_not_in_dump(await raw_dump(engine), PUSH["id_number"], PUSH["mobile"])
