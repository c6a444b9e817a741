"""End to end against the 百行 simulator over loopback HTTP: subjects, faults, refusals."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

import connectors.baihang.plugin as baihang_plugin
from connectors.baihang import client
from connectors.baihang.connector import BaihangCreditBureau
from connectors.baihang.simulator import SANDBOX_CONFIG, SANDBOX_PUBLIC_KEY, create_app
from plugins.manager import make_plugin_manager
from plugins.sdk import (
    AuthError,
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

PATH = "/api/v1/credit/report"


@pytest.fixture(scope="module")
def served() -> Iterator[ServedApp]:
    with serve_app(create_app()) as app:
        yield app


@pytest.fixture
def sim(served: ServedApp) -> Iterator[ServedApp]:
    served.clear_faults()
    yield served
    served.clear_faults()


def make(sim: ServedApp, recorder: MemoryCallRecorder, **overrides: Any) -> BaihangCreditBureau:
    async def fast_sleep(_: float) -> None:
        return None

    values = {
        **SANDBOX_CONFIG, "base_url": sim.url, "connect_timeout": 0.5, "read_timeout": 0.5,
        "total_timeout": 5.0, "backoff_initial": 0.0, "max_retry_after": 5.0, **overrides,
    }  # fmt: skip
    return BaihangCreditBureau(BaihangCreditBureau.Config(**values), recorder=recorder, sleep=fast_sleep)


def subject(person: SandboxPerson) -> PersonSubject:
    return PersonSubject(name=person.name, id_number=person.id_number, mobile=person.mobile)


async def test_plugin_registers_through_the_host() -> None:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("connectors.baihang.plugin", baihang_plugin)
    assert host.connector_class("baihang-credit") is BaihangCreditBureau


async def test_check_connection(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    await connector.check_connection()
    await connector.aclose()


async def test_check_connection_refuses_a_wrong_password(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder(), password="wrong")
    with pytest.raises(AuthError) as caught:
        await connector.check_connection()
    assert caught.value.vendor_code == "ERR-20001"
    await connector.aclose()


async def test_clean_borrower(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    report = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-1")
    assert len(report.accounts) == 2 and not report.has_m3_plus and report.total_overdue == 0
    await connector.aclose()


async def test_delinquent_borrower_is_m3_plus(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    report = await connector.fetch_report(subject(DELINQUENT_BORROWER), authorization_id="AUTH-2")
    assert report.has_m3_plus and report.total_overdue == Decimal("6750.00")
    assert report.hard_inquiries(days=60) == 4
    await connector.aclose()


async def test_dishonest_debtor_has_a_bad_debt(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    report = await connector.fetch_report(subject(DISHONEST_DEBTOR), authorization_id="AUTH-3")
    assert report.worst_status_24m == "B" and report.public_records == ()  # 百行 has no court data
    await connector.aclose()


async def test_unknown_person_is_not_found(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    with pytest.raises(NotFound):
        await connector.fetch_report(subject(UNKNOWN_PERSON), authorization_id="AUTH-4")
    await connector.aclose()


async def test_exhausted_account_is_quota_exhausted(sim: ServedApp) -> None:
    recorder = MemoryCallRecorder()
    connector = make(sim, recorder, account=EXHAUSTED_CREDENTIAL)
    with pytest.raises(QuotaExhausted) as caught:
        await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-5")
    assert caught.value.vendor_code == "ERR-20002" and len(recorder.records) == 1
    await connector.aclose()


async def test_wrong_public_key_is_refused_as_undecryptable(sim: ServedApp) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    connector = make(sim, MemoryCallRecorder(), rsa_public_key=pem)
    with pytest.raises(InvalidRequest) as caught:
        await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-6")
    assert caught.value.vendor_code == "ERR-10002"
    await connector.aclose()


async def test_repeated_req_id_gets_the_same_report(sim: ServedApp) -> None:
    connector = make(sim, MemoryCallRecorder())
    first = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-7")
    again = await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-7")
    assert first.report_id == again.report_id
    await connector.aclose()


@pytest.mark.parametrize(
    ("faults", "outcome", "attempts"),
    [
        (("503",), None, 2),
        (("500", "504"), None, 3),
        (("503", "503", "503"), TransientError, 3),
        (("429:1",), None, 2),
        (("timeout:1.5",), None, 2),
        (("latency:0.1",), None, 1),
        (("malformed",), VendorContractError, 1),
        (("401",), AuthError, 1),
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
        assert report.accounts
    else:
        with pytest.raises(outcome):
            await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-F")
    assert [r.attempt for r in recorder.records] == list(range(1, attempts + 1))
    failed = attempts - 1 if outcome is None else attempts
    assert all(r.error_class for r in recorder.records[:failed])  # every retry visible in the call log
    await connector.aclose()


async def test_call_log_holds_no_plain_pii(sim: ServedApp) -> None:
    recorder = MemoryCallRecorder()
    connector = make(sim, recorder)
    await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="AUTH-8")
    (row,) = recorder.records
    p = CLEAN_BORROWER
    for text in (row.request_body or "", row.response_body or ""):
        for pii in (p.name, p.id_number, p.mobile, "示例路", "示例信息技术", str(SANDBOX_CONFIG["password"])):
            assert pii not in text
    await connector.aclose()


# -- the simulator refuses what 百行 would ---------------------------------------------------------


def raw_query(sim: ServedApp, *, auth: str | None = None, tamper: bool = False) -> httpx.Response:
    key = client.load_public_key(SANDBOX_PUBLIC_KEY)
    body = client.build_report_body(
        key=key, scheme="pkcs1v15", req_id="raw-1", name=CLEAN_BORROWER.name, pid=CLEAN_BORROWER.id_number,
        mobile=None, query_reason="1", guarantee_type="1", loan_purpose="99", custom_type="99",
        apply_amount=Decimal(-1),
    )  # fmt: skip
    if tamper:
        raw = bytearray(base64.b64decode(body["pid"]))
        raw[10] ^= 0xFF
        body["pid"] = base64.b64encode(bytes(raw)).decode()
    headers = {
        "Authorization": auth
        or client.basic_auth(str(SANDBOX_CONFIG["account"]), str(SANDBOX_CONFIG["password"]))
    }
    return httpx.post(sim.url + PATH, json=body, headers=headers)


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({}, 200, "0000"),
        ({"auth": client.basic_auth(str(SANDBOX_CONFIG["account"]), "wrong")}, 401, "ERR-20001"),
        ({"auth": client.basic_auth("SOMEONE_A0009", str(SANDBOX_CONFIG["password"]))}, 401, "ERR-20001"),
        ({"auth": "Bearer abc"}, 401, "ERR-20001"),
        ({"tamper": True}, 200, "ERR-10002"),
    ],
)
def test_simulator_refuses_like_baihang(
    sim: ServedApp, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = raw_query(sim, **kwargs)
    assert response.status_code == status
    assert response.json()["errorCode"] == code


def test_simulator_refuses_missing_fields(sim: ServedApp) -> None:
    auth = client.basic_auth(str(SANDBOX_CONFIG["account"]), str(SANDBOX_CONFIG["password"]))
    response = httpx.post(sim.url + PATH, json={"reqID": "x"}, headers={"Authorization": auth})
    assert response.json()["errorCode"] == "ERR-10001"
