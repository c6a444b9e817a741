"""``lendhub branches | users``: the organisation from the operator's shell.

These work before any user exists — on a fresh install they are how the first admin is made —
because the operator at the machine holding the database is trusted like the database itself.
Every change is audited as done by ``operator:<login>@<host>``. Passwords are read from standard
input (``--password-stdin``), never from the command line, which other users can see. Roles and
API tokens are in :mod:`hub.cli.grants`.
"""

from __future__ import annotations

import secrets
import sys

import click
from sqlalchemy import select

from core.access import Actor, User, views
from core.access import service as access
from hub.runtime import Runtime

from .common import read_in_session, run_with_runtime
from .output import echo_json, echo_listing, json_option

__all__ = ["branches", "operator", "users"]


def operator() -> Actor:
    """The operator at this machine, as whom CLI changes are audited."""
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
            await access.add_branch(session, operator(), code=code, name=name, parent=parent)

    run_with_runtime(work)
    click.echo(f"branch {code} added" + (f" under {parent}" if parent else " (head office)"))


@branches.command("list")
@json_option
def list_branches(as_json: bool) -> None:
    """Print the branch tree."""
    echo_listing(
        read_in_session(views.all_branches),
        as_json=as_json,
        columns=["CODE", "NAME", "PARENT", "LEVEL"],
        row=lambda b: ["  " * b.depth + b.code, b.name, b.parent, b.depth],
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
                operator(),
                username=username,
                password=password,
                roles=list(roles),
                branch=branch,
                display_name=display_name,
            )

    run_with_runtime(work)
    click.echo(f"user {username.strip().lower()} added with role(s) {', '.join(roles)}")


@users.command("list")
@json_option
def list_users(as_json: bool) -> None:
    """Print every user: branch, roles, state (never a password)."""
    echo_listing(
        read_in_session(views.all_users),
        as_json=as_json,
        columns=["USERNAME", "NAME", "BRANCH", "ROLES", "STATE", "CREATED"],
        row=lambda u: [
            u.username,
            u.display_name or None,
            u.branch,
            ", ".join(u.roles),
            "disabled" if u.disabled else "enabled",
            u.created_at,
        ],
        empty="no users; `lendhub users bootstrap` creates the first administrator",
    )


@users.command("bootstrap")
@click.option("--username", default="admin", show_default=True)
@json_option
def bootstrap(username: str, as_json: bool) -> None:
    """On a database without users, create an admin with a generated password and print it once."""

    async def work(runtime: Runtime) -> str | None:
        async with runtime.sessions() as session, session.begin():
            if await session.scalar(select(User.id).limit(1)) is not None:
                return None
            password = secrets.token_urlsafe(12) + "-9"
            await access.add_user(
                session, operator(), username=username, password=password, roles=["admin"], branch=None
            )
            return password

    password = run_with_runtime(work)
    if as_json:
        echo_json({"created": password is not None, "username": username, "password": password})
        if password is not None:
            click.echo("secret shown once — store the password or change it now", err=True)
        return
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
            await access.set_user_enabled(session, operator(), username, enabled=False)

    run_with_runtime(work)
    click.echo(f"user {username} disabled")


@users.command("enable")
@click.argument("username")
def enable_user(username: str) -> None:
    """Enable a disabled user again."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await access.set_user_enabled(session, operator(), username, enabled=True)

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
            await access.set_password(session, operator(), username, password)

    run_with_runtime(work)
    click.echo(f"password of {username} changed")
