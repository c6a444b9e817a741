"""A worker process killed with SIGKILL mid-job: the job is redone once, its effect written once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dbfixtures import REDIS_URL, effects
from jobwait import count, job_row, wait_for
from sqlalchemy import select

from core.jobs import JobStatus, enqueue, take_enqueued
from hub.workers import RedisJobQueue

TESTS = Path(__file__).resolve().parent.parent
BROKERS = [pytest.param(None, id="inprocess")]
if REDIS_URL:
    BROKERS.append(pytest.param(REDIS_URL, id="redis", marks=pytest.mark.redis))


def _start_worker(database_url: str, redis_url: str | None, cwd: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "LENDHUB_DATABASE_URL": database_url,
        "LENDHUB_JOB_LEASE_SECONDS": "1",
        "LENDHUB_WORKER_CONCURRENCY": "2",
        "PYTHONPATH": os.pathsep.join([str(TESTS / "hub"), str(TESTS)]),
    }
    env.pop("LENDHUB_REDIS_URL", None)
    if redis_url:
        env["LENDHUB_REDIS_URL"] = redis_url
    command = "from hub.cli.worker import worker; worker()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "--handlers", "worker_app:build_handlers", "--grace", "5"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_file(path: Path, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{process.stdout.read().decode()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"worker never reached the job:\n{process.communicate()[0].decode()}")
        time.sleep(0.05)


@pytest.mark.parametrize("broker", BROKERS)
async def test_a_job_survives_its_worker_being_killed_and_runs_exactly_once(
    broker, database_url, session_factory, tmp_path
):
    marker = tmp_path / "mid-job"
    async with session_factory() as session:
        await enqueue(session, "test.effect", {"block_on_attempt": 1, "marker": str(marker)})
        await session.commit()
        [job_id] = take_enqueued(session)
    if broker:
        producer = RedisJobQueue(broker)
        await producer.start()
        await producer.notify(job_id)
        await producer.stop()

    first = _start_worker(database_url, broker, tmp_path)
    try:
        _wait_file(marker, first)
        job = await job_row(session_factory, job_id)
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
        assert await count(session_factory, effects) == 0  # written, not committed
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL

    second = _start_worker(database_url, broker, tmp_path)
    try:

        async def done():
            return (await job_row(session_factory, job_id)).status == JobStatus.DONE

        await wait_for(done, within=20)
    finally:
        second.send_signal(signal.SIGTERM)
        output = second.communicate(timeout=15)[0].decode()
    assert second.returncode == 0, output  # graceful stop on SIGTERM
    assert "worker stopped" in output

    job = await job_row(session_factory, job_id)
    assert (job.status, job.attempts, job.lease_owner) == (JobStatus.DONE, 2, None)
    async with session_factory() as session:
        rows = (await session.execute(select(effects.c.job_id, effects.c.note))).all()
    assert rows == [(job_id, "attempt 2")]
