"""CRM figures: bulk import speed, customer search latency, the 360° view's latency.

    .venv/bin/python bench/crm.py import --rows 10000          # lendhub import customers, timed
    .venv/bin/python bench/crm.py search --customers 100000     # p50/p99 of the search shapes
    .venv/bin/python bench/crm.py search --database-url postgresql+asyncpg://postgres@127.0.0.1/test
    .venv/bin/python bench/crm.py view360                      # a customer with 50 applications, 500 follow-ups

The import runs the real CLI in a subprocess against a fresh database. Search loads customers
straight into the table (sealed, indexed, spread over officers and branches), then times each
search shape through ``core.customers.repository.search`` with an officer's and a branch
manager's scope, beside a primary-key read of one customer as the baseline, in the same loop.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
LENDHUB = [str(ROOT / ".venv" / "bin" / "lendhub")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def person(rng: random.Random, n: int, *, valid: bool = True) -> list[str]:
    """One template row: a person with a well-formed (or, if not ``valid``, a mistyped) ID number."""
    born = date(1960, 1, 1) + timedelta(
        days=(n // 1000) * 137 % (365 * 40)
    )  # with the sequence: unique per n
    body = f"110105{born:%Y%m%d}{n % 1000:03d}"
    check = ric.calc_check_digit(body + "0")
    if not valid:
        check = "0" if check != "0" else "1"
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return ["个人", name, body + check, "", f"13{n:09d}"]


def write_file(path: Path, rows: int, invalid_share: float, seed: int = 7) -> int:
    """A template CSV of ``rows`` people, ``invalid_share`` of them with a mistyped ID; returns how many bad."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["客户类型", "客户名称", "身份证号", "统一社会信用代码", "手机号"])
        for n in range(rows):
            valid = rng.random() >= invalid_share
            bad += not valid
            writer.writerow(person(rng, n, valid=valid))
    return bad


def _env(url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LENDHUB_DATABASE_URL": url,
        "LENDHUB_LOAD_PLUGINS": "",
        "LANG": "en_US.UTF-8",
        "HOME": str(workdir),
    }


