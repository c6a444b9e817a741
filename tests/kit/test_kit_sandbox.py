"""``lendhub sandbox``: plans ports by slug, writes a connectors file, serves every simulator."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from kitvendor import plugin as kit_plugin
from kitvendor.connector import KitBureau, LeaksItsKey

from hub.cli import sandbox as sandbox_cli
from hub.connectors_file import read_connectors_file
from hub.sandbox import SPAN, SandboxError, build_servers, pinned_ports, plan_sandbox, serve_all, write_config
from plugins.manager import PluginHost, make_plugin_manager
from plugins.testing import free_port


class NoSimulator(KitBureau):
    simulator = None


def kit_host() -> PluginHost:
    host = make_plugin_manager(load_entrypoints=False, builtins=("plugins.defaults",))
    host.add_plugin("kitvendor.plugin", kit_plugin)
    return host


def test_plan_gives_each_slug_a_stable_port_and_skips_connectors_without_simulator() -> None:
    entries = plan_sandbox({"z-kit": KitBureau, "a-kit": LeaksItsKey, "m-none": NoSimulator}, 9300)
    assert [e.slug for e in entries] == ["a-kit", "z-kit"]
    assert all(9300 <= e.port < 9300 + SPAN for e in entries) and len({e.port for e in entries}) == 2
    assert entries[0].url == f"http://127.0.0.1:{entries[0].port}"
    assert entries[0].sandbox_config == {"api_key": "kit-sandbox-key-5f1e"}


def test_installing_another_connector_moves_no_existing_port() -> None:
    before = {e.slug: e.port for e in plan_sandbox({"z-kit": KitBureau, "m-kit": KitBureau}, 9300)}
    after = {
        e.slug: e.port
        for e in plan_sandbox({"a-kit": KitBureau, "z-kit": KitBureau, "m-kit": KitBureau}, 9300)
    }
    assert {slug: after[slug] for slug in before} == before


def test_a_written_config_pins_the_ports_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "connectors.sandbox.yaml"
    first = plan_sandbox({"kit-bureau": KitBureau}, 9300, pinned={"kit-bureau": 9399})
    assert first[0].port == 9399
    write_config(first, path)
    assert pinned_ports(path) == {"kit-bureau": 9399}
    again = plan_sandbox({"kit-bureau": KitBureau, "aaa": KitBureau}, 9300, pinned=pinned_ports(path))
    assert {e.slug: e.port for e in again}["kit-bureau"] == 9399
    assert pinned_ports(tmp_path / "missing.yaml") == {}


def test_colliding_slugs_get_distinct_ports() -> None:
    many = {f"kit-{n}": KitBureau for n in range(50)}
    entries = plan_sandbox(many, 9300, span=60)
    assert len({e.port for e in entries}) == 50 and all(9300 <= e.port < 9360 for e in entries)
    with pytest.raises(SandboxError, match="do not fit"):
        plan_sandbox(many, 9300, span=40)


def test_unloadable_simulator_names_the_connector() -> None:
    class Broken(KitBureau):
        simulator = "kitvendor.nope:create_app"

    with pytest.raises(
        SandboxError, match=r"broken: simulator 'kitvendor\.nope:create_app' cannot be loaded"
    ):
        plan_sandbox({"broken": Broken}, 9300)


def test_written_config_points_each_instance_at_its_simulator(tmp_path: Path) -> None:
    path = tmp_path / "var" / "connectors.sandbox.yaml"
    write_config(plan_sandbox({"kit-bureau": KitBureau}, 9400, pinned={"kit-bureau": 9400}), path)
    entries, problems = read_connectors_file(path)
    assert problems == []
    assert entries == [
        {
            "name": "kit-bureau-sandbox",
            "connector": "kit-bureau",
            "enabled": True,
            "config": {"api_key": "kit-sandbox-key-5f1e", "base_url": "http://127.0.0.1:9400"},
        }
    ]


def test_cli_prints_the_table_and_writes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_cli, "make_plugin_manager", lambda **_: kit_host())
    path = tmp_path / "sandbox.yaml"
    result = CliRunner().invoke(
        sandbox_cli.sandbox, ["--port", "9500", "--write-config", str(path), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    [port] = [e.port for e in plan_sandbox({"kit-bureau": KitBureau}, 9500)]
    assert f"kit-bureau  http://127.0.0.1:{port}" in result.output
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["connectors"][0]["name"] == "kit-bureau-sandbox"
    # Run again: the file written the first time pins the port.
    path.write_text(path.read_text(encoding="utf-8").replace(str(port), "9501"), encoding="utf-8")
    again = CliRunner().invoke(
        sandbox_cli.sandbox, ["--port", "9500", "--write-config", str(path), "--dry-run"]
    )
    assert "kit-bureau  http://127.0.0.1:9501" in again.output


def test_cli_refuses_a_bad_fault_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_cli, "make_plugin_manager", lambda **_: kit_host())
    result = CliRunner().invoke(sandbox_cli.sandbox, ["--fault", "sometimes", "--dry-run"])
    assert result.exit_code == 2
    assert "expected a status (503, 429:2)" in result.output


def test_cli_without_simulators_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sandbox_cli,
        "make_plugin_manager",
        lambda **_: make_plugin_manager(load_entrypoints=False, builtins=("plugins.defaults",)),
    )
    result = CliRunner().invoke(sandbox_cli.sandbox, ["--dry-run"])
    assert result.exit_code == 1
    assert "no registered connector has a simulator" in result.output


def run_in_thread(servers: list[Any]) -> tuple[threading.Thread, list[asyncio.AbstractEventLoop]]:
    loops: list[asyncio.AbstractEventLoop] = []

    def target() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(serve_all(servers))
        loop.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, loops


def wait_started(servers: list[Any]) -> None:
    for _ in range(300):
        if all(server.started for server in servers):
            return
        threading.Event().wait(0.01)
    raise AssertionError("servers did not start")


def test_every_simulator_is_served_on_its_port_with_the_standing_fault() -> None:
    ports = {"kit-a": free_port(), "kit-b": free_port()}
    base = min(ports.values())
    entries = plan_sandbox({"kit-a": KitBureau, "kit-b": LeaksItsKey}, base, span=65536 - base, pinned=ports)
    servers = build_servers(entries, fault="503")
    thread, _ = run_in_thread(servers)
    try:
        wait_started(servers)
        for entry in entries:
            answer = httpx.post(f"{entry.url}/v1/reports", json={}, timeout=5)
            assert answer.status_code == 503  # the standing fault reached each simulator
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_healthy_sandbox_answers_the_connector() -> None:
    port = free_port()
    entries = plan_sandbox({"kit-bureau": KitBureau}, port, pinned={"kit-bureau": port})
    servers = build_servers(entries)
    thread, _ = run_in_thread(servers)
    try:
        wait_started(servers)
        answer = httpx.post(
            f"{entries[0].url}/v1/reports",
            json={"id_number": "110105199003070017"},
            headers={"X-Api-Key": "kit-sandbox-key-5f1e"},
            timeout=5,
        )
        assert answer.json() == {"report_id": "R-0017"}
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(timeout=10)


def test_the_written_config_gives_in_process_connectors_an_instance_too(tmp_path: Path) -> None:
    from hub.sandbox import in_process_connectors
    from plugins.manager import DEFAULT_PLUGINS

    host = make_plugin_manager(load_entrypoints=False, builtins=DEFAULT_PLUGINS)
    connectors = {slug: registered.obj for slug, registered in host.connectors.items()}
    assert in_process_connectors(connectors) == ["lendhub-scorecard"]
    path = tmp_path / "sandbox.yaml"
    write_config(plan_sandbox(connectors, 9100), path, in_process=in_process_connectors(connectors))
    entries, problems = read_connectors_file(path)
    names = {e["name"] for e in entries}
    assert problems == [] and "lendhub-scorecard-sandbox" in names
    assert names == {
        f"{slug}-sandbox" for slug in connectors
    }  # one instance per connector, as the README says
