"""Is the database at the migration this code expects? Every process asks before it starts.

Without the question, ``lendhub serve`` on a database whose migrations are behind starts anyway
and answers 500 with a raw SQL error (``no such table: ...``) for whatever the missing migration
adds. So ``serve``, ``worker`` and every CLI command that opens the database compare the
database's ``alembic_version`` with the head of the migration scripts shipped with this code and
refuse, in one line naming the fix, unless they match:

- an empty database, or one behind: ``run `lendhub db upgrade```;
- one at a revision the scripts do not know (a newer LendHub migrated it): run that version;
- one with LendHub's tables but no ``alembic_version`` (made with ``metadata.create_all``, as some
  tests do): refused too. Guessing its revision from its tables would hide a drifted schema;
  the tests that build databases that way stamp them with the head (``tests/dbfixtures.py``).

The embedded default (``LENDHUB_DATABASE_URL`` unset: a SQLite file under ``var/``) is the
exception the quickstart needs: an empty or outdated one is migrated in place, and the process
says so. Nobody else shares that file, so there is no other process to surprise. An explicitly
configured database is never migrated behind the operator's back.

The refusal is a ``DatabaseUnavailable``, so every start-up path already turns it into a one-line
error with exit status 1.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import refresh_statistics
from core.models import metadata

from .database import DatabaseUnavailable, alembic_config, check_database, make_engine, upgrade_database
from .keyprints import process_key_sets, verify_keys
from .settings import Settings

__all__ = ["SchemaMismatch", "ensure_schema", "head_revision", "prepare_database", "script_directory"]


class SchemaMismatch(DatabaseUnavailable):
    """The database is not at this code's migration head; the message says which way and the fix."""


@functools.cache
def script_directory() -> Any:
    """The migration scripts shipped with this code (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(""))


def head_revision() -> str:
    """The revision a database must be at for this code to use it."""
    head: str = script_directory().get_current_head()
    return head


@dataclass(frozen=True)
class _State:
    revisions: tuple[str, ...]
    has_tables: bool


def _read_state(connection: Connection) -> _State:
    from alembic.migration import MigrationContext

    revisions = tuple(MigrationContext.configure(connection).get_current_heads())
    has_tables = bool(revisions) or bool(set(inspect(connection).get_table_names()) & set(metadata.tables))
    return _State(revisions, has_tables)


def _known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except Exception:  # alembic raises several resolution errors for an unknown id
        return False


def _problem(state: _State, head: str) -> tuple[str, bool]:
    """Why the database cannot be used as it is, and whether migrating it would fix that."""
    if not state.revisions and not state.has_tables:
        return "it has no LendHub tables yet; run `lendhub db upgrade`", True
    if not state.revisions:
        return (
            "it has LendHub tables but no record of its migrations (alembic_version), so it was not "
            "made by `lendhub db upgrade` and its schema cannot be trusted; create it with "
            "`lendhub db upgrade` on an empty database",
            False,
        )
    unknown = [revision for revision in state.revisions if not _known(revision)]
    if unknown:
        return (
            f"it is at migration {', '.join(unknown)}, which this version of LendHub does not know "
            f"(a newer LendHub migrated it?); this version needs {head}",
            False,
        )
    at = ", ".join(state.revisions)
    return (
        f"its schema is behind this version of LendHub (at {at}, needs {head}); run `lendhub db upgrade`",
        True,
    )


async def ensure_schema(engine: AsyncEngine, *, migrate: bool = False) -> str | None:
    """Check the database is at the head migration; with ``migrate``, bring it there if it can.

    Args:
        engine: an engine on the database, already known to answer (``check_database``).
        migrate: apply the migrations to an empty or outdated database instead of refusing
            (the embedded default only).

    Returns:
        ``None`` when the database was at head; a sentence saying what was migrated otherwise.

    Raises:
        SchemaMismatch: the database is not at head and was not (or could not be) migrated.
    """
    async with engine.connect() as connection:
        state = await connection.run_sync(_read_state)
    head = head_revision()
    if state.revisions == (head,):
        async with engine.begin() as connection:
            await refresh_statistics(connection)
        return None
    problem, fixable = _problem(state, head)
    url = engine.url.render_as_string(hide_password=False)
    if not (migrate and fixable):
        raise SchemaMismatch(url, problem)
    await upgrade_database(url)
    was = f"was behind (at {', '.join(state.revisions)})" if state.revisions else "was empty"
    return f"the embedded database {engine.url.database} {was}: applied its migrations up to {head}"


async def prepare_database(settings: Settings) -> str | None:
    """Check (and for the embedded default, migrate) the settings' database before a process starts.

    ``lendhub serve`` calls it before handing over to uvicorn, so a refusal is one line rather
    than a traceback from the application's start-up; for the same reason it checks the
    process's keys against the other processes' (``hub.keyprints``), as the runtime will again.

    Raises:
        DatabaseUnavailable: unreachable, ``SchemaMismatch`` or ``KeysMismatch``.
    """
    engine = make_engine(settings.database_url)
    try:
        await check_database(engine)
        note = await ensure_schema(engine, migrate=settings.embedded_database)
        await verify_keys(engine, process_key_sets(settings))
        return note
    finally:
        await engine.dispose()
