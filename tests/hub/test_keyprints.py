"""A process whose keys differ from the other processes' is refused at start, rotation is not."""

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.access.tokens import SigningKeys
from core.jobs import JobHandlers
from core.models import KeyFingerprint
from core.pii import KeyRing
from core.secretbox import SecretBox, generate_key
from hub.cli.serve import serve
from hub.keyprints import KeysMismatch, key_sets, verify_keys
from hub.runtime import Runtime
from hub.schema import prepare_database
from hub.settings import load_settings
from hub.workers import run_worker
from plugins.manager import make_plugin_manager

SECRET, OTHER_SECRET = generate_key(), generate_key()
PII, OTHER_PII, INDEX = KeyRing.generate_key(), KeyRing.generate_key(), KeyRing.generate_key()
AUTH, OTHER_AUTH = SigningKeys.generate(), SigningKeys.generate()


def _settings(database_url, tmp_path, **keys):
    values = {
        "secret_key": SECRET,
        "pii_keys": f"k1:{PII}",
        "pii_index_key": INDEX,
        "auth_keys": AUTH,
        **keys,
    }
    return load_settings(
        database_url=database_url,
        secret_key_file=tmp_path / "var" / "secret.key",
        inprocess_workers=False,
        **{name: value for name, value in values.items() if value is not None},
    )


async def _start(settings):
    runtime = await Runtime.start(settings, jobs=False, host=make_plugin_manager(load_entrypoints=False))
    await runtime.aclose()


async def _recorded(engine):
    async with engine.connect() as connection:
        rows = await connection.execute(select(KeyFingerprint.key_set, KeyFingerprint.fingerprint))
        return {row.key_set: row.fingerprint for row in rows}


async def test_processes_with_the_same_keys_all_start(engine, database_url, tmp_path):
    await _start(_settings(database_url, tmp_path))
    recorded = await _recorded(engine)
    await _start(_settings(database_url, tmp_path))
    assert set(recorded) == {"secret", "pii", "pii_index", "auth"}
    assert await _recorded(engine) == recorded
    for key in (SECRET, PII, INDEX, AUTH):
        assert not any(key in value for value in recorded.values())  # a fingerprint is not the key


async def test_a_different_secret_key_is_refused_naming_the_setting(engine, database_url, tmp_path):
    await _start(_settings(database_url, tmp_path))
    with pytest.raises(KeysMismatch) as info:
        await _start(_settings(database_url, tmp_path, secret_key=OTHER_SECRET))
    message = str(info.value)
    assert "LENDHUB_SECRET_KEY" in message and "\n" not in message
    assert SECRET not in message and OTHER_SECRET not in message


@pytest.mark.parametrize(
    ("setting", "other"),
    [("pii_keys", f"k1:{OTHER_PII}"), ("pii_index_key", OTHER_PII), ("auth_keys", OTHER_AUTH)],
)
async def test_other_differing_key_sets_are_refused_naming_theirs(
    engine, database_url, tmp_path, setting, other
):
    await _start(_settings(database_url, tmp_path))
    with pytest.raises(KeysMismatch, match=f"LENDHUB_{setting.upper()}:"):
        await _start(_settings(database_url, tmp_path, **{setting: other}))


async def test_key_files_generated_in_two_directories_are_told_apart(engine, database_url, tmp_path):
    """The reported case: no LENDHUB_SECRET_KEY, two working directories, two generated keys."""
    unset = {"secret_key": None, "pii_keys": None, "pii_index_key": None, "auth_keys": None}
    await _start(_settings(database_url, tmp_path / "one", **unset))
    with pytest.raises(KeysMismatch) as info:
        await _start(_settings(database_url, tmp_path / "two", **unset))
    assert "LENDHUB_SECRET_KEY" in str(info.value)
    assert str(tmp_path / "two" / "var" / "secret.key") in str(info.value)


