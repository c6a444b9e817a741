"""Data scopes: how far a grant reaches, applied inside the query that reads the rows.

A grant's scope is one of four, widest last: ``own`` (records the caller owns), ``team`` (records
of the caller's own branch node), ``branch`` (the caller's branch and everything under it), ``all``.
A caller holding the same permission through several roles gets the widest.

``scope_clause`` turns an actor's scope into a SQL condition on a table's owner and branch
columns, so lists, reads, searches, exports and counts all filter in the database: a row outside
the scope is never loaded, counted or told apart from a row that does not exist.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, false, select, true

if TYPE_CHECKING:
    from .actor import Actor

__all__ = ["Scope", "scope_clause", "scoped"]


class Scope(StrEnum):
    """How far a grant reaches; members compare by width (``OWN < TEAM < BRANCH < ALL``)."""

    OWN = "own"
    TEAM = "team"
    BRANCH = "branch"
    ALL = "all"

    @property
    def width(self) -> int:
        """0 for own up to 3 for all."""
        return list(Scope).index(self)


def scope_clause(
    actor: Actor, permission: str, *, owner: ColumnElement[Any] | Any, branch: ColumnElement[Any] | Any
) -> ColumnElement[bool]:
    """The SQL condition selecting the rows ``actor`` may reach through ``permission``.

    Args:
        actor: the caller.
        permission: the code the read needs; without it the condition is false.
        owner: the column holding the owning user's (or token's) id.
        branch: the column holding the branch id the row belongs to.
    """
    from .models import Branch  # the tree lives beside the users; imported late to keep this light

    scope = actor.scope_for(permission)
    if scope is None:
        return false()
    if scope is Scope.ALL:
        return true()
    if scope is Scope.OWN:
        return owner == actor.id if actor.id else false()
    if actor.branch_id is None:
        return false()
    if scope is Scope.TEAM:
        return branch == actor.branch_id
    subtree = select(Branch.id).where(Branch.path.startswith(actor.branch_path or "\x00", autoescape=True))
    return branch.in_(subtree.scalar_subquery())


def scoped(statement: Select[Any], actor: Actor, permission: str, *, owner: Any, branch: Any) -> Select[Any]:
    """``statement`` with the actor's scope for ``permission`` added to its WHERE clause."""
    return statement.where(scope_clause(actor, permission, owner=owner, branch=branch))
