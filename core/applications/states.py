"""The application state machine as data: which status may follow which, who may move it, what it needs.

::

    draft ─→ submitted ─→ in_review ─→ approved ─→ contracted ─→ disbursed
      │          │  ↑          │  ↑        │
      │          │  └ returned ←┘  └────────┘ (approval undo)
      ↓          ↓                 ↓
    withdrawn / expired     rejected (reason codes)

``returned`` sends an application back to the applicant for changes; it keeps its ``stage``, and
when it is resubmitted the review resumes there. ``rejected``, ``withdrawn``, ``expired`` and
``disbursed`` are final. A move the table does not allow is refused naming the moves it does.

Every move needs a permission (``MOVES``) checked against the application's scope; ``expired``
is LendHub's own move (the expiry job), never a caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "FINAL",
    "OPEN_FOR_CHANGES",
    "TRANSITIONS",
    "ApplicationStatus",
    "Move",
    "allowed_from",
    "move_to",
]


class ApplicationStatus(StrEnum):
    """Where an application is in its life (the names of the reference's §8)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CONTRACTED = "contracted"
    DISBURSED = "disbursed"


S = ApplicationStatus

#: status → the statuses it may move to. The one table every status change is checked against.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.SUBMITTED, S.WITHDRAWN, S.EXPIRED),
    S.SUBMITTED: (S.IN_REVIEW, S.RETURNED, S.REJECTED, S.WITHDRAWN),
    S.IN_REVIEW: (S.APPROVED, S.REJECTED, S.RETURNED, S.WITHDRAWN),
    S.RETURNED: (S.SUBMITTED, S.WITHDRAWN, S.EXPIRED),
    S.APPROVED: (S.CONTRACTED, S.IN_REVIEW, S.WITHDRAWN),
    S.CONTRACTED: (S.DISBURSED,),
    S.REJECTED: (),
    S.WITHDRAWN: (),
    S.EXPIRED: (),
    S.DISBURSED: (),
}

#: Statuses whose terms and form values may still be changed (by the applicant's officer).
OPEN_FOR_CHANGES = frozenset({S.DRAFT.value, S.RETURNED.value})

#: Statuses an application never leaves.
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


@dataclass(frozen=True)
class Move:
    """What entering a status takes.

    Attributes:
        permission: the permission the caller needs, in the application's scope; ``None`` for a
            status only LendHub itself enters (``expired``).
        reason_required: a free-text reason must be given (what to fix, why undone).
        codes_required: at least one reason code must be given (a rejection's grounds, for KPIs).
    """

    permission: str | None
    reason_required: bool = False
    codes_required: bool = False


_MOVES: dict[str, Move] = {
    S.SUBMITTED: Move("applications.write"),
    S.IN_REVIEW: Move("applications.decide"),
    S.RETURNED: Move("applications.decide", reason_required=True),
    S.APPROVED: Move("applications.decide"),
    S.REJECTED: Move("applications.decide", codes_required=True),
    S.WITHDRAWN: Move("applications.write"),
    S.EXPIRED: Move(None),
    S.CONTRACTED: Move("applications.decide"),
    S.DISBURSED: Move("loans.write"),
}


def allowed_from(status: str) -> tuple[str, ...]:
    """The statuses ``status`` may move to (none for a final or unknown one)."""
    return TRANSITIONS.get(status, ())


def move_to(current: str, target: str) -> Move:
    """What moving from ``current`` to ``target`` takes; special cases live here, not in ``if`` ladders.

    Undoing an approval (``approved → in_review``) needs a reason, like a return.
    """
    move = _MOVES[target]
    if current == S.APPROVED and target == S.IN_REVIEW:
        return Move(move.permission, reason_required=True)
    return move
