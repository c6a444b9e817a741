"""天眼查 end to end: the connectors against the simulator over real loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

import connectors.tianyancha.plugin as plugin_module
from connectors.tianyancha.connector import TianyanchaBusinessRegistry, TianyanchaLitigation
from connectors.tianyancha.simulator import SANDBOX_CONFIG, SANDBOX_TOKEN, create_app
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

LAWSUIT = "/jr/lawSuit/"
BASEINFO = "/ic/baseinfo/"


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

    def make(self, cls: type[Any], **overrides: Any) -> Any:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        values = {
            **SANDBOX_CONFIG,
            "base_url": self.url,
            "read_timeout": 2.0,
            "backoff_initial": 0.01,
            **overrides,
        }
        connector = cls(cls.Config(**values), recorder=self.recorder, sleep=sleep)
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
    record = await env.make(TianyanchaLitigation).search(person.name, id_number=person.id_number)
    assert record.is_clean and record.subject_name == person.name


async def test_dishonest_debtor_is_on_every_list(env: Env) -> None:
    connector = env.make(TianyanchaLitigation)
    record = await connector.search(DISHONEST_DEBTOR.name, id_number=DISHONEST_DEBTOR.id_number)
    assert len(record.dishonest) == 1 and len(record.executed) == 1 and len(record.restrictions) == 1
    assert record.dishonest[0].case_number == record.executed[0].case_number == "(2022)粤0305执1234号"
    (case,) = record.cases
    assert case.is_defendant and case.parsed_number is not None and case.parsed_number.case_type == "民初"
    # Without the ID number the namesake in 江苏 cannot be told apart and stays.
    assert len((await connector.search(DISHONEST_DEBTOR.name)).dishonest) == 2


async def test_revoked_company_is_defendant_in_two_cases(env: Env) -> None:
    record = await env.make(TianyanchaLitigation).search(REVOKED_COMPANY.name)
    assert len(record.cases) == 2 and all(c.is_defendant for c in record.cases)
    assert not record.dishonest and not record.restrictions


async def test_revoked_company_profile(env: Env) -> None:
    profile = await env.make(TianyanchaBusinessRegistry).company_profile(
        CompanySubject(uscc=REVOKED_COMPANY.uscc)
    )
    assert profile.name == REVOKED_COMPANY.name and profile.status_category is CompanyStatus.REVOKED
    assert len(profile.shareholders) == 2 and len(profile.changes) == 2
    # Follow-up lists go by the vendor's company id.
    assert env.on("/ic/holder/")[0].url.endswith("keyword=2310000001&pageNum=1&pageSize=20")


async def test_active_company_profile_and_no_lawsuits(env: Env) -> None:
    profile = await env.make(TianyanchaBusinessRegistry).company_profile(
        CompanySubject(name=ACTIVE_COMPANY.name)
    )
    assert profile.is_operating and profile.uscc == ACTIVE_COMPANY.uscc
    assert profile.registered_capital is not None and profile.registered_capital.currency == "USD"
    assert profile.changes == ()
    assert (await env.make(TianyanchaLitigation).search(ACTIVE_COMPANY.name)).is_clean


@pytest.mark.parametrize(
    "subject", [CompanySubject(uscc=UNKNOWN_COMPANY.uscc), CompanySubject(name="无结果测试公司")]
)
async def test_unknown_company_is_not_found(env: Env, subject: CompanySubject) -> None:
    with pytest.raises(NotFound):
        await env.make(TianyanchaBusinessRegistry).company_profile(subject)


async def test_small_pages_are_followed(env: Env) -> None:
    record = await env.make(TianyanchaLitigation, page_size=1).search(REVOKED_COMPANY.name)
    assert len(record.cases) == 2
    assert len(env.on(LAWSUIT)) == 2


# -- what the simulator refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "error", "code"),
    [
        ("wrong-token-000000", AuthError, "300009"),
        (f"Bearer {SANDBOX_TOKEN}", AuthError, "300009"),
        ("EXPIRED-token-000000", AuthError, "300003"),
        (EXHAUSTED_CREDENTIAL, QuotaExhausted, "300006"),
    ],
)
async def test_simulator_refuses_bad_tokens_with_vendor_codes(
    env: Env, token: str, error: type[Exception], code: str
) -> None:
    connector = env.make(TianyanchaLitigation, token=token)
    with pytest.raises(error) as caught:
        await connector.search(CLEAN_BORROWER.name)
    assert caught.value.vendor_code == code  # type: ignore[attr-defined]
    assert len(env.recorder.records) == 1  # permanent: one attempt, and the search stops


async def test_check_connection(env: Env) -> None:
    await env.make(TianyanchaBusinessRegistry).check_connection()
    with pytest.raises(AuthError):
        await env.make(TianyanchaLitigation, token="wrong-token-000000").check_connection()


async def test_simulator_rate_limit_is_retried() -> None:
    with serve_app(create_app(rate_limit_per_second=1)) as served:
        environment = Env(served.url)
        connector = environment.make(TianyanchaBusinessRegistry, max_attempts=2, rate_limited_retry_after=0)
        with pytest.raises(RateLimited) as caught:
            await connector.company_profile(CompanySubject(uscc=REVOKED_COMPANY.uscc))
        assert caught.value.vendor_code == "300004"
        await connector.aclose()


async def test_simulator_answers_missing_parameters_and_unknown_paths_like_the_vendor(
    served: ServedApp,
) -> None:
    headers = {"Authorization": SANDBOX_TOKEN}
    async with httpx.AsyncClient(base_url=served.url, headers=headers) as client:
        assert (await client.get("/services/open/jr/lawSuit/2.0")).json()["error_code"] == 300008
        too_big = await client.get("/services/open/jr/lawSuit/2.0", params={"keyword": "x", "pageSize": 21})
        assert too_big.json()["error_code"] == 300008
        assert (await client.get("/services/open/nope")).json()["error_code"] == 300010
    connector = Env(served.url).make(TianyanchaLitigation, lawsuit_path="/services/open/jr/lawSuit/9.9")
    with pytest.raises(InvalidRequest):
        await connector.search("x")
    await connector.aclose()


# -- injected faults ----------------------------------------------------------------------------


async def test_two_503s_then_success_shows_three_attempts(env: Env, served: ServedApp) -> None:
    served.push("503", "503", path_filter=BASEINFO)
    await env.make(TianyanchaBusinessRegistry).company_profile(CompanySubject(uscc=REVOKED_COMPANY.uscc))
    assert [(r.attempt, r.status_code, r.error_class) for r in env.on(BASEINFO)] == [
        (1, 503, "TransientError"),
        (2, 503, "TransientError"),
        (3, 200, None),
    ]


async def test_500_is_retried(env: Env, served: ServedApp) -> None:
    served.push("500", path_filter=LAWSUIT)
    record = await env.make(TianyanchaLitigation).search(DISHONEST_DEBTOR.name)
    assert len(record.cases) == 1
    assert [r.status_code for r in env.on(LAWSUIT)] == [500, 200]


async def test_429_retry_after_is_honoured(env: Env, served: ServedApp) -> None:
    served.push("429:2", path_filter=LAWSUIT)
    await env.make(TianyanchaLitigation).search(CLEAN_BORROWER.name)
    assert 2.0 in env.sleeps
    assert [r.error_class for r in env.on(LAWSUIT)] == ["RateLimited", None]


async def test_timeout_on_every_attempt_is_transient(env: Env, served: ServedApp) -> None:
    served.push("timeout:0.6", "timeout:0.6", path_filter=BASEINFO)
    connector = env.make(TianyanchaBusinessRegistry, read_timeout=0.2, max_attempts=2)
    with pytest.raises(TransientError):
        await connector.company_profile(CompanySubject(uscc=ACTIVE_COMPANY.uscc))
    assert [(r.attempt, r.status_code) for r in env.on(BASEINFO)] == [(1, None), (2, None)]


async def test_latency_below_the_timeout_is_fine(env: Env, served: ServedApp) -> None:
    served.push("latency:0.2", path_filter=BASEINFO)
    profile = await env.make(TianyanchaBusinessRegistry).company_profile(
        CompanySubject(uscc=ACTIVE_COMPANY.uscc)
    )
    assert profile.name == ACTIVE_COMPANY.name
    assert env.on(BASEINFO)[0].latency_ms >= 150


async def test_html_body_is_a_contract_error_without_retry(env: Env, served: ServedApp) -> None:
    served.push("malformed", path_filter=LAWSUIT)
    with pytest.raises(VendorContractError):
        await env.make(TianyanchaLitigation).search(CLEAN_BORROWER.name)
    assert len(env.on(LAWSUIT)) == 1


async def test_call_log_holds_no_token(env: Env) -> None:
    await env.make(TianyanchaLitigation).search(DISHONEST_DEBTOR.name, id_number=DISHONEST_DEBTOR.id_number)
    rows = " ".join(f"{r.url} {r.request_body} {r.response_body}" for r in env.recorder.records)
    assert SANDBOX_TOKEN not in rows and DISHONEST_DEBTOR.id_number not in rows
    name = DISHONEST_DEBTOR.name
    assert name not in rows and quote(name) not in rows and quote_plus(name) not in rows
    assert "keyword=***" in env.recorder.records[0].url
    assert any('"iname": "***"' in (r.response_body or "") for r in env.recorder.records)


# -- registration -------------------------------------------------------------------------------


def test_one_plugin_registers_both_classes() -> None:
    host = make_plugin_manager(load_entrypoints=False, builtins=())
    host.add_plugin("connectors.tianyancha.plugin", plugin_module, builtin=True)  # its slugs are reserved
    assert host.connector_class("tianyancha-litigation") is TianyanchaLitigation
    assert host.connector_class("tianyancha-business-registry") is TianyanchaBusinessRegistry
    assert TianyanchaLitigation in host.connectors_for(Capability.LITIGATION)
    assert TianyanchaBusinessRegistry in host.connectors_for(Capability.BUSINESS_REGISTRY)
    assert not host.quarantined
