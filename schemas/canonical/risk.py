"""What a risk model is asked and what it answers, vendor-neutral.

A :class:`RiskInput` carries the lender's own feature names (and, optionally, who the applicant
is, for scorers that look people up on their side). A :class:`RiskDecision` is what the approval
engine routes on: the score and band as the model states them, plus a normalised
:class:`RiskLevel` and :class:`Recommendation` so routing rules never have to know that one
model's band ``"A"`` is another's ``"LOW"``. Per-feature :class:`FeatureContribution` rows make a
decision explainable to a credit officer and to the borrower (PIPL Art. 24 asks for an explanation
of automated decisions).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .common import CanonicalModel, PersonSubject

__all__ = [
    "FeatureContribution",
    "FeatureValue",
    "Recommendation",
    "RiskDecision",
    "RiskInput",
    "RiskLevel",
]

FeatureValue = str | int | Decimal | bool | None
"""A feature value: numbers as ``int`` or ``Decimal`` (never float), flags as ``bool``."""


class Recommendation(StrEnum):
    """What the model advises the approval process to do with the application."""

    APPROVE = "approve"  # 通过: straight-through or the normal approval route
    REVIEW = "review"  # 人工审核: refer to a credit officer
    DECLINE = "decline"  # 拒绝


class RiskLevel(StrEnum):
    """A model-independent risk grade, so routing does not depend on each model's band names."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    VERY_HIGH = "very_high"


class RiskInput(BaseModel):
    """Features sent to a scorer; keys are the lender's own feature names.

    Args:
        application_id: the application being scored; scoring is idempotent per application
            and feature set.
        features: feature name → value (``worst_dpd_24m``, ``debt_to_income``, ``dishonest_executed``).
        subject: the applicant, for scorers that enrich on their side (an anti-fraud service
            looks the ID number up in its own lists); ``None`` when the features say it all.
    """

    model_config = ConfigDict(frozen=True)

    application_id: str
    features: dict[str, FeatureValue]
    subject: PersonSubject | None = None


class FeatureContribution(BaseModel):
    """How much one feature moved the score, and why.

    Args:
        feature: the lender's feature name.
        value: the value the model saw, as text (``None`` when the feature was missing).
        bin: the scorecard bin or bucket it fell into (``"31-60"``), when the model says.
        points: signed contribution to the score.
        reason_code: the adverse-action reason this contribution stands for, if any.
    """

    model_config = ConfigDict(frozen=True)

    feature: str = Field(min_length=1)
    value: str | None = None
    bin: str | None = None
    points: Decimal
    reason_code: str | None = None


class RiskDecision(CanonicalModel):
    """Score, band and the reasons, with the model that produced them.

    Args:
        score: the model's score on its own scale.
        band: the model's own band or grade name (``"A"``, ``"LOW"``).
        reason_codes: reasons for the score, most important first.
        model_name: which model answered.
        model_version: which version of it, so a decision can be reproduced and audited.
        application_id: the application scored, echoed back.
        decision_id: the model service's id for this decision, for support tickets.
        risk_level: the band normalised onto :class:`RiskLevel`.
        recommendation: approve, review or decline, when the model recommends one.
        probability_of_default: estimated PD as a decimal fraction, for models that give one.
        contributions: per-feature contributions, largest effect first where the model ranks them.
        scored_at: when the model scored, timezone-aware UTC.
    """

    score: Decimal
    band: str
    reason_codes: tuple[str, ...] = ()
    model_name: str
    model_version: str
    application_id: str | None = None
    decision_id: str | None = None
    risk_level: RiskLevel | None = None
    recommendation: Recommendation | None = None
    probability_of_default: Decimal | None = Field(default=None, ge=0, le=1)
    contributions: tuple[FeatureContribution, ...] = ()
    scored_at: datetime | None = None

    @field_validator("scored_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """Refuse naive datetimes (their zone is a guess) and keep aware ones in UTC."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("scored_at must be timezone-aware")
        return value.astimezone(UTC)
