"""The scorecard definition: the connector's whole configuration, validated when it is saved.

A scorecard is data, not code, so a risk manager can change it without a release. It is checked
strictly up front — numeric bins must tile the number line, band cut-offs must be distinct — so a
mistake shows up when the card is configured, not as a wrong score on a live application.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.canonical.risk import Recommendation, RiskLevel

__all__ = ["Band", "Bin", "Characteristic", "Knockout", "ScorecardConfig"]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Bin(BaseModel):
    """One attribute range of a characteristic and the points it earns.

    A numeric bin covers ``lower <= value < upper`` (``None`` is open-ended); a categorical bin
    matches any of ``values`` (compared as lower-case text, so ``True`` matches ``"true"``).

    Args:
        label: shown in the decision's contributions (``"31-60"``).
        lower: inclusive lower bound of a numeric bin.
        upper: exclusive upper bound of a numeric bin.
        values: the categories of a categorical bin.
        points: what an applicant in this bin earns.
        reason_code: the adverse-action reason reported when this bin costs points.
    """

    model_config = _FROZEN

    label: str = Field(min_length=1)
    lower: Decimal | None = None
    upper: Decimal | None = None
    values: tuple[str, ...] = ()
    points: Decimal
    reason_code: str | None = None

    @property
    def categorical(self) -> bool:
        """Whether the bin matches categories rather than a numeric range."""
        return bool(self.values)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if self.values and (self.lower is not None or self.upper is not None):
            raise ValueError(f"bin {self.label!r}: give either values or lower/upper bounds, not both")
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(f"bin {self.label!r}: lower {self.lower} must be below upper {self.upper}")
        return self


class Characteristic(BaseModel):
    """One feature of the card with its bins.

    Args:
        feature: the feature name in :attr:`RiskInput.features`.
        description: what it measures, for the risk manager reading the card.
        bins: numeric bins tiling the whole number line, or categorical bins.
        missing_points: earned when the feature is absent or ``None``.
        missing_reason_code: reason reported when a missing value costs points.
        other_points: earned by a category no bin lists (categorical characteristics only).
        other_reason_code: reason reported when an unlisted category costs points.
    """

    model_config = _FROZEN

    feature: str = Field(min_length=1)
    description: str = ""
    bins: tuple[Bin, ...] = Field(min_length=1)
    missing_points: Decimal = Decimal(0)
    missing_reason_code: str | None = None
    other_points: Decimal = Decimal(0)
    other_reason_code: str | None = None

    @property
    def categorical(self) -> bool:
        """Whether the characteristic's bins are categorical."""
        return self.bins[0].categorical

    @property
    def max_points(self) -> Decimal:
        """The best an applicant can earn here; the yardstick for ranking reason codes."""
        candidates = [b.points for b in self.bins] + [self.missing_points]
        if self.categorical:
            candidates.append(self.other_points)
        return max(candidates)

    @model_validator(mode="after")
    def _bins_consistent(self) -> Self:
        kinds = {b.categorical for b in self.bins}
        if len(kinds) > 1:
            raise ValueError(f"{self.feature}: mix of categorical and numeric bins")
        if self.categorical:
            seen: set[str] = set()
            for b in self.bins:
                values = {v.lower() for v in b.values}
                if values & seen:
                    raise ValueError(f"{self.feature}: category {sorted(values & seen)} in two bins")
                seen |= values
            return self
        # Numeric bins must tile (-inf, +inf) in order: no value may fall between two bins.
        if self.bins[0].lower is not None or self.bins[-1].upper is not None:
            raise ValueError(f"{self.feature}: first bin needs no lower bound and last bin no upper bound")
        for left, right in pairwise(self.bins):
            if left.upper is None or left.upper != right.lower:
                raise ValueError(f"{self.feature}: bin {left.label!r} must end where {right.label!r} starts")
        return self


class Knockout(BaseModel):
    """A policy rule that declines whatever the score (失信被执行人, 限高).

    Args:
        feature: the feature it looks at.
        values: categories that knock out (lower-case text; booleans as ``"true"``/``"false"``).
        reason_code: reported first among the reasons when it fires.
    """

    model_config = _FROZEN

    feature: str = Field(min_length=1)
    values: tuple[str, ...] = Field(min_length=1)
    reason_code: str = Field(min_length=1)


class Band(BaseModel):
    """A score band: applicants scoring at least ``min_score`` (and below the next band) land here.

    Args:
        name: the band's name on the decision (``"A"``).
        min_score: inclusive lower cut-off; ``None`` on the lowest band, which catches the rest.
        risk_level: the normalised grade of the band.
        recommendation: what the band advises, before knockouts.
    """

    model_config = _FROZEN

    name: str = Field(min_length=1)
    min_score: Decimal | None
    risk_level: RiskLevel
    recommendation: Recommendation


