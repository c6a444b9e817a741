"""The built-in roles and the grants they start with.

They are seeded into the ``roles`` table once (a role missing by name is created, an existing
one is left as the lender edited it), so a lender can narrow or widen them as data. The scopes
follow how a lender works: a loan officer sees their own customers, a branch manager their
branch subtree, risk, audit and admin everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from .scopes import Scope

__all__ = ["BUILTIN_ROLES", "BuiltinRole"]

OWN, TEAM, BRANCH, ALL = Scope.OWN, Scope.TEAM, Scope.BRANCH, Scope.ALL


@dataclass(frozen=True)
class BuiltinRole:
    """A role LendHub ships, with its description and starting grants."""

    name: str
    description: str
    grants: dict[str, Scope]


_COMMON = {"access.me": ALL, "branches.read": ALL, "products.read": ALL}

BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole("admin", "系统管理员 — everything, including users, roles and keys", {"*": ALL}),
    BuiltinRole(
        "integrator",
        "集成管理员 — connectors, plugins, webhook sources and subscriptions, dead letters",
        {
            **_COMMON,
            "plugins.read": ALL,
            "connectors.*": ALL,
            "webhooks.*": ALL,
            "subscriptions.*": ALL,
            "tokens.read": ALL,
            "applications.signals": ALL,
        },
    ),
    BuiltinRole(
        "loan_officer",
        "客户经理 — their own leads, customers and applications",
        {
            **_COMMON,
            "customers.read": OWN,
            "customers.write": OWN,
            "leads.read": OWN,
            "leads.write": OWN,
            "applications.read": OWN,
            "applications.write": OWN,
            "loans.read": OWN,
            "users.read": OWN,
            "pii.reveal.mobile": OWN,
        },
    ),
    BuiltinRole(
        "reviewer",
        "审查岗 — reviews applications of their branch subtree",
        {
            **_COMMON,
            "customers.read": BRANCH,
            "leads.read": BRANCH,
            "applications.read": BRANCH,
            "applications.decide": BRANCH,
            "flows.read": ALL,
            "loans.read": BRANCH,
        },
    ),
    BuiltinRole(
        "approver",
        "审批岗 — decides applications within their authority",
        {
            **_COMMON,
            "customers.read": BRANCH,
            "applications.read": BRANCH,
            "applications.decide": BRANCH,
            "flows.read": ALL,
            "loans.read": BRANCH,
        },
    ),
    BuiltinRole(
        "branch_manager",
        "网点负责人 — everything of their branch subtree, its people and its audit trail",
        {
            **_COMMON,
            "customers.read": BRANCH,
            "customers.write": BRANCH,
            "customers.merge": BRANCH,
            "leads.read": BRANCH,
            "leads.write": BRANCH,
            "applications.read": BRANCH,
            "applications.write": BRANCH,
            "applications.decide": BRANCH,
            "flows.read": ALL,
            "loans.read": BRANCH,
            "collections.read": BRANCH,
            "collections.write": BRANCH,
            "reports.read": BRANCH,
            "users.read": BRANCH,
            "audit.read": BRANCH,
            "pii.reveal.mobile": BRANCH,
        },
    ),
    BuiltinRole(
        "risk_manager",
        "风险经理 — reads the whole book, products and reports",
        {
            **_COMMON,
            "customers.read": ALL,
            "segments.manage": ALL,
            "leads.read": ALL,
            "applications.read": ALL,
            "loans.read": ALL,
            "collections.read": ALL,
            "reports.read": ALL,
            "products.manage": ALL,
            "flows.read": ALL,
            "flows.manage": ALL,
            "applications.signals": ALL,
        },
    ),
    BuiltinRole(
        "collector",
        "催收员 — their own collection cases and the borrowers' phone numbers",
        {
            **_COMMON,
            "collections.read": OWN,
            "collections.write": OWN,
            "loans.read": OWN,
            "customers.read": OWN,
            "pii.reveal.mobile": OWN,
        },
    ),
    BuiltinRole(
        "partner",
        "渠道合作方 — pushes leads with its own API token, and nothing else",
        {"leads.push": ALL},
    ),
    BuiltinRole("auditor", "稽核 — reads everything, changes nothing", {"*.read": ALL, "access.me": ALL}),
)
