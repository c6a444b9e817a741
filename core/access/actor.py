"""The caller, as one value every service takes explicitly.

An :class:`Actor` is built once per request (from a JWT or an API token), once per CLI command
(the operator) or once per job (the system), and passed down. Services read the caller's grants,
scope and identity from it, so audit, scoping and maker-checker never look at globals.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from .permissions import grant_matches
from .scopes import Scope

__all__ = ["Actor", "ActorKind"]


class ActorKind(StrEnum):
    """Who is acting: a person, a system's API token, the operator at the console, or LendHub itself."""

    USER = "user"
    TOKEN = "token"
    OPERATOR = "operator"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who is calling, with what grants, from where.

    Attributes:
        kind: person, token, operator or system.
        id: the user's or token's id (``None`` for the operator and the system).
        name: username, token name, or ``operator:<login>@<host>``.
        roles: role names, for display and audit.
        grants: grant pattern (a code or a wildcard) → scope.
        branch_id: the branch the caller belongs to (``None`` for head-office-less tokens).
        branch_path: that branch's materialised path, used by the ``branch`` scope.
        request_id: the request (or job) this action belongs to, for the audit trail.
        client_addr: the caller's address as the server saw it.
        language: the person's chosen language for messages (``zh-CN``/``en``), if they chose one.
    """

    kind: ActorKind
    id: str | None
    name: str
    roles: tuple[str, ...] = ()
    grants: Mapping[str, Scope] = field(default_factory=lambda: MappingProxyType({}))
    branch_id: str | None = None
    branch_path: str | None = None
    branch_code: str | None = None
    language: str | None = None
    request_id: str | None = None
    client_addr: str | None = None

    def scope_for(self, permission: str) -> Scope | None:
        """The widest scope any grant gives for ``permission``; ``None`` when none covers it."""
        best: Scope | None = None
        for grant, scope in self.grants.items():
            if grant_matches(grant, permission) and (best is None or scope.width > best.width):
                best = scope
        return best

    def can(self, permission: str) -> bool:
        """Whether any grant covers ``permission``, at whatever scope."""
        return self.scope_for(permission) is not None

    def permissions(self, codes: list[str]) -> dict[str, Scope]:
        """Of ``codes``, those the actor holds, with their scope (for ``GET /api/me``)."""
        held = {code: self.scope_for(code) for code in codes}
        return {code: scope for code, scope in held.items() if scope is not None}

    def at(self, *, request_id: str | None, client_addr: str | None) -> Actor:
        """The same actor, tagged with where this action came from."""
        return replace(self, request_id=request_id, client_addr=client_addr)

    @property
    def audit_name(self) -> str:
        """How the audit trail names the actor: ``user:alice``, ``token:crm-sync``, ``operator:…``."""
        if self.kind is ActorKind.OPERATOR or self.kind is ActorKind.SYSTEM:
            return self.name
        return f"{self.kind.value}:{self.name}"

    @classmethod
    def operator(cls, login: str | None = None) -> Actor:
        """The operator at the machine holding the database: may do everything, always audited."""
        try:
            who = login or getpass.getuser()
        except OSError:  # no login name in some containers
            who = "unknown"
        return cls(
            kind=ActorKind.OPERATOR,
            id=None,
            name=f"operator:{who}@{socket.gethostname()}",
            roles=("operator",),
            grants=MappingProxyType({"*": Scope.ALL}),
        )

    @classmethod
    def system(cls, what: str) -> Actor:
        """LendHub itself acting (a worker, a timer), named by what it does."""
        return cls(
            kind=ActorKind.SYSTEM,
            id=None,
            name=f"system:{what}",
            roles=("system",),
            grants=MappingProxyType({"*": Scope.ALL}),
        )
