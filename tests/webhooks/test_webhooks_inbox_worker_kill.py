"""A worker killed with SIGKILL mid-dispatch: nothing lost, nothing done twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from webhooks_inbox_support import event_body, running_hub, sign, wait_for

from core.jobs import Job
from core.webhooks import WebhookInboxEvent

TESTS = Path(__file__).resolve().parent.parent


def _start_worker(database_url: str, tmp_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "LENDHUB_DATABASE_URL": database_url,
        # running_hub's keys (auth.key lies beside secret.key): payloads are sealed, and a process
        # with keys of its own is refused at start (hub.keyprints)
        "LENDHUB_SECRET_KEY_FILE": str(tmp_path / "secret.key"),
        "LENDHUB_PII_KEY_FILE": str(tmp_path / "pii.keys"),
        "LENDHUB_JOB_LEASE_SECONDS": "1",
        "LENDHUB_WORKER_CONCURRENCY": "2",
        "LENDHUB_TEST_WEBHOOK_MARKER": str(tmp_path / "mid-dispatch"),
        "LENDHUB_TEST_WEBHOOK_EFFECTS": str(tmp_path / "effects.txt"),
        "LENDHUB_TEST_WEBHOOK_BLOCK": "k0",
        "PYTHONPATH": os.pathsep.join([str(TESTS.parent), str(TESTS / "webhooks"), str(TESTS)]),
    }
    env.pop("LENDHUB_REDIS_URL", None)
    command = "from hub.cli.worker import worker; worker()"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            command,
            "--handlers",
            "webhooks_inbox_worker_app:build_handlers",
            "--grace",
            "5",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def _statuses(runtime) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(WebhookInboxEvent.event_id, WebhookInboxEvent.status))).all()
    return dict(rows)


async def test_worker_killed_mid_dispatch_loses_nothing_and_does_nothing_twice(
    engine, database_url, tmp_path
):
    async with running_hub(database_url, tmp_path) as (client, runtime):
        for n in range(3):
            body = event_body(f"k{n}")
            assert (
                await client.post("/webhooks/stub-hmac/partner", content=body, headers=sign(body))
            ).is_success

        first = _start_worker(database_url, tmp_path)
        try:
            marker = tmp_path / "mid-dispatch"
            deadline = time.monotonic() + 20
            while not marker.exists():
                assert first.poll() is None, first.stdout.read().decode()
                assert time.monotonic() < deadline, "the worker never reached the event"
                await asyncio.sleep(0.05)

            async def others_done():
                statuses = await _statuses(runtime)
                return statuses["k1"] == statuses["k2"] == "processed"

            await wait_for(others_done, within=20)
            assert (await _statuses(runtime))["k0"] == "received"  # dispatching, nothing committed
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert first.returncode == -signal.SIGKILL

        second = _start_worker(database_url, tmp_path)
        try:

            async def all_done():
                return set((await _statuses(runtime)).values()) == {"processed"}

            await wait_for(all_done, within=20)
        finally:
            second.send_signal(signal.SIGTERM)
            output = second.communicate(timeout=15)[0].decode()
        assert second.returncode == 0, output

        async with runtime.sessions() as session:
            rows = {r.event_id: r for r in (await session.scalars(select(WebhookInboxEvent))).all()}
            jobs = {j.payload["inbox_id"]: j for j in (await session.scalars(select(Job))).all()}
    assert {event_id: row.attempts for event_id, row in rows.items()} == {"k0": 1, "k1": 1, "k2": 1}
    assert jobs[rows["k0"].id].attempts == 2 and jobs[rows["k1"].id].attempts == 1
    assert {job.status for job in jobs.values()} == {"done"}
    effects = sorted((tmp_path / "effects.txt").read_text().splitlines())
    assert effects == ["done k0", "done k1", "done k2"]
