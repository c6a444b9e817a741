"""The conformance kit against the built-in scorecard: HTTP checks cannot apply (no vendor)."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.scorecard.connector import Scorecard
from plugins.testing import ConnectorTestSuite
from schemas.canonical.risk import RiskDecision, RiskInput

NO_VENDOR = "no vendor: pure in-process scorecard"


class TestScorecardConformance(ConnectorTestSuite):
    connector = Scorecard
    config: ClassVar[dict[str, Any]] = {}
    vendorless = NO_VENDOR

    async def call(self, connector: Scorecard) -> RiskDecision:
        return await connector.score(
            RiskInput(application_id="CONF-1", features={"worst_dpd_24m": 0, "debt_to_income": "0.18"})
        )
