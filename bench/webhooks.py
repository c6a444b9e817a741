"""Webhook ingestion under load, against a running hub, with a bare endpoint as the baseline.

Starts (each in its own process): the hub API with workers out of process, two ``worker``
processes, and a baseline FastAPI app that only reads the body. Sends N Standard-Webhooks-signed
events at concurrency C — plus 10 % duplicates (partner retries: same ``webhook-id``, new
timestamp and signature) and 1 % bad signatures — to each, and reports accepted/s and p50/p99
time to 2xx. Halfway through, one worker is killed with SIGKILL and a new one started. Then it
waits for the inbox to drain and checks the effects: every valid event processed exactly once,
every bad one refused, nothing lost, and bodies and payloads sealed at rest (``core.pii``; the hub
and the workers share one PII key ring, generated for the run).

    .venv/bin/python bench/webhooks.py --events 3000 --concurrency 50
    .venv/bin/python bench/webhooks.py --database-url postgresql+asyncpg://postgres@127.0.0.1/test
    .venv/bin/python bench/webhooks.py --load wrk --duration 10   # C load generator (Debian's wrk)

With ``--load wrk`` the pre-signed requests are replayed by wrk (2 threads, C connections) for
``--duration`` seconds against each server, cycling through them (later rounds are duplicates),
so latency is measured without a Python client competing for the two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import cpu_report, cpu_seconds, machine_busy_seconds, servers_cpu_seconds  # noqa: E402
from bench.wrk import run_wrk, wrk_rate, wrk_requests  # noqa: E402
from core.pii import KeyRing  # noqa: E402
from core.webhooks.models import WebhookInboxEvent  # noqa: E402
from hub.database import make_engine, upgrade_database  # noqa: E402
from plugins.sdk import sign_standard_webhook  # noqa: E402

PYTHON = sys.executable


@dataclass
class Shot:
    """One request to send: an event (maybe a retry of one), or a forgery."""

    msg_id: str
    body: bytes
    valid: bool


@dataclass
class Outcome:
    """What one request got back."""

    status: int
    latency_ms: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def plan(events: int, seed: int | None = None) -> list[Shot]:
    rng = random.Random(seed)
    shots: list[Shot] = []
    for n in range(events):
        body = json.dumps(
            {"type": "repayment.received", "timestamp": n, "data": {"id": f"loan-{n}", "amount": "1200.00"}}
        ).encode()
        shots.append(Shot(f"msg_{uuid.UUID(int=rng.getrandbits(128)).hex}", body, True))
    shots += [rng.choice(shots[:events]) for _ in range(events // 10)]  # partner retries
    shots += [
        Shot(f"forged_{n}", b'{"type":"x","data":{"id":"forged"}}', False) for n in range(events // 100)
    ]
    rng.shuffle(shots)
    return shots


def headers_for(shot: Shot, secret: str) -> dict[str, str]:
    ts = int(time.time())
    if shot.valid:
        signature = sign_standard_webhook(secret, shot.msg_id, ts, shot.body)
    else:
        signature = "v1," + base64.b64encode(os.urandom(32)).decode()
    return {
        "webhook-id": shot.msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def fire(
    url: str, shots: list[Shot], secret: str, concurrency: int, midway=None
) -> tuple[list[Outcome], float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    outcomes: list[Outcome] = []
    queue: asyncio.Queue[Shot] = asyncio.Queue()
    for shot in shots:
        queue.put_nowait(shot)
    half = len(shots) // 2
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one_worker() -> None:
            while not queue.empty():
                shot = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(url, content=shot.body, headers=headers_for(shot, secret))
                outcomes.append(Outcome(response.status_code, (time.perf_counter() - started) * 1000))
                if midway is not None and len(outcomes) == half:
                    midway()

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        return outcomes, time.perf_counter() - started


def wrk_lines(shots: list[Shot], secret: str) -> list[str]:
    """The requests for ``bench/webhooks.lua``, signed now: id, timestamp, signature, body."""
    lines = []
    for shot in shots:
        h = headers_for(shot, secret)
        lines.append(
            f"{h['webhook-id']}\t{h['webhook-timestamp']}\t{h['webhook-signature']}\t{shot.body.decode()}"
        )
    return lines


def wait_http(url: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, outcomes: list[Outcome], wall: float) -> float:
    ok = [o for o in outcomes if 200 <= o.status < 300]
    rate = len(ok) / wall
    lat = [o.latency_ms for o in ok]
    print(
        f"{name:9s} requests={len(outcomes):6d} 2xx={len(ok):6d} wall={wall:6.2f}s accepted/s={rate:8.1f} "
        f"p50={statistics.median(lat):6.1f}ms p99={pct(lat, 0.99):6.1f}ms"
    )
    return rate


async def inbox_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(WebhookInboxEvent.status, func.count()).group_by(WebhookInboxEvent.status)
            )
            return {str(status): int(count) for status, count in rows}
    finally:
        await engine.dispose()


def drain_and_check(
    database_url: str,
    effects: Path,
    valid_ids: set[str] | None,
    *,
    bad_expected: int | None,
    statuses: Counter[int] | None = None,
    sent: int = 0,
) -> None:
    """Wait for the inbox to drain, then check effects.

    ``valid_ids`` is what was sent (``None`` with wrk, which cycles through the requests for a
    while: then the inbox itself says which events arrived). Hook delivery is at least once by
    contract: a worker killed after a plugin acted but before the job committed makes that
    plugin see the event again, so the recording plugin counts redeliveries and the check is that
    every event's effect exists, the inbox processed each event exactly once, and nothing forged
    got through.
    """
    deadline = time.monotonic() + 180
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        counts = asyncio.run(inbox_counts(database_url))
        expected = len(valid_ids) if valid_ids is not None else sum(counts.values())
        if counts.get("processed", 0) >= expected:
            break
        time.sleep(1)
    stored = asyncio.run(inbox_ids(database_url))
    seen = Counter(effects.read_text().split()) if effects.exists() else Counter()
    redelivered = sum(v - 1 for v in seen.values() if v > 1)
    arrived = valid_ids if valid_ids is not None else stored
    print(f"inbox: {counts}" + (f"; responses: {dict(sorted(statuses.items()))}" if statuses else ""))
    print(
        f"hook calls: {sum(seen.values())} for {len(seen)} events; redeliveries after the kill: {redelivered}"
    )
    sealed = asyncio.run(sealed_at_rest(database_url))
    checks = {
        "bodies and payloads sealed at rest": sealed,
        "one inbox row per event": stored == arrived,
        "every event processed exactly once (inbox)": counts.get("processed", 0)
        == len(arrived)
        == sum(counts.values()),
        "every event's effect applied": set(seen) == arrived,
        "no forged event processed": not any(i.startswith("forged_") for i in [*seen, *stored]),
    }
    if statuses is not None and bad_expected is not None:
        checks["every forged request refused (401)"] = statuses.get(401, 0) == bad_expected
        checks["every valid request and retry acknowledged"] = statuses.get(200, 0) == sent - bad_expected
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {name}")
    if not all(checks.values()):
        raise SystemExit(1)


async def sealed_at_rest(database_url: str) -> bool:
    """Whether every stored body and payload is a sealed ``pii1:`` value, read past the column types."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            clear = await conn.scalar(
                text(
                    "SELECT count(*) FROM webhook_requests r JOIN webhook_inbox i ON i.request_id = r.id"
                    " WHERE r.body NOT LIKE 'pii1:%' OR i.payload NOT LIKE 'pii1:%'"
                )
            )
            return clear == 0
    finally:
        await engine.dispose()


