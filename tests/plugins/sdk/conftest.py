"""Fixtures for the SDK tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx
from sdk_helpers import Factory, FakeClock

from plugins.sdk import MemoryCallRecorder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> MemoryCallRecorder:
    return MemoryCallRecorder()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def make(http: httpx.AsyncClient, clock: FakeClock, recorder: MemoryCallRecorder) -> Factory:
    return Factory(http, clock, recorder)
