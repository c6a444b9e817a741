"""Mapping tests from recorded service bodies: fixtures → RiskDecision, RiskInput → request JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.http_scorer.mapping import MISSING, MappingError, build_request, get_path, parse_decision
from connectors.http_scorer.models import ContributionFields, HttpScorerConfig, ResponseFields
from plugins.sdk.sandbox import CLEAN_BORROWER
from schemas.canonical import PersonSubject
from schemas.canonical.risk import Recommendation, RiskInput, RiskLevel

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def config(**overrides: Any) -> HttpScorerConfig:
    return HttpScorerConfig(base_url="https://scorer.test", signing_secret="s3cret-value", **overrides)


ANTIFRAUD = dict(
    model_name=None,
    response_fields=ResponseFields(
        score="data.result.riskScore",
        band="data.result.riskGrade",
        recommendation="data.result.suggestion",
        reason_codes="data.result.hitRules[*].ruleCode",
        contributions="data.result.hitRules",
        model_name="data.engine.model",
        model_version="data.engine.ver",
        decision_id="data.flowNo",
        probability_of_default=None,
        scored_at=None,
    ),
    contribution_fields=ContributionFields(
        feature="ruleCode", points="weight", value=None, bin=None, reason_code="ruleCode"
    ),
    error_code_path="code",
)


def test_clean_answer_maps_every_field() -> None:
    decision = parse_decision(config(), load("score_clean.json"), application_id="APP-2024-0001")
    assert decision.score == Decimal(752)
    assert decision.band == "A"
    assert decision.risk_level is RiskLevel.LOW
    assert decision.recommendation is Recommendation.APPROVE
    assert decision.reason_codes == ()
    assert (decision.model_name, decision.model_version) == ("sandbox-pd", "2024.06.1")
    assert decision.decision_id == "dec_6c0e2b9f1d3a4e5f7a8b"
    assert decision.probability_of_default == Decimal("0.0080")
    assert decision.scored_at == datetime(2024, 6, 3, 8, 15, 30, tzinfo=UTC)
    assert [c.feature for c in decision.contributions] == ["worst_dpd_24m", "hard_inquiries_6m"]
    assert decision.contributions[0].points == Decimal(90)
    assert decision.application_id == "APP-2024-0001"


def test_delinquent_answer_is_high_risk_with_reasons_in_order() -> None:
    decision = parse_decision(config(), load("score_delinquent.json"), application_id="APP-2024-0002")
    assert decision.risk_level is RiskLevel.VERY_HIGH
    assert decision.recommendation is Recommendation.DECLINE
    assert decision.reason_codes == ("DELINQ_M3_PLUS", "INQUIRIES_HIGH", "FIVE_CATEGORY_SUBSTANDARD")
    # A JSON number PD arrives as Decimal (parse_float), never through float.
    assert decision.probability_of_default == Decimal("0.2650")
    # +08:00 is normalised to UTC.
    assert decision.scored_at == datetime(2024, 6, 3, 8, 15, 30, tzinfo=UTC)
    assert decision.contributions[0].reason_code == "DELINQ_M3_PLUS"


def test_enveloped_antifraud_answer_maps_through_configured_paths() -> None:
    decision = parse_decision(config(**ANTIFRAUD), load("antifraud_enveloped.json"), application_id="A-9")
    assert decision.score == Decimal("63.5")
    assert decision.band == "medium"
    assert decision.risk_level is RiskLevel.MODERATE  # band names compare upper-case
    assert decision.recommendation is Recommendation.REVIEW  # "REFER"
    assert decision.reason_codes == ("DEVICE_SHARED", "MULTI_PLATFORM_6M")
    assert [c.points for c in decision.contributions] == [Decimal("-12.5"), Decimal(-8)]
    assert (decision.model_name, decision.model_version) == ("af-rules", "7.2")
    assert decision.decision_id == "AF20240603000123"


def test_band_derived_from_cutoffs_and_model_from_config() -> None:
    fields = ANTIFRAUD["response_fields"].model_copy(update={"band": None, "recommendation": None})
    cfg = config(
        **{**ANTIFRAUD, "response_fields": fields},
        band_cutoffs={"LOW": Decimal(80), "MODERATE": Decimal(60), "HIGH": Decimal(0)},
    )
    cfg = cfg.model_copy(update={"model_name": "af-rules", "model_version": "7.2"})
    decision = parse_decision(cfg, load("antifraud_no_band.json"), application_id="A-10")
    assert decision.band == "LOW"
    assert decision.risk_level is RiskLevel.LOW
    assert decision.recommendation is None
    assert decision.model_name == "af-rules"  # the answer has no engine block
    assert decision.reason_codes == ()


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"score": None}, "no score"),
        ({"score": "high"}, "not a number"),
        ({"decision": "MAYBE"}, "unknown decision"),
        ({"model": {}}, "model name"),
        ({"contributions": {"feature": "x"}}, "must be a list"),
        ({"scored_at": "yesterday"}, "ISO 8601"),
        ({"pd": "1.7"}, "probability_of_default"),
    ],
)
def test_malformed_answers_raise_mapping_error(patch: dict[str, Any], message: str) -> None:
    body = {**load("score_clean.json"), **patch}
    with pytest.raises(MappingError, match=message):
        parse_decision(config(), body, application_id="A")


def test_build_request_default_protocol() -> None:
    subject = PersonSubject(name=CLEAN_BORROWER.name, id_number=CLEAN_BORROWER.id_number)
    risk_input = RiskInput(
        application_id="APP-1", subject=subject, features={"worst_dpd_24m": 0, "dti": Decimal("0.31")}
    )
    assert build_request(config(), risk_input) == {
        "request_id": "APP-1",
        "applicant": {"name": "张三", "id_number": "110105199003070017"},  # mobile None: left out
        "features": {"worst_dpd_24m": 0, "dti": Decimal("0.31")},
    }


def test_build_request_with_custom_field_mapping() -> None:
    cfg = config(
        request_fields={"application_id": "biz.orderNo", "subject.id_number": "biz.idCard"},
        feature_fields={"dti": "biz.debtRatio"},
        features_path="vars",
    )
    risk_input = RiskInput(
        application_id="APP-2",
        subject=PersonSubject(name="张三", id_number=CLEAN_BORROWER.id_number),
        features={"dti": Decimal("0.31"), "age": 34},
    )
    assert build_request(cfg, risk_input) == {
        "biz": {"orderNo": "APP-2", "idCard": CLEAN_BORROWER.id_number, "debtRatio": Decimal("0.31")},
        "vars": {"age": 34},
    }


def test_config_refuses_unknown_request_inputs_and_missing_band_source() -> None:
    with pytest.raises(ValueError, match="unknown inputs"):
        config(request_fields={"application_id": "id", "subject.email": "mail"})
    with pytest.raises(ValueError, match="band_cutoffs"):
        config(response_fields=ResponseFields(band=None))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.b", 1),
        ("list[1].c", "y"),
        ("list[*].c", ["x", "y"]),
        ("list[5].c", MISSING),
        ("a.nope", MISSING),
        ("a.b.c", MISSING),
    ],
)
def test_get_path(path: str, expected: Any) -> None:
    document = {"a": {"b": 1}, "list": [{"c": "x"}, {"c": "y"}]}
    assert get_path(document, path) == expected
