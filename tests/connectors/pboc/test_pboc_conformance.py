"""The PBOC gateway connector passes the conformance kit against its own simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.pboc.connector import PbocCreditBureau
from connectors.pboc.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical import CreditReport, PersonSubject


class TestPbocConformance(ConnectorTestSuite):
    connector = PbocCreditBureau
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/personal-report"
    no_fixed_hosts = "the front-end gateway runs on the lender's own network; base_url is its only host"

    async def call(self, connector: PbocCreditBureau) -> CreditReport:
        subject = PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)
        return await connector.fetch_report(subject, authorization_id="CONFORMANCE-1")
