"""企查查 connectors: glue from config to :mod:`.client` to :mod:`.mapping`.

One vendor, two capabilities, so two classes (a connector implements exactly one port) sharing
the config, the signing client and the Status mapping through :class:`QichachaConnector`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from plugins.sdk import (
    BusinessRegistry,
    Capability,
    ConnectorError,
    ConnectorInfo,
    HttpConnector,
    InvalidRequest,
    Litigation,
    NotFound,
    SupportLevel,
    VendorContractError,
)
from schemas.canonical import CompanyProfile, CompanySubject, LitigationRecord

from .client import HOSTS, QichachaClient, QichachaConfig, classify_response
from .mapping import map_company, map_litigation

__all__ = ["QichachaBusinessRegistry", "QichachaConnector", "QichachaLitigation"]

DOCS_URL = "https://openapi.qcc.com/"
API_VERSION = "V4"


class QichachaConnector(HttpConnector):
    """What both 企查查 classes share: config, signing client, Status codes, connection check."""

    Config: ClassVar[type[QichachaConfig]] = QichachaConfig
    config: QichachaConfig
    simulator: ClassVar[str | None] = "connectors.qichacha.simulator:create_app"

    def __init__(self, config: QichachaConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.client = QichachaClient(self, config)

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Vendor ``Status`` inside HTTP 200 → error tree (see :data:`.client.STATUS_CODES`)."""
        return classify_response(response, rate_limited_retry_after=self.config.rate_limited_retry_after)

    async def check_connection(self) -> None:
        """Look up ``probe_keyword``; any answer, "no data" included, proves key, secret and clock."""
        await self.client.basic_details(self.config.probe_keyword)

    @contextmanager
    def _vendor_shape(self, operation: str) -> Iterator[None]:
        """Turn a body that does not match the documented fields into VendorContractError."""
        try:
            yield
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            if isinstance(exc, ConnectorError):
                raise
            raise VendorContractError(
                f"{self.name} {operation}: answer does not match the documented fields "
                f"({type(exc).__name__})",
                connector=self.slug,
            ) from None


class QichachaLitigation(QichachaConnector, Litigation):
    """司法涉诉 from 企查查: 裁判文书, 失信被执行人, 被执行人 and 限制高消费.

    The four lists are fetched one after another so a failure stops the search at once and the
    call log reads in order; the hub already runs capabilities concurrently.
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="qichacha-litigation",
        name="企查查 司法涉诉",
        capability=Capability.LITIGATION,
        vendor="企查查",
        vendor_api_version=API_VERSION,
        hosts=HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url=DOCS_URL,
    )
    sensitive_fields: ClassVar[tuple[str, ...]] = ("searchKey", "Name", "PersonName")
    """The person searched for and the people on 失信/被执行/限高 listings; the name searched for
    is masked inside case names too."""

    async def search(self, subject_name: str, *, id_number: str | None = None) -> LitigationRecord:
        """All judicial records about ``subject_name``; Status ``201`` (no data) is an empty list.

        The ID number is never sent to the vendor: it only drops namesakes whose masked ID on a
        失信/被执行 listing disagrees with it.
        """
        judgments = await self.client.judgments(subject_name)
        dishonest = await self.client.dishonest(subject_name)
        executed = await self.client.executed(subject_name)
        restrictions = await self.client.restrictions(subject_name)
        with self._vendor_shape("search"):
            return map_litigation(
                subject_name,
                judgments=judgments,
                dishonest=dishonest,
                executed=executed,
                restrictions=restrictions,
                id_number=id_number,
            )


class QichachaBusinessRegistry(QichachaConnector, BusinessRegistry):
    """工商 from 企查查: one 工商详情 call carries the profile, shareholders and changes."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="qichacha-business-registry",
        name="企查查 工商信息",
        capability=Capability.BUSINESS_REGISTRY,
        vendor="企查查",
        vendor_api_version=API_VERSION,
        hosts=HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url=DOCS_URL,
    )
    sensitive_fields: ClassVar[tuple[str, ...]] = ("OperName",)
    """The legal representative is a natural person; the company name searched for is not."""

    async def company_profile(self, subject: CompanySubject) -> CompanyProfile:
        """Look the company up by USCC (preferred: unambiguous) or name; NotFound on Status ``201``."""
        keyword = subject.uscc or subject.name
        if not keyword:
            raise InvalidRequest(
                f"{self.name} company_profile: subject has neither USCC nor name", connector=self.slug
            )
        result = await self.client.basic_details(keyword)
        if result is None:
            raise NotFound(
                f"{self.name} company_profile: the registry has no such company", connector=self.slug
            )
        with self._vendor_shape("company_profile"):
            return map_company(result)
