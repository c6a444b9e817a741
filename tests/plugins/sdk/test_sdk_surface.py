"""The public surface of plugins.sdk, config helpers, retry parsing and in-memory state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sdk_helpers import API_KEY, DemoConfig, make_config

import plugins.sdk as sdk
from plugins.sdk import (
    MemoryCache,
    MemoryLocks,
    MemoryRateCounter,
    SharedState,
    parse_retry_after,
    public_config,
    secret_fields,
)
from plugins.sdk.state import BreakerStore, Cache, Locks, RateCounter


def test_all_is_sorted_public_and_complete() -> None:
    names = sdk.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n.lower() if n.isupper() else n))
    assert len(set(names)) == len(names)
    for name in names:
        assert not name.startswith("_")
        assert hasattr(sdk, name), name
    required = {
        "hookimpl", "PROJECT_NAME", "Connector", "ConnectorInfo", "Capability", "SupportLevel",
        "CreditBureau", "Litigation", "BusinessRegistry", "ESignature", "FinanceLedger", "OaApproval",
        "RiskModel", "ConnectorError", "TransientError", "RateLimited", "CircuitOpen", "PermanentError",
        "AuthError", "NotFound", "InvalidRequest", "QuotaExhausted", "VendorContractError", "EgressDenied",
        "HttpConnector", "HttpConnectorConfig", "RetryPolicy", "CallRecord", "CallRecorder",
        "MemoryCallRecorder", "SharedState", "BreakerStore", "RateCounter", "Locks", "Cache", "SecretStr",
        "CookielessAsyncClient", "Masker", "parse_rate_limit_reset", "rate_limit_delay",
        "Authenticator", "BasicAuth", "ApiKey", "OAuth2ClientCredentials", "HmacSigner", "SigningInput",
        "token_expired",
    }  # fmt: skip
    assert required <= set(names)


def test_sdk_imports_nothing_forbidden() -> None:
    import sys

    forbidden = ("sqlalchemy", "fastapi", "starlette", "redis", "taskiq", "hub")
    for module in list(sys.modules):
        if module.startswith("plugins.sdk"):
            source = getattr(sys.modules[module], "__file__", "") or ""
            text = Path(source).read_text(encoding="utf-8") if source.endswith(".py") else ""
            for name in forbidden:
                assert f"import {name}" not in text and f"from {name}" not in text, (module, name)


def test_secret_fields_and_public_config() -> None:
    assert secret_fields(DemoConfig) == {"api_key", "app_secret"}
    data = public_config(make_config())
    assert data["api_key"] == "***" and data["app_secret"] is None
    assert data["cost_per_call"] == "0"
    assert API_KEY not in repr(data)


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValidationError):
        make_config(max_attempts=0)
    with pytest.raises(ValidationError):
        make_config(unknown_field=1)
    assert make_config(cost_per_call="0.35").cost_per_call == Decimal("0.35")


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    when = format_datetime(datetime.fromtimestamp(now + 7, UTC), usegmt=True)
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after(when, now=now) == pytest.approx(7.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None
    assert parse_retry_after("-5", now=now) == 0.0


def test_memory_state_satisfies_the_protocols() -> None:
    state = SharedState.memory()
    assert isinstance(state.breakers, BreakerStore)
    assert isinstance(state.rates, RateCounter)
    assert isinstance(state.locks, Locks)
    assert isinstance(state.cache, Cache)


async def test_memory_rate_counter_refuses_without_spending() -> None:
    rates = MemoryRateCounter()
    assert await rates.reserve("k", rate=1, now=0.0, max_wait=10) == 0.0
    assert await rates.reserve("k", rate=1, now=0.0, max_wait=0.5) == pytest.approx(1.0)  # refused
    assert await rates.reserve("k", rate=1, now=0.0, max_wait=10) == pytest.approx(1.0)  # not spent
    assert await rates.reserve("k", rate=1, now=0.0, max_wait=10) == pytest.approx(2.0)
    assert await rates.reserve("other", rate=1, now=0.0, max_wait=0) == 0.0


async def test_memory_locks_are_single_flight() -> None:
    locks = MemoryLocks()
    order: list[str] = []
    a_holds, b_trying = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with locks.hold("refresh", ttl=5):
            order.append("a+")
            a_holds.set()
            await b_trying.wait()  # b asks for the lock while a holds it
            order.append("a-")

    async def contender() -> None:
        await a_holds.wait()
        b_trying.set()
        async with locks.hold("refresh", ttl=5):
            order.append("b+")
            order.append("b-")

    await asyncio.gather(holder(), contender())
    assert order == ["a+", "a-", "b+", "b-"]
    async with locks.hold("x", ttl=5):
        with pytest.raises(TimeoutError):
            async with locks.hold("x", ttl=5, wait=0.001):
                pass


async def test_memory_cache_expires() -> None:
    now = [0.0]
    cache = MemoryCache(clock=lambda: now[0])
    await cache.set("k", b"v", ttl=10)
    assert await cache.get("k") == b"v"
    now[0] = 10.5
    assert await cache.get("k") is None
    await cache.set("k", b"v", ttl=10)
    await cache.delete("k")
    assert await cache.get("k") is None
