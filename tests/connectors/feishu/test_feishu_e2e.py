"""End to end against the 飞书 simulator over loopback HTTP: magic subjects, faults, tokens."""

from __future__ import annotations

import time
from typing import Any

import pytest
from feishu_helpers import make_connector

from connectors.feishu.connector import FeishuApproval
from connectors.feishu.simulator import SANDBOX_APPROVAL_CODE
from plugins.sdk import (
    AuthError,
    InvalidRequest,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
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
    UNKNOWN_PERSON,
)
from schemas.canonical.oa import ApprovalRequest, ApprovalStatus, ApprovalTaskStatus

Fixture = tuple[FeishuApproval, MemoryCallRecorder, Any]


def loan_request(subject_id: str, key: str | None = None) -> ApprovalRequest:
    return ApprovalRequest(
        template_code=SANDBOX_APPROVAL_CODE,
        initiator="ou_sandbox_initiator",
        form={"borrower_id": subject_id, "amount": "50000.00"},
        idempotency_key=key or f"loan-{time.time_ns()}",
    )


@pytest.mark.parametrize(
    ("subject", "status", "nodes"),
    [
        (CLEAN_BORROWER.id_number, ApprovalStatus.APPROVED, ["初审", "终审"]),
        (ACTIVE_COMPANY.uscc, ApprovalStatus.APPROVED, ["初审", "终审"]),
        (DELINQUENT_BORROWER.id_number, ApprovalStatus.REJECTED, ["初审", "终审"]),
        (DISHONEST_DEBTOR.id_number, ApprovalStatus.REJECTED, ["初审"]),
        (REVOKED_COMPANY.uscc, ApprovalStatus.REJECTED, ["初审"]),
        (UNKNOWN_PERSON.id_number, ApprovalStatus.PENDING, ["初审"]),
    ],
)
async def test_magic_subject_decides_the_approval(
    feishu: Fixture, subject: str, status: ApprovalStatus, nodes: list[str]
) -> None:
    connector, _, _ = feishu
    created = await connector.create_instance(loan_request(subject))
    assert created.status is ApprovalStatus.PENDING
    instance = await connector.get_instance(created.instance_id)
    assert instance.status is status
    assert [t.node_name for t in instance.tasks] == nodes
    assert instance.template_code == SANDBOX_APPROVAL_CODE
    assert {f.field_id: f.value for f in instance.form}["borrower_id"] == subject
    if status is ApprovalStatus.REJECTED:
        rejected = [t for t in instance.tasks if t.status is ApprovalTaskStatus.REJECTED]
        assert rejected and rejected[0].comment and rejected[0].finished_at is not None
        assert instance.comments and instance.history[-1][0] is ApprovalStatus.REJECTED
    if status is ApprovalStatus.PENDING:
        assert instance.tasks[0].status is ApprovalTaskStatus.PENDING and instance.finished_at is None


async def test_create_is_idempotent_through_the_uuid(feishu: Fixture) -> None:
    connector, _, _ = feishu
    request = loan_request(CLEAN_BORROWER.id_number, key="idem-feishu-1")
    first = await connector.create_instance(request)
    second = await connector.create_instance(request)
    assert first.instance_id == second.instance_id


async def test_unknown_instance_is_not_found(feishu: Fixture) -> None:
    connector, _, _ = feishu
    with pytest.raises(NotFound) as caught:
        await connector.get_instance("00000000-0000-0000-0000-000000000000")
    assert caught.value.vendor_code == "1390003"


async def test_unknown_approval_code_is_invalid_request(feishu: Fixture) -> None:
    connector, _, _ = feishu
    request = loan_request(CLEAN_BORROWER.id_number).model_copy(update={"template_code": "NOPE"})
    with pytest.raises(InvalidRequest):
        await connector.create_instance(request)


