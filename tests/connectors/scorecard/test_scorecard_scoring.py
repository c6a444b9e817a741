"""Unit tests of the built-in scorecard: the default card, reason codes, knockouts, validation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

import connectors.scorecard.plugin as scorecard_plugin
from connectors.scorecard.connector import Scorecard
from connectors.scorecard.mapping import evaluate
from connectors.scorecard.models import Band, Bin, Characteristic, ScorecardConfig
from plugins.manager import make_plugin_manager
from plugins.sdk import InvalidRequest
from schemas.canonical.risk import FeatureValue, Recommendation, RiskDecision, RiskInput, RiskLevel

NOON = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
D = Decimal

# The sandbox people as the CRM would describe them to the scorecard (bureau + court facts).
CLEAN: dict[str, FeatureValue] = {
    "worst_dpd_24m": 0,
    "debt_to_income": D("0.18"),
    "employment_months": 72,
    "hard_inquiries_6m": 1,
    "revolving_utilization": D("0.12"),
    "defendant_cases": 0,
    "dishonest_executed": False,
    "consumption_restricted": False,
}
DELINQUENT: dict[str, FeatureValue] = {
    **CLEAN,
    "worst_dpd_24m": 97,
    "hard_inquiries_6m": 7,
    "debt_to_income": D("0.42"),
    "revolving_utilization": D("0.95"),
}
DISHONEST: dict[str, FeatureValue] = {
    **CLEAN,
    "dishonest_executed": True,
    "consumption_restricted": "TRUE",
    "defendant_cases": 1,
}


def score(features: dict[str, FeatureValue], card: ScorecardConfig | None = None) -> RiskDecision:
    return evaluate(
        card or ScorecardConfig(), RiskInput(application_id="APP-1", features=features), scored_at=NOON
    )


@pytest.mark.parametrize(
    ("features", "points", "band", "level", "advice", "reasons"),
    [
        (CLEAN, 725, "A", RiskLevel.LOW, Recommendation.APPROVE, ()),
        # 420 − 60 + 15 + 45 + 0 + 0 + 30
        (
            DELINQUENT,
            450,
            "E",
            RiskLevel.VERY_HIGH,
            Recommendation.DECLINE,
            ("DELINQ_M3_PLUS", "DTI_HIGH", "INQUIRIES_HIGH", "UTILIZATION_MAXED"),
        ),
        # Knockouts decline a score that alone would be band A.
        (
            DISHONEST,
            705,
            "B",
            RiskLevel.MODERATE,
            Recommendation.DECLINE,
            ("KO_DISHONEST_EXECUTED", "KO_CONSUMPTION_RESTRICTED", "LITIGATION"),
        ),
        # UNKNOWN_PERSON: nothing known, a thin file: 420 + 30 + 10 + 5 + 20 + 25 + 30.
        (
            {},
            540,
            "D",
            RiskLevel.HIGH,
            Recommendation.REVIEW,
            ("NO_CREDIT_HISTORY", "INCOME_UNVERIFIED", "EMPLOYMENT_UNKNOWN"),
        ),
    ],
    ids=["clean", "delinquent", "dishonest", "unknown"],
)
def test_default_card_on_sandbox_people(
    features: dict[str, FeatureValue],
    points: int,
    band: str,
    level: RiskLevel,
    advice: Recommendation,
    reasons: tuple[str, ...],
) -> None:
    decision = score(features)
    assert decision.score == D(points)
    assert (decision.band, decision.risk_level, decision.recommendation) == (band, level, advice)
    assert decision.reason_codes == reasons
    assert (decision.model_name, decision.model_version) == ("lendhub-scorecard", "2024.1")
    assert decision.scored_at == NOON and decision.application_id == "APP-1"
    assert sum((c.points for c in decision.contributions), D(0)) + D(420) == decision.score


def test_contributions_rank_the_largest_shortfall_first() -> None:
    decision = score(DELINQUENT)
    first = decision.contributions[0]
    assert (first.feature, first.value, first.bin, first.points, first.reason_code) == (
        "worst_dpd_24m",
        "97",
        "90+",
        D(-60),
        "DELINQ_M3_PLUS",
    )
    best = next(c for c in decision.contributions if c.feature == "employment_months")
    assert best.reason_code is None  # at its best bin: no adverse reason


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (D("60.5"), "31-60"), (91, "90+"), ("45", "31-60")],
)
def test_bin_boundaries_are_lower_inclusive_upper_exclusive(value: FeatureValue, label: str) -> None:
    contribution = next(
        c for c in score({"worst_dpd_24m": value}).contributions if c.feature == "worst_dpd_24m"
    )
    assert contribution.bin == label


def test_max_reasons_limits_reasons_but_not_knockouts() -> None:
    card = ScorecardConfig(max_reasons=1)
    assert score(DELINQUENT, card).reason_codes == ("DELINQ_M3_PLUS",)
    assert score({**DELINQUENT, "dishonest_executed": True}, card).reason_codes == (
        "KO_DISHONEST_EXECUTED",
        "DELINQ_M3_PLUS",
    )


def test_categorical_characteristic_with_other_bucket() -> None:
    purpose = Characteristic(
        feature="loan_purpose",
        bins=(
            Bin(label="consumption", values=("Consumption", "education"), points=D(20)),
            Bin(label="business", values=("business",), points=D(5), reason_code="PURPOSE_BUSINESS"),
        ),
        other_points=D(0),
        other_reason_code="PURPOSE_OTHER",
    )
    card = ScorecardConfig(characteristics=(purpose,), base_score=D(600), knockouts=())
    assert score({"loan_purpose": "CONSUMPTION"}, card).score == D(620)
    assert score({"loan_purpose": "business"}, card).reason_codes == ("PURPOSE_BUSINESS",)
    other = score({"loan_purpose": "gambling"}, card)
    assert (other.score, other.contributions[0].bin, other.reason_codes) == (
        D(600),
        "other",
        ("PURPOSE_OTHER",),
    )


@pytest.mark.parametrize("value", ["many", True, "NaN"])
async def test_unscorable_value_is_invalid_request(value: FeatureValue) -> None:
    with pytest.raises(InvalidRequest, match="worst_dpd_24m"):
        await Scorecard(ScorecardConfig()).score(
            RiskInput(application_id="A", features={"worst_dpd_24m": value})
        )


def _bins(*bounds: tuple[str | None, str | None]) -> tuple[Bin, ...]:
    return tuple(
        Bin(
            label=f"b{i}",
            lower=None if lo is None else D(lo),
            upper=None if hi is None else D(hi),
            points=D(i),
        )
        for i, (lo, hi) in enumerate(bounds)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"characteristics": (Characteristic.model_construct(feature="x"),) * 0}, "at least 1"),
        (
            {
                "bands": (
                    Band(
                        name="A",
                        min_score=D(1),
                        risk_level=RiskLevel.LOW,
                        recommendation=Recommendation.APPROVE,
                    ),
                )
            },
            "last band",
        ),
        (
            {
                "bands": (
                    Band(
                        name="A",
                        min_score=D(600),
                        risk_level=RiskLevel.LOW,
                        recommendation=Recommendation.APPROVE,
                    ),
                    Band(
                        name="B",
                        min_score=D(700),
                        risk_level=RiskLevel.LOW,
                        recommendation=Recommendation.APPROVE,
                    ),
                    Band(
                        name="C",
                        min_score=None,
                        risk_level=RiskLevel.HIGH,
                        recommendation=Recommendation.DECLINE,
                    ),
                )
            },
            "strictly decrease",
        ),
    ],
    ids=["no-characteristics", "last-band-cutoff", "cutoffs-order"],
)
def test_card_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScorecardConfig(**kwargs)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        (((None, "1"), ("2", None)), "must end where"),
        ((("0", "1"), ("1", None)), "no lower bound"),
        (((None, "1"), ("1", "5")), "no upper bound"),
    ],
    ids=["gap", "open-low", "open-high"],
)
def test_numeric_bins_must_tile_the_number_line(
    bounds: tuple[tuple[str | None, str | None], ...], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Characteristic(feature="x", bins=_bins(*bounds))


def test_card_round_trips_as_json_config() -> None:
    card = ScorecardConfig()
    assert ScorecardConfig.model_validate_json(card.model_dump_json()) == card
    assert Scorecard.Config.model_validate({}) == card  # an empty config is the default card


async def test_connector_stamps_its_clock_and_is_deterministic() -> None:
    scorer = Scorecard(ScorecardConfig(), clock=lambda: NOON)
    risk_input = RiskInput(application_id="APP-9", features=CLEAN)
    first, second = await scorer.score(risk_input), await scorer.score(risk_input)
    assert first == second and first.scored_at == NOON
    await scorer.check_connection()  # nothing to connect to: a no-op


def test_plugin_registers_the_scorecard() -> None:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("connectors.scorecard.plugin", scorecard_plugin)
    assert host.connector_class("lendhub-scorecard") is Scorecard


def test_decision_refuses_a_naive_scored_at_and_normalises_to_utc() -> None:
    base = {"score": 1, "band": "A", "model_name": "m", "model_version": "1"}
    with pytest.raises(ValidationError, match="timezone-aware"):
        RiskDecision(**base, scored_at=datetime(2024, 6, 3, 12, 0))
    shanghai = datetime.fromisoformat("2024-06-03T20:00:00+08:00")
    assert RiskDecision(**base, scored_at=shanghai).scored_at == NOON
