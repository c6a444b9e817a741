"""金蝶 end to end: the connector against its simulator over loopback HTTP.

Magic customers, session expiry and re-login, one voucher per key, and every injected fault with
its retries visible in the call log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kingdee_helpers import disbursement, make_connector, serve

from connectors.kingdee import client
from connectors.kingdee.simulator import SANDBOX_CONFIG, KingdeeSimulator
from plugins.manager import make_plugin_manager
from plugins.sdk import (
    AuthError,
    FaultInjector,
    InvalidRequest,
    QuotaExhausted,
    SharedState,
    TransientError,
    VendorContractError,
)
from plugins.sdk.sandbox import EXHAUSTED_CREDENTIAL


@pytest.fixture
def sim() -> Iterator[tuple[KingdeeSimulator, FaultInjector, str]]:
    simulator = KingdeeSimulator()
    injector = FaultInjector(simulator.app)
    with serve(injector) as url:
        yield simulator, injector, url


async def test_posting_twice_yields_one_voucher(sim: Any) -> None:
    simulator, _, url = sim
    connector, _ = make_connector(url)
    first = await connector.post_voucher(disbursement())
    again = await connector.post_voucher(disbursement())
    assert first.voucher_id == again.voucher_id and again.replayed and not first.replayed
    assert len(simulator.vouchers) == 1
    await connector.aclose()


async def test_two_processes_posting_at_once_yield_one_voucher(sim: Any) -> None:
    simulator, _, url = sim
    one, _ = make_connector(url, state=SharedState.memory())
    two, _ = make_connector(url, state=SharedState.memory())
    receipts = await asyncio.gather(
        one.post_voucher(disbursement("race")), two.post_voucher(disbursement("race"))
    )
    assert len({r.voucher_id for r in receipts}) == 1 and len(simulator.vouchers) == 1
    await one.aclose()
    await two.aclose()


async def test_session_expiry_is_survived_with_one_new_login(sim: Any) -> None:
    simulator, _, url = sim
    connector, recorder = make_connector(url)
    await connector.post_voucher(disbursement("a"))
    async with httpx.AsyncClient() as http:
        await http.post(f"{url}/sandbox/expire-sessions")
    receipt = await connector.post_voucher(disbursement("b"))
    assert receipt.voucher_id and simulator.logins == 2
    ops = [(r.operation, r.error_class) for r in recorder.records]
    assert ("find_voucher", "SessionLost") in ops


async def test_sessions_expiring_by_time_are_renewed() -> None:
    now = [1000.0]
    simulator = KingdeeSimulator(session_ttl=60, clock=lambda: now[0])
    with serve(simulator.app) as url:
        connector, _ = make_connector(url)
        await connector.post_voucher(disbursement("t1"))
        now[0] += 120
        await connector.post_voucher(disbursement("t2"))
        assert simulator.logins == 2 and len(simulator.vouchers) == 2
        await connector.aclose()


@pytest.mark.parametrize(
    ("customer", "error", "fragment"),
    [("CUST-unknown", InvalidRequest, "不存在"), ("CUST-revoked", InvalidRequest, "已禁用")],
)
async def test_magic_customers(sim: Any, customer: str, error: type[Exception], fragment: str) -> None:
    _, _, url = sim
    connector, _ = make_connector(url)
    with pytest.raises(error, match=fragment):
        await connector.post_voucher(disbursement(f"magic-{customer}", customer=customer))
    for ok in ("CUST-clean", "CUST-delinquent", "CUST-dishonest", "CUST-active"):
        assert (await connector.post_voucher(disbursement(f"ok-{ok}", customer=ok))).voucher_id
    await connector.aclose()


async def test_exhausted_user_gets_the_licence_error_and_wrong_password_auth_error(sim: Any) -> None:
    _, _, url = sim
    exhausted, _ = make_connector(url, username=EXHAUSTED_CREDENTIAL)
    with pytest.raises(QuotaExhausted):
        await exhausted.check_connection()
    wrong, _ = make_connector(url, password="not-the-password")
    with pytest.raises(AuthError):
        await wrong.post_voucher(disbursement())
    good, _ = make_connector(url)
    await good.check_connection()


async def test_unknown_account_is_refused(sim: Any) -> None:
    _, _, url = sim
    connector, _ = make_connector(url)
    voucher = disbursement("bad-account")
    bad = voucher.model_copy(
        update={
            "entries": (voucher.entries[0].model_copy(update={"account_code": "9999"}), voucher.entries[1])
        }
    )
    with pytest.raises(InvalidRequest, match="科目"):
        await connector.post_voucher(bad)


@pytest.mark.parametrize(
    ("path", "faults", "outcome", "attempts"),
    [
        ("ExecuteBillQuery", ("503", "503"), None, 3),
        ("ExecuteBillQuery", ("429:1",), None, 2),
        ("ExecuteBillQuery", ("latency:0.2",), None, 1),
        ("ExecuteBillQuery", ("timeout:1", "timeout:1", "timeout:1"), TransientError, 3),
        ("ExecuteBillQuery", ("malformed",), VendorContractError, 1),
        ("Save", ("503", "500"), None, 3),
        ("Save", ("malformed",), VendorContractError, 1),
        ("ValidateUser", ("503",), None, 2),
    ],
)
async def test_injected_faults(
    sim: Any, path: str, faults: tuple[str, ...], outcome: type[Exception] | None, attempts: int
) -> None:
    simulator, injector, url = sim
    connector, recorder = make_connector(url)
    injector.plan.push(*faults, path_filter=path)
    if outcome is None:
        assert (await connector.post_voucher(disbursement(f"fault-{path}-{faults}"))).voucher_id
    else:
        with pytest.raises(outcome):
            await connector.post_voucher(disbursement(f"fault-{path}-{faults}"))
    op = {"ExecuteBillQuery": "find_voucher", "Save": "save_voucher", "ValidateUser": "login"}[path]
    rows = [r for r in recorder.records if r.operation == op]
    first_call = [r.attempt for r in rows][: max(attempts, 1)]
    assert first_call == list(range(1, attempts + 1))
    assert len(simulator.vouchers) <= 1
    await connector.aclose()


async def test_a_save_retried_after_a_lost_answer_is_not_doubled(sim: Any) -> None:
    simulator, _, url = sim
    connector, _ = make_connector(url)
    # The first save reached 金蝶 but its answer was lost: simulate by saving behind the connector's back.
    await connector.post_voucher(disbursement("lost"))
    simulator.vouchers[0]["external_id"] = "lost"
    original = connector._find
    calls = 0

    async def blind_find(key: str) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await original(key)

    connector._find = blind_find  # type: ignore[method-assign]
    receipt = await connector.post_voucher(disbursement("lost"))
    assert receipt.replayed and len(simulator.vouchers) == 1
    await connector.aclose()


def test_plugin_registers_the_connector() -> None:
    from connectors.kingdee import plugin

    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("connectors.kingdee.plugin", plugin)
    assert "kingdee" in host.connectors
    assert client.SESSION_LOST_TEXT in "会话信息已丢失，请重新登录"


async def test_a_session_is_never_sent_to_another_server_on_the_same_address() -> None:
    # Same data centre and user, same shared state, same address, another port: another server.
    first_sim, second_sim = KingdeeSimulator(), KingdeeSimulator()
    state = SharedState.memory()
    with serve(first_sim.app) as first_url, serve(second_sim.app) as second_url:
        first, _ = make_connector(first_url, state=state)
        second, second_log = make_connector(second_url, state=state)
        await first.post_voucher(disbursement("origin-a"))
        await second.post_voucher(disbursement("origin-b"))
        await first.aclose()
        await second.aclose()
    assert first_sim.logins == 1 and second_sim.logins == 1
    assert [r.error_class for r in second_log.records if r.error_class] == []  # no SessionLost


async def test_call_log_holds_no_session_or_password(sim: Any) -> None:
    simulator, _, url = sim
    connector, recorder = make_connector(url)
    await connector.post_voucher(disbursement("log"))
    await connector.aclose()
    rows = " ".join(f"{r.url} {r.request_body} {r.response_body}" for r in recorder.records)
    assert simulator.sessions and all(session not in rows for session in simulator.sessions)
    assert str(SANDBOX_CONFIG["password"]) not in rows
    login = next(r for r in recorder.records if r.operation == "login")
    assert '"KDSVCSessionId": "***"' in (login.response_body or "")