def _default_characteristics() -> tuple[Characteristic, ...]:
    d = Decimal

    def num(label: str, lower: str | None, upper: str | None, points: int, reason: str | None = None) -> Bin:
        return Bin(
            label=label,
            lower=None if lower is None else d(lower),
            upper=None if upper is None else d(upper),
            points=d(points),
            reason_code=reason,
        )

    return (
        Characteristic(
            feature="worst_dpd_24m",
            description="worst days past due on any account in the last 24 months (征信)",
            bins=(
                num("0", None, "1", 90),
                num("1-30", "1", "31", 50, "DELINQ_M1"),
                num("31-60", "31", "61", 20, "DELINQ_M2"),
                num("61-90", "61", "91", 0, "DELINQ_M3"),
                num("90+", "91", None, -60, "DELINQ_M3_PLUS"),
            ),
            missing_points=d(30),
            missing_reason_code="NO_CREDIT_HISTORY",
        ),
        Characteristic(
            feature="debt_to_income",
            description="monthly debt service ÷ monthly income, new loan included",
            bins=(
                num("<0.20", None, "0.20", 60),
                num("0.20-0.35", "0.20", "0.35", 40, "DTI_ELEVATED"),
                num("0.35-0.50", "0.35", "0.50", 15, "DTI_HIGH"),
                num(">=0.50", "0.50", None, 0, "DTI_VERY_HIGH"),
            ),
            missing_points=d(10),
            missing_reason_code="INCOME_UNVERIFIED",
        ),
        Characteristic(
            feature="employment_months",
            description="months with the current employer",
            bins=(
                num("<6", None, "6", 0, "EMPLOYMENT_SHORT"),
                num("6-23", "6", "24", 20, "EMPLOYMENT_SHORT"),
                num("24-59", "24", "60", 35),
                num("60+", "60", None, 45),
            ),
            missing_points=d(5),
            missing_reason_code="EMPLOYMENT_UNKNOWN",
        ),
        Characteristic(
            feature="hard_inquiries_6m",
            description="loan and card approval queries in the last six months (硬查询)",
            bins=(
                num("0-2", None, "3", 40),
                num("3-5", "3", "6", 20, "INQUIRIES_ELEVATED"),
                num("6+", "6", None, 0, "INQUIRIES_HIGH"),
            ),
            missing_points=d(20),
        ),
        Characteristic(
            feature="revolving_utilization",
            description="revolving balances ÷ revolving limits",
            bins=(
                num("<0.30", None, "0.30", 40),
                num("0.30-0.70", "0.30", "0.70", 25, "UTILIZATION_ELEVATED"),
                num("0.70-0.90", "0.70", "0.90", 10, "UTILIZATION_HIGH"),
                num(">=0.90", "0.90", None, 0, "UTILIZATION_MAXED"),
            ),
            missing_points=d(25),
        ),
        Characteristic(
            feature="defendant_cases",
            description="open lawsuits with the applicant as defendant (司法涉诉)",
            bins=(
                num("0", None, "1", 30),
                num("1", "1", "2", 10, "LITIGATION"),
                num("2+", "2", None, 0, "LITIGATION_MULTIPLE"),
            ),
            missing_points=d(30),
        ),
    )


def _default_bands() -> tuple[Band, ...]:
    level, advice = RiskLevel, Recommendation
    return (
        Band(name="A", min_score=Decimal(720), risk_level=level.LOW, recommendation=advice.APPROVE),
        Band(name="B", min_score=Decimal(660), risk_level=level.MODERATE, recommendation=advice.APPROVE),
        Band(name="C", min_score=Decimal(600), risk_level=level.MODERATE, recommendation=advice.REVIEW),
        Band(name="D", min_score=Decimal(540), risk_level=level.HIGH, recommendation=advice.REVIEW),
        Band(name="E", min_score=None, risk_level=level.VERY_HIGH, recommendation=advice.DECLINE),
    )


def _default_knockouts() -> tuple[Knockout, ...]:
    return (
        Knockout(feature="dishonest_executed", values=("true",), reason_code="KO_DISHONEST_EXECUTED"),
        Knockout(feature="consumption_restricted", values=("true",), reason_code="KO_CONSUMPTION_RESTRICTED"),
    )


class ScorecardConfig(BaseModel):
    """The scorecard: base score, characteristics with binned points, bands and knockouts.

    The defaults are a sensible starter card for unsecured consumer loans (scores
    360–725; a clean file with low debt lands in band A), meant to be replaced by the lender's
    own calibrated card.

    Args:
        model_name: reported on every decision.
        model_version: bump it with every change to the card, so decisions can be reproduced.
        base_score: points everyone starts with.
        characteristics: the scored features.
        bands: from the highest cut-off down; the last band has ``min_score=None``.
        knockouts: policy rules that force ``decline`` whatever the score.
        max_reasons: how many reason codes to report (the largest shortfalls first).
    """

    model_config = _FROZEN

    model_name: str = "lendhub-scorecard"
    model_version: str = "2024.1"
    base_score: Decimal = Decimal(420)
    characteristics: tuple[Characteristic, ...] = Field(
        default_factory=_default_characteristics, min_length=1
    )
    bands: tuple[Band, ...] = Field(default_factory=_default_bands, min_length=1)
    knockouts: tuple[Knockout, ...] = Field(default_factory=_default_knockouts)
    max_reasons: int = Field(default=4, ge=0, le=20)

    @model_validator(mode="after")
    def _card_consistent(self) -> Self:
        features = [c.feature for c in self.characteristics]
        duplicates = sorted({f for f in features if features.count(f) > 1})
        if duplicates:
            raise ValueError(f"characteristics listed twice: {duplicates}")
        names = [b.name for b in self.bands]
        if len(set(names)) != len(names):
            raise ValueError("band names must be unique")
        cutoffs = [b.min_score for b in self.bands[:-1]]
        if any(c is None for c in cutoffs) or self.bands[-1].min_score is not None:
            raise ValueError("only the last band, which catches every lower score, may omit min_score")
        numeric = [c for c in cutoffs if c is not None]
        if any(a <= b for a, b in pairwise(numeric)):
            raise ValueError("band cut-offs must strictly decrease")
        return self
