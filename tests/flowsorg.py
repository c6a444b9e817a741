"""An organisation, three products and three flows for the approval-engine tests — all through the API.

On top of ``accesshub.make_org`` (li and wang officers of SH01-T1, zhao of BJ01, chen managing
EAST, admin): zhou (reviewer, SH01), qin (reviewer, BJ01), wu and ma (approvers, SH01), the
committee ``committee_a``/``_b``/``_c`` (approvers at HQ, so they reach every branch), and risk
(risk manager: defines flows, sets signals and limits).

Flows, written as YAML and saved through ``POST /api/flows`` only:

* ``consumer``: automatic — low risk up to 50,000 approved, high risk rejected, otherwise one
  reviewer (round robin, SLA with escalation to the branch manager);
* ``business``: 初审 (reviewers' queue) then 复审 (approvers, authority on the borrower's
  exposure; nobody within authority → 终审 by the branch manager);
* ``committee``: 初审 then a committee of three deciding 2 of 3, the chair with a veto.
"""

from __future__ import annotations

from typing import Any

import httpx
from accesshub import PASSWORD, bearer, make_org
from applicationsorg import person
from authsupport import token_headers

from core.access import Actor
from core.access import service as access

CONSUMER = """
key: consumer
name: 消费贷审批
signals: [risk_grade]
start: auto
stages:
  - id: auto
    name: 自动审批
    kind: automatic
    rules:
      - when: "signals.risk_grade == 'low' && exposure.borrower <= 50000"
        outcome: approve
        reason_codes: [auto.low_risk]
      - when: "signals.risk_grade == 'high'"
        outcome: reject
        reason_codes: [auto.high_risk]
    otherwise: refer
    refer_to: review
    next: approved
  - id: review
    name: 人工审核
    kind: single
    assignees: {role: reviewer, pick: round_robin}
    sla: {hours: SLA_HOURS, remind_before_hours: REMIND_HOURS, escalate_to: {branch_manager: true}}
    next: approved
"""

BUSINESS = """
key: business
name: 经营贷审批
start: first
stages:
  - id: first
    name: 初审
    kind: single
    assignees: {role: reviewer}
    next: second
  - id: second
    name: 复审
    kind: single
    assignees: {role: approver, pick: least_loaded}
    authority: borrower
    escalate_to: final
    next: approved
  - id: final
    name: 终审
    kind: single
    assignees: {branch_manager: true}
    next: approved
"""

COMMITTEE = """
key: committee
name: 大额贷审会
start: first
stages:
  - id: first
    name: 初审
    kind: single
    assignees: {role: reviewer}
    next: board
  - id: board
    name: 贷审会
    kind: committee
    assignees: {users: [committee_a, committee_b, committee_c]}
    quorum: 3
    approvals: 2
    chair: committee_a
    chair_veto: true
    next: approved
"""


def product(code: str, low: str, high: str, flow: str) -> dict[str, Any]:
    """A product lending ``low``..``high`` over 12 or 24 months, following ``flow``."""
    return {
        "code": code,
        "name": code,
        "min_amount": low,
        "max_amount": high,
        "terms_months": [12, 24],
        "annual_rate": "0.12",
        "repayment_methods": ["equal_installment"],
        "flow_key": flow,
    }


async def setup_flows(
    client: httpx.AsyncClient, runtime: Any, *, sla_hours: str = "24", remind_hours: str = "4"
) -> dict[str, Any]:
    """Everyone's headers, the three flows published, the products and a few customers."""
    await make_org(runtime)
    op = Actor.operator("test")
    async with runtime.sessions() as session, session.begin():
        for name, roles, branch in [
            ("zhou", ["reviewer"], "SH01"),
            ("qin", ["reviewer"], "BJ01"),
            ("wu", ["approver"], "SH01"),
            ("ma", ["approver"], "SH01"),
            ("committee_a", ["approver"], "HQ"),
            ("committee_b", ["approver"], "HQ"),
            ("committee_c", ["approver"], "HQ"),
            ("risk", ["risk_manager"], "HQ"),
        ]:
            await access.add_user(session, op, username=name, password=PASSWORD, roles=roles, branch=branch)
    names = [
        "li",
        "zhao",
        "chen",
        "zhou",
        "qin",
        "wu",
        "ma",
        "risk",
        "committee_a",
        "committee_b",
        "committee_c",
    ]
    h = {name: await bearer(client, name) for name in names}
    h["admin"] = await token_headers(runtime, "admin")
    for source in (
        CONSUMER.replace("SLA_HOURS", sla_hours).replace("REMIND_HOURS", remind_hours),
        BUSINESS,
        COMMITTEE,
    ):
        saved = await client.post("/api/flows", json={"source": source}, headers=h["risk"])
        assert saved.status_code == 201, saved.text
        key = saved.json()["key"]
        published = await client.post(f"/api/flows/{key}/publish", headers=h["risk"])
        assert published.status_code == 200, published.text
    products = {}
    for code, low, high, flow in (
        ("consumer", "1000.00", "50000.00", "consumer"),
        ("business", "50000.00", "500000.00", "business"),
        ("large", "500000.00", "5000000.00", "committee"),
    ):
        made = await client.post("/api/products", json=product(code, low, high, flow), headers=h["admin"])
        assert made.status_code == 201, made.text
        products[code] = made.json()["id"]
    limits = {
        "limits": [
            {
                "subject_kind": "role",
                "subject": "approver",
                "product_code": "business",
                "max_exposure": "200000.00",
            },
            {
                "subject_kind": "user",
                "subject": "wu",
                "product_code": "business",
                "max_exposure": "400000.00",
            },
        ]
    }
    put = await client.put("/api/authority-limits", json=limits, headers=h["risk"])
    assert put.status_code == 200, put.text
    customers = {}
    for key, who, body in (
        ("a", "li", person("张三", "19900307", "123", "13800138000")),
        ("b", "li", person("王五", "19850512", "234", "13800138001")),
        ("c", "zhao", person("李四", "19880101", "456", "13900139000")),
        ("spouse", "zhao", person("赵六", "19890202", "567", "13900139001")),
    ):
        made = await client.post("/api/customers", json=body, headers=h[who])
        assert made.status_code == 201, made.text
        customers[key] = made.json()["id"]
    return {"h": h, "products": products, "customers": customers}


async def submit(
    client: httpx.AsyncClient,
    org: dict[str, Any],
    customer: str,
    product: str,
    amount: str,
    officer: str = "li",
) -> dict[str, Any]:
    """Open and submit an application; the flow takes it from there."""
    h = org["h"][officer]
    body = {
        "customer_id": org["customers"][customer],
        "product_id": org["products"][product],
        "amount": amount,
        "term_months": 12,
    }
    made = await client.post("/api/applications", json=body, headers=h)
    assert made.status_code == 201, made.text
    sent = await client.post(f"/api/applications/{made.json()['id']}/submit", headers=h)
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


async def decide(
    client: httpx.AsyncClient, org: dict[str, Any], who: str, application_id: str, decision: str, **more: Any
) -> httpx.Response:
    """``who`` posts ``decision`` on the application."""
    return await client.post(
        f"/api/applications/{application_id}/decisions",
        json={"decision": decision, **more},
        headers=org["h"][who],
    )


async def status_of(
    client: httpx.AsyncClient, org: dict[str, Any], application_id: str
) -> tuple[str, str | None]:
    """The application's status and stage, as the admin reads it."""
    read = await client.get(f"/api/applications/{application_id}", headers=org["h"]["admin"])
    assert read.status_code == 200, read.text
    return read.json()["status"], read.json().get("stage")
