"""A database whose migrations are not this code's: every process refuses to start, in one line.

The databases here are made the way operators make them (``upgrade_database`` to some revision),
not with ``metadata.create_all``; the tables' own tests stamp their create_all databases with the
head revision (``dbfixtures``), and one test below shows an unstamped one is refused.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from core.models import metadata
from hub.cli import cli
from hub.database import DatabaseUnavailable, make_engine, upgrade_database
from hub.runtime import Runtime
from hub.schema import SchemaMismatch, head_revision
from hub.settings import load_settings
from plugins.manager import make_plugin_manager

BEHIND = "0003_webhook_subscriptions"


def make_database(path: Path, revision: str | None) -> str:
    """A SQLite database migrated to ``revision`` (``None``: an empty file)."""
    url = f"sqlite+aiosqlite:///{path}"
    if revision is not None:
        asyncio.run(upgrade_database(url, revision))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    return url


def at_revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = make_engine(url)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # the embedded default would be tmp_path/var/lendhub.db
    for name in ("LENDHUB_DATABASE_URL", "LENDHUB_CONNECTORS_FILE", "LENDHUB_LOAD_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LENDHUB_SECRET_KEY_FILE", str(tmp_path / "secret.key"))
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", "")
    return CliRunner()


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **_: started.append(app))
    return started


def one_clear_error(result: Result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2, result.output
    for phrase in phrases:
        assert phrase in result.output


async def test_runtime_refuses_a_database_whose_migrations_are_behind(tmp_path: Path) -> None:
    url = await asyncio.to_thread(make_database, tmp_path / "behind.db", BEHIND)
    settings = load_settings(database_url=url, secret_key_file=tmp_path / "k")
    with pytest.raises(SchemaMismatch) as refused:
        await Runtime.start(settings, jobs=False, host=make_plugin_manager(load_entrypoints=False))
    assert isinstance(refused.value, DatabaseUnavailable)  # every start-up path already reports those
    assert str(refused.value) == (
        f"cannot use the database at {url}: its schema is behind this version of LendHub "
        f"(at {BEHIND}, needs {head_revision()}); run `lendhub db upgrade`"
    )


@pytest.mark.parametrize(
    ("revision", "phrases"),
    [
        (BEHIND, ["is behind", "run `lendhub db upgrade`"]),
        (None, ["has no LendHub tables yet", "run `lendhub db upgrade`"]),
    ],
    ids=["behind", "empty"],
)
def test_serve_worker_and_cli_commands_refuse_a_database_not_at_head(
    runner: CliRunner, tmp_path: Path, no_uvicorn: list[str], revision: str | None, phrases: list[str]
) -> None:
    url = make_database(tmp_path / "db" / "lendhub.db", revision)
    env = {"LENDHUB_DATABASE_URL": url}
    one_clear_error(runner.invoke(cli, ["serve"], env=env), *phrases)
    assert no_uvicorn == []
    one_clear_error(runner.invoke(cli, ["worker", "--grace", "0"], env=env), *phrases)
    one_clear_error(runner.invoke(cli, ["connectors", "list"], env=env), *phrases)
    one_clear_error(runner.invoke(cli, ["webhooks", "inbox"], env=env), *phrases)
    assert at_revision(url) == revision if revision else True  # nothing was migrated behind our back


def test_a_database_created_without_migrations_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'create_all.db'}"

    async def create_all() -> None:
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        await engine.dispose()

    asyncio.run(create_all())
    result = runner.invoke(cli, ["connectors", "list"], env={"LENDHUB_DATABASE_URL": url})
    one_clear_error(result, "has LendHub tables but no record of its migrations", "`lendhub db upgrade`")


def test_a_database_migrated_by_a_newer_lendhub_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    url = make_database(tmp_path / "newer.db", "head")

    async def stamp_future() -> None:
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
        await engine.dispose()

    asyncio.run(stamp_future())
    result = runner.invoke(cli, ["connectors", "list"], env={"LENDHUB_DATABASE_URL": url})
    one_clear_error(result, "at migration 0099_from_the_future, which this version of LendHub does not know")


@pytest.mark.parametrize("revision", [BEHIND, None], ids=["behind", "missing"])
def test_the_embedded_default_database_is_migrated_in_place_and_says_so(
    runner: CliRunner, tmp_path: Path, no_uvicorn: list[str], revision: str | None
) -> None:
    embedded = tmp_path / "var" / "lendhub.db"
    if revision is not None:
        make_database(embedded, revision)
    url = f"sqlite+aiosqlite:///{embedded}"

    served = runner.invoke(cli, ["serve"])
    assert served.exit_code == 0, served.output
    assert no_uvicorn == ["hub.app:create_app"]
    assert f"applied its migrations up to {head_revision()}" in served.output
    assert "var/lendhub.db" in served.output
    assert at_revision(url) == head_revision()

    listed = runner.invoke(cli, ["connectors", "list"])  # now at head: nothing to say
    assert listed.exit_code == 0 and "migrations" not in listed.output


def test_the_embedded_default_is_migrated_by_a_cli_command_too(runner: CliRunner, tmp_path: Path) -> None:
    make_database(tmp_path / "var" / "lendhub.db", BEHIND)
    listed = runner.invoke(cli, ["connectors", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"was behind (at {BEHIND}): applied its migrations up to {head_revision()}" in listed.output
