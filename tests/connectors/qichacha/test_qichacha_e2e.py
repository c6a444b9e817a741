"""企查查 end to end: the connectors against the simulator over real loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

import connectors.qichacha.plugin as plugin_module
from connectors.qichacha.client import sign
from connectors.qichacha.connector import QichachaBusinessRegistry, QichachaLitigation
from connectors.qichacha.simulator import SANDBOX_APP_KEY, SANDBOX_CONFIG, SANDBOX_SECRET_KEY, create_app
from plugins.manager import make_plugin_manager
from plugins.sdk import (
    AuthError,
    Capability,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from plugins.sdk.sandbox import (
    ACTIVE_COMPANY,
    CLEAN_BORROWER,
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    REVOKED_COMPANY,
    UNKNOWN_COMPANY,
    UNKNOWN_PERSON,
)
from plugins.testing.server import ServedApp, serve_app
from schemas.canonical import CompanySubject
from schemas.canonical.business_registry import CompanyStatus

SHIXIN = "/CourtV4/SearchShiXin"
DETAILS = "/ECIV4/GetBasicDetailsByName"


@pytest.fixture(scope="module")
def sim() -> Iterator[ServedApp]:
    with serve_app(create_app()) as served:
        yield served


@pytest.fixture
def served(sim: ServedApp) -> Iterator[ServedApp]:
    sim.clear_faults()
    yield sim
    sim.clear_faults()


class Env:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sleeps: list[float] = []
        self.recorder = MemoryCallRecorder()
        self.made: list[Any] = []

    def make(self, cls: type[Any], *, clock: Any = None, **overrides: Any) -> Any:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        values = {
            **SANDBOX_CONFIG,
            "base_url": self.url,
            "read_timeout": 2.0,
            "backoff_initial": 0.01,
            **overrides,
        }
        connector = cls(cls.Config(**values), recorder=self.recorder, sleep=sleep, clock=clock)
        self.made.append(connector)
        return connector

    def on(self, path: str) -> list[Any]:
        return [r for r in self.recorder.records if path in httpx.URL(r.url).path]


@pytest.fixture
async def env(served: ServedApp) -> AsyncIterator[Env]:
    environment = Env(served.url)
    yield environment
    for connector in environment.made:
        await connector.aclose()


# -- magic subjects -----------------------------------------------------------------------------


@pytest.mark.parametrize("person", [CLEAN_BORROWER, DELINQUENT_BORROWER, UNKNOWN_PERSON])
async def test_people_without_court_records_get_an_empty_record(env: Env, person: Any) -> None:
    record = await env.make(QichachaLitigation).search(person.name, id_number=person.id_number)
    assert record.is_clean


async def test_dishonest_debtor_is_on_every_list(env: Env) -> None:
    connector = env.make(QichachaLitigation)
    record = await connector.search(DISHONEST_DEBTOR.name, id_number=DISHONEST_DEBTOR.id_number)
    assert len(record.dishonest) == 1 and len(record.executed) == 1 and len(record.restrictions) == 1
    assert record.is_dishonest and record.is_restricted
    assert record.cases[0].is_defendant
    assert len((await connector.search(DISHONEST_DEBTOR.name)).dishonest) == 2  # namesake kept without ID


async def test_revoked_company(env: Env) -> None:
    record = await env.make(QichachaLitigation).search(REVOKED_COMPANY.name)
    assert len(record.cases) == 2 and all(c.is_defendant for c in record.cases)
    profile = await env.make(QichachaBusinessRegistry).company_profile(
        CompanySubject(uscc=REVOKED_COMPANY.uscc)
    )
    assert profile.status_category is CompanyStatus.REVOKED
    assert len(profile.shareholders) == 2 and len(profile.changes) == 2
    assert len(env.on(DETAILS)) == 1  # one call carries profile, shareholders and changes


async def test_active_company(env: Env) -> None:
    profile = await env.make(QichachaBusinessRegistry).company_profile(
        CompanySubject(name=ACTIVE_COMPANY.name)
    )
    assert profile.is_operating and profile.uscc == ACTIVE_COMPANY.uscc
    assert (await env.make(QichachaLitigation).search(ACTIVE_COMPANY.name)).is_clean


async def test_unknown_company_is_not_found(env: Env) -> None:
    with pytest.raises(NotFound):
        await env.make(QichachaBusinessRegistry).company_profile(CompanySubject(uscc=UNKNOWN_COMPANY.uscc))


async def test_small_pages_are_followed(env: Env) -> None:
    record = await env.make(QichachaLitigation, page_size=1).search(DISHONEST_DEBTOR.name)
    assert len(record.dishonest) == 2 and len(env.on(SHIXIN)) == 2


# -- what the simulator refuses -----------------------------------------------------------------


async def test_wrong_secret_is_refused_with_107(env: Env) -> None:
    with pytest.raises(AuthError) as caught:
        await env.make(QichachaLitigation, secret_key="not-the-secret-000").search(CLEAN_BORROWER.name)
    assert caught.value.vendor_code == "107"
    assert len(env.recorder.records) == 1


async def test_unknown_key_is_refused_with_101(env: Env) -> None:
    with pytest.raises(AuthError) as caught:
        await env.make(QichachaBusinessRegistry, app_key="not-a-key-000000").check_connection()
    assert caught.value.vendor_code == "101"


async def test_stale_timespan_is_refused_with_115(env: Env) -> None:
    connector = env.make(QichachaLitigation, clock=lambda: time.time() - 3600)
    with pytest.raises(AuthError) as caught:
        await connector.search(CLEAN_BORROWER.name)
    assert caught.value.vendor_code == "115"


async def test_exhausted_key_is_refused_with_112(env: Env) -> None:
    with pytest.raises(QuotaExhausted) as caught:
        await env.make(QichachaLitigation, app_key=EXHAUSTED_CREDENTIAL).search(CLEAN_BORROWER.name)
    assert caught.value.vendor_code == "112"


async def test_tampered_request_is_refused(served: ServedApp) -> None:
    signed_at = str(int(time.time()))
    token = sign(SANDBOX_APP_KEY, signed_at, SANDBOX_SECRET_KEY)
    params = {"key": SANDBOX_APP_KEY, "keyword": REVOKED_COMPANY.name}
    async with httpx.AsyncClient(base_url=served.url) as client:
        good = await client.get(DETAILS, params=params, headers={"Token": token, "Timespan": signed_at})
        assert good.json()["Status"] == "200" and good.json()["OrderNumber"].startswith("ECI")
        moved = str(int(signed_at) - 1)  # Timespan changed after signing
        tampered = await client.get(DETAILS, params=params, headers={"Token": token, "Timespan": moved})
        assert tampered.json()["Status"] == "107"
        lower = await client.get(
            DETAILS, params=params, headers={"Token": token.lower(), "Timespan": signed_at}
        )
        assert lower.json()["Status"] == "107"
        missing = await client.get(DETAILS, params=params, headers={"Token": token})
        assert missing.json()["Status"] == "115"
        headers = {"Token": token, "Timespan": signed_at}
        short = await client.get(DETAILS, params={**params, "keyword": "x"}, headers=headers)
        assert short.json()["Status"] == "213"
        gone = await client.get("/ECIV4/Nope", params=params, headers=headers)
        assert gone.json()["Status"] == "105"
        assert all(r.status_code == 200 for r in (good, tampered, lower, missing, short, gone))


async def test_unknown_path_is_invalid_request(env: Env) -> None:
    with pytest.raises(InvalidRequest):
        await env.make(QichachaLitigation, judgment_path="/JudgeDocV9/Nope").search(CLEAN_BORROWER.name)


async def test_simulator_concurrency_limit_is_rate_limited() -> None:
    with serve_app(create_app(rate_limit_per_second=1)) as served:
        environment = Env(served.url)
        connector = environment.make(QichachaLitigation, max_attempts=2, rate_limited_retry_after=0)
        with pytest.raises(RateLimited) as caught:
            await connector.search(DISHONEST_DEBTOR.name)
        assert caught.value.vendor_code == "122"
        await connector.aclose()


async def test_check_connection(env: Env) -> None:
    await env.make(QichachaBusinessRegistry).check_connection()


# -- injected faults ----------------------------------------------------------------------------


async def test_two_503s_then_success_shows_three_attempts(env: Env, served: ServedApp) -> None:
    served.push("503", "503", path_filter=DETAILS)
    await env.make(QichachaBusinessRegistry).company_profile(CompanySubject(uscc=REVOKED_COMPANY.uscc))
    assert [(r.attempt, r.status_code, r.error_class) for r in env.on(DETAILS)] == [
        (1, 503, "TransientError"),
        (2, 503, "TransientError"),
        (3, 200, None),
    ]


async def test_500_is_retried(env: Env, served: ServedApp) -> None:
    served.push("500", path_filter=SHIXIN)
    await env.make(QichachaLitigation).search(DISHONEST_DEBTOR.name)
    assert [r.status_code for r in env.on(SHIXIN)] == [500, 200]


async def test_429_retry_after_is_honoured(env: Env, served: ServedApp) -> None:
    served.push("429:2", path_filter=SHIXIN)
    await env.make(QichachaLitigation).search(CLEAN_BORROWER.name)
    assert 2.0 in env.sleeps
    assert [r.error_class for r in env.on(SHIXIN)] == ["RateLimited", None]


async def test_timeout_on_every_attempt_is_transient(env: Env, served: ServedApp) -> None:
    served.push("timeout:0.6", "timeout:0.6", path_filter=DETAILS)
    connector = env.make(QichachaBusinessRegistry, read_timeout=0.2, max_attempts=2)
    with pytest.raises(TransientError):
        await connector.company_profile(CompanySubject(uscc=ACTIVE_COMPANY.uscc))
    assert [(r.attempt, r.status_code) for r in env.on(DETAILS)] == [(1, None), (2, None)]


async def test_latency_below_the_timeout_is_fine(env: Env, served: ServedApp) -> None:
    served.push("latency:0.2", path_filter=DETAILS)
    await env.make(QichachaBusinessRegistry).company_profile(CompanySubject(uscc=ACTIVE_COMPANY.uscc))
    assert env.on(DETAILS)[0].latency_ms >= 150


async def test_html_body_is_a_contract_error_without_retry(env: Env, served: ServedApp) -> None:
    served.push("malformed", path_filter=SHIXIN)
    with pytest.raises(VendorContractError):
        await env.make(QichachaLitigation).search(CLEAN_BORROWER.name)
    assert len(env.on(SHIXIN)) == 1


async def test_call_log_masks_credentials(env: Env) -> None:
    await env.make(QichachaLitigation).search(DISHONEST_DEBTOR.name, id_number=DISHONEST_DEBTOR.id_number)
    rows = " ".join(f"{r.url} {r.request_body} {r.response_body}" for r in env.recorder.records)
    assert SANDBOX_APP_KEY not in rows and SANDBOX_SECRET_KEY not in rows
    assert "key=***" in env.recorder.records[0].url
    name = DISHONEST_DEBTOR.name
    assert name not in rows and quote(name) not in rows and quote_plus(name) not in rows
    assert "searchKey=***" in env.recorder.records[0].url


# -- registration -------------------------------------------------------------------------------


def test_one_plugin_registers_both_classes() -> None:
    host = make_plugin_manager(load_entrypoints=False, builtins=())
    host.add_plugin("connectors.qichacha.plugin", plugin_module, builtin=True)  # its slugs are reserved
    assert QichachaLitigation in host.connectors_for(Capability.LITIGATION)
    assert QichachaBusinessRegistry in host.connectors_for(Capability.BUSINESS_REGISTRY)
    assert not host.quarantined
