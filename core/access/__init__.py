"""Who may do what: organisation, people and systems, roles and grants, data scopes."""

from .actor import Actor, ActorKind
from .models import ApiToken, ApiTokenRole, Branch, LoginThrottle, Role, RoleGrant, User, UserRole
from .permissions import BUILTIN_PERMISSIONS, Permission, PermissionRegistry, reveal_permission
from .scopes import Scope, scope_clause, scoped

__all__ = [
    "BUILTIN_PERMISSIONS",
    "Actor",
    "ActorKind",
    "ApiToken",
    "ApiTokenRole",
    "Branch",
    "LoginThrottle",
    "Permission",
    "PermissionRegistry",
    "Role",
    "RoleGrant",
    "Scope",
    "User",
    "UserRole",
    "reveal_permission",
    "scope_clause",
    "scoped",
]
