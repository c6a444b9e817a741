"""The 钉钉 connector against the conformance kit."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.dingtalk.connector import DingTalkApproval
from connectors.dingtalk.simulator import SANDBOX_CONFIG, SANDBOX_INSTANCES, SANDBOX_PROCESS_CODE
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical.oa import ApprovalInstance, ApprovalRequest


class TestDingTalkConformance(ConnectorTestSuite):
    connector = DingTalkApproval
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path = "/workflow/processInstances"
    skip_checks: ClassVar[dict[str, str]] = {}

    async def call(self, connector: DingTalkApproval) -> ApprovalInstance:
        """Read the clean borrower's approval, which every sandbox starts with."""
        return await connector.get_instance(SANDBOX_INSTANCES["clean"])

    async def write(self, connector: DingTalkApproval) -> ApprovalInstance:
        return await connector.create_instance(
            ApprovalRequest(
                template_code=SANDBOX_PROCESS_CODE,
                initiator="sandbox_initiator",
                form={"借款人证件号": CLEAN_BORROWER.id_number, "金额": "50000.00"},
                idempotency_key="conformance-write-0001",
            )
        )
