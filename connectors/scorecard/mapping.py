"""Pure scorecard evaluation: features in, :class:`RiskDecision` out, no I/O and no clock.

Reason codes follow the adverse-action convention: each characteristic's *shortfall* is the best
points it could have earned minus the points earned; the reasons are the codes of the largest
shortfalls, so "what would have raised the score most" comes first. Knockout reasons precede them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from schemas.canonical.risk import FeatureContribution, FeatureValue, Recommendation, RiskDecision, RiskInput

from .models import Band, Bin, Characteristic, ScorecardConfig

__all__ = ["FeatureError", "evaluate", "pick_band"]


class FeatureError(ValueError):
    """A feature value the card cannot score (text where a number is needed, a boolean as a count)."""


@dataclass(frozen=True, slots=True)
class _Scored:
    contribution: FeatureContribution
    shortfall: Decimal
    order: int


def _as_text(value: FeatureValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_number(feature: str, value: FeatureValue) -> Decimal:
    # bool is an int subclass: True must not silently count as 1 day past due.
    if isinstance(value, bool):
        raise FeatureError(f"feature {feature!r} needs a number, got a boolean")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FeatureError(f"feature {feature!r} needs a number, got text") from None
    if not number.is_finite():
        raise FeatureError(f"feature {feature!r} needs a finite number")
    return number


def _find_bin(characteristic: Characteristic, value: FeatureValue) -> Bin | None:
    if characteristic.categorical:
        text = _as_text(value).strip().lower()
        return next((b for b in characteristic.bins if text in {v.lower() for v in b.values}), None)
    number = _as_number(characteristic.feature, value)
    for b in characteristic.bins:
        if (b.lower is None or number >= b.lower) and (b.upper is None or number < b.upper):
            return b
    raise AssertionError("validated numeric bins tile the number line")  # pragma: no cover


def _score_one(characteristic: Characteristic, features: dict[str, FeatureValue], order: int) -> _Scored:
    value = features.get(characteristic.feature)
    if value is None:
        points, label, reason, shown = (
            characteristic.missing_points,
            "missing",
            characteristic.missing_reason_code,
            None,
        )
    else:
        found = _find_bin(characteristic, value)
        shown = _as_text(value)
        if found is None:
            points, label, reason = characteristic.other_points, "other", characteristic.other_reason_code
        else:
            points, label, reason = found.points, found.label, found.reason_code
    shortfall = characteristic.max_points - points
    contribution = FeatureContribution(
        feature=characteristic.feature,
        value=shown,
        bin=label,
        points=points,
        # A bin at the characteristic's best carries no adverse reason even if one is configured.
        reason_code=reason if shortfall > 0 else None,
    )
    return _Scored(contribution, shortfall, order)


def pick_band(bands: tuple[Band, ...], score: Decimal) -> Band:
    """The first band (highest cut-off first) whose ``min_score`` the score reaches."""
    for band in bands:
        if band.min_score is None or score >= band.min_score:
            return band
    raise AssertionError("the last band has no cut-off")  # pragma: no cover


def evaluate(
    card: ScorecardConfig, risk_input: RiskInput, *, scored_at: datetime | None = None
) -> RiskDecision:
    """Score ``risk_input`` with ``card``.

    Args:
        card: a validated scorecard.
        risk_input: the application's features; features the card does not know are ignored.
        scored_at: stamped on the decision (the caller owns the clock, keeping this pure).

    Returns:
        The decision with score, band, risk level, recommendation, contributions (largest
        shortfall first) and reason codes.

    Raises:
        FeatureError: a feature value cannot be scored.
    """
    features = risk_input.features
    scored = [_score_one(c, features, i) for i, c in enumerate(card.characteristics)]
    score = card.base_score + sum((s.contribution.points for s in scored), Decimal(0))
    band = pick_band(card.bands, score)
    ranked = sorted(scored, key=lambda s: (-s.shortfall, s.order))

    knocked = [
        k.reason_code
        for k in card.knockouts
        if features.get(k.feature) is not None
        and _as_text(features[k.feature]).strip().lower() in {v.lower() for v in k.values}
    ]
    reasons: list[str] = list(knocked)
    for s in ranked:
        code = s.contribution.reason_code
        if code is not None and code not in reasons and len(reasons) < len(knocked) + card.max_reasons:
            reasons.append(code)

    return RiskDecision(
        score=score,
        band=band.name,
        reason_codes=tuple(reasons),
        model_name=card.model_name,
        model_version=card.model_version,
        application_id=risk_input.application_id,
        risk_level=band.risk_level,
        recommendation=Recommendation.DECLINE if knocked else band.recommendation,
        contributions=tuple(s.contribution for s in ranked),
        scored_at=scored_at,
    )
