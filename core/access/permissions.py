"""The permission registry: every code a route or service may ask for, with what it allows.

Codes are ``<area>.<action>`` (``connectors.manage``, ``customers.read``), stable in every
language; the description is for the people who edit roles. Grants may use two wildcards so the
built-in roles survive new codes: ``*`` (everything, the admin's grant) and ``*.read`` (every
read, the auditor's). Plugins add codes through the ``register_permissions`` hook; a code that is
registered twice, or that does not look like a code, is refused at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "BUILTIN_PERMISSIONS",
    "PII_FIELD_CLASSES",
    "InvalidPermission",
    "Permission",
    "PermissionRegistry",
    "grant_matches",
    "reveal_permission",
]

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
GRANT_PATTERN = re.compile(
    r"^(\*|\*\.[a-z][a-z0-9_]*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.\*|" + CODE_PATTERN.pattern[1:-1] + r")$"
)

#: Classes of personal data that are sealed at rest and masked on the way out; each has its own
#: reveal permission, so a collector may see mobiles without seeing ID numbers.
PII_FIELD_CLASSES: dict[str, str] = {
    "id_number": "resident ID numbers (身份证号)",
    "mobile": "mobile phone numbers (手机号)",
    "bank_card": "bank card and account numbers (银行卡号)",
    "address": "postal and home addresses (地址)",
    "name": "personal names, where configured as PII (姓名)",
    "payload": "partner webhook bodies and vendor call bodies (报文)",
}


class InvalidPermission(ValueError):
    """A permission code is malformed or registered twice."""


@dataclass(frozen=True)
class Permission:
    """One permission code, who registered it, and what it allows (for people editing roles)."""

    code: str
    description: str
    owner: str = "lendhub"


def reveal_permission(field_class: str) -> str:
    """The code that lets a caller see one class of PII in clear."""
    return f"pii.reveal.{field_class}"


def grant_matches(grant: str, code: str) -> bool:
    """Whether a role's grant (a code, ``*``, ``*.read`` or ``area.*``) covers ``code``."""
    if grant == "*" or grant == code:
        return True
    if grant.startswith("*."):
        return code.endswith(grant[1:]) and not code.startswith("pii.")
    if grant.endswith(".*"):
        return code.startswith(grant[:-1])
    return False


_BUILTIN: list[tuple[str, str]] = [
    ("access.me", "see one's own identity, roles and permissions"),
    ("branches.read", "list the branch tree"),
    ("branches.manage", "create, rename and move branches"),
    ("users.read", "list users and their roles"),
    ("users.manage", "create, disable and re-enable users, set their roles and branch"),
    ("roles.read", "list roles, their grants and the permission registry"),
    ("roles.manage", "create and edit custom roles and the grants of any role"),
    ("tokens.read", "list API tokens (never their values)"),
    ("tokens.manage", "create and revoke API tokens for systems"),
    ("audit.read", "read the audit log"),
    ("plugins.read", "see loaded and quarantined plugins"),
    ("connectors.read", "list connector instances (secrets masked)"),
    ("connectors.manage", "add, replace, enable and disable connector instances; confirm owners"),
    ("connectors.check", "run a connector instance's credential check against the vendor"),
    ("webhooks.read", "read the webhook inbox, dead letters and source instances"),
    ("webhooks.manage", "replay and discard inbox events; add and rotate webhook sources"),
    ("subscriptions.read", "list outbound webhook subscriptions and their deliveries"),
    ("subscriptions.manage", "create, change, rotate and disable outbound subscriptions"),
    ("products.read", "read loan products and quote schedules"),
    ("products.manage", "create and change loan products"),
    ("customers.read", "read customers and their 360° view"),
    ("customers.write", "create and change customers"),
    ("segments.manage", "define and change customer segments (rules over customer facts)"),
    ("customers.merge", "merge two records of one customer into one (the duplicate is kept as a trail)"),
    ("leads.read", "read leads and follow-ups"),
    ("leads.write", "create, assign and follow up leads"),
    ("leads.push", "push leads as a channel partner (a partner's own API token)"),
    ("leads.manage", "configure lead partners and their tokens, assignment rules and first-contact SLAs"),
    ("applications.read", "read loan applications"),
    ("applications.write", "create and submit loan applications"),
    ("applications.decide", "decide on applications at an approval stage"),
    ("applications.signals", "record an application's risk signals (scores, grades, hits) for its flow"),
    ("flows.read", "read approval flows, their versions, diagrams and dry runs"),
    ("flows.manage", "define and publish approval flows, authority limits and staff links"),
    ("loans.read", "read loans and repayment schedules"),
    ("loans.write", "disburse loans and post repayments"),
    ("collections.read", "read collection cases"),
    ("collections.write", "work collection cases"),
    ("reports.read", "read KPI dashboards and reports"),
    *[
        (reveal_permission(cls), f"see {text} in clear, stating a purpose")
        for cls, text in PII_FIELD_CLASSES.items()
    ],
]

BUILTIN_PERMISSIONS: tuple[Permission, ...] = tuple(Permission(code, text) for code, text in _BUILTIN)


class PermissionRegistry:
    """Every known permission code; one per process, filled at start-up, read-only after."""

    def __init__(self, permissions: Iterable[Permission] = BUILTIN_PERMISSIONS) -> None:
        self._by_code: dict[str, Permission] = {}
        for permission in permissions:
            self.add(permission)

    def add(self, permission: Permission) -> None:
        """Register one code; refuses a malformed or already registered one, naming both owners."""
        if not CODE_PATTERN.match(permission.code):
            raise InvalidPermission(
                f"permission code {permission.code!r} of {permission.owner} must look like 'area.action'"
            )
        existing = self._by_code.get(permission.code)
        if existing is not None:
            raise InvalidPermission(
                f"permission {permission.code!r} of {permission.owner} "
                f"is already registered by {existing.owner}"
            )
        self._by_code[permission.code] = permission

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Permission]:
        return iter(sorted(self._by_code.values(), key=lambda p: p.code))

    def get(self, code: str) -> Permission | None:
        """The registered permission, or ``None``."""
        return self._by_code.get(code)

    def check_grant(self, grant: str) -> None:
        """Refuse a grant that is malformed or names no registered code (wildcards must match one)."""
        if not GRANT_PATTERN.match(grant):
            raise InvalidPermission(f"grant {grant!r} is neither a permission code nor a wildcard")
        if not any(grant_matches(grant, code) for code in self._by_code):
            raise InvalidPermission(f"grant {grant!r} matches no registered permission")
