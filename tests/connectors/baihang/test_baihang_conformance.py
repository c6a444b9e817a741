"""The 百行 connector passes the conformance kit against its own simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.baihang.connector import BaihangCreditBureau
from connectors.baihang.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical import CreditReport, PersonSubject


class TestBaihangConformance(ConnectorTestSuite):
    connector = BaihangCreditBureau
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/credit/report"

    async def call(self, connector: BaihangCreditBureau) -> CreditReport:
        subject = PersonSubject(
            name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number, mobile=CLEAN_BORROWER.mobile
        )
        return await connector.fetch_report(subject, authorization_id="CONFORMANCE-1")
