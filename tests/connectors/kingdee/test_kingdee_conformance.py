"""金蝶云星空 passes the conformance kit against its own simulator."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from kingdee_helpers import disbursement

from connectors.kingdee.connector import KingdeeLedger
from connectors.kingdee.simulator import SANDBOX_CONFIG
from plugins.testing import ConnectorTestSuite
from schemas.canonical.finance import VoucherReceipt


class TestKingdeeConformance(ConnectorTestSuite):
    connector = KingdeeLedger
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path = "ExecuteBillQuery"  # the lookup every post starts with; login is left alone
    skip_checks: ClassVar[dict[str, str]] = {}

    async def call(self, connector: KingdeeLedger) -> VoucherReceipt:
        return await connector.post_voucher(disbursement(f"conformance-{uuid.uuid4().hex}"))

    async def write(self, connector: KingdeeLedger) -> VoucherReceipt:
        return await connector.post_voucher(disbursement("conformance-write-1"))
