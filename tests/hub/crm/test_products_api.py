"""/api/products over HTTP: strict amounts, exact quotes as decimal strings, forms, permissions."""

from __future__ import annotations

import pytest
from accesshub import access_hub
from authsupport import token_headers

BODY = {
    "code": "consumer-12",
    "name": "消费贷-等额本息-12期",
    "min_amount": "1000.00",
    "max_amount": 500000,
    "terms_months": [6, 12, 24],
    "annual_rate": "0.12",
    "repayment_methods": ["equal_installment", "equal_principal", "flat"],
}


@pytest.fixture
async def api(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        client.headers.update(await token_headers(runtime, "admin"))
        yield client, runtime


async def _create(client, **changes):
    response = await client.post("/api/products", json={**BODY, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"]: e["code"] for e in response.json()["errors"]}


async def test_create_answers_201_with_the_product_in_decimal_strings(api):
    client, _ = api
    product = await _create(client)
    assert product["id"]
    assert (product["min_amount"], product["max_amount"], product["annual_rate"]) == (
        "1000.00",
        "500000.00",
        "0.120000",
    )
    assert (product["version"], product["active"], product["penalty_markup"]) == (1, True, "0.500000")
    again = await client.get(f"/api/products/{product['id']}")
    assert again.json() == product


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_amount": "1000.005"}, "min_amount"),  # more than two decimals
        ({"min_amount": 1000.005}, "min_amount"),
        ({"min_amount": "NaN"}, "min_amount"),
        ({"min_amount": "Infinity"}, "min_amount"),
        ({"min_amount": "-5"}, "min_amount"),
        ({"min_amount": "1e3"}, "min_amount"),  # plain notation only
        ({"min_amount": " "}, "min_amount"),
        ({"min_amount": True}, "min_amount"),
        ({"annual_rate": "0.1234567"}, "annual_rate"),
        ({"terms_months": [12.0]}, "terms_months.0"),
        ({"terms_months": ["12"]}, "terms_months.0"),
        ({"repayment_methods": ["balloon"]}, "repayment_methods.0"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_hostile_input_is_refused_with_a_field_error(api, changes, field):
    client, _ = api
    response = await client.post("/api/products", json={**BODY, **changes})
    assert field in _fields(response)


async def test_a_json_number_is_read_through_its_shortest_text(api):
    client, _ = api
    product = await _create(client, min_amount=1000.1, max_amount=0.1 + 0.2 + 100000)  # 100000.3 in float
    assert (product["min_amount"], product["max_amount"]) == ("1000.10", "100000.30")


async def test_business_rules_come_back_as_field_errors_in_the_callers_language(api):
    client, _ = api
    response = await client.post(
        "/api/products",
        json={
            **BODY,
            "min_amount": "900000",
            "annual_rate": "0.48",
            "upfront_fee": {"kind": "rate", "value": "0.03", "collection": "deducted"},
        },
        headers={"Accept-Language": "en"},
    )
    assert _fields(response) == {
        "max_amount": "products.min_over_max",
        "annual_rate": "products.rate_out_of_range",
        "upfront_fee.collection": "products.deducted_upfront_fee",
    }
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "LPR" in messages["annual_rate"]
    assert "art. 670" in messages["upfront_fee.collection"]


async def test_a_taken_code_is_409(api):
    client, _ = api
    await _create(client)
    response = await client.post("/api/products", json=BODY)
    assert (response.status_code, response.json()["code"]) == (409, "products.duplicate_code")


async def test_patch_changes_checks_and_deactivates(api):
    client, _ = api
    product = await _create(client)
    url = f"/api/products/{product['id']}"
    unpublished = await client.patch(url, json={"flow_key": "consumer.standard", "version": 1})
    assert (unpublished.status_code, unpublished.json()["errors"][0]["code"]) == (422, "flows.not_published")
    flow = {
        "key": "consumer.standard",
        "name": "标准流程",
        "stages": [
            {
                "id": "review",
                "name": "审核",
                "kind": "single",
                "assignees": {"role": "reviewer"},
                "next": "approved",
            }
        ],
    }
    assert (await client.post("/api/flows", json={"definition": flow})).status_code == 201
    assert (await client.post("/api/flows/consumer.standard/publish")).status_code == 200
    changed = await client.patch(
        url, json={"annual_rate": "0.10", "flow_key": "consumer.standard", "version": 1}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["annual_rate"], changed.json()["flow_key"], changed.json()["version"]) == (
        "0.100000",
        "consumer.standard",
        2,
    )
    stale = await client.patch(url, json={"name": "x", "version": 1})
    assert (stale.status_code, stale.json()["code"]) == (409, "products.version_conflict")
    assert _fields(await client.patch(url, json={"min_amount": "600000"})) == {
        "max_amount": "products.min_over_max"
    }
    assert _fields(await client.patch(url, json={"annual_rate": None})) == {
        "annual_rate": "products.required_value"
    }
    assert "code" in _fields(await client.patch(url, json={"code": "renamed"}))
    off = await client.patch(url, json={"active": False})
    assert off.json()["active"] is False
    quoted = await client.post(f"{url}/quote", json={"amount": "1000", "term_months": 12})
    assert (quoted.status_code, quoted.json()["code"]) == (409, "products.inactive")


async def test_list_filters_searches_sorts_and_pages(api):
    client, _ = api
    first = await _create(client, code="auto-36", name="车贷")
    await _create(client, code="sme-12", name="经营贷", annual_rate="0.08")
    await client.patch(f"/api/products/{first['id']}", json={"active": False})

    async def codes(**params):
        response = await client.get("/api/products", params=params)
        assert response.status_code == 200, response.text
        return [p["code"] for p in response.json()]

    assert await codes() == ["auto-36", "sme-12"]
    assert await codes(active="true") == ["sme-12"]
    assert await codes(q="车") == ["auto-36"]
    assert await codes(sort="-annual_rate") == ["auto-36", "sme-12"]
    assert await codes(limit=1, offset=1) == ["sme-12"]
    assert "sort" in _fields(await client.get("/api/products", params={"sort": "drop table"}))


async def test_quote_gives_the_reference_figures_to_the_cent(api):
    client, _ = api
    product = await _create(client)
    url = f"/api/products/{product['id']}/quote"
    body = {"amount": "100000.00", "term_months": 12, "start_date": "2026-01-31"}
    annuity = (await client.post(url, json=body)).json()
    assert annuity["repayment_method"] == "equal_installment"
    assert annuity["rows"][0] == {
        "period": 1,
        "due_date": "2026-02-28",
        "installment": "8884.88",
        "principal": "7884.88",
        "interest": "1000.00",
        "fees": "0.00",
        "remaining": "92115.12",
    }
    assert annuity["rows"][1]["due_date"] == "2026-03-31"
    assert (annuity["total_interest"], annuity["apr"], annuity["rows"][-1]["remaining"]) == (
        "6618.53",
        "0.120000",
        "0.00",
    )
    principal = (await client.post(url, json={**body, "repayment_method": "equal_principal"})).json()
    assert (principal["rows"][0]["installment"], principal["total_interest"]) == ("9333.33", "6500.00")
    flat = (await client.post(url, json={**body, "repayment_method": "flat"})).json()
    assert flat["apr"] == "0.214572"
    assert "ROUND_HALF_UP" in flat["conventions"]


async def test_quote_refusals_name_the_field(api):
    client, _ = api
    product = await _create(client)
    url = f"/api/products/{product['id']}/quote"
    assert _fields(
        await client.post(url, json={"amount": "999.99", "term_months": 18, "repayment_method": "bullet"})
    ) == {
        "amount": "products.amount_out_of_range",
        "term_months": "products.term_not_offered",
        "repayment_method": "products.method_not_offered",
    }
    assert "amount" in _fields(await client.post(url, json={"amount": "1000.001", "term_months": 12}))
    assert "start_date" in _fields(
        await client.post(url, json={"amount": "1000", "term_months": 12, "start_date": 0})
    )
    missing = await client.post("/api/products/nope/quote", json={"amount": "1000", "term_months": 12})
    assert (missing.status_code, missing.json()["code"]) == (404, "products.not_found")


FORM = {
    "json_schema": {
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": {"type": "number"}, "income": {"type": "object"}},
    },
    "rules": [
        {"name": "in_range", "field": "amount", "expression": "form.amount <= product.max_amount"},
        {"name": "dti", "field": "income", "expression": "form.income.debt / form.income.monthly <= 0.5"},
    ],
}


async def test_forms_publish_as_numbered_versions_and_read_back(api):
    client, _ = api
    product = await _create(client)
    url = f"/api/products/{product['id']}/form"
    none = await client.get(url)
    assert (none.status_code, none.json()["code"]) == (404, "forms.none_published")
    first = await client.put(url, json=FORM)
    assert (first.status_code, first.json()) == (201, {"product_id": product["id"], "version": 1})
    second = await client.put(url, json={**FORM, "rules": FORM["rules"][:1]})
    assert second.json()["version"] == 2
    newest, old = (await client.get(url)).json(), (await client.get(url, params={"version": 1})).json()
    assert (newest["version"], len(newest["rules"]), old["version"], len(old["rules"])) == (2, 1, 1, 2)
    assert old["rules"][1] == {**FORM["rules"][1], "message_code": None}
    assert old["created_by"].startswith("token:")
    gone = await client.get(url, params={"version": 7})
    assert (gone.status_code, gone.json()["code"]) == (404, "forms.no_such_version")


async def test_a_broken_form_points_at_the_rule_in_the_callers_language(api):
    client, _ = api
    product = await _create(client)
    rules = [*FORM["rules"], {"name": "bad", "field": "amount", "expression": "applicant.age > "}]
    response = await client.put(f"/api/products/{product['id']}/form", json={**FORM, "rules": rules})
    assert _fields(response) == {"rules[2].expression": "expressions.syntax"}
    (error,) = response.json()["errors"]
    assert "第 1 行" in error["message"]


async def test_readers_quote_but_only_managers_change(api):
    client, runtime = api
    product = await _create(client)
    officer = await token_headers(runtime, "loan_officer")
    assert (await client.get("/api/products", headers=officer)).status_code == 200
    quoted = await client.post(
        f"/api/products/{product['id']}/quote", json={"amount": "5000", "term_months": 6}, headers=officer
    )
    assert quoted.status_code == 200
    for method, path, body in [
        ("POST", "/api/products", {**BODY, "code": "x"}),
        ("PATCH", f"/api/products/{product['id']}", {"name": "x"}),
        ("PUT", f"/api/products/{product['id']}/form", FORM),
    ]:
        refused = await client.request(method, path, json=body, headers=officer)
        assert (refused.status_code, refused.json()["code"]) == (403, "auth.forbidden"), path
