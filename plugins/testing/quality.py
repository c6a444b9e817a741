"""The connector quality scale: rules, tiers and the validator of ``quality.yaml``.

Every connector folder carries a ``quality.yaml`` saying, rule by rule, what is ``done``, still
``todo``, or ``exempt`` (with a written reason), and the highest tier it claims. The scale is
Home Assistant's idea: a tier is earned when every rule of it and of every lower tier is done or
exempt, so a claim can be checked mechanically and an integrator can trust the badge::

    tier: silver
    rules:
      metadata: done
      idempotent-writes: {status: exempt, comment: read-only connector}
      strict-typing: todo
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["RULES", "STATUSES", "TIERS", "earned_tier", "validate_quality_data", "validate_quality_file"]

TIERS: tuple[str, ...] = ("bronze", "silver", "gold")
"""Tiers from lowest to highest."""

RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "metadata",
        "typed-config",
        "secret-config",
        "canonical-output",
        "simulator",
        "conformance",
        "readme",
    ),
    "silver": (
        "error-mapping",
        "retry-after",
        "mapping-fixtures",
        "magic-subjects",
        "idempotent-writes",
        "pii-safe-call-log",
    ),
    "gold": (
        "fault-injection-tests",
        "callbacks",
        "check-connection",
        "strict-typing",
    ),
}
"""The rules of each tier, in the order the example file lists them."""

STATUSES: tuple[str, ...] = ("done", "todo", "exempt")

_RULE_TIER = {rule: tier for tier, rules in RULES.items() for rule in rules}


def _status_of(rule: str, value: Any, problems: list[str]) -> str | None:
    """The status of one rule entry, appending a problem when the entry is malformed."""
    if isinstance(value, str):
        if value == "exempt":
            problems.append(f"rule {rule!r}: exempt needs a comment: {{status: exempt, comment: <why>}}")
            return None
        if value not in STATUSES:
            problems.append(f"rule {rule!r}: status {value!r} is not one of {', '.join(STATUSES)}")
            return None
        return value
    if isinstance(value, Mapping):
        status = value.get("status")
        unknown_keys = sorted(set(value) - {"status", "comment"})
        if unknown_keys:
            problems.append(f"rule {rule!r}: unknown keys {unknown_keys} (only status and comment)")
        if status not in STATUSES:
            problems.append(f"rule {rule!r}: status {status!r} is not one of {', '.join(STATUSES)}")
            return None
        comment = value.get("comment")
        if status == "exempt" and not (isinstance(comment, str) and comment.strip()):
            problems.append(f"rule {rule!r}: exempt without a comment saying why")
            return None
        return str(status)
    problems.append(f"rule {rule!r}: expected a status or {{status: ..., comment: ...}}, got {value!r}")
    return None


def earned_tier(statuses: Mapping[str, str | None]) -> str | None:
    """The highest tier whose rules, and every lower tier's, are all done or exempt."""
    earned: str | None = None
    for tier in TIERS:
        if all(statuses.get(rule) in ("done", "exempt") for rule in RULES[tier]):
            earned = tier
        else:
            break
    return earned


def validate_quality_data(data: Any) -> list[str]:
    """Problems with an already-parsed quality file; empty when it is valid.

    Args:
        data: the parsed YAML document.

    Returns:
        One line per problem: unknown or missing rules, bad statuses, exemptions without a
        comment, and a claimed tier that the rule statuses do not support (or undersell).
    """
    if not isinstance(data, Mapping):
        return ["expected a mapping with 'tier' and 'rules'"]
    problems: list[str] = []
    unknown_top = sorted(set(data) - {"tier", "rules"})
    if unknown_top:
        problems.append(f"unknown top-level keys {unknown_top} (only tier and rules)")
    rules = data.get("rules")
    if not isinstance(rules, Mapping):
        return [*problems, "'rules' must be a mapping of rule name to status"]
    statuses: dict[str, str | None] = {}
    for rule, value in rules.items():
        if rule not in _RULE_TIER:
            problems.append(f"unknown rule {rule!r}; known rules: {', '.join(_RULE_TIER)}")
            continue
        statuses[rule] = _status_of(rule, value, problems)
    for rule, rule_tier in _RULE_TIER.items():
        if rule not in rules:
            problems.append(f"missing rule {rule!r} ({rule_tier})")
    tier = data.get("tier")
    if tier not in TIERS:
        problems.append(f"tier {tier!r} is not one of {', '.join(TIERS)}")
        return problems
    earned = earned_tier(statuses)
    if earned is None:
        open_rules = [r for r in RULES["bronze"] if statuses.get(r) not in ("done", "exempt")]
        problems.append(f"claims {tier} but bronze is not met: {', '.join(open_rules)} not done or exempt")
    elif earned != tier:
        if TIERS.index(tier) > TIERS.index(earned):
            missing = [
                rule
                for t in TIERS[: TIERS.index(tier) + 1]
                for rule in RULES[t]
                if statuses.get(rule) not in ("done", "exempt")
            ]
            problems.append(
                f"claims {tier} but only {earned} is met: {', '.join(missing)} not done or exempt"
            )
        else:
            problems.append(f"claims {tier} but the rules earn {earned}; claim the tier you have")
    return problems


def validate_quality_file(path: Path | str) -> list[str]:
    """Problems with the quality file at ``path``, each prefixed with the path; empty when valid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return [f"{path}: cannot be read ({exc.strerror})"]
    except yaml.YAMLError as exc:
        return [f"{path}: not valid YAML ({exc})"]
    return [f"{path}: {problem}" for problem in validate_quality_data(data)]
