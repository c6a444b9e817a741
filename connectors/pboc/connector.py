"""Glue: config → signed gateway call → segment report → canonical CreditReport."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import httpx
from pydantic import Field

from plugins.sdk import (
    Authenticator,
    Capability,
    ConnectorError,
    ConnectorInfo,
    CreditBureau,
    HmacSigner,
    HttpConnector,
    HttpConnectorConfig,
    SecretStr,
    SupportLevel,
    VendorContractError,
)
from schemas.canonical.common import PersonSubject
from schemas.canonical.credit_report import CreditReport

from . import client, mapping

__all__ = ["PbocConfig", "PbocCreditBureau"]


class PbocConfig(HttpConnectorConfig):
    """One member's access to its 征信 front-end gateway.

    Args:
        member_code: the lender's 机构代码 at 征信中心, sent as ``X-Member-Code``.
        user_code: the operator account (查询用户) the gateway books the query to.
        secret: HMAC key the gateway issued to this member.
        query_reason: 查询原因 code sent with every report query (``02`` 贷款审批).
        report_path: path of the report query on the gateway.
        ping_path: path of the credential check.
        error_codes: gateway result code → error kind (auth, invalid, not_found, quota,
            rate_limited, transient, contract), merged over the contract-v1 table.
        query_reason_labels: ``PH010Q03`` code → wording, merged over the default table.
        institution_type_labels: institution-type code → wording, merged over the default table.
    """

    member_code: str = Field(min_length=1)
    user_code: str = Field(min_length=1)
    secret: SecretStr
    query_reason: str = "02"
    report_path: str = "/v1/pboc/personal-report"
    ping_path: str = "/v1/pboc/ping"
    error_codes: dict[str, str] = Field(default_factory=dict)
    query_reason_labels: dict[str, str] = Field(default_factory=dict)
    institution_type_labels: dict[str, str] = Field(default_factory=dict)


class PbocCreditBureau(HttpConnector, CreditBureau):
    """人行二代征信 personal reports through the lender's licensed front-end gateway."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="pboc-credit",
        name="PBOC credit report (二代征信, front-end gateway)",
        capability=Capability.CREDIT_BUREAU,
        vendor="中国人民银行征信中心",
        vendor_api_version="2nd-gen report / LendHub gateway contract v1",
        hosts=(),  # the gateway runs on the lender's own network: only the configured base_url
        support_level=SupportLevel.OFFICIAL,
        docs_url="https://github.com/lendhub/lendhub/blob/main/connectors/pboc/README.md",
        tags=("credit_bureau", "china"),
    )
    Config: ClassVar[type[PbocConfig]] = PbocConfig
    simulator: ClassVar[str | None] = "connectors.pboc.simulator:create_app"
    sensitive_fields: ClassVar[tuple[str, ...]] = (
        "name",
        "PA01BQ01",  # 被查询者姓名
        "PB01AQ01",  # 电子邮箱
        "PB01AQ02",  # 通讯地址
        "PB01AQ03",  # 户籍地址
        "PB020Q01",  # 配偶姓名
        "PB020Q02",  # 配偶工作单位
        "PB030Q01",  # 居住地址
        "PB040Q01",  # 工作单位
        "PB040Q02",  # 单位地址
    )
    """Names and addresses: the SDK's pattern masking recognises numbers, not these."""
    config: PbocConfig

    def __init__(self, config: PbocConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._codes = {**client.DEFAULT_CODES, **config.error_codes}

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Gateway result codes inside the envelope (HTTP 200 and 401 alike)."""
        return client.classify_envelope(response, self._codes, now=self.clock())

    def make_auth(self) -> Authenticator:
        """The gateway's HMAC-SHA256 over method, path, timestamp, nonce and body digest, per attempt."""
        return HmacSigner(
            self.config.secret.get_secret_value(),
            lambda s: client.string_to_sign(s.method, s.path, s.timestamp, s.nonce, s.body).encode("utf-8"),
            header="X-Signature",
            timestamp_header="X-Timestamp",
            nonce_header="X-Nonce",
            static_headers={"X-Member-Code": self.config.member_code},
        )

    async def check_connection(self) -> None:
        """Call the gateway's signed ping: proves the member code, secret and clock are right."""
        path = self.config.ping_path
        await self.request("GET", path, operation="check_connection")

    async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
        """Query the subject's report under the recorded authorization ``authorization_id``.

        The idempotency key is derived from the authorization and the ID number (hashed, so the
        call log holds no PII): a retried query is the same query and the gateway answers it from
        its cache instead of booking a second 查询记录.
        """
        request_id = hashlib.sha256(f"{authorization_id}|{subject.id_number}".encode()).hexdigest()[:32]
        body = client.build_query_body(
            member_code=self.config.member_code,
            user_code=self.config.user_code,
            query_reason=self.config.query_reason,
            authorization_id=authorization_id,
            name=subject.name,
            id_number=subject.id_number,
            request_id=request_id,
        )
        path = self.config.report_path
        response = await self.request(
            "POST",
            path,
            operation="fetch_report",
            content=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            idempotency_key=request_id,
        )
        data = self.response_json(response)
        try:
            report = client.envelope_report(data)
            return mapping.map_report(
                report,
                subject,
                query_reasons=self.config.query_reason_labels,
                institution_types=self.config.institution_type_labels,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise VendorContractError(
                f"{self.name} fetch_report: report does not match the segment structure: "
                f"{self.masker.text(str(exc))[:300]}",
                connector=self.slug,
                status_code=response.status_code,
            ) from None
