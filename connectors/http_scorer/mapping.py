"""Pure mapping between canonical risk models and a scoring service's JSON, driven by the config.

Paths are dotted keys with ``[n]`` (one list element) and ``[*]`` (every element, giving a list):
``result.reasons[*].code``. Reading a path that is not there yields :data:`MISSING`, so an absent
field can be told from an explicit ``null``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from pydantic import ValidationError

from schemas.canonical.risk import FeatureContribution, RiskDecision, RiskInput, RiskLevel

from .models import HttpScorerConfig

__all__ = ["MISSING", "MappingError", "build_request", "get_path", "parse_decision", "set_path"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""What :func:`get_path` returns for a path that is not in the document."""

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


class MappingError(ValueError):
    """The answer lacks a required field or holds one of the wrong type."""


def _tokens(path: str) -> list[str]:
    tokens = [m.group(1) or f"[{m.group(2)}]" for m in _TOKEN.finditer(path)]
    if not tokens:
        raise ValueError(f"empty JSON path {path!r}")
    return tokens


def get_path(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``, a list for ``[*]`` paths, or :data:`MISSING`."""
    return _get(document, _tokens(path))


def _get(node: Any, tokens: list[str]) -> Any:
    for i, token in enumerate(tokens):
        if token == "[*]":
            if not isinstance(node, list):
                return MISSING
            found = [_get(item, tokens[i + 1 :]) for item in node]
            return [v for v in found if v is not MISSING]
        if token.startswith("["):
            index = int(token[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return MISSING
            node = node[index]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            return MISSING
    return node


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted ``path``, creating objects on the way (no list indexes)."""
    keys = _tokens(path)
    if any(k.startswith("[") for k in keys):
        raise ValueError(f"request path {path!r}: list indexes are not supported when building requests")
    node = document
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"request path {path!r}: {key!r} is already a value, not an object")
        node = child
    node[keys[-1]] = value


