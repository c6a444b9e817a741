"""Loan applications (贷款申请): opened for a customer and a product, filled, submitted, decided.

``states`` is the state machine as a table; ``service`` opens, changes and moves applications
(``transition`` is the one door of every status change); ``forms`` checks an application against
its kept form version; ``gates`` holds the required-before-state gate kinds and their registry;
``config`` the gates of each product and the lender's policy; ``expiry`` the periodic sweep;
``repository`` the scoped reads; ``views`` the 360° section.
"""

from .models import Application, ApplicationGate, ApplicationPolicy, ApplicationTransition
from .states import TRANSITIONS, ApplicationStatus

__all__ = [
    "TRANSITIONS",
    "Application",
    "ApplicationGate",
    "ApplicationPolicy",
    "ApplicationStatus",
    "ApplicationTransition",
]