def _run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run([*LENDHUB, *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"lendhub {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(url: str, workdir: Path) -> dict[str, str]:
    """A migrated database with one branch and officer ``li``; the environment to reach it."""
    env = _env(url, workdir)
    _run(["db", "upgrade"], env, workdir)
    _run(["branches", "add", "HQ", "--name", "总行"], env, workdir)
    _run(
        ["users", "add", "li", "--role", "loan_officer", "--branch", "HQ", "--password-stdin"],
        env,
        workdir,
        stdin="Corr3ct-horse",
    )
    return env


def bench_import(rows: int, url: str | None) -> None:
    """Time ``lendhub import customers`` of ``rows`` rows, 5 % invalid, and a second run of the same file."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        env = prepare(url, workdir)
        path = workdir / "customers.csv"
        bad = write_file(path, rows, 0.05)
        started = time.perf_counter()
        out = _run(["import", "customers", str(path), "--owner", "li", "--json"], env, workdir)
        first = time.perf_counter() - started
        started = time.perf_counter()
        _run(["import", "customers", str(path), "--owner", "li", "--json"], env, workdir)
        second = time.perf_counter() - started
        print(out.strip())
        print(
            f"import of {rows:,} rows ({bad} invalid) on {url.split(':')[0]}: {first:.1f} s, "
            f"{rows / first:,.0f} rows/s; the same file again: {second:.2f} s (nothing loaded)"
        )


async def _load_customers(url: str, count: int) -> tuple[object, list[str], list[str]]:
    """``count`` customers over 10 officers in 3 branches; returns the session factory, ids and IDs."""
    from sqlalchemy import insert

    from core import pii
    from core.access import Actor
    from core.access import service as access
    from core.customers.models import Customer
    from core.customers.repository import hint_index
    from core.db import new_id, refresh_statistics, utcnow
    from hub.database import make_engine, make_session_factory

    pii.install(pii.KeyRing([("bench", b"k" * 32)], b"i" * 32))
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    op = Actor.operator("bench")
    async with sessions() as session, session.begin():
        await access.ensure_builtin_roles(session, op)
        await access.add_branch(session, op, code="HQ", name="总行", parent=None)
        for code in ("B1", "B2", "B3"):
            await access.add_branch(session, op, code=code, name=code, parent="HQ")
        users = []
        for i in range(10):
            user = await access.add_user(
                session,
                op,
                username=f"o{i}",
                password="Corr3ct-horse",
                roles=["loan_officer"],
                branch=f"B{i % 3 + 1}",
            )
            users.append(user)
        await access.add_user(
            session, op, username="mgr", password="Corr3ct-horse", roles=["branch_manager"], branch="B1"
        )
    rng = random.Random(11)
    ids, numbers = [], []
    now = utcnow()
    for start in range(0, count, 5000):
        rows = []
        for n in range(start, min(count, start + 5000)):
            _, name, number, _, mobile = person(rng, n)
            owner = users[n % 10]
            cid = new_id()
            ids.append(cid)
            numbers.append(number)
            rows.append(
                {
                    "id": cid,
                    "kind": "person",
                    "name": name,
                    "id_number": pii.PII("id_number", number),
                    "id_number_index": pii.blind_index("id_number", number),
                    "id_hint_index": hint_index("id_number", number),
                    "mobile": pii.PII("mobile", mobile),
                    "mobile_index": pii.blind_index("mobile", mobile),
                    "mobile_hint_index": hint_index("mobile", mobile),
                    "channel": "offline",
                    "owner_id": owner.id,
                    "branch_id": owner.branch_id,
                    "status": "active",
                    "tags": [],
                    "profile": {},
                    "version": 1,
                    "created_at": now - timedelta(seconds=count - n),
                    "updated_at": now,
                }
            )
        async with sessions() as session, session.begin():
            await session.execute(insert(Customer), rows)
    async with engine.begin() as connection:
        await refresh_statistics(connection)  # what every process start does (hub.schema)
    return sessions, ids, numbers


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


async def bench_search(count: int, url: str | None, rounds: int) -> None:
    """Search p50/p99 by shape and scope, beside a primary-key read."""
    from sqlalchemy import select

    from core.access.repository import user_actor, user_by_name
    from core.customers.models import Customer
    from core.customers.repository import CustomerQuery, search

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        _run(["db", "upgrade"], _env(url, workdir), workdir)
        started = time.perf_counter()
        sessions, ids, numbers = await _load_customers(url, count)
        print(f"loaded {count:,} customers in {time.perf_counter() - started:.1f} s on {url.split(':')[0]}")
        async with sessions() as session:  # type: ignore[operator]
            officer = await user_actor(session, await user_by_name(session, "o0"))
            manager = await user_actor(session, await user_by_name(session, "mgr"))
        rng = random.Random(3)
        shapes = {
            "list newest (no q)": lambda: CustomerQuery(limit=20),
            "name prefix": lambda: CustomerQuery(q=rng.choice(SURNAMES) + rng.choice(GIVEN), limit=20),
            "full ID number": lambda: CustomerQuery(q=rng.choice(numbers), limit=20),
            "masked ID (110105****…1234)": lambda: CustomerQuery(
                q=(n := rng.choice(numbers))[:6] + "********" + n[-4:]
            ),
            "masked mobile (138****1234)": lambda: CustomerQuery(
                q="130****" + f"{rng.randrange(count):04d}"[-4:]
            ),
        }
        print(f"{'shape':32} {'scope':8} {'p50 ms':>8} {'p99 ms':>8}   baseline pk read p50/p99 ms")
        for label, make in shapes.items():
            for scope_name, actor in (("officer", officer), ("manager", manager)):
                timings, base = [], []
                for _ in range(rounds):
                    async with sessions() as session:  # type: ignore[operator]
                        t0 = time.perf_counter()
                        await search(session, actor, make())
                        timings.append(time.perf_counter() - t0)
                        t0 = time.perf_counter()
                        await session.scalar(select(Customer).where(Customer.id == rng.choice(ids)))
                        base.append(time.perf_counter() - t0)
                print(
                    f"{label:32} {scope_name:8} {_pct(timings, 0.5):8.2f} {_pct(timings, 0.99):8.2f}   "
                    f"{_pct(base, 0.5):.2f}/{_pct(base, 0.99):.2f}"
                )


async def bench_view360(url: str | None, rounds: int, applications: int = 50, follow_ups: int = 500) -> None:
    """p50/p99 of ``GET /api/customers/{id}/360`` for a customer with many applications and
    follow-ups, over the app in-process (ASGI), beside ``GET /api/customers/{id}`` as the baseline."""
    import httpx

    from core.access import Actor
    from core.access import service as access
    from hub.app import create_app
    from hub.settings import load_settings
    from plugins.manager import make_plugin_manager

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        _run(["db", "upgrade"], _env(url, workdir), workdir)
        settings = load_settings(
            database_url=url, secret_key_file=workdir / "secret.key", inprocess_workers=False
        )
        app = create_app(settings, host=make_plugin_manager(load_entrypoints=False))
        async with app.router.lifespan_context(app):
            runtime = app.state.runtime
            op = Actor.operator("bench")
            async with runtime.sessions() as session, session.begin():
                await access.add_branch(session, op, code="HQ", name="总行", parent=None)
                await access.add_user(
                    session, op, username="li", password="Corr3ct-horse", roles=["loan_officer"], branch="HQ"
                )
                await access.add_user(
                    session, op, username="boss", password="Corr3ct-horse", roles=["admin"], branch="HQ"
                )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

                async def token(user: str) -> dict[str, str]:
                    answer = await client.post(
                        "/api/auth/token", data={"username": user, "password": "Corr3ct-horse"}
                    )
                    return {"Authorization": f"Bearer {answer.json()['access_token']}"}

                li, boss = await token("li"), await token("boss")
                product = await client.post(
                    "/api/products",
                    headers=boss,
                    json={
                        "code": "bench",
                        "name": "bench",
                        "min_amount": "1000.00",
                        "max_amount": "500000.00",
                        "terms_months": [12],
                        "annual_rate": "0.12",
                        "repayment_methods": ["equal_installment"],
                    },
                )
                customer = (
                    await client.post(
                        "/api/customers",
                        headers=li,
                        json={
                            "kind": "person",
                            "name": "张三",
                            "id_number": "11010519491231002X",
                            "mobile": "13800138000",
                        },
                    )
                ).json()["id"]
                started = time.perf_counter()
                for n in range(applications):
                    made = await client.post(
                        "/api/applications",
                        headers=li,
                        json={
                            "customer_id": customer,
                            "product_id": product.json()["id"],
                            "amount": f"{10000 + n}.00",
                            "term_months": 12,
                        },
                    )
                    assert made.status_code == 201, made.text
                for n in range(follow_ups):
                    made = await client.post(
                        "/api/follow-ups",
                        headers=li,
                        json={
                            "customer_id": customer,
                            "kind": "call",
                            "outcome": f"第 {n} 次回访",
                            "completes_previous": False,
                        },
                    )
                    assert made.status_code == 201, made.text
                print(
                    f"{applications} applications and {follow_ups} follow-ups made in "
                    f"{time.perf_counter() - started:.1f} s on {url.split(':')[0]}"
                )
                view, base = [], []
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    answer = await client.get(f"/api/customers/{customer}/360", headers=li)
                    view.append(time.perf_counter() - t0)
                    assert answer.status_code == 200
                    t0 = time.perf_counter()
                    await client.get(f"/api/customers/{customer}", headers=li)
                    base.append(time.perf_counter() - t0)
                body = answer.json()
                print(
                    f"360 view: {len(body['applications'])} applications, {len(body['follow_ups'])} follow-ups shown; "
                    f"{len(answer.content):,} bytes"
                )
                print(f"GET /360       p50 {_pct(view, 0.5):7.2f} ms   p99 {_pct(view, 0.99):7.2f} ms")
                print(
                    f"GET customer   p50 {_pct(base, 0.5):7.2f} ms   p99 {_pct(base, 0.99):7.2f} ms   (baseline)"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["import", "search", "view360"])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument(
        "--database-url", default=None, help="an EMPTY database (default: a temporary SQLite file)"
    )
    args = parser.parse_args()
    if args.what == "import":
        bench_import(args.rows, args.database_url)
    elif args.what == "search":
        asyncio.run(bench_search(args.customers, args.database_url, args.rounds))
    else:
        asyncio.run(bench_view360(args.database_url, args.rounds))


if __name__ == "__main__":
    main()