def build_request(config: HttpScorerConfig, risk_input: RiskInput) -> dict[str, Any]:
    """The request document for ``risk_input`` under the config's field mapping.

    Subject fields that are ``None`` (or a missing subject) are left out rather than sent as
    ``null``. Features named in ``feature_fields`` go to their path; the rest go, under their own
    names, into the object at ``features_path`` (or are dropped when it is ``None``).
    """
    subject = risk_input.subject
    inputs: dict[str, Any] = {
        "application_id": risk_input.application_id,
        "subject.name": subject.name if subject else None,
        "subject.id_number": subject.id_number if subject else None,
        "subject.mobile": subject.mobile if subject else None,
    }
    document: dict[str, Any] = {}
    for name, path in config.request_fields.items():
        if inputs[name] is not None:
            set_path(document, path, inputs[name])
    rest: dict[str, Any] = {}
    for feature, value in risk_input.features.items():
        target = config.feature_fields.get(feature)
        if target is not None:
            set_path(document, target, value)
        else:
            rest[feature] = value
    if config.features_path is not None:
        set_path(document, config.features_path, rest)
    return document


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise MappingError(f"{field} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise MappingError(f"{field} is not a number") from None
    if not number.is_finite():
        raise MappingError(f"{field} is not a finite number")
    return number


def _optional(document: Any, path: str | None) -> Any:
    if path is None:
        return None
    value = get_path(document, path)
    return None if value is MISSING else value


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise MappingError(f"{field} must be text")
    return str(value)


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MappingError("scored_at is not an ISO 8601 timestamp") from None
    if when.tzinfo is None:
        # A zone-less time from a service is read as UTC, which is what the protocol specifies.
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _band_from_cutoffs(config: HttpScorerConfig, score: Decimal) -> str:
    assert config.band_cutoffs is not None
    ordered = sorted(config.band_cutoffs.items(), key=lambda item: item[1], reverse=True)
    for name, cutoff in ordered:
        if score >= cutoff:
            return name
    return ordered[-1][0]


def _contributions(config: HttpScorerConfig, raw: Any) -> tuple[FeatureContribution, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MappingError("contributions must be a list")
    keys = config.contribution_fields
    found = []
    for item in raw:
        if not isinstance(item, dict):
            raise MappingError("each contribution must be an object")
        feature = _text(_optional(item, keys.feature), "contribution feature")
        points = _optional(item, keys.points)
        if not feature or points is None:
            raise MappingError("a contribution lacks its feature or points")
        found.append(
            FeatureContribution(
                feature=feature,
                points=_decimal(points, "contribution points"),
                value=_text(_optional(item, keys.value), "contribution value"),
                bin=_text(_optional(item, keys.bin), "contribution bin"),
                reason_code=_text(_optional(item, keys.reason_code), "contribution reason"),
            )
        )
    return tuple(found)


def _reason_codes(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if any(isinstance(v, dict | list) for v in items):
        raise MappingError("reason codes must be text")
    return tuple(str(v) for v in items if v is not None and str(v))


def parse_decision(config: HttpScorerConfig, document: Any, *, application_id: str) -> RiskDecision:
    """Map a service answer onto :class:`RiskDecision`.

    Args:
        config: the field mapping.
        document: the parsed answer (numbers parsed as ``Decimal``).
        application_id: the application scored, set on the decision when the answer does not echo it.

    Raises:
        MappingError: a required field (score, band, model name and version — from the answer
            or the config) is missing or malformed.
    """
    if not isinstance(document, dict):
        raise MappingError("the answer is not a JSON object")
    fields = config.response_fields
    raw_score = get_path(document, fields.score)
    if raw_score is MISSING or raw_score is None:
        raise MappingError(f"no score at {fields.score!r}")
    score = _decimal(raw_score, "score")
    band = _text(_optional(document, fields.band), "band")
    if band is None:
        if not config.band_cutoffs:
            raise MappingError(f"no band at {fields.band!r} and no band_cutoffs configured")
        band = _band_from_cutoffs(config, score)
    model_name = _text(_optional(document, fields.model_name), "model name") or config.model_name
    model_version = _text(_optional(document, fields.model_version), "model version") or config.model_version
    if not model_name or not model_version:
        raise MappingError("the answer names no model name/version and the config sets none")

    levels = {k.upper(): v for k, v in config.band_levels.items()}
    raw_level = _text(_optional(document, fields.risk_level), "risk level")
    level: RiskLevel | None = None
    if raw_level is not None:
        level = levels.get(raw_level.upper())
        if level is None:
            try:
                level = RiskLevel(raw_level.lower())
            except ValueError:
                raise MappingError(f"unknown risk level {raw_level!r}") from None
    else:
        level = levels.get(band.upper())

    advice = {k.upper(): v for k, v in config.recommendation_values.items()}
    raw_advice = _text(_optional(document, fields.recommendation), "recommendation")
    recommendation = None
    if raw_advice is not None:
        recommendation = advice.get(raw_advice.upper())
        if recommendation is None:
            raise MappingError(f"unknown decision {raw_advice!r}: add it to recommendation_values")

    pd_raw = _optional(document, fields.probability_of_default)
    try:
        return RiskDecision(
            score=score,
            band=band,
            reason_codes=_reason_codes(_optional(document, fields.reason_codes)),
            model_name=model_name,
            model_version=model_version,
            application_id=application_id,
            decision_id=_text(_optional(document, fields.decision_id), "decision id"),
            risk_level=level,
            recommendation=recommendation,
            probability_of_default=None if pd_raw is None else _decimal(pd_raw, "probability of default"),
            contributions=_contributions(config, _optional(document, fields.contributions)),
            scored_at=_timestamp(_optional(document, fields.scored_at)),
        )
    except ValidationError as exc:
        fields_wrong = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise MappingError(f"the answer does not fit a risk decision: {fields_wrong}") from None
