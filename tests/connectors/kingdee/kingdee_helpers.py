"""Shared helpers of the 金蝶 tests: a loopback server, a connector wired to it, vouchers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import uvicorn

from connectors.kingdee.connector import KingdeeConfig, KingdeeLedger
from connectors.kingdee.simulator import SANDBOX_CONFIG
from plugins.sdk import MemoryCallRecorder, SharedState
from schemas.canonical.finance import AuxiliaryDimension, DimensionKind, Voucher, VoucherEntry


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(250):
        if server.started:
            break
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def make_connector(
    base_url: str, *, state: SharedState | None = None, **overrides: Any
) -> tuple[KingdeeLedger, MemoryCallRecorder]:
    """A connector for the simulator at ``base_url`` with fast timeouts and no real waits."""
    values: dict[str, Any] = {
        **SANDBOX_CONFIG,
        "base_url": base_url,
        "connect_timeout": 1.0,
        "read_timeout": 0.5,
        "total_timeout": 4.0,
        "backoff_initial": 0.01,
        "backoff_max": 0.02,
        **overrides,
    }
    recorder = MemoryCallRecorder()
    connector = KingdeeLedger(KingdeeConfig(**values), state=state or SharedState.memory(), recorder=recorder)
    return connector, recorder


def disbursement(
    key: str = "disburse:LN-0001", customer: str = "CUST-clean", amount: str = "50000.00"
) -> Voucher:
    """The voucher of a loan disbursement: debit loans receivable, credit the bank."""
    dims = (
        AuxiliaryDimension(kind=DimensionKind.CUSTOMER, code=customer, name="张三"),
        AuxiliaryDimension(kind=DimensionKind.LOAN, code="LN-0001"),
    )
    return Voucher(
        idempotency_key=key,
        booked_on=date(2024, 3, 15),
        entries=(
            VoucherEntry(
                account_code="1303.01", summary="发放贷款 LN-0001", debit=Decimal(amount), dimensions=dims
            ),
            VoucherEntry(account_code="1002", summary="发放贷款 LN-0001", credit=Decimal(amount)),
        ),
    )
