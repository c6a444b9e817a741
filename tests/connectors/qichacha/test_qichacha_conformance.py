"""企查查 passes the conformance kit: both classes, against the bundled simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.qichacha.connector import QichachaBusinessRegistry, QichachaLitigation
from connectors.qichacha.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import ACTIVE_COMPANY, CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical import CompanyProfile, CompanySubject, LitigationRecord


class TestQichachaLitigationConformance(ConnectorTestSuite):
    connector = QichachaLitigation
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/CourtV4/SearchShiXin"

    async def call(self, connector: QichachaLitigation) -> LitigationRecord:
        return await connector.search(CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)


class TestQichachaRegistryConformance(ConnectorTestSuite):
    connector = QichachaBusinessRegistry
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/ECIV4/GetBasicDetailsByName"

    async def call(self, connector: QichachaBusinessRegistry) -> CompanyProfile:
        return await connector.company_profile(CompanySubject(uscc=ACTIVE_COMPANY.uscc))
