"""End to end against the 钉钉 simulator over loopback HTTP: magic subjects, faults, tokens."""

from __future__ import annotations

import time
from typing import Any

import pytest
from dingtalk_helpers import make_connector

from connectors.dingtalk.connector import DingTalkApproval
from connectors.dingtalk.simulator import SANDBOX_INSTANCES, SANDBOX_PROCESS_CODE
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

Fixture = tuple[DingTalkApproval, MemoryCallRecorder, Any]


def loan_request(subject_id: str, key: str | None = None) -> ApprovalRequest:
    return ApprovalRequest(
        template_code=SANDBOX_PROCESS_CODE,
        initiator="sandbox_initiator",
        form={"借款人证件号": subject_id, "金额": "50000.00"},
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
    dingtalk: Fixture, subject: str, status: ApprovalStatus, nodes: list[str]
) -> None:
    connector, _, _ = dingtalk
    created = await connector.create_instance(loan_request(subject))
    instance = await connector.get_instance(created.instance_id)
    assert instance.status is status
    assert [t.node_name for t in instance.tasks] == nodes
    assert {f.name: f.value for f in instance.form}["借款人证件号"] == subject
    if status is ApprovalStatus.REJECTED:
        rejected = [t for t in instance.tasks if t.status is ApprovalTaskStatus.REJECTED]
        assert rejected and rejected[0].comment and instance.finished_at is not None


@pytest.mark.parametrize(
    ("key", "status"), [("clean", ApprovalStatus.APPROVED), ("unknown", ApprovalStatus.PENDING)]
)
async def test_seeded_instances(dingtalk: Fixture, key: str, status: ApprovalStatus) -> None:
    assert (await dingtalk[0].get_instance(SANDBOX_INSTANCES[key])).status is status


async def test_create_is_idempotent_per_key(dingtalk: Fixture) -> None:
    connector, recorder, _ = dingtalk
    request = loan_request(CLEAN_BORROWER.id_number, key="idem-ding-1")
    first = await connector.create_instance(request)
    second = await connector.create_instance(request)
    assert first.instance_id == second.instance_id
    assert len([r for r in recorder.records if r.operation == "create_instance"]) == 1


async def test_unknown_instance_is_not_found(dingtalk: Fixture) -> None:
    with pytest.raises(NotFound):
        await dingtalk[0].get_instance("no-such-instance")


async def test_unknown_process_code_is_invalid_request(dingtalk: Fixture) -> None:
    request = loan_request(CLEAN_BORROWER.id_number).model_copy(update={"template_code": "PROC-NOPE"})
    with pytest.raises(InvalidRequest):
        await dingtalk[0].create_instance(request)


async def test_token_is_cached_and_refreshed_once_when_the_vendor_expires_it(dingtalk: Fixture) -> None:
    connector, recorder, app = dingtalk
    sim = app.app.state.simulator
    before = sim.token_requests
    await connector.get_instance(SANDBOX_INSTANCES["clean"])
    await connector.get_instance(SANDBOX_INSTANCES["clean"])
    assert sim.token_requests == before + 1
    sim.expire_tokens()
    await connector.get_instance(SANDBOX_INSTANCES["clean"])
    assert sim.token_requests == before + 2
    assert [r.operation for r in recorder.records][-3:] == ["get_instance", "access_token", "get_instance"]


async def test_wrong_app_secret_is_an_auth_error_after_one_attempt(simulator: tuple[str, Any]) -> None:
    connector, recorder = make_connector(simulator[0], app_secret="wrong")
    with pytest.raises(AuthError):
        await connector.check_connection()
    assert len(recorder.records) == 1
    await connector.aclose()


async def test_exhausted_app_gets_the_quota_error(simulator: tuple[str, Any]) -> None:
    connector, _ = make_connector(simulator[0], app_key=EXHAUSTED_CREDENTIAL)
    with pytest.raises(QuotaExhausted):
        await connector.get_instance(SANDBOX_INSTANCES["clean"])
    await connector.aclose()


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
    dingtalk: Fixture, faults: tuple[str, ...], outcome: type[Exception] | None, attempts: int
) -> None:
    connector, recorder, app = dingtalk
    await connector.check_connection()
    app.plan.push(*faults, path_filter="/workflow/processInstances")
    if outcome is None:
        assert (await connector.get_instance(SANDBOX_INSTANCES["clean"])).status is ApprovalStatus.APPROVED
    else:
        with pytest.raises(outcome):
            await connector.get_instance(SANDBOX_INSTANCES["clean"])
    gets = [r for r in recorder.records if r.operation == "get_instance"]
    assert [r.attempt for r in gets] == list(range(1, attempts + 1))
    app.plan.clear()


async def test_create_is_not_resent_after_a_503(dingtalk: Fixture) -> None:
    """钉钉 cannot de-duplicate, so the retry loop must not re-send a create."""
    connector, recorder, app = dingtalk
    await connector.check_connection()
    app.plan.push("503", path_filter="/workflow/processInstances")
    with pytest.raises(TransientError):
        await connector.create_instance(loan_request(CLEAN_BORROWER.id_number, key="idem-503"))
    assert [r.attempt for r in recorder.records if r.operation == "create_instance"] == [1]
    created = await connector.create_instance(loan_request(CLEAN_BORROWER.id_number, key="idem-503"))
    assert created.status is ApprovalStatus.PENDING


async def test_call_log_holds_no_secret_or_id_number(dingtalk: Fixture) -> None:
    connector, recorder, _ = dingtalk
    created = await connector.create_instance(loan_request(DELINQUENT_BORROWER.id_number))
    await connector.get_instance(created.instance_id)
    dump = repr(recorder.records)
    assert "sandbox-dingtalk-app-secret" not in dump and DELINQUENT_BORROWER.id_number not in dump


async def test_call_log_masks_the_access_token(dingtalk: Fixture) -> None:
    connector, recorder, app = dingtalk
    await connector.check_connection()
    issued = list(app.app.state.simulator.tokens)
    assert issued and not any(token in repr(recorder.records) for token in issued)
