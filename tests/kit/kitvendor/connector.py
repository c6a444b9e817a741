"""The kit's demo bureau: an API-key JSON vendor, plus deliberately broken variants."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import ClassVar

import httpx

from plugins.sdk import (
    Capability,
    ConnectorError,
    ConnectorInfo,
    CreditBureau,
    HttpConnector,
    HttpConnectorConfig,
    SecretStr,
    SupportLevel,
    TransientError,
)
from schemas.canonical import CreditReport, PersonSubject

log = logging.getLogger("kitvendor")


class KitConfig(HttpConnectorConfig):
    """Sandbox credentials of the kit vendor."""

    api_key: SecretStr
    member_code: str = "M001"


class KitBureau(HttpConnector, CreditBureau):
    """A well-behaved connector: every check of the suite passes."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="kit-bureau",
        name="Kit bureau",
        capability=Capability.CREDIT_BUREAU,
        vendor="Kit",
        vendor_api_version="v1",
        hosts=("api.kit-bureau.example",),
        support_level=SupportLevel.COMMUNITY,
        docs_url="https://kit-bureau.example/docs",
    )
    Config: ClassVar[type[KitConfig]] = KitConfig
    simulator: ClassVar[str | None] = "kitvendor.simulator:create_app"
    config: KitConfig

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.config.api_key.get_secret_value()}

    async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
        response = await self.request(
            "POST",
            "/v1/reports",
            operation="fetch_report",
            json={"name": subject.name, "id_number": subject.id_number},
            headers=self._headers(),
            idempotency_key=authorization_id,
        )
        body = self.response_json(response)
        return CreditReport(report_id=str(body["report_id"]), subject=subject, generated_at=datetime.now(UTC))


class RetriesAuthFailures(KitBureau):
    """Broken: treats a rejected key as a transient fault, so it hammers the vendor."""

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        if response.status_code == 401:
            return TransientError("key rejected, trying again")
        return None


class LeaksItsKey(KitBureau):
    """Broken: logs its API key."""

    async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
        log.info("calling the kit vendor with key %s", self.config.api_key.get_secret_value())
        return await super().fetch_report(subject, authorization_id=authorization_id)


class PlainKeyConfig(HttpConnectorConfig):
    """Broken: the credential is a plain string."""

    api_key: str


class PlainKeyBureau(KitBureau):
    """Broken: its config keeps the API key as ``str``, so a repr shows it."""

    Config: ClassVar[type[PlainKeyConfig]] = PlainKeyConfig  # type: ignore[assignment]

    def _headers(self) -> dict[str, str]:
        return {"X-Api-Key": str(self.config.api_key)}
