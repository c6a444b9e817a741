"""e签宝 passes the conformance kit against its own simulator."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from connectors.esign.connector import EsignSignature
from connectors.esign.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical.esignature import Signer, SignFlow, SignFlowRequest

_SIGNER = Signer(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number, mobile=CLEAN_BORROWER.mobile)


def _request(key: str) -> SignFlowRequest:
    return SignFlowRequest(
        subject="借款合同",
        document_name="contract.pdf",
        document=b"%PDF-1.4 conformance",
        signers=(_SIGNER,),
        idempotency_key=key,
    )


class TestEsignConformance(ConnectorTestSuite):
    connector = EsignSignature
    config: ClassVar[dict[str, Any]] = {**SANDBOX_CONFIG, "file_poll_interval": 0.01}
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path = "/detail"
    skip_checks: ClassVar[dict[str, str]] = {}

    async def call(self, connector: EsignSignature) -> SignFlow:
        flow = await connector.create_flow(_request(f"conformance-{uuid.uuid4().hex}"))
        return await connector.get_flow(flow.flow_id)

    async def write(self, connector: EsignSignature) -> SignFlow:
        return await connector.create_flow(_request("conformance-write-1"))
