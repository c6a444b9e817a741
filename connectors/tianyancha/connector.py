"""天眼查 connectors: glue from config to :mod:`.client` to :mod:`.mapping`.

One vendor, two capabilities, so two classes (a connector implements exactly one port) sharing
the config, the client and the error mapping through :class:`TianyanchaConnector`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from plugins.sdk import (
    ApiKey,
    Authenticator,
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

from .client import HOSTS, TianyanchaClient, TianyanchaConfig, classify_response
from .mapping import map_company, map_litigation

__all__ = ["TianyanchaBusinessRegistry", "TianyanchaConnector", "TianyanchaLitigation"]

DOCS_URL = "https://open.tianyancha.com/"
API_VERSION = "open API 2.0"


class TianyanchaConnector(HttpConnector):
    """What both 天眼查 classes share: config, client, error codes and the connection check."""

    Config: ClassVar[type[TianyanchaConfig]] = TianyanchaConfig
    config: TianyanchaConfig
    simulator: ClassVar[str | None] = "connectors.tianyancha.simulator:create_app"

    def __init__(self, config: TianyanchaConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.client = TianyanchaClient(self, config)

    def make_auth(self) -> Authenticator:
        """天眼查 takes the API token raw in ``Authorization`` (no ``Bearer``)."""
        return ApiKey(self.config.token.get_secret_value(), header="Authorization")

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Vendor ``error_code`` inside HTTP 200 → error tree (see :data:`.client.ERROR_CODES`)."""
        return classify_response(response, rate_limited_retry_after=self.config.rate_limited_retry_after)

    async def check_connection(self) -> None:
        """Look up ``probe_keyword``; any answer, "no data" included, proves the token works."""
        await self.client.baseinfo(self.config.probe_keyword)

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


class TianyanchaLitigation(TianyanchaConnector, Litigation):
    """司法涉诉 from 天眼查: 法律诉讼, 失信人, 被执行人 and 限制消费令.

    The four lists are fetched one after another so a failure stops the search at once and the
    call log reads in order; the hub already runs capabilities concurrently.
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="tianyancha-litigation",
        name="天眼查 司法涉诉",
        capability=Capability.LITIGATION,
        vendor="天眼查",
        vendor_api_version=API_VERSION,
        hosts=HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url=DOCS_URL,
    )
    sensitive_fields: ClassVar[tuple[str, ...]] = ("keyword", "name", "iname", "pname", "xname")
    """The person searched for and the people on 失信/被执行/限高 listings; the keyword searched for
    is masked inside case titles too."""

    async def search(self, subject_name: str, *, id_number: str | None = None) -> LitigationRecord:
        """All judicial records about ``subject_name``; the vendor's "no data" is an empty list.

        The ID number is never sent to the vendor: it only drops namesakes whose masked ID on a
        失信/被执行 listing disagrees with it.
        """
        lawsuits = await self.client.lawsuits(subject_name)
        dishonest = await self.client.dishonest(subject_name)
        executed = await self.client.executed(subject_name)
        restrictions = await self.client.restrictions(subject_name)
        with self._vendor_shape("search"):
            return map_litigation(
                subject_name,
                lawsuits=lawsuits,
                dishonest=dishonest,
                executed=executed,
                restrictions=restrictions,
                id_number=id_number,
            )


class TianyanchaBusinessRegistry(TianyanchaConnector, BusinessRegistry):
    """工商 from 天眼查: 企业基本信息, 股东 and 变更记录."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="tianyancha-business-registry",
        name="天眼查 工商信息",
        capability=Capability.BUSINESS_REGISTRY,
        vendor="天眼查",
        vendor_api_version=API_VERSION,
        hosts=HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url=DOCS_URL,
    )
    sensitive_fields: ClassVar[tuple[str, ...]] = ("legalPersonName",)
    """The legal representative is a natural person; the company name searched for is not."""

    async def company_profile(self, subject: CompanySubject) -> CompanyProfile:
        """Look the company up by USCC (preferred: unambiguous) or name; NotFound on ``300000``."""
        keyword = subject.uscc or subject.name
        if not keyword:
            raise InvalidRequest(
                f"{self.name} company_profile: subject has neither USCC nor name", connector=self.slug
            )
        base = await self.client.baseinfo(keyword)
        if base is None:
            raise NotFound(
                f"{self.name} company_profile: the registry has no such company", connector=self.slug
            )
        # Follow-up lists by the vendor's company id when it gave one: exact, unlike a name.
        follow_up = str(base.get("id") or keyword)
        holders = await self.client.holders(follow_up)
        changes = await self.client.changes(follow_up)
        with self._vendor_shape("company_profile"):
            return map_company(base, holders, changes)
