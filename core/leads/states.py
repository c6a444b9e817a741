"""The lead state machine as a table: ``new → contacting → qualified → converted``, two exits.

``disqualified`` (with a reason) and ``duplicate`` (linked to the earlier lead or customer) end a
lead from any open state; ``converted``, ``disqualified`` and ``duplicate`` are final. A refusal
names the moves the lead's status allows, so the caller learns the way forward.
"""

from __future__ import annotations

from core.errors import Conflict, Invalid

from .models import LeadStatus

__all__ = ["TRANSITIONS", "check_transition"]

_NEW, _CONTACTING, _QUALIFIED = LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.QUALIFIED
_CONVERTED, _OUT, _DUPLICATE = LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED, LeadStatus.DUPLICATE

TRANSITIONS: dict[str, tuple[str, ...]] = {
    _NEW: (_CONTACTING, _OUT, _DUPLICATE),
    _CONTACTING: (_QUALIFIED, _OUT, _DUPLICATE),
    _QUALIFIED: (_CONVERTED, _OUT, _DUPLICATE),
    _CONVERTED: (),
    _OUT: (),
    _DUPLICATE: (),
}


def check_transition(current: str, to: str) -> None:
    """Refuse an unknown status (422) or a move the table does not allow from ``current`` (409)."""
    if to not in TRANSITIONS:
        raise Invalid(
            "leads.status_unknown",
            errors=[{"field": "to", "code": "leads.status_unknown"}],
            status=to,
            known=", ".join(TRANSITIONS),
        )
    allowed = TRANSITIONS.get(current, ())
    if to not in allowed:
        raise Conflict(
            "leads.transition_refused",
            errors=[
                {
                    "field": "to",
                    "code": "leads.transition_refused",
                    "params": {"allowed_statuses": list(allowed)},
                }
            ],
            current=current,
            to=to,
            allowed=", ".join(allowed) or "-",
        )
