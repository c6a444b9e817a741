"""The start-up warning for a shared database with per-process breakers and rate limits."""

import logging

import pytest

from hub.runtime import Runtime
from hub.settings import load_settings
from hub.state import per_process_state_warning
from plugins.manager import make_plugin_manager

PG = "postgresql+asyncpg://lender@db.internal/crm"


def test_postgresql_without_redis_is_warned_about_naming_the_setting():
    warning = per_process_state_warning(load_settings(database_url=PG, redis_url=None))
    assert warning is not None and "LENDHUB_REDIS_URL" in warning and "per process" in warning


@pytest.mark.parametrize(
    "settings",
    [
        {"database_url": PG, "redis_url": "redis://cache:6379/0"},
        {"database_url": "sqlite+aiosqlite:///var/lendhub.db", "redis_url": None},
    ],
    ids=["postgresql-with-redis", "sqlite"],
)
def test_shared_state_or_a_local_database_is_not_warned_about(settings):
    assert per_process_state_warning(load_settings(**settings)) is None


async def test_runtime_start_logs_the_warning_on_postgresql_only(engine, database_url, tmp_path, caplog):
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "k", inprocess_workers=False
    )
    with caplog.at_level(logging.WARNING, logger="hub.runtime"):
        runtime = await Runtime.start(settings, jobs=False, host=make_plugin_manager(load_entrypoints=False))
        await runtime.aclose()
    warned = any("LENDHUB_REDIS_URL is unset" in record.getMessage() for record in caplog.records)
    assert warned == (engine.dialect.name == "postgresql")