async def test_token_is_cached_and_refreshed_once_when_the_vendor_expires_it(feishu: Fixture) -> None:
    connector, recorder, app = feishu
    sim = app.app.state.simulator
    before = sim.token_requests
    created = await connector.create_instance(loan_request(CLEAN_BORROWER.id_number))
    await connector.get_instance(created.instance_id)
    assert sim.token_requests == before + 1
    sim.expire_tokens()
    await connector.get_instance(created.instance_id)
    assert sim.token_requests == before + 2
    ops = [r.operation for r in recorder.records]
    assert ops[-3:] == ["get_instance", "tenant_access_token", "get_instance"]


async def test_wrong_app_secret_is_an_auth_error_after_one_attempt(simulator: tuple[str, Any]) -> None:
    connector, recorder = make_connector(simulator[0], app_secret="wrong")
    with pytest.raises(AuthError) as caught:
        await connector.get_instance("any")
    assert caught.value.vendor_code == "10014"
    assert len(recorder.records) == 1
    await connector.aclose()


async def test_exhausted_app_gets_the_monthly_quota_error(simulator: tuple[str, Any]) -> None:
    connector, recorder = make_connector(simulator[0], app_id=EXHAUSTED_CREDENTIAL)
    with pytest.raises(QuotaExhausted) as caught:
        await connector.create_instance(loan_request(CLEAN_BORROWER.id_number))
    assert caught.value.vendor_code == "99991403"
    assert [r.attempt for r in recorder.records if r.operation == "create_instance"] == [1]
    await connector.aclose()


async def test_check_connection_proves_the_credentials(feishu: Fixture, simulator: tuple[str, Any]) -> None:
    await feishu[0].check_connection()
    bad, _ = make_connector(simulator[0], app_secret="wrong")
    with pytest.raises(AuthError):
        await bad.check_connection()
    await bad.aclose()


@pytest.mark.parametrize(
    ("faults", "outcome", "attempts"),
    [
        (("503", "503"), None, 3),
        (("500",), None, 2),
        (("429:1",), None, 2),
        (("latency:0.1",), None, 1),
        (("timeout:2", "timeout:2", "timeout:2"), TransientError, 3),
        (("malformed",), VendorContractError, 1),
        (("401",), AuthError, 1),
    ],
)
async def test_injected_fault_on_get_instance(
    feishu: Fixture, faults: tuple[str, ...], outcome: type[Exception] | None, attempts: int
) -> None:
    connector, recorder, app = feishu
    created = await connector.create_instance(loan_request(CLEAN_BORROWER.id_number))
    app.plan.push(*faults, path_filter="/approval/v4/instances/")
    if outcome is None:
        instance = await connector.get_instance(created.instance_id)
        assert instance.status is ApprovalStatus.APPROVED
    else:
        with pytest.raises(outcome):
            await connector.get_instance(created.instance_id)
    gets = [r for r in recorder.records if r.operation == "get_instance"]
    assert [r.attempt for r in gets] == list(range(1, attempts + 1))
    app.plan.clear()


async def test_create_retries_a_503_safely_with_its_uuid(feishu: Fixture) -> None:
    connector, recorder, app = feishu
    app.plan.push("503", path_filter="/approval/v4/instances")
    created = await connector.create_instance(loan_request(CLEAN_BORROWER.id_number, key="idem-503"))
    attempts = [r for r in recorder.records if r.operation == "create_instance"]
    assert [r.status_code for r in attempts] == [503, 200]
    again = await connector.create_instance(loan_request(CLEAN_BORROWER.id_number, key="idem-503"))
    assert again.instance_id == created.instance_id


async def test_call_log_holds_no_secret_token_or_id_number(feishu: Fixture) -> None:
    connector, recorder, _ = feishu
    created = await connector.create_instance(loan_request(DELINQUENT_BORROWER.id_number))
    await connector.get_instance(created.instance_id)
    dump = repr(recorder.records)
    assert "sandbox-feishu-app-secret" not in dump
    assert DELINQUENT_BORROWER.id_number not in dump
    tokens = [r.response_body or "" for r in recorder.records if r.operation == "tenant_access_token"]
    assert tokens and all('"t-' not in body for body in tokens)
