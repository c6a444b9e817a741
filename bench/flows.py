"""Approval-engine figures: decisions per second and p99 per decision, and the committee dry run's p99.

    .venv/bin/python bench/flows.py                                  # SQLite, 1,000 applications
    .venv/bin/python bench/flows.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

The hub runs in this process (FastAPI through httpx's ASGI transport: the whole request path —
auth, scoping, the engine, the audit chain, the outbox — without sockets). 1,000 applications are
submitted into the two-stage flow (初审 round robin over 10 reviewers, then 复审 round robin over
10 approvers with an authority check on cumulative exposure); then 20 deciders work their
inboxes concurrently until every application is approved. Each decision's latency is the POST
of the decision.

Baseline, in the same run and database: the same 20 people move 1,000 applications of a product
*without* a flow through the same two steps by hand (``POST …/transition`` to in_review, then to
approved) — the bare state machine with its history row, audit entry and event. The ratio is
what the engine's checks (seat, maker-checker, related parties, authority, dossier hash, next
stage's assignment) cost on top.

PostgreSQL needs an empty database:
    psql -h 127.0.0.1 -U postgres -c "drop database if exists bench" -c "create database bench"
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from core.access import Actor
from core.access import service as access
from hub.app import create_app
from hub.settings import load_settings
from plugins.manager import make_plugin_manager

PASSWORD = "Bench-horse-9"
REVIEWERS = [f"rev{n:02d}" for n in range(10)]
APPROVERS = [f"apr{n:02d}" for n in range(10)]
OFFICERS = [f"off{n:02d}" for n in range(5)]

TWO_STAGE = """
key: two-stage
name: 两级审批
start: first
stages:
  - id: first
    name: 初审
    kind: single
    assignees: {role: reviewer, pick: round_robin}
    next: second
  - id: second
    name: 复审
    kind: single
    assignees: {role: approver, pick: round_robin}
    authority: borrower
    next: approved
"""

COMMITTEE = """
key: committee
name: 贷审会
signals: [score]
start: screen
stages:
  - id: screen
    name: 预筛
    kind: automatic
    rules:
      - when: "signals.score < 500"
        outcome: reject
        reason_codes: [score.low]
    otherwise: refer
    refer_to: first
    next: approved
  - id: first
    name: 初审
    kind: single
    assignees: {role: reviewer}
    next: [{when: "exposure.group > 1000000", to: board}, {to: second}]
  - id: second
    name: 复审
    kind: any_of
    assignees: {role: approver}
    authority: group
    escalate_to: board
    next: approved
  - id: board
    name: 贷审会
    kind: committee
    assignees: {users: [apr00, apr01, apr02]}
    quorum: 3
    approvals: 2
    chair: apr00
    chair_veto: true
    next: approved
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def setup(client: httpx.AsyncClient, runtime: Any) -> dict[str, Any]:
    op = Actor.operator("bench")
    async with runtime.sessions() as session, session.begin():
        await access.add_branch(session, op, code="HQ", name="总行", parent=None)
        await access.add_branch(session, op, code="SH", name="上海分行", parent="HQ")
        for name, role, branch in [
            ("boss", "admin", "HQ"),
            ("risk", "risk_manager", "HQ"),
            *[(n, "loan_officer", "SH") for n in OFFICERS],
            *[(n, "reviewer", "SH") for n in REVIEWERS],
            *[(n, "approver", "SH") for n in APPROVERS],
        ]:
            await access.add_user(session, op, username=name, password=PASSWORD, roles=[role], branch=branch)
    h: dict[str, dict[str, str]] = {}
    for name in ["boss", "risk", *OFFICERS, *REVIEWERS, *APPROVERS]:
        token = await client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
        h[name] = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for source in (TWO_STAGE, COMMITTEE):
        key = (await client.post("/api/flows", json={"source": source}, headers=h["risk"])).json()["key"]
        assert (await client.post(f"/api/flows/{key}/publish", headers=h["risk"])).status_code == 200
    limits = [{"subject_kind": "role", "subject": "approver", "max_exposure": "100000000.00"}]
    assert (
        await client.put("/api/authority-limits", json={"limits": limits}, headers=h["risk"])
    ).status_code == 200
    products = {}
    for code, flow in (("flowed", "two-stage"), ("manual", None), ("large", "committee")):
        body = {
            "code": code,
            "name": code,
            "min_amount": "1000.00",
            "max_amount": "5000000.00",
            "terms_months": [12],
            "annual_rate": "0.12",
            "repayment_methods": ["equal_installment"],
            **({"flow_key": flow} if flow else {}),
        }
        made = await client.post("/api/products", json=body, headers=h["boss"])
        assert made.status_code == 201, made.text
        products[code] = made.json()["id"]
    customers = []
    for n in range(100):
        officer = OFFICERS[n % len(OFFICERS)]
        body = {"kind": "enterprise", "name": f"企业{n:03d}", "uscc": _uscc(n)}
        made = await client.post("/api/customers", json=body, headers=h[officer])
        assert made.status_code == 201, made.text
        customers.append((made.json()["id"], officer))
    return {"h": h, "products": products, "customers": customers}


def _uscc(n: int) -> str:
    from stdnum.cn import uscc

    body = f"91310000{n:09d}"
    return body + uscc.calc_check_digit(body)


