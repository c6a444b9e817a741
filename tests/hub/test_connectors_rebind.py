"""Secrets are bound to the host they were entered for; a replace is the whole config or nothing.

Two demo vendors on loopback stand for "the vendor" and "some other host": they differ by port,
which is enough to be another origin. Every refusal is checked to have changed nothing and sent
nothing to the new host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from authsupport import authorise
from click.testing import CliRunner
from demo_vendor import GOOD_KEY, DemoBureau, DemoConfig, DemoPlugin, Simulator, serve

from hub.app import create_app
from hub.cli import cli
from hub.connectors_file import apply_connectors_file
from hub.settings import load_settings
from plugins.manager import make_plugin_manager
from plugins.sdk import ConnectorInfo, hookimpl

OTHER_KEY = "demo-key-other-2b81"


class DefaultsConfig(DemoConfig):
    base_url: str = "https://api.demo-bureau.example"


class DefaultsBureau(DemoBureau):
    """The demo vendor with a default base_url, as 天眼查 and 企查查 have."""

    info: ClassVar[ConnectorInfo] = dataclasses.replace(DemoBureau.info, slug="demo-defaults")
    Config: ClassVar[type[DefaultsConfig]] = DefaultsConfig  # type: ignore[misc]


class DefaultsPlugin:
    LENDHUB_HOOK_API = "1.0"

    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(DefaultsBureau)


def _host(**_: object) -> Any:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("demo-vendor", DemoPlugin(), distribution="demo-vendor", version="1.0")
    host.add_plugin("demo-defaults", DefaultsPlugin(), distribution="demo-defaults", version="1.0")
    return host


@pytest.fixture
def vendors() -> Iterator[tuple[Simulator, str, Simulator, str]]:
    vendor, other = Simulator(), Simulator()
    with serve(vendor.app) as vendor_url, serve(other.app) as other_url:
        yield vendor, vendor_url, other, other_url


@pytest.fixture
async def hub(engine, database_url, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = load_settings(
        database_url=database_url, secret_key_file=tmp_path / "secret.key", inprocess_workers=False
    )
    app = create_app(settings, host=_host())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            await authorise(client, app.state.runtime)
            yield client, app.state.runtime


async def _create(client: httpx.AsyncClient, url: str, connector: str = "demo-bureau", **extra: Any) -> None:
    config = {"base_url": url, "api_key": GOOD_KEY, "max_attempts": 1, **extra}
    response = await client.post(
        "/api/connectors", json={"name": "demo", "connector": connector, "config": config}
    )
    assert response.status_code == 201, response.text


async def _assert_unchanged(client: httpx.AsyncClient, url: str, other: Simulator) -> None:
    shown = (await client.get("/api/connectors/demo")).json()
    assert shown["config"]["base_url"] == url
    assert (await client.post("/api/connectors/demo/check")).json()["ok"] is True
    assert other.hits == 0


def _assert_secrets_required(response: httpx.Response, fields: list[str]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/connector-secrets-required")
    assert problem["secret_fields"] == fields
    assert all(any(field in line for line in problem["problems"]) for field in fields)
    assert GOOD_KEY not in response.text


async def test_put_to_another_host_without_the_secrets_is_refused_and_changes_nothing(hub, vendors):
    client, _ = hub
    _, url, other, other_url = vendors
    await _create(client, url)
    response = await client.put("/api/connectors/demo", json={"config": {"base_url": other_url}})
    _assert_secrets_required(response, ["api_key"])
    await _assert_unchanged(client, url, other)


async def test_put_with_an_empty_config_does_not_reset_the_host_and_keep_the_secrets(hub, vendors):
    client, _ = hub
    _, url, other, _ = vendors
    await _create(client, url, connector="demo-defaults")
    response = await client.put("/api/connectors/demo", json={"config": {}})
    _assert_secrets_required(response, ["api_key"])
    await _assert_unchanged(client, url, other)


async def test_a_change_of_scheme_alone_requires_the_secrets(hub, vendors):
    client, _ = hub
    _, url, other, _ = vendors
    await _create(client, url)
    https = url.replace("http://", "https://")
    response = await client.put("/api/connectors/demo", json={"config": {"base_url": https}})
    _assert_secrets_required(response, ["api_key"])
    await _assert_unchanged(client, url, other)


async def test_the_masked_value_shown_back_does_not_count_as_giving_the_secret(hub, vendors):
    client, _ = hub
    _, url, other, other_url = vendors
    await _create(client, url)
    shown = (await client.get("/api/connectors/demo")).json()["config"]
    assert shown["api_key"] == "***"
    moved = await client.put("/api/connectors/demo", json={"config": {**shown, "base_url": other_url}})
    _assert_secrets_required(moved, ["api_key"])
    await _assert_unchanged(client, url, other)
    same_host = await client.put("/api/connectors/demo", json={"config": {**shown, "member_code": "M7"}})
    assert same_host.status_code == 200, same_host.text
    assert (await client.post("/api/connectors/demo/check")).json()["ok"] is True  # not "***"


async def test_put_to_another_host_with_every_secret_given_again_moves_the_instance(hub, vendors):
    client, _ = hub
    _, url, other, other_url = vendors
    await _create(client, url)
    response = await client.put(
        "/api/connectors/demo", json={"config": {"base_url": other_url, "api_key": GOOD_KEY}}
    )
    assert response.status_code == 200, response.text
    assert (await client.post("/api/connectors/demo/check")).json()["ok"] is True
    assert other.hits == 1


async def test_put_on_the_same_host_keeps_secrets_but_not_other_omitted_fields(hub, vendors):
    client, _ = hub
    _, url, _, _ = vendors
    await _create(client, url, member_code="M9", read_timeout=7.5)
    response = await client.put("/api/connectors/demo", json={"config": {"base_url": f"{url}/v1/../"}})
    assert response.status_code == 200, response.text
    config = response.json()["config"]
    assert config["member_code"] == "M001" and config["read_timeout"] == 15.0  # defaults, not kept
    assert config["api_key"] == "***"
    assert (await client.post("/api/connectors/demo/check")).json()["ok"] is True


async def test_plain_http_to_a_remote_host_is_refused_unless_the_instance_allows_it(hub):
    client, _ = hub
    config = {"base_url": "http://api.demo-bureau.example", "api_key": GOOD_KEY}
    refused = await client.post(
        "/api/connectors", json={"name": "x", "connector": "demo-bureau", "config": config}
    )
    assert refused.status_code == 422
    assert any("allow_insecure_http" in line for line in refused.json()["problems"])
    allowed = await client.post(
        "/api/connectors",
        json={"name": "x", "connector": "demo-bureau", "config": {**config, "allow_insecure_http": True}},
    )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["config"]["allow_insecure_http"] is True


async def test_connectors_file_moving_an_instance_without_its_secrets_is_a_problem_line(
    hub, vendors, tmp_path: Path
):
    client, runtime = hub
    _, url, other, other_url = vendors
    await _create(client, url)
    path = tmp_path / "connectors.yaml"
    path.write_text(
        f"connectors:\n  - name: demo\n    connector: demo-bureau\n    config:\n      base_url: {other_url}\n",
        encoding="utf-8",
    )
    problems = await apply_connectors_file(runtime, path)
    assert (
        len(problems) == 1 and problems[0].split(": ", 1)[1].startswith("demo:") and "api_key" in problems[0]
    )
    await _assert_unchanged(client, url, other)


def test_cli_replace_to_another_host_without_the_secrets_fails(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LENDHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDHUB_SECRET_KEY_FILE", str(tmp_path / "k"))
    monkeypatch.setenv("DEMO_KEY", GOOD_KEY)
    monkeypatch.setattr("hub.runtime.make_plugin_manager", _host)
    runner = CliRunner()
    vendor, other = Simulator(), Simulator()
    with serve(vendor.app) as url, serve(other.app) as other_url:
        add = ["connectors", "add", "demo", "--connector", "demo-bureau"]
        added = runner.invoke(cli, [*add, "--set", f"base_url={url}", "--set-env", "api_key=DEMO_KEY"])
        assert added.exit_code == 0, added.output
        moved = runner.invoke(cli, [*add, "--replace", "--set", f"base_url={other_url}"])
        assert moved.exit_code == 1 and "api_key" in moved.output and "again" in moved.output
        checked = runner.invoke(cli, ["connectors", "check", "demo"])
        assert checked.exit_code == 0, checked.output
        assert other.hits == 0