async def inbox_ids(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {str(v) for v in (await conn.execute(select(WebhookInboxEvent.event_id))).scalars()}
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--load", choices=["python", "wrk"], default="python", help="the load generator")
    parser.add_argument("--duration", type=int, default=10, help="seconds per server with --load wrk")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="lendhub-bench-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    if args.database_url and args.database_url.startswith("postgresql"):
        sys.path.insert(0, str(ROOT / "tests"))
        os.environ["LENDHUB_TEST_DATABASE_URL"] = args.database_url  # the admin connection for drop
        from dbfixtures import create_pg_database, drop_pg_database

        database_url = asyncio.run(create_pg_database(args.database_url))
    effects = tmp / "effects.log"
    env = {
        **os.environ,
        "LENDHUB_DATABASE_URL": database_url,
        "LENDHUB_SECRET_KEY_FILE": str(tmp / "secret.key"),
        # One PII key ring for the hub and every worker (a key file made by whichever starts first
        # could be read half-written by the others).
        "LENDHUB_PII_KEYS": f"bench1:{KeyRing.generate_key()}",
        "LENDHUB_PII_INDEX_KEY": KeyRing.generate_key(),
        "LENDHUB_INPROCESS_WORKERS": "0",
        "LENDHUB_JOB_LEASE_SECONDS": "5",
        "LENDHUB_BENCH_EFFECTS": str(effects),
        "LENDHUB_LOAD_PLUGINS": "",
        "PYTHONPATH": str(ROOT),
    }
    if args.redis_url:
        env["LENDHUB_REDIS_URL"] = args.redis_url
    asyncio.run(upgrade_database(database_url))
    token = subprocess.run(
        [
            PYTHON,
            "-c",
            "from hub.cli import main; main()",
            "tokens",
            "create",
            "--name",
            "bench",
            "--role",
            "integrator",
        ],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    hub_port, base_port = free_port(), free_port()
    uvicorn = [PYTHON, "-m", "uvicorn", "--factory", "--log-level", "warning", "--no-access-log"]
    procs: list[subprocess.Popen[bytes]] = []

    def start(cmd: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp)
        procs.append(proc)
        return proc

    try:
        hub = start([*uvicorn, "--port", str(hub_port), "bench.webhook_bench_app:hub_app"])
        start([*uvicorn, "--port", str(base_port), "bench.webhook_bench_app:baseline_app"])
        workers = [start([PYTHON, "-m", "bench.webhook_bench_app", "worker"]) for _ in range(2)]
        wait_http(f"http://127.0.0.1:{hub_port}/healthz")
        wait_http(f"http://127.0.0.1:{base_port}/docs")
        created = httpx.post(
            f"http://127.0.0.1:{hub_port}/api/webhooks/sources",
            json={"source": "standard-webhooks", "name": "bench", "generate_secret": True},
            headers={"Authorization": f"Bearer {token}"},
        )
        created.raise_for_status()
        secret = created.json()["secret"]
        # wrk replays the planned requests in a loop: plan enough that it never wraps around, so
        # that it sends the mix the bench promises (10 % duplicates, 1 % forged), not mostly replays.
        events = args.events if args.load == "python" else max(args.events, 5000 * args.duration)
        shots = plan(events)
        valid_ids = {s.msg_id for s in shots if s.valid}
        bad = sum(1 for s in shots if not s.valid)

        worker_cpu: dict[int, float] = {}  # last known, per pid: a killed worker's CPU is not lost

        def cpu_now() -> dict[str, float]:
            worker_cpu.update({w.pid: cpu_seconds(w.pid) for w in workers if w.poll() is None})
            return {
                "api": cpu_seconds(hub.pid),
                "workers": sum(worker_cpu.values()),
                "servers": servers_cpu_seconds(),
                "machine": machine_busy_seconds(),
            }

        def kill_and_replace() -> None:
            cpu_now()
            workers[0].send_signal(signal.SIGKILL)
            workers.append(start([PYTHON, "-m", "bench.webhook_bench_app", "worker"]))
            print("  (killed a worker with SIGKILL mid-run and started another)")

        print(f"events={events} (+{events // 10} duplicates, +{bad} forged) concurrency={args.concurrency}")
        print(f"database={database_url.split('@')[-1]} redis={'yes' if args.redis_url else 'no'}")
        if args.load == "wrk":
            hub_url = f"http://127.0.0.1:{hub_port}/webhooks/standard-webhooks/bench"
            base_url = f"http://127.0.0.1:{base_port}/webhooks/standard-webhooks/bench"
            print("--- baseline (wrk) ---")
            base_report = run_wrk(base_url, wrk_lines(shots, secret), args.concurrency, args.duration, tmp)
            print(base_report)
            print("--- hub (wrk; a worker is killed halfway) ---")
            timer = threading.Timer(args.duration / 2, kill_and_replace)
            cpu_before = cpu_now()
            timer.start()
            hub_report = run_wrk(hub_url, wrk_lines(shots, secret), args.concurrency, args.duration, tmp)
            timer.join()
            print(hub_report)
            print(cpu_report(cpu_before, cpu_now(), wrk_requests(hub_report)))
            for name, report_text in (("baseline", base_report), ("hub", hub_report)):
                sent = wrk_requests(report_text)
                wrapped = " (wrapped around: later requests were replays)" if sent > len(shots) else ""
                print(f"{name}: {sent} requests of {len(shots)} planned{wrapped}")
            ratio = wrk_rate(hub_report) / wrk_rate(base_report)
            print(f"throughput hub/baseline = {ratio:.2f}  (target >= 0.5)")
            drain_and_check(database_url, effects, None, bad_expected=None)
            return
        base_out, base_wall = asyncio.run(
            fire(
                f"http://127.0.0.1:{base_port}/webhooks/standard-webhooks/bench",
                shots,
                secret,
                args.concurrency,
            )
        )
        hub_out, hub_wall = asyncio.run(
            fire(
                f"http://127.0.0.1:{hub_port}/webhooks/standard-webhooks/bench",
                shots,
                secret,
                args.concurrency,
                midway=kill_and_replace,
            )
        )
        base_rate = report("baseline", base_out, base_wall)
        hub_rate = report("hub", hub_out, hub_wall)
        print(f"throughput hub/baseline = {hub_rate / base_rate:.2f}  (target >= 0.5)")

        drain_and_check(
            database_url,
            effects,
            valid_ids,
            bad_expected=bad,
            statuses=Counter(o.status for o in hub_out),
            sent=len(shots),
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.database_url and args.database_url.startswith("postgresql"):
            asyncio.run(drop_pg_database(database_url))


if __name__ == "__main__":
    main()
