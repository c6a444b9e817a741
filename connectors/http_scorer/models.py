"""Configuration of the generic HTTP scorer: credentials, paths and the field mapping.

Every lender's model service speaks its own JSON, so nothing about the payload is hard-wired: the
config says which request key each canonical input goes to and which response path each
:class:`RiskDecision` field comes from. The defaults describe the "LendHub scoring protocol v1"
(see the README), which the simulator speaks.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from plugins.sdk import HttpConnectorConfig
from schemas.canonical.risk import Recommendation, RiskLevel

__all__ = ["ContributionFields", "ErrorKind", "HttpScorerConfig", "ResponseFields"]


class ErrorKind(StrEnum):
    """Which branch of the error tree a service error code belongs to."""

    AUTH = "auth"
    QUOTA = "quota"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"


class ResponseFields(BaseModel):
    """JSON paths in the service's answer for each :class:`RiskDecision` field.

    Paths are dotted keys with ``[n]`` for a list index and ``[*]`` for every element
    (``result.reasons[*].code``). ``None`` means the service does not send the field. ``score``
    is required; ``band`` may be left out only when ``band_cutoffs`` derive it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    score: str = "score"
    band: str | None = "band"
    reason_codes: str | None = "reasons[*].code"
    model_name: str | None = "model.name"
    model_version: str | None = "model.version"
    decision_id: str | None = "decision_id"
    recommendation: str | None = "decision"
    risk_level: str | None = None
    probability_of_default: str | None = "pd"
    contributions: str | None = "contributions"
    scored_at: str | None = "scored_at"


class ContributionFields(BaseModel):
    """Keys inside each element of the contributions list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str = "feature"
    points: str = "points"
    value: str | None = "value"
    bin: str | None = "bin"
    reason_code: str | None = "reason_code"


def _default_request_fields() -> dict[str, str]:
    return {
        "application_id": "request_id",
        "subject.name": "applicant.name",
        "subject.id_number": "applicant.id_number",
        "subject.mobile": "applicant.mobile",
    }


def _default_recommendations() -> dict[str, Recommendation]:
    a, r, d = Recommendation.APPROVE, Recommendation.REVIEW, Recommendation.DECLINE
    return {
        "APPROVE": a,
        "ACCEPT": a,
        "PASS": a,
        "REVIEW": r,
        "REFER": r,
        "MANUAL": r,
        "REJECT": d,
        "DECLINE": d,
    }


def _default_band_levels() -> dict[str, RiskLevel]:
    low, mod, high, very = RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH, RiskLevel.VERY_HIGH
    return {
        "A": low,
        "B": mod,
        "C": mod,
        "D": high,
        "E": very,
        "LOW": low,
        "MODERATE": mod,
        "MEDIUM": mod,
        "HIGH": high,
        "VERY_HIGH": very,
    }


def _default_error_codes() -> dict[str, ErrorKind]:
    return {
        "missing_signature": ErrorKind.AUTH,
        "unknown_key": ErrorKind.AUTH,
        "stale_timestamp": ErrorKind.AUTH,
        "invalid_signature": ErrorKind.AUTH,
        "quota_exhausted": ErrorKind.QUOTA,
        "subject_not_found": ErrorKind.NOT_FOUND,
        "invalid_request": ErrorKind.INVALID,
        "rate_limited": ErrorKind.RATE_LIMITED,
        "model_unavailable": ErrorKind.TRANSIENT,
        "internal_error": ErrorKind.TRANSIENT,
    }


class HttpScorerConfig(HttpConnectorConfig):
    """One model service: where it is, how we sign, and how its JSON maps onto ours.

    Args:
        key_id: names our signing key to the service (sent as ``X-LendHub-Key-Id``), so it can
            rotate keys; not a secret.
        signing_secret: the HMAC-SHA256 key shared with the service.
        score_path: the scoring endpoint.
        health_path: a signed ``GET`` used by ``check_connection``; ``None`` to skip the probe.
        model_name: used when the answer names no model.
        model_version: used when the answer carries no version.
        request_fields: canonical input → request JSON path; inputs are ``application_id`` and
            ``subject.name`` / ``subject.id_number`` / ``subject.mobile``.
        feature_fields: feature name → request JSON path, for features the service expects
            under its own names or outside ``features_path``.
        features_path: where the remaining features go as an object; ``None`` drops them.
        response_fields: response JSON path for each decision field.
        contribution_fields: keys inside each contribution element.
        recommendation_values: the service's decision words (compared upper-case) → recommendation.
        band_levels: the service's band names (compared upper-case) → normalised risk level.
        band_cutoffs: band name → minimum score, highest first, for services that send no band.
        error_code_path: where the service puts its error code, in error answers and in HTTP 200.
        success_codes: values at ``error_code_path`` that mean success (envelopes like
            ``{"code": 0, "data": …}`` put a code on every answer).
        error_codes: the service's error codes → error kind (see the README table).
    """

    key_id: str = Field(default="lendhub", min_length=1)
    signing_secret: SecretStr
    score_path: str = "/v1/score"
    health_path: str | None = "/v1/health"
    model_name: str | None = None
    model_version: str | None = None
    request_fields: dict[str, str] = Field(default_factory=_default_request_fields)
    feature_fields: dict[str, str] = Field(default_factory=dict)
    features_path: str | None = "features"
    response_fields: ResponseFields = Field(default_factory=ResponseFields)
    contribution_fields: ContributionFields = Field(default_factory=ContributionFields)
    recommendation_values: dict[str, Recommendation] = Field(default_factory=_default_recommendations)
    band_levels: dict[str, RiskLevel] = Field(default_factory=_default_band_levels)
    band_cutoffs: dict[str, Decimal] | None = None
    error_code_path: str = "error.code"
    success_codes: tuple[str, ...] = ("0",)
    error_codes: dict[str, ErrorKind] = Field(default_factory=_default_error_codes)

    @model_validator(mode="after")
    def _mapping_consistent(self) -> Self:
        known = {"application_id", "subject.name", "subject.id_number", "subject.mobile"}
        unknown = sorted(set(self.request_fields) - known)
        if unknown:
            raise ValueError(f"request_fields: unknown inputs {unknown}; known: {sorted(known)}")
        if "application_id" not in self.request_fields:
            raise ValueError("request_fields must send application_id (the service echoes and dedupes on it)")
        if self.response_fields.band is None and not self.band_cutoffs:
            raise ValueError(
                "the answer has no band path: set band_cutoffs to derive the band from the score"
            )
        return self
