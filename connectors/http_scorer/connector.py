"""Glue: config → signed request → the lender's model service → RiskDecision."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from plugins.sdk import (
    Authenticator,
    Capability,
    ConnectorError,
    ConnectorInfo,
    HmacSigner,
    HttpConnector,
    InvalidRequest,
    RiskModel,
    SupportLevel,
    VendorContractError,
)
from schemas.canonical.risk import RiskDecision, RiskInput

from .client import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_VERSION,
    TIMESTAMP_HEADER,
    encode_json,
    error_from_body,
)
from .mapping import MappingError, build_request, parse_decision
from .models import HttpScorerConfig

__all__ = ["HttpScorer"]


class HttpScorer(HttpConnector, RiskModel):
    """A lender's in-house risk model or anti-fraud service, reached over signed JSON.

    Every request is HMAC-SHA256 signed (see :mod:`connectors.http_scorer.client`). Scoring is a
    ``POST`` but has no side effect beyond the service's own log, so it carries an idempotency
    key derived from the application and the exact body: a retry after a timeout is safe, and
    the same features always get the same key.
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="http-scorer",
        name="HTTP risk model / anti-fraud service",
        capability=Capability.RISK_MODEL,
        vendor="Lender in-house (LendHub scoring protocol v1)",
        vendor_api_version="v1",
        # The lender hosts the service itself: the configured base_url is its only host and the
        # SDK allows it automatically. There is no vendor production host to declare.
        hosts=(),
        support_level=SupportLevel.OFFICIAL,
        docs_url="connectors/http_scorer/README.md",
        tags=("self-hosted", "hmac-sha256"),
    )
    Config: ClassVar[type[HttpScorerConfig]] = HttpScorerConfig
    simulator: ClassVar[str | None] = "connectors.http_scorer.simulator:create_app"
    config: HttpScorerConfig

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Map the service's ``error.code`` (in an error status or inside HTTP 200) to the tree."""
        return error_from_body(
            response,
            code_path=self.config.error_code_path,
            codes=self.config.error_codes,
            success_codes=self.config.success_codes,
            now=self.clock(),
        )

    def make_auth(self) -> Authenticator:
        """The ``v1`` scheme: hex HMAC-SHA256 of ``timestamp + "." + body``, re-signed per attempt."""
        return HmacSigner(
            self.config.signing_secret.get_secret_value(),
            lambda signing: signing.timestamp.encode("ascii") + b"." + signing.body,
            header=SIGNATURE_HEADER,
            template=f"{SIGNATURE_VERSION}={{signature}}",
            timestamp_header=TIMESTAMP_HEADER,
            static_headers={KEY_ID_HEADER: self.config.key_id},
        )

    async def check_connection(self) -> None:
        """A signed ``GET`` of the health path: proves the URL, the key id and the secret."""
        if self.config.health_path is None:
            return
        await self.request("GET", self.config.health_path, operation="health")

    async def score(self, risk_input: RiskInput) -> RiskDecision:
        """Score one application.

        Raises:
            InvalidRequest: a feature value cannot be sent as JSON, or the service refused the input.
            VendorContractError: the answer lacks what the field mapping says it holds.
            ConnectorError: any other failure, typed by the error tree.
        """
        try:
            body = encode_json(build_request(self.config, risk_input))
        except (TypeError, ValueError) as exc:
            raise InvalidRequest(f"{self.name} score: {exc}", connector=self.slug) from None
        digest = hashlib.sha256(body).hexdigest()[:16]
        response = await self.request(
            "POST",
            self.config.score_path,
            operation="score",
            content=body,
            headers={"Content-Type": "application/json"},
            idempotency_key=f"score-{risk_input.application_id}-{digest}",
        )
        document = self._decimal_json(response)
        try:
            return parse_decision(self.config, document, application_id=risk_input.application_id)
        except MappingError as exc:
            raise VendorContractError(
                f"{self.name} score: {exc}", connector=self.slug, status_code=response.status_code
            ) from None

    def _decimal_json(self, response: httpx.Response) -> Any:
        # Parse numbers as Decimal so a score or PD never passes through float.
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError:
            return self.response_json(response)  # raises the SDK's VendorContractError
