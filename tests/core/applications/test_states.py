"""The application state table: complete, every status reachable, every move with its permission."""

from __future__ import annotations

import pytest

from core.applications.states import FINAL, TRANSITIONS, ApplicationStatus, allowed_from, move_to


def test_every_status_has_a_row_and_every_target_is_a_status():
    assert set(TRANSITIONS) == {status.value for status in ApplicationStatus}
    assert all(target in TRANSITIONS for targets in TRANSITIONS.values() for target in targets)


def test_every_status_is_reachable_from_a_draft():
    seen, frontier = {"draft"}, ["draft"]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(TRANSITIONS)


def test_final_statuses_are_the_ends_of_the_reference():
    assert {"rejected", "withdrawn", "expired", "disbursed"} == FINAL
    assert allowed_from("disbursed") == () and allowed_from("no-such-status") == ()


@pytest.mark.parametrize(
    ("current", "target", "permission", "reason", "codes"),
    [
        ("draft", "submitted", "applications.write", False, False),
        ("returned", "submitted", "applications.write", False, False),
        ("submitted", "in_review", "applications.decide", False, False),
        ("in_review", "returned", "applications.decide", True, False),
        ("in_review", "approved", "applications.decide", False, False),
        ("in_review", "rejected", "applications.decide", False, True),
        ("approved", "in_review", "applications.decide", True, False),  # undoing an approval
        ("submitted", "withdrawn", "applications.write", False, False),
        ("draft", "expired", None, False, False),
        ("contracted", "disbursed", "loans.write", False, False),
    ],
)
def test_each_move_needs_its_permission_and_reason(current, target, permission, reason, codes):
    assert target in allowed_from(current)
    move = move_to(current, target)
    assert (move.permission, move.reason_required, move.codes_required) == (permission, reason, codes)


def test_every_move_in_the_table_has_its_rules():
    for current, targets in TRANSITIONS.items():
        for target in targets:
            move_to(current, target)  # a KeyError here is a status with no rules
