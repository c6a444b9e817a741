"""``lendhub branches | users | roles | tokens``: the organisation from the operator's shell.

These work before any user exists — on a fresh install they are how the first admin is made —
because the operator at the machine holding the database is trusted like the database itself.
Every change is audited as done by ``operator:<login>@<host>``. Passwords are read from standard
input (``--password-stdin``), never from the command line, which other users can see.
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

import click
from sqlalchemy import select

from core.access import Actor, Branch, User
from core.access import service as access
from core.access.repository import role_by_name
from hub.runtime import Runtime

from .common import run_with_runtime
from .output import echo_json, echo_table, json_option

__all__ = ["branches", "roles", "tokens", "users"]


def _operator() -> Actor:
    return Actor.operator()


@click.group("branches")
def branches() -> None:
    """The branch tree: head office, regions, branches, teams."""


@branches.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Display name, e.g. 上海分行.")
@click.option("--parent", default=None, help="Code of the parent branch; omit for the head office.")
def add_branch(code: str, name: str, parent: str | None) -> None:
    """Add a branch under PARENT (or a head office)."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.add_branch(session, _operator(), code=code, name=name, parent=parent)

    run_with_runtime(work)
    click.echo(f"branch {code} added" + (f" under {parent}" if parent else " (head office)"))


@branches.command("list")
@json_option
def list_branches(as_json: bool) -> None:
    """Print the branch tree."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            rows = (await session.scalars(select(Branch).order_by(Branch.path))).all()
        return [{"code": r.code, "name": r.name, "depth": r.path.count("/") - 2} for r in rows]

    rows = run_with_runtime(work)
    if as_json:
        echo_json(rows)
        return
    echo_table(
        ["CODE", "NAME", "LEVEL"],
        [["  " * row["depth"] + row["code"], row["name"], row["depth"]] for row in rows],
        empty="no branches; add the head office with `lendhub branches add CODE --name NAME`",
    )


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("--password-stdin: no password on standard input")
    return password


@click.group("users")
def users() -> None:
    """People who sign in."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="A role name; repeat for several.")
@click.option("--branch", default=None, help="Branch code the user belongs to.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def add_user(
    username: str, roles: tuple[str, ...], branch: str | None, display_name: str, password_stdin: bool
) -> None:
    """Add a user with roles; the password comes from standard input."""
    password = _read_password()

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.add_user(
                session,
                _operator(),
                username=username,
                password=password,
                roles=list(roles),
                branch=branch,
                display_name=display_name,
            )

    run_with_runtime(work)
    click.echo(f"user {username.strip().lower()} added with role(s) {', '.join(roles)}")


@users.command("bootstrap")
@click.option("--username", default="admin", show_default=True)
def bootstrap(username: str) -> None:
    """On a database without users, create an admin with a generated password and print it once."""

    async def work(runtime: Runtime) -> str | None:
        async with runtime.sessions() as session, session.begin():
            if await session.scalar(select(User.id).limit(1)) is not None:
                return None
            password = secrets.token_urlsafe(12) + "-9"
            await access.add_user(
                session, _operator(), username=username, password=password, roles=["admin"], branch=None
            )
            return password

    password = run_with_runtime(work)
    if password is None:
        click.echo(
            "users exist already: sign in with yours (`lendhub users add … --password-stdin` adds more)"
        )
        return
    click.echo(f"created the first administrator: username {username}, password {password}")
    click.echo(
        "shown once — sign in at POST /api/auth/token, then change it with "
        "`lendhub users passwd admin --password-stdin`"
    )


@users.command("disable")
@click.argument("username")
def disable_user(username: str) -> None:
    """Disable a user; their tokens stop working at once."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.set_user_enabled(session, _operator(), username, enabled=False)

    run_with_runtime(work)
    click.echo(f"user {username} disabled")


@users.command("enable")
@click.argument("username")
def enable_user(username: str) -> None:
    """Enable a disabled user again."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.set_user_enabled(session, _operator(), username, enabled=True)

    run_with_runtime(work)
    click.echo(f"user {username} enabled")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    """Set a user's password (their existing tokens stop working)."""
    password = _read_password()

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.set_password(session, _operator(), username, password)

    run_with_runtime(work)
    click.echo(f"password of {username} changed")


@click.group("roles")
def roles() -> None:
    """Roles and their grants (built-in roles are data too)."""


@roles.command("show")
@click.argument("name")
def show_role(name: str) -> None:
    """Print a role's grants as JSON."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.sessions() as session:
            role = await role_by_name(session, name)
            return {
                "name": role.name,
                "description": role.description,
                "grants": await access.role_grants(session, name),
            }

    echo_json(run_with_runtime(work))


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
                _operator(),
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


@tokens.command("create")
@click.option("--name", required=True, help="A unique name, e.g. crm-sync.")
@click.option("--role", "roles", multiple=True, required=True, help="A role name; repeat for several.")
@click.option("--branch", default=None, help="Branch the token acts within (for own/team/branch scopes).")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None)
def create_token(name: str, roles: tuple[str, ...], branch: str | None, expires_in_days: int | None) -> None:
    """Create a token and print it once (only its digest is stored)."""

    async def work(runtime: Runtime) -> str:
        async with runtime.sessions() as session, session.begin():
            _, value = await access.create_token(
                session,
                _operator(),
                name=name,
                roles=list(roles),
                branch=branch,
                expires_in_days=expires_in_days,
            )
        return value

    value = run_with_runtime(work)
    click.echo(value)
    click.echo("this is the only time the token is shown; store it now", err=True)


@tokens.command("revoke")
@click.argument("name")
def revoke_token(name: str) -> None:
    """Revoke a token by name."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.revoke_token(session, _operator(), name)

    run_with_runtime(work)
    click.echo(f"token {name} revoked")
