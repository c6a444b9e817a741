"""Quality files: every connector's is valid, and the validator catches each kind of mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from plugins.testing.quality import RULES, TIERS, earned_tier, validate_quality_data, validate_quality_file

ROOT = Path(__file__).resolve().parents[2]
KIT_QUALITY = Path(__file__).parent / "kitvendor" / "quality.yaml"
QUALITY_FILES = [*sorted((ROOT / "connectors").glob("*/quality.yaml")), KIT_QUALITY]


@pytest.mark.parametrize("path", QUALITY_FILES, ids=lambda p: p.parent.name)
def test_connector_quality_file_is_valid(path: Path) -> None:
    assert validate_quality_file(path) == []


def all_done(tier: str = "gold") -> dict[str, Any]:
    """A valid file claiming ``tier`` with every rule done."""
    return {"tier": tier, "rules": {rule: "done" for rules in RULES.values() for rule in rules}}


def test_tiers_and_rules_match_the_documented_scale() -> None:
    assert TIERS == ("bronze", "silver", "gold")
    assert RULES["bronze"][0] == "metadata" and RULES["gold"][-1] == "strict-typing"
    assert sum(len(r) for r in RULES.values()) == 17


def test_everything_done_earns_gold() -> None:
    assert validate_quality_data(all_done()) == []


def test_exempt_with_comment_counts_as_done() -> None:
    data = all_done()
    data["rules"]["callbacks"] = {"status": "exempt", "comment": "vendor does not call back"}
    assert validate_quality_data(data) == []


def test_todo_in_gold_caps_the_tier_at_silver() -> None:
    data = all_done("silver")
    data["rules"]["strict-typing"] = "todo"
    assert validate_quality_data(data) == []
    assert earned_tier(data["rules"]) == "silver"


def mutate(change: str) -> dict[str, Any]:
    data = all_done()
    rules = data["rules"]
    if change == "unknown rule":
        rules["telepathy"] = "done"
    elif change == "missing rule":
        del rules["readme"]
    elif change == "bad status":
        rules["readme"] = "almost"
    elif change == "exempt without comment":
        rules["callbacks"] = {"status": "exempt"}
    elif change == "bare exempt":
        rules["callbacks"] = "exempt"
    elif change == "overclaimed tier":
        rules["error-mapping"] = "todo"
    elif change == "underclaimed tier":
        data["tier"] = "bronze"
    elif change == "unknown tier":
        data["tier"] = "platinum"
    elif change == "bronze not met":
        rules["metadata"] = "todo"
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("unknown rule", "unknown rule 'telepathy'"),
        ("missing rule", "missing rule 'readme' (bronze)"),
        ("bad status", "rule 'readme': status 'almost' is not one of done, todo, exempt"),
        ("exempt without comment", "rule 'callbacks': exempt without a comment"),
        ("bare exempt", "rule 'callbacks': exempt needs a comment"),
        ("overclaimed tier", "claims gold but only bronze is met: error-mapping not done or exempt"),
        ("underclaimed tier", "claims bronze but the rules earn gold"),
        ("unknown tier", "tier 'platinum' is not one of bronze, silver, gold"),
        ("bronze not met", "claims gold but bronze is not met: metadata"),
    ],
)
def test_validator_names_the_problem(change: str, expected: str) -> None:
    problems = validate_quality_data(mutate(change))
    assert any(expected in p for p in problems), problems


def test_unreadable_and_invalid_files_are_reported_with_their_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert "cannot be read" in validate_quality_file(missing)[0]
    broken = tmp_path / "quality.yaml"
    broken.write_text("tier: [gold\n", encoding="utf-8")
    assert validate_quality_file(broken)[0].startswith(f"{broken}: not valid YAML")
    broken.write_text("- a list\n", encoding="utf-8")
    assert validate_quality_file(broken) == [f"{broken}: expected a mapping with 'tier' and 'rules'"]


def test_example_from_the_brief_is_valid(tmp_path: Path) -> None:
    data = all_done("silver")
    data["rules"]["idempotent-writes"] = {"status": "exempt", "comment": "read-only connector"}
    data["rules"]["strict-typing"] = "todo"
    path = tmp_path / "quality.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert validate_quality_file(path) == []


def test_a_done_claim_is_backed_by_the_suite_and_the_class() -> None:
    from kitvendor.connector import KitBureau

    from plugins.testing.evidence import RULE_EVIDENCE, unbacked_claims
    from plugins.testing.quality import RULES

    assert set(RULE_EVIDENCE) == {rule for rules in RULES.values() for rule in rules}  # every rule defined
    claims = {"retry-after": "done", "error-mapping": "done", "check-connection": "done", "metadata": "done"}
    skipped = {"test_retry_after_is_honoured": "the vendor sends no Retry-After"}
    problems = unbacked_claims(claims, KitBureau, skipped)
    assert any(
        "'retry-after' is done but the suite skips test_retry_after_is_honoured" in p for p in problems
    )
    assert not any("error-mapping" in p for p in problems)  # nothing of it is skipped
    assert unbacked_claims({"retry-after": "todo"}, KitBureau, skipped) == []  # only done claims need backing


def test_an_unimplemented_check_connection_or_faultless_simulator_cannot_be_claimed() -> None:
    from plugins.sdk import ConnectorInfo
    from plugins.testing.evidence import unbacked_claims

    class Bare:  # no check_connection of its own, no simulator
        info = ConnectorInfo
        simulator = None

    problems = unbacked_claims(
        {"check-connection": "done", "fault-injection-tests": "done", "simulator": "done"}, Bare, {}
    )
    assert len(problems) == 3
