"""The conformance kit against the HTTP scorer and its simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from connectors.http_scorer.connector import HttpScorer
from connectors.http_scorer.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite, validate_quality_file
from plugins.validation import connector_problems
from schemas.canonical import PersonSubject
from schemas.canonical.risk import RiskDecision, RiskInput

NO_HOSTS = (
    "the lender hosts its own model service, so there is no vendor production host to declare: "
    "info.hosts is empty and the configured base_url is the only allowed host; every other "
    "metadata check is run by test_metadata_without_hosts below"
)


class TestHttpScorerConformance(ConnectorTestSuite):
    connector = HttpScorer
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path = "/v1/score"
    skip_checks: ClassVar[dict[str, str]] = {"test_metadata_complete": NO_HOSTS}

    async def call(self, connector: HttpScorer) -> RiskDecision:
        subject = PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)
        return await connector.score(
            RiskInput(application_id="CONF-1", subject=subject, features={"worst_dpd_24m": 0})
        )


def test_metadata_without_hosts() -> None:
    """What test_metadata_complete checks, minus the host declaration."""
    assert connector_problems(HttpScorer) == []
    info = HttpScorer.info
    assert info.docs_url.strip() and info.vendor_api_version
    folder = Path(__file__).parents[3] / "connectors" / "http_scorer"
    assert (folder / "README.md").is_file()
    assert validate_quality_file(folder / "quality.yaml") == []
    assert HttpScorer.simulator == "connectors.http_scorer.simulator:create_app"
    assert isinstance(SANDBOX_CONFIG, dict)