async def test_a_rotated_ring_starts_and_then_the_new_key_is_required(engine, database_url, tmp_path):
    await _start(_settings(database_url, tmp_path))
    rotated = {
        "secret_key": f"{OTHER_SECRET},{SECRET}",
        "pii_keys": f"k2:{OTHER_PII},k1:{PII}",
        "auth_keys": f"{OTHER_AUTH},{AUTH}",
    }
    await _start(_settings(database_url, tmp_path, **rotated))
    await _start(_settings(database_url, tmp_path, **rotated))
    # Others now seal with the new key: a process without it could not open their values.
    with pytest.raises(KeysMismatch, match="LENDHUB_SECRET_KEY"):
        await _start(_settings(database_url, tmp_path))
    # The old key may go once everything is re-sealed; the new one alone is enough.
    await _start(
        _settings(
            database_url,
            tmp_path,
            secret_key=OTHER_SECRET,
            pii_keys=f"k2:{OTHER_PII}",
            auth_keys=OTHER_AUTH,
        )
    )


async def test_first_starts_racing_record_one_key_and_refuse_the_other(engine, database_url, tmp_path):
    def sets(secret):
        settings = _settings(database_url, tmp_path, secret_key=secret)
        ring = KeyRing.from_setting(f"k1:{PII}", INDEX)
        return key_sets(settings, box=SecretBox([secret]), ring=ring, signing=SigningKeys([AUTH]))

    same = await asyncio.gather(
        *(verify_keys(engine, sets(SECRET)) for _ in range(4)), return_exceptions=True
    )
    assert same == [None] * 4
    async with engine.begin() as connection:
        await connection.execute(KeyFingerprint.__table__.delete())
    outcomes = await asyncio.gather(
        verify_keys(engine, sets(SECRET)), verify_keys(engine, sets(OTHER_SECRET)), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["KeysMismatch", "NoneType"]


async def test_a_running_process_overtaken_by_a_rotation_reports_unavailable(engine, database_url, tmp_path):
    host = make_plugin_manager(load_entrypoints=False)
    running = await Runtime.start(_settings(database_url, tmp_path), jobs=False, host=host)
    try:
        assert (await running.readiness())["status"] == "ok"
        await _start(_settings(database_url, tmp_path, secret_key=f"{OTHER_SECRET},{SECRET}"))
        ready = await running.readiness()
        assert ready["status"] == "unavailable"
        assert "LENDHUB_SECRET_KEY" in ready["checks"]["keys"]["error"]
        assert ready["checks"]["database"]["status"] == "ok"
    finally:
        await running.aclose()


async def test_serve_and_worker_refuse_in_one_line_before_starting(engine, database_url, tmp_path):
    await _start(_settings(database_url, tmp_path))
    other = _settings(database_url, tmp_path, auth_keys=OTHER_AUTH)
    with pytest.raises(KeysMismatch, match="LENDHUB_AUTH_KEYS"):
        await prepare_database(other)  # `lendhub serve`, before uvicorn
    with pytest.raises(KeysMismatch, match="LENDHUB_AUTH_KEYS"):
        await run_worker(other, JobHandlers())


async def test_lendhub_serve_with_another_key_exits_with_one_line(
    engine, database_url, tmp_path, monkeypatch
):
    await _start(_settings(database_url, tmp_path))
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "LENDHUB_DATABASE_URL": database_url,
        "LENDHUB_SECRET_KEY": OTHER_SECRET,
        "LENDHUB_PII_KEYS": f"k1:{PII}",
        "LENDHUB_PII_INDEX_KEY": INDEX,
        "LENDHUB_AUTH_KEYS": AUTH,
    }.items():
        monkeypatch.setenv(name, value)
    served = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: served.append(args))  # never serve here
    result = await asyncio.to_thread(CliRunner().invoke, serve, [])  # serve runs its own event loop
    assert served == []
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot use the database at ")
    assert "LENDHUB_SECRET_KEY" in result.output and result.output.count("\n") == 1
