"""An organisation, a product with a form, and customers, for the applications tests.

On top of ``accesshub.make_org`` (li and wang officers of SH01-T1, zhao of BJ01, chen managing
EAST, admin, sun the auditor): zhou, a reviewer of SH01, and qin, a reviewer of BJ01. The product
``consumer-12`` lends 1,000 to 500,000 over 6, 12 or 24 months; its form (version 1) wants the
monthly income and the employer, and checks the age at maturity and the debt-to-income ratio.
"""

from __future__ import annotations

from typing import Any

import httpx
from accesshub import PASSWORD, bearer, make_org
from authsupport import token_headers

from core.access import Actor
from core.access import service as access

PRODUCT = {
    "code": "consumer-12",
    "name": "消费贷",
    "min_amount": "1000.00",
    "max_amount": "500000.00",
    "terms_months": [6, 12, 24],
    "annual_rate": "0.12",
    "repayment_methods": ["equal_installment", "equal_principal"],
}

FORM = {
    "json_schema": {
        "type": "object",
        "required": ["amount", "income", "employer"],
        "properties": {
            "amount": {"type": "number", "exclusiveMinimum": 0},
            "term_months": {"type": "integer"},
            "income": {
                "type": "object",
                "required": ["monthly"],
                "properties": {
                    "monthly": {"type": "number", "minimum": 0},
                    "debt": {"type": "number", "minimum": 0},
                },
            },
            "employer": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "minLength": 2}, "phone": {"type": "string"}},
            },
        },
        "additionalProperties": False,
    },
    "rules": [
        {
            "name": "amount_in_range",
            "field": "amount",
            "message_code": "forms.amount_out_of_range",
            "expression": "form.amount >= product.min_amount && form.amount <= product.max_amount",
        },
        {
            "name": "age_at_maturity",
            "field": "term_months",
            "message_code": "forms.age_at_maturity",
            "expression": "years_between(applicant.birth_date, add_months(today, form.term_months)) <= 65",
        },
        {
            "name": "debt_to_income",
            "field": "income.debt",
            "message_code": "forms.debt_to_income_too_high",
            "expression": "!has(form.income.debt) || form.income.debt / form.income.monthly <= 0.5",
        },
    ],
}

VALUES = {"income": {"monthly": 18000, "debt": 2000}, "employer": {"name": "上海某某科技有限公司"}}
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """A resident ID with its check character (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def person(name: str, birth: str, serial: str, mobile: str) -> dict[str, Any]:
    """A person's registration body: born ``birth`` (YYYYMMDD)."""
    return {
        "kind": "person",
        "name": name,
        "id_number": id_number(f"310101{birth}{serial}"),
        "mobile": mobile,
    }


async def setup(client: httpx.AsyncClient, runtime: Any) -> dict[str, Any]:
    """The org, everyone's headers, the product with its form, and a customer of li's and of zhao's."""
    await make_org(runtime)
    op = Actor.operator("test")
    async with runtime.sessions() as session, session.begin():
        await access.add_user(
            session, op, username="zhou", password=PASSWORD, roles=["reviewer"], branch="SH01"
        )
        await access.add_user(
            session, op, username="qin", password=PASSWORD, roles=["reviewer"], branch="BJ01"
        )
    h = {name: await bearer(client, name) for name in ("li", "wang", "zhao", "chen", "zhou", "qin", "sun")}
    h["admin"] = await token_headers(runtime, "admin")
    product = await client.post("/api/products", json=PRODUCT, headers=h["admin"])
    assert product.status_code == 201, product.text
    form = await client.put(f"/api/products/{product.json()['id']}/form", json=FORM, headers=h["admin"])
    assert form.status_code == 201, form.text
    customers = {}
    for who, body in (
        ("li", {**person("张三", "19900307", "123", "13800138000"), "channel": "partner_referral"}),
        ("zhao", person("李四", "19880101", "456", "13900139000")),
    ):
        made = await client.post("/api/customers", json=body, headers=h[who])
        assert made.status_code == 201, made.text
        customers[who] = made.json()["id"]
    return {"h": h, "product": product.json()["id"], "customers": customers}


async def open_application(client: httpx.AsyncClient, org: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A draft of li's customer for the product: 100,000 over 12 months with complete values."""
    body = {
        "customer_id": org["customers"]["li"],
        "product_id": org["product"],
        "amount": "100000.00",
        "term_months": 12,
        "purpose": "装修",
        "values": VALUES,
        **changes,
    }
    made = await client.post("/api/applications", json=body, headers=org["h"]["li"])
    assert made.status_code == 201, made.text
    return made.json()
