"""A risk model's answer (first version)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel

__all__ = ["RiskDecision", "RiskInput"]


class RiskInput(BaseModel):
    """Features sent to a scorer; keys are the lender's own feature names."""

    model_config = ConfigDict(frozen=True)

    application_id: str
    features: dict[str, str | int | Decimal | bool | None]


class RiskDecision(CanonicalModel):
    """Score, band and the reasons, with the model that produced them."""

    score: Decimal
    band: str
    reason_codes: tuple[str, ...] = ()
    model_name: str
    model_version: str
