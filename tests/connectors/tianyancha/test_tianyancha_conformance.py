"""天眼查 passes the conformance kit: both classes, against the bundled simulator."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.tianyancha.connector import TianyanchaBusinessRegistry, TianyanchaLitigation
from connectors.tianyancha.simulator import SANDBOX_CONFIG
from plugins.sdk.sandbox import ACTIVE_COMPANY, CLEAN_BORROWER
from plugins.testing import ConnectorTestSuite
from schemas.canonical import CompanyProfile, CompanySubject, LitigationRecord


class TestTianyanchaLitigationConformance(ConnectorTestSuite):
    connector = TianyanchaLitigation
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/jr/lawSuit/"

    async def call(self, connector: TianyanchaLitigation) -> LitigationRecord:
        return await connector.search(CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)


class TestTianyanchaRegistryConformance(ConnectorTestSuite):
    connector = TianyanchaBusinessRegistry
    config: ClassVar[dict[str, Any]] = dict(SANDBOX_CONFIG)
    fault_path = "/ic/baseinfo/"

    async def call(self, connector: TianyanchaBusinessRegistry) -> CompanyProfile:
        return await connector.company_profile(CompanySubject(uscc=ACTIVE_COMPANY.uscc))
