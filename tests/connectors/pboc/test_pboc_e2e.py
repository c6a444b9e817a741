"""End to end against the gateway simulator over loopback HTTP: subjects, faults, refusals."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import connectors.pboc.plugin as pboc_plugin
from connectors.pboc import client
from connectors.pboc.connector import PbocCreditBureau
from connectors.pboc.simulator import SANDBOX_CONFIG, SANDBOX_SECRET, create_app
from plugins.manager import make_plugin_manager
from plugins.sdk import (
    AuthError,
    Capability,
    ConnectorError,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    TransientError,
    VendorContractError,
)
from plugins.sdk.sandbox import (
    CLEAN_BORROWER,
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    UNKNOWN_PERSON,
    SandboxPerson,
)
from plugins.testing.server import ServedApp, serve_app
from schemas.canonical import PersonSubject
from schemas.canonical.credit_report import FiveCategory, PublicRecordKind

PATH = "/v1/pboc/personal-report"


@pytest.fixture(scope="module")
def served() -> Iterator[ServedApp]:
    with serve_app(create_app()) as app:
        yield app


@pytest.fixture
def sim(served: ServedApp) -> Iterator[ServedApp]:
    served.clear_faults()
    yield served
    served.clear_faults()


def make(sim: ServedApp, recorder: MemoryCallRecorder, **overrides: Any) -> PbocCreditBureau:
    async def fast_sleep(_: float) -> None:
        return None

    values = {
        **SANDBOX_CONFIG, "base_url": sim.url, "connect_timeout": 0.5, "read_timeout": 0.5,
        "total_timeout": 5.0, "backoff_initial": 0.0, "max_retry_after": 5.0, **overrides,
    }  # fmt: skip
    return PbocCreditBureau(PbocCreditBureau.Config(**values), recorder=recorder, sleep=fast_sleep)


def subject(person: SandboxPerson) -> PersonSubject:
    return PersonSubject(name=person.name, id_number=person.id_number, mobile=person.mobile)


async def test_plugin_registers_through_the_host() -> None:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("connectors.pboc.plugin", pboc_plugin)
    assert host.connector_class("pboc-credit") is PbocCreditBureau
    assert PbocCreditBureau in host.connectors_for(Capability.CREDIT_BUREAU)


async def test_check_connection_accepts_sandbox_credentials(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    await connector.check_connection()
    await connector.aclose()


async def test_check_connection_refuses_a_wrong_secret(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder(), secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        await connector.check_connection()
    assert caught.value.vendor_code == "1001"
    await connector.aclose()


async def test_clean_borrower(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    report = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-1")
    assert report.score is not None and report.score.value == 720
    assert not report.has_m3_plus and report.total_overdue == 0 and report.public_records == ()
    assert len(report.accounts) == 2
    await connector.aclose()


async def test_delinquent_borrower_is_m3_plus_substandard(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    report = await connector.fetch_report(subject(DELINQUENT_BORROWER), authorization_id="AUTH-2")
    assert report.has_m3_plus and report.accounts[0].five_category is FiveCategory.SUBSTANDARD
    assert report.hard_inquiries(days=60) == 5
    await connector.aclose()


async def test_dishonest_debtor_has_enforcement(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    report = await connector.fetch_report(subject(DISHONEST_DEBTOR), authorization_id="AUTH-3")
    assert report.public_records_of(PublicRecordKind.ENFORCEMENT)
    assert report.public_records_of(PublicRecordKind.CIVIL_JUDGMENT)
    assert report.worst_status_24m == "B"
    await connector.aclose()


async def test_unknown_person_is_not_found(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    with pytest.raises(NotFound) as caught:
        await connector.fetch_report(subject(UNKNOWN_PERSON), authorization_id="AUTH-4")
    assert caught.value.vendor_code == "4001"
    await connector.aclose()


async def test_name_not_matching_id_is_not_found(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    person = PersonSubject(name="错名", id_number=CLEAN_BORROWER.id_number)
    with pytest.raises(NotFound):
        await connector.fetch_report(person, authorization_id="AUTH-5")
    await connector.aclose()


@pytest.mark.parametrize("field", ["member_code", "user_code"])
async def test_exhausted_credential_is_quota_exhausted(sim: ServedApp, field: str) -> None:
    recorder = MemoryCallRecorder()
    connector = make(sim, recorder, **{field: EXHAUSTED_CREDENTIAL})
    with pytest.raises(QuotaExhausted):
        await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-6")
    assert len(recorder.records) == 1
    await connector.aclose()


async def test_same_authorization_returns_the_same_report(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    first = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-7")
    again = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-7")
    assert first.report_id == again.report_id
    await connector.aclose()


@pytest.mark.parametrize(
    ("faults", "outcome", "attempts"),
    [
        (("503",), None, 2),
        (("500", "502"), None, 3),
        (("503", "503", "503"), TransientError, 3),
        (("429:1",), None, 2),
        (("timeout:1.5",), None, 2),
        (("latency:0.1",), None, 1),
        (("malformed",), VendorContractError, 1),
        (("401",), AuthError, 1),
        (("404",), NotFound, 1),
        (("400",), InvalidRequest, 1),
    ],
)
async def test_injected_faults(
    sim: ServedApp, faults: tuple[str, ...], outcome: type[ConnectorError] | None, attempts: int
) -> None:
    recorder = MemoryCallRecorder()
    connector = make(sim, recorder)
    sim.push(*faults, path_filter=PATH)
    if outcome is None:
        report = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-F")
        assert report.subject.id_number == CLEAN_BORROWER.id_number
        assert recorder.records[-1].error_class is None
    else:
        with pytest.raises(outcome):
            await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-F")
    assert [r.attempt for r in recorder.records] == list(range(1, attempts + 1))
    failed = attempts - 1 if outcome is None else attempts
    assert all(r.error_class for r in recorder.records[:failed])  # every retry visible in the call log
    await connector.aclose()


async def test_call_log_holds_no_name_or_id_number(sim: ServedApp) -> None:
    recorder = MemoryCallRecorder()
    connector = make(sim, recorder)
    await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-8")
    (row,) = recorder.records
    for text in (row.request_body or "", row.response_body or "", row.url):
        for pii in (
            CLEAN_BORROWER.name,
            CLEAN_BORROWER.id_number,
            CLEAN_BORROWER.mobile,
            "示例路",
            SANDBOX_SECRET,
        ):
            assert pii not in text
    assert row.idempotency_key is not None and CLEAN_BORROWER.id_number not in row.idempotency_key
    await connector.aclose()


# -- the simulator refuses what the real gateway would ---------------------------------------------


def raw_query(sim: ServedApp, *, secret: str = SANDBOX_SECRET, now: float | None = None,
              tamper: bool = False, member: str = "LH0000000001", **fields: str) -> httpx.Response:  # fmt: skip
    body = {
        "requestId": hashlib.md5(repr(fields).encode()).hexdigest(), "memberCode": member,
        "userCode": "lendhub01", "queryReason": "02", "authorizationId": "AUTH", "name": CLEAN_BORROWER.name,
        "idType": "10", "idNumber": CLEAN_BORROWER.id_number, "reportFormat": "json", **fields,
    }  # fmt: skip
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = client.signed_headers(
        member_code=member, secret=secret, method="POST", path=PATH, body=raw, now=now or time.time()
    )
    if tamper:
        raw = raw.replace(b'"02"', b'"03"')
    return httpx.post(sim.url + PATH, content=raw, headers=headers)


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({}, 200, "0000"),
        ({"secret": "wrong"}, 401, "1001"),
        ({"tamper": True}, 401, "1001"),
        ({"now": time.time() - 3600}, 401, "1002"),
        ({"member": "LH9999999999"}, 401, "1003"),
        ({"authorizationId": ""}, 200, "2002"),
        ({"queryReason": "42"}, 200, "2001"),
        ({"idType": "20"}, 200, "2001"),
    ],
)
def test_simulator_refuses_like_the_gateway(
    sim: ServedApp, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = raw_query(sim, **kwargs)
    assert response.status_code == status
    assert response.json()["code"] == code
