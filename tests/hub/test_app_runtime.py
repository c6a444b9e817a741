"""The app shell: start-up failures name the culprit, broken plugins don't stop the hub, events flow."""

from __future__ import annotations

import httpx
import pytest
from authsupport import authorise
from click.testing import CliRunner
from demo_vendor import GOOD_KEY, DemoPlugin, Simulator, serve
from waiting import wait_for

from core.outbox import add_event
from hub.app import create_app
from hub.cli import cli
from hub.database import DatabaseUnavailable
from hub.runtime import Runtime
from hub.settings import load_settings
from plugins.manager import make_plugin_manager
from plugins.sdk import hookimpl


class BrokenPlugin:
    @hookimpl
    def register_connectors(self, register):
        raise RuntimeError("vendor package misconfigured")


async def test_unreachable_database_fails_start_naming_the_url(tmp_path):
    settings = load_settings(
        database_url="postgresql+asyncpg://lendhub:pw@127.0.0.1:1/nowhere", secret_key_file=tmp_path / "k"
    )
    with pytest.raises(DatabaseUnavailable) as info:
        await Runtime.start(settings, jobs=False, host=make_plugin_manager(load_entrypoints=False))
    message = str(info.value)
    assert "127.0.0.1:1" in message and "pw" not in message


async def test_broken_plugin_is_quarantined_and_hub_keeps_serving(engine, database_url, tmp_path):
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("broken-vendor", BrokenPlugin(), distribution="broken-vendor", version="0.1")
    host.add_plugin("demo-vendor", DemoPlugin(), distribution="demo-vendor", version="1.0")
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "k", inprocess_workers=False
    )
    app = create_app(settings, host=host)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        await authorise(client, app.state.runtime)
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "degraded"
        assert "vendor package misconfigured" in ready["quarantined_plugins"]["broken-vendor"]
        plugins = {p["name"]: p for p in (await client.get("/api/plugins")).json()}
        assert plugins["broken-vendor"]["status"] == "quarantined"
        assert plugins["demo-vendor"]["status"] == "loaded"
        missing = await client.get("/api/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/openapi.json")).status_code == 200


async def test_connectors_file_applies_good_entries_and_reports_bad_ones(
    engine, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("DEMO_KEY", GOOD_KEY)
    monkeypatch.delenv("MISSING_KEY", raising=False)
    path = tmp_path / "connectors.yaml"
    path.write_text(
        "connectors:\n"
        "  - {name: demo-a, connector: demo-bureau, config: {base_url: 'http://127.0.0.1:9', api_key: '${DEMO_KEY}'}}\n"
        "  - {name: demo-b, connector: demo-bureau, config: {base_url: 'http://127.0.0.1:9', api_key: '${MISSING_KEY}'}}\n"
        "  - {name: demo-c, connector: no-such, config: {}}\n"
        "  - {connector: demo-bureau, config: {}}\n"
        "  - {name: demo-d, connector: demo-bureau, config: {base_url: 'not a url', api_key: '${DEMO_KEY}'}}\n",
        encoding="utf-8",
    )
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("demo-vendor", DemoPlugin())
    settings = load_settings(database_url=database_url, secret_key_file=tmp_path / "k", connectors_file=path)
    runtime = await Runtime.start(settings, jobs=False, host=host)
    try:
        async with runtime.sessions() as session:
            names = [row.name for row in await runtime.instances.list(session)]
        assert names == ["demo-a"]
        problems = " | ".join(runtime.config_problems)
        assert "MISSING_KEY is not set" in problems and "'no-such' is not registered" in problems
        assert "entry 4 needs at least 'name'" in problems and "demo-d" in problems and "base_url" in problems
        assert len(runtime.config_problems) == 4  # every bad entry, not only the first
        assert GOOD_KEY not in problems
    finally:
        await runtime.aclose()


def test_connectors_file_that_is_not_yaml_is_one_clear_problem(tmp_path):
    from hub.connectors_file import ConnectorsFileError, read_connectors_file

    path = tmp_path / "c.yaml"
    path.write_text("connectors: [unclosed", encoding="utf-8")
    with pytest.raises(ConnectorsFileError, match="not valid YAML"):
        read_connectors_file(path)
    path.write_text("connectors:\n  - {connector: x}\n  - {name: ok, connector: y}\n", encoding="utf-8")
    entries, problems = read_connectors_file(path)
    assert [e["name"] for e in entries] == ["ok"]  # the good entry survives the bad one
    assert len(problems) == 1 and "entry 1 needs at least 'name'" in problems[0]


async def test_outbox_event_reaches_plugin_hook_through_inprocess_worker(engine, database_url, tmp_path):
    seen: list[str] = []

    class Listener:
        @hookimpl
        def loan_disbursed(self, event):
            seen.append(str(event.id))

    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("listener", Listener())
    settings = load_settings(database_url=database_url, secret_key_file=tmp_path / "k")
    runtime = await Runtime.start(settings, jobs=True, host=host)
    try:
        async with runtime.sessions() as session, session.begin():
            row = await add_event(
                session,
                event_type="loan_disbursed",
                subject_type="loan",
                subject_id="L1",
                payload={"amount": "1000.00"},
            )
            event_id = row.event_id
        # The sweeper picks it up even with no wake-up sent.
        await wait_for(lambda: seen, within=20, what="the hook call")  # sweeps come every 5 s at most
        assert seen == [event_id]
    finally:
        await runtime.aclose()


def test_cli_connectors_add_list_check(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LENDHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDHUB_SECRET_KEY_FILE", str(tmp_path / "k"))
    monkeypatch.setenv("DEMO_KEY", GOOD_KEY)
    monkeypatch.setattr("hub.runtime.make_plugin_manager", _demo_host)
    sim = Simulator()
    runner = CliRunner()
    with serve(sim.app) as url:
        added = runner.invoke(
            cli,
            [
                "connectors",
                "add",
                "demo",
                "--connector",
                "demo-bureau",
                "--set",
                f"base_url={url}",
                "--set-env",
                "api_key=DEMO_KEY",
            ],
        )
        assert added.exit_code == 0, added.output
        assert GOOD_KEY not in added.output and '"api_key": "***"' in added.output
        listed = runner.invoke(cli, ["connectors", "list"])
        assert listed.output.split()[:4] == ["NAME", "CONNECTOR", "CAPABILITY", "STATE"]
        assert ["demo", "demo-bureau", "credit_bureau", "enabled"] in [
            line.split() for line in listed.output.splitlines()
        ]
        checked = runner.invoke(cli, ["connectors", "check", "demo"])
        assert checked.exit_code == 0 and "ok" in checked.output
        runner.invoke(
            cli,
            [
                "connectors",
                "add",
                "bad",
                "--connector",
                "demo-bureau",
                "--set",
                f"base_url={url}",
                "--set",
                "api_key=nope",
            ],
        )
        failed = runner.invoke(cli, ["connectors", "check", "bad"])
        assert failed.exit_code == 1 and "AuthError" in failed.output
        unknown = runner.invoke(cli, ["connectors", "add", "x", "--connector", "nope"])
        assert unknown.exit_code == 1 and "not registered" in unknown.output


def _demo_host(**_: object):
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("demo-vendor", DemoPlugin())
    return host


def test_settings_error_stops_cli_with_variable_name(monkeypatch):
    monkeypatch.setenv("LENDHUB_DATABASE_URL", "mysql://nope")
    result = CliRunner().invoke(cli, ["connectors", "list"])
    assert result.exit_code == 1 and "LENDHUB_DATABASE_URL" in result.output
