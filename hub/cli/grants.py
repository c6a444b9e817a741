"""``lendhub roles | tokens``: what people and systems may do, from the operator's shell.

Roles are data (built-in ones too): a name and its grants, permission → scope. API tokens let
systems call the API under roles of their own; a token's value is printed once at creation and
only its digest is stored. As in :mod:`hub.cli.access`, changes are audited as the operator.
"""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import service as access
from core.access import views
from core.access.repository import role_by_name
from hub.runtime import Runtime
from schemas.api.access import RoleRead

from .access import operator
from .common import read_in_session, run_with_runtime
from .output import echo_fields, echo_json, echo_listing, echo_table, json_option, yes_no

__all__ = ["roles", "tokens"]


@click.group("roles")
def roles() -> None:
    """Roles and their grants (built-in roles are data too)."""


@roles.command("list")
@json_option
def list_roles(as_json: bool) -> None:
    """Print every role with how many grants it has."""
    echo_listing(
        read_in_session(views.all_roles),
        as_json=as_json,
        columns=["NAME", "BUILT-IN", "GRANTS", "DESCRIPTION"],
        row=lambda r: [r.name, yes_no(r.builtin), len(r.grants), r.description],
        empty="no roles; `lendhub db upgrade` creates the built-in ones",
    )


@roles.command("show")
@click.argument("name")
@json_option
def show_role(name: str, as_json: bool) -> None:
    """Print a role: its description, then its grants (permission and scope)."""

    async def read(session: AsyncSession) -> RoleRead:
        return await views.role_view(session, await role_by_name(session, name))

    role = read_in_session(read)
    if as_json:
        echo_json(role.model_dump(mode="json"))
        return
    echo_fields([("name", role.name), ("built-in", yes_no(role.builtin)), ("description", role.description)])
    click.echo()
    echo_table(
        ["PERMISSION", "SCOPE"],
        sorted(role.grants.items()),
        empty=f"role {role.name} grants nothing; add grants with `lendhub roles set {role.name} --grant …`",
    )


@roles.command("set")
@click.argument("name")
@click.option(
    "--grant", "grants", multiple=True, required=True, help="PERMISSION=SCOPE (own, team, branch, all)."
)
@click.option("--description", default=None)
@click.option("--create", is_flag=True, help="Create a new custom role instead of replacing one's grants.")
def set_role(name: str, grants: tuple[str, ...], description: str | None, create: bool) -> None:
    """Create a role, or replace a role's grants."""
    parsed: dict[str, str] = {}
    for item in grants:
        permission, sep, scope = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected PERMISSION=SCOPE, got {item!r}", param_hint="--grant")
        parsed[permission.strip()] = scope.strip()

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.save_role(
                session,
                operator(),
                runtime.permissions,
                name=name,
                grants=parsed,
                description=description,
                create=create,
            )

    run_with_runtime(work)
    click.echo(f"role {name} {'created' if create else 'updated'} with {len(parsed)} grant(s)")


@click.group("tokens")
def tokens() -> None:
    """API tokens for systems (partners, the lender's own services)."""


@tokens.command("list")
@json_option
def list_tokens(as_json: bool) -> None:
    """Print every token: prefix, roles, expiry, state (never a value)."""
    echo_listing(
        read_in_session(views.all_tokens),
        as_json=as_json,
        columns=["NAME", "PREFIX", "ROLES", "BRANCH", "EXPIRES", "STATE"],
        row=lambda t: [
            t.name,
            t.prefix,
            ", ".join(t.roles),
            t.branch,
            t.expires_at,
            "revoked" if t.revoked else "active",
        ],
        empty="no API tokens; create one with `lendhub tokens create --name NAME --role ROLE`",
    )


@tokens.command("create")
@click.option("--name", required=True, help="A unique name, e.g. crm-sync.")
@click.option("--role", "roles", multiple=True, required=True, help="A role name; repeat for several.")
@click.option("--branch", default=None, help="Branch the token acts within (for own/team/branch scopes).")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None)
@json_option
def create_token(
    name: str, roles: tuple[str, ...], branch: str | None, expires_in_days: int | None, as_json: bool
) -> None:
    """Create a token and print it once (only its digest is stored).

    Without ``--json`` the value alone is printed, so ``TOKEN=$(lendhub tokens create …)`` works.
    """

    async def work(runtime: Runtime) -> dict[str, object]:
        async with runtime.sessions() as session, session.begin():
            row, value = await access.create_token(
                session,
                operator(),
                name=name,
                roles=list(roles),
                branch=branch,
                expires_in_days=expires_in_days,
            )
            listed = await views.token_view(session, row, await views.branch_codes(session))
        return {**listed.model_dump(mode="json"), "token": value}

    created = run_with_runtime(work)
    if as_json:
        echo_json(created)
    else:
        click.echo(created["token"])
    click.echo("this is the only time the token is shown; store it now", err=True)


@tokens.command("revoke")
@click.argument("name")
def revoke_token(name: str) -> None:
    """Revoke a token by name."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.revoke_token(session, operator(), name)

    run_with_runtime(work)
    click.echo(f"token {name} revoked")
