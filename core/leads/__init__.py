"""Leads: channels, partner pushes, assignment, first-contact SLA, follow-ups, conversion.

``intake`` takes leads in (a partner's token or an officer), ``assignment`` routes and deals them by
rules kept as data, ``sla`` reminds of an uncontacted lead once its deadline passes, ``service``
moves leads through their state machine and converts them, ``followups`` records every contact,
``repository`` reads within the caller's scope and ``views`` shapes answers and the 360° sections.
"""

from .models import FOLLOW_UP_KINDS, AssignmentRule, FollowUp, Lead, LeadStatus, Partner, RuleKind, SlaPolicy

__all__ = [
    "FOLLOW_UP_KINDS",
    "AssignmentRule",
    "FollowUp",
    "Lead",
    "LeadStatus",
    "Partner",
    "RuleKind",
    "SlaPolicy",
]
