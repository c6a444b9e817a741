"""The conformance kit against the HTTP scorer and its simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.http_scorer.connector import HttpScorer
from connectors.http_scorer.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical import PersonSubject
from schemas.canonical.risk import RiskDecision, RiskInput

NO_HOSTS = (
    "the lender hosts its own model service, so there is no vendor production host to declare: "
    "info.hosts is empty and the configured base_url is the only allowed host"
)


class TestHttpScorerConformance(ConnectorTestSuite):
    connector = HttpScorer
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path = "/v1/score"
    no_fixed_hosts = NO_HOSTS

    async def call(self, connector: HttpScorer) -> RiskDecision:
        subject = PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)
        return await connector.score(
            RiskInput(application_id="CONF-1", subject=subject, features={"worst_dpd_24m": 0})
        )