async def open_applications(
    client: httpx.AsyncClient, org: dict[str, Any], product: str, count: int
) -> list[str]:
    ids = []
    for n in range(count):
        customer, officer = org["customers"][n % len(org["customers"])]
        body = {
            "customer_id": customer,
            "product_id": org["products"][product],
            "amount": "50000.00",
            "term_months": 12,
        }
        made = await client.post("/api/applications", json=body, headers=org["h"][officer])
        sent = await client.post(f"/api/applications/{made.json()['id']}/submit", headers=org["h"][officer])
        assert sent.status_code == 200, sent.text
        ids.append(made.json()["id"])
    return ids


async def engine_run(client: httpx.AsyncClient, org: dict[str, Any], expected: int) -> list[float]:
    """Every decider works their inbox until ``expected`` decisions are made; each decision POST's latency.

    A decider whose inbox is empty looks again after 0.2 s, as a person's inbox page would
    refresh; those reads share the machine with the decisions, as they would in production.
    """
    latencies: list[float] = []

    async def decider(name: str) -> None:
        while len(latencies) < expected:
            listed = await client.get("/api/tasks", params={"limit": 50}, headers=org["h"][name])
            items = listed.json()["items"]
            if not items:
                await asyncio.sleep(0.2)
                continue
            for task in items:
                started = time.perf_counter()
                done = await client.post(
                    f"/api/applications/{task['application_id']}/decisions",
                    json={"decision": "approve"},
                    headers=org["h"][name],
                )
                latencies.append(time.perf_counter() - started)
                assert done.status_code == 200, done.text

    await asyncio.gather(*(decider(name) for name in [*REVIEWERS, *APPROVERS]))
    return latencies


async def manual_run(client: httpx.AsyncClient, org: dict[str, Any], ids: list[str]) -> list[float]:
    """The baseline: the same 20 people move the applications by hand, two steps each."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for application_id in ids:
        queue.put_nowait(application_id)

    async def mover(reviewer: str, approver: str) -> None:
        while not queue.empty():
            application_id = queue.get_nowait()
            for who, to in ((reviewer, "in_review"), (approver, "approved")):
                started = time.perf_counter()
                moved = await client.post(
                    f"/api/applications/{application_id}/transition", json={"to": to}, headers=org["h"][who]
                )
                latencies.append(time.perf_counter() - started)
                assert moved.status_code == 200, moved.text

    await asyncio.gather(*(mover(r, a) for r, a in zip(REVIEWERS, APPROVERS, strict=True)))
    return latencies


async def dry_runs(client: httpx.AsyncClient, org: dict[str, Any], count: int) -> list[float]:
    ids = await open_applications(client, org, "large", 20)
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        dry = await client.post(
            "/api/flows/committee/dry-run",
            json={"application_id": ids[n % len(ids)]},
            headers=org["h"]["risk"],
        )
        latencies.append(time.perf_counter() - started)
        assert dry.status_code == 200, dry.text
    return latencies


def line(label: str, latencies: list[float], wall: float | None = None) -> str:
    rate = f"{len(latencies) / wall:7.1f}/s" if wall else " " * 9
    return (
        f"{label:<34} n={len(latencies):5d}  {rate}  p50 {pct(latencies, 0.5) * 1000:6.1f} ms"
        f"  p99 {pct(latencies, 0.99) * 1000:6.1f} ms  mean {statistics.fmean(latencies) * 1000:6.1f} ms"
    )


def upgrade(url: str, home: str) -> None:
    """``lendhub db upgrade`` on the bench database, before the app starts."""
    subprocess.run(
        [str(Path(sys.executable).parent / "lendhub"), "db", "upgrade"],
        env={**os.environ, "LENDHUB_DATABASE_URL": url, "HOME": home},
        check=True,
        capture_output=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--dry-runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = load_settings(
            database_url=url, secret_key_file=Path(tmp) / "secret.key", inprocess_workers=False
        )
        app = create_app(settings, host=make_plugin_manager(load_entrypoints=False))
        upgrade(url, tmp)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1", timeout=120
            ) as client:
                org = await setup(client, app.state.runtime)
                started = time.perf_counter()
                await open_applications(client, org, "flowed", args.applications)
                print(
                    f"opened and submitted {args.applications} applications in {time.perf_counter() - started:.1f} s"
                )
                started = time.perf_counter()
                engine = await engine_run(client, org, 2 * args.applications)
                engine_wall = time.perf_counter() - started
                manual_ids = await open_applications(client, org, "manual", args.applications)
                started = time.perf_counter()
                manual = await manual_run(client, org, manual_ids)
                manual_wall = time.perf_counter() - started
                dry = await dry_runs(client, org, args.dry_runs)
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; 20 concurrent deciders")
    print(line("engine decisions (2 stages)", engine, engine_wall))
    print(line("baseline: hand transitions", manual, manual_wall))
    print(
        f"engine / baseline: throughput {len(engine) / engine_wall / (len(manual) / manual_wall):.2f}x, "
        f"p99 {pct(engine, 0.99) / pct(manual, 0.99):.2f}x"
    )
    print(line("committee dry run", dry))


if __name__ == "__main__":
    asyncio.run(main())
