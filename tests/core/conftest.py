"""Fixtures of the core tests: a job clock that moves only when the test says so."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.db import utcnow


class JobClock:
    """Stands in for ``utcnow`` in the job repository: leases expire when the test advances it.

    A lease expiry is then a statement in the test, not a sleep past the lease: exact, instant, and
    the same on a busy machine.
    """

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def job_clock(monkeypatch: pytest.MonkeyPatch) -> JobClock:
    clock = JobClock()
    monkeypatch.setattr("core.jobs.repository.utcnow", clock)
    return clock
