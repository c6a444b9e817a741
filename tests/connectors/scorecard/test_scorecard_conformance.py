"""The conformance kit against the built-in scorecard: HTTP checks cannot apply (no vendor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from connectors.scorecard.connector import Scorecard
from plugins.testing import ConnectorTestSuite, validate_quality_file
from plugins.validation import connector_problems
from schemas.canonical.risk import RiskDecision, RiskInput

NO_VENDOR = "no vendor: pure in-process scorecard"


class TestScorecardConformance(ConnectorTestSuite):
    connector = Scorecard
    config: ClassVar[dict[str, Any]] = {}
    skip_checks: ClassVar[dict[str, str]] = {
        "test_metadata_complete": NO_VENDOR + " (the check requires hosts and a simulator; "
        "its other parts run in test_metadata_without_vendor below)",
        "test_auth_failure_is_permanent": NO_VENDOR,
        "test_transient_errors_are_retried": NO_VENDOR,
        "test_retry_after_is_honoured": NO_VENDOR,
        "test_timeout_is_transient": NO_VENDOR,
        "test_malformed_body_is_contract_error": NO_VENDOR,
        "test_only_declared_hosts_are_called": NO_VENDOR,
    }

    async def call(self, connector: Scorecard) -> RiskDecision:
        return await connector.score(
            RiskInput(application_id="CONF-1", features={"worst_dpd_24m": 0, "debt_to_income": "0.18"})
        )


def test_metadata_without_vendor() -> None:
    """What test_metadata_complete checks, minus hosts and simulator."""
    assert connector_problems(Scorecard) == []
    assert Scorecard.info.docs_url.strip()
    assert Scorecard.simulator is None
    folder = Path(__file__).parents[3] / "connectors" / "scorecard"
    assert (folder / "README.md").is_file()
    assert validate_quality_file(folder / "quality.yaml") == []
