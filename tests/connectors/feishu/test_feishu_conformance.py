"""The 飞书 connector against the conformance kit."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.feishu.connector import FeishuApproval
from connectors.feishu.simulator import SANDBOX_APPROVAL_CODE, SANDBOX_CONFIG, SANDBOX_INSTANCES
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical.oa import ApprovalInstance, ApprovalRequest


class TestFeishuConformance(ConnectorTestSuite):
    connector = FeishuApproval
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path = "/approval/v4/instances"
    skip_checks: ClassVar[dict[str, str]] = {}

    async def _create(self, connector: FeishuApproval, key: str) -> ApprovalInstance:
        return await connector.create_instance(
            ApprovalRequest(
                template_code=SANDBOX_APPROVAL_CODE,
                initiator="ou_sandbox_initiator",
                form={"borrower_id": CLEAN_BORROWER.id_number, "amount": "50000.00"},
                idempotency_key=key,
            )
        )

    async def call(self, connector: FeishuApproval) -> ApprovalInstance:
        """Read the clean borrower's approval, which every sandbox starts with."""
        return await connector.get_instance(SANDBOX_INSTANCES["clean"])

    async def write(self, connector: FeishuApproval) -> ApprovalInstance:
        return await self._create(connector, "conformance-write-0001")
