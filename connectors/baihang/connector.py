"""Glue: config → Basic-auth call with RSA-encrypted fields → sections → canonical CreditReport."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import Field, field_validator

from plugins.sdk import (
    Authenticator,
    BasicAuth,
    Capability,
    ConnectorError,
    ConnectorInfo,
    CreditBureau,
    HttpConnector,
    HttpConnectorConfig,
    InvalidRequest,
    NotFound,
    SecretStr,
    SupportLevel,
    VendorContractError,
)
from schemas.canonical.common import PersonSubject
from schemas.canonical.credit_report import CreditReport

from . import client, mapping

__all__ = ["BaihangConfig", "BaihangCreditBureau"]


class BaihangConfig(HttpConnectorConfig):
    """One 百行 member account.

    Args:
        account: the member account (``XXXX_A0001``), the Basic-auth user name.
        password: the Basic-auth password.
        rsa_public_key: 百行's RSA public key in PEM (``baihang_rsa_public_key.pem``); public, so
            not a secret, but validated at configuration time.
        rsa_padding: ``pkcs1v15`` (Java ``RSA/ECB/PKCS1Padding``, the usual choice) or
            ``oaep-sha256`` — low confidence, hence configurable.
        report_path: path of 个人信用报告查询.
        query_reason: ``queryReason`` (1 = 授信审批).
        guarantee_type: ``guaranteeType`` (1 = 信用).
        loan_purpose: ``loanPurpose`` code.
        custom_type: ``customType`` code (3 = 自雇人员, 99 = 其他).
        apply_amount: ``applyAmount``; -1 when unknown.
        error_codes: ``errorCode`` → error kind, merged over the default table.
        field_names: canonical meaning → 百行 field name, merged over ``mapping.FIELDS``.
    """

    account: str = Field(min_length=1)
    password: SecretStr
    rsa_public_key: str
    rsa_padding: client.Padding = "pkcs1v15"
    report_path: str = "/api/v1/credit/report"
    query_reason: str = "1"
    guarantee_type: str = "1"
    loan_purpose: str = "99"
    custom_type: str = "99"
    apply_amount: Decimal = Decimal("-1")
    error_codes: dict[str, str] = Field(default_factory=dict)
    field_names: dict[str, str] = Field(default_factory=dict)

    @field_validator("rsa_public_key")
    @classmethod
    def _is_rsa_public_key(cls, value: str) -> str:
        try:
            client.load_public_key(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"rsa_public_key is not a PEM RSA public key ({exc})") from None
        return value


class BaihangCreditBureau(HttpConnector, CreditBureau):
    """百行征信 personal credit reports."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="baihang-credit",
        name="百行征信 personal credit report",
        capability=Capability.CREDIT_BUREAU,
        vendor="百行征信",
        vendor_api_version="api/v1",
        hosts=("zxpt.baihangcredit.com", "test-zxpt.baihangcredit.com"),
        support_level=SupportLevel.OFFICIAL,
        docs_url="https://github.com/lendhub/lendhub/blob/main/connectors/baihang/README.md",
        tags=("credit_bureau", "china"),
    )
    Config: ClassVar[type[BaihangConfig]] = BaihangConfig
    simulator: ClassVar[str | None] = "connectors.baihang.simulator:create_app"
    sensitive_fields: ClassVar[tuple[str, ...]] = ("name", "address", "company")
    """Names, addresses and employers, inside the JSON-string sections too (the SDK descends)."""
    config: BaihangConfig

    def __init__(self, config: BaihangConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._codes = {**client.DEFAULT_CODES, **config.error_codes}

    @cached_property
    def _public_key(self) -> rsa.RSAPublicKey:
        return client.load_public_key(self.config.rsa_public_key)

    def make_auth(self) -> Authenticator:
        """HTTP Basic with the member account and password (vendors.md §1.2)."""
        return BasicAuth(self.config.account, self.config.password.get_secret_value())

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """``errorCode`` inside the answer, whatever the HTTP status."""
        return client.classify_envelope(response, self._codes, now=self.clock())

    async def check_connection(self) -> None:
        """Send an empty query: 百行 checks the credentials first, then refuses the missing fields.

        ``ERR-10001`` (parameter error) therefore proves the account and password are accepted
        without booking a query; ``ERR-20001`` surfaces as AuthError.
        """
        try:
            await self.request(
                "POST",
                self.config.report_path,
                operation="check_connection",
                json={},
            )
        except InvalidRequest as exc:
            if exc.vendor_code == "ERR-10001":
                return
            raise

    async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
        """Query the subject's report; ``authorization_id`` with the ID number makes the ``reqID``.

        ``reqID`` is also the idempotency key: 百行 echoes the answer of a repeated ``reqID``, so
        a retried query is not booked twice. It is a hash, so the call log holds no PII.
        """
        req_id = hashlib.sha256(f"{authorization_id}|{subject.id_number}".encode()).hexdigest()[:32]
        body = client.build_report_body(
            key=self._public_key,
            scheme=self.config.rsa_padding,
            req_id=req_id,
            name=subject.name,
            pid=subject.id_number,
            mobile=subject.mobile,
            query_reason=self.config.query_reason,
            guarantee_type=self.config.guarantee_type,
            loan_purpose=self.config.loan_purpose,
            custom_type=self.config.custom_type,
            apply_amount=self.config.apply_amount,
        )
        response = await self.request(
            "POST",
            self.config.report_path,
            operation="fetch_report",
            json=body,
            idempotency_key=req_id,
        )
        data = self.response_json(response)
        try:
            decoded = client.sections(data, mapping.SECTIONS)
            if mapping.is_empty(decoded):
                raise NotFound(
                    f"{self.name} fetch_report: 百行 holds no record of the subject", connector=self.slug
                )
            return mapping.map_report(decoded, subject, field_names=self.config.field_names)
        except (ValueError, KeyError, TypeError) as exc:
            raise VendorContractError(
                f"{self.name} fetch_report: answer does not match the report sections: "
                f"{self.masker.text(str(exc))[:300]}",
                connector=self.slug,
                status_code=response.status_code,
            ) from None
