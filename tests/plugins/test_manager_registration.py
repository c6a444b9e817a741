"""Registration hooks: each callback validates, attributes and commits per plugin."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter
from manager_stubs import (
    AcmeLitigation,
    ConnectorPlugin,
    EsignWebhooks,
    acme_router,
    acme_sync,
    fresh_host,
    make_bureau,
)

from core.integrations.base import Capability
from plugins.manager import DEFAULT_PLUGINS, PluginHost, make_plugin_manager
from plugins.sdk import WebhookSource
from plugins.sdk.markers import hookimpl


def test_builtins_register_through_the_same_door() -> None:
    host = fresh_host(builtins=DEFAULT_PLUGINS)
    assert list(host.plugins) == list(DEFAULT_PLUGINS)
    assert all(record.status == "loaded" and record.builtin for record in host.plugins.values())
    record = host.plugins["plugins.defaults"]
    assert record.status == "loaded"
    assert record.builtin
    assert record.distribution == "lendhub"
    assert record.hooks == ["select_connector_instance"]
    assert host.pm.is_registered(record.plugin)


def test_each_call_builds_a_fresh_manager() -> None:
    first, second = fresh_host(), fresh_host()
    first.add_plugin("acme", ConnectorPlugin(make_bureau()))
    assert "acme-bureau" in first.connectors
    assert "acme-bureau" not in second.connectors
    assert first.pm is not second.pm


def test_register_connectors_indexes_classes_by_slug_with_their_plugin() -> None:
    host = fresh_host()
    bureau = make_bureau()
    record = host.add_plugin("acme", ConnectorPlugin(bureau, AcmeLitigation))
    assert record.status == "loaded", record.reason
    assert record.connectors == ["acme-bureau", "acme-litigation"]
    assert host.connector_class("acme-bureau") is bureau
    assert host.connectors["acme-litigation"].plugin == "acme"
    assert host.connectors_for(Capability.LITIGATION) == [AcmeLitigation]
    with pytest.raises(KeyError, match="no connector 'nope'"):
        host.connector_class("nope")


def test_register_connectors_accepts_a_module_style_plugin_with_opt_in_args() -> None:
    class Plugin:
        @staticmethod
        @hookimpl
        def register_connectors(register: Any) -> None:
            register(AcmeLitigation)

    host = fresh_host()
    assert host.add_plugin("static", Plugin).status == "loaded"
    assert host.plugins["static"].notes == ["declares no LENDHUB_HOOK_API; assumed compatible"]


class WebhookPlugin:
    def __init__(self, *sources: Any) -> None:
        self.sources = sources

    @hookimpl
    def register_webhook_sources(self, register: Any) -> None:
        for source in self.sources:
            register(source)


def test_register_webhook_sources_keeps_named_classes() -> None:
    host = fresh_host()
    record = host.add_plugin("esign", WebhookPlugin(EsignWebhooks))
    assert record.status == "loaded"
    assert record.webhook_sources == ["acme-esign"]
    assert host.webhook_sources["acme-esign"].obj is EsignWebhooks
    assert host.webhook_sources["acme-esign"].plugin == "esign"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (type("Nameless", (), {}), "non-empty 'name'"),
        (type("Blank", (), {"name": " "}), "non-empty 'name'"),
        (EsignWebhooks.__new__(EsignWebhooks), "non-empty 'name'"),
        (type("Plain", (), {"name": "plain"}), "not a plugins.sdk.WebhookSource subclass"),
    ],
)
def test_register_webhook_sources_refuses_a_source_without_a_name(source: Any, reason: str) -> None:
    host = fresh_host()
    record = host.add_plugin("bad", WebhookPlugin(source))
    assert record.status == "quarantined"
    assert reason in (record.reason or "")
    assert host.webhook_sources == {}


def test_register_webhook_sources_refuses_a_name_taken_by_another_plugin() -> None:
    host = fresh_host()
    host.add_plugin("first", WebhookPlugin(EsignWebhooks))
    second = host.add_plugin("second", WebhookPlugin(type("Other", (WebhookSource,), {"name": "acme-esign"})))
    assert second.status == "quarantined"
    assert "already registered" in (second.reason or "")
    assert host.webhook_sources["acme-esign"].plugin == "first"


class CommandPlugin:
    def __init__(self, command: Any) -> None:
        self.command = command

    @hookimpl
    def register_commands(self, register: Any) -> None:
        register(self.command)


def test_register_commands_keeps_click_commands_by_name() -> None:
    host = fresh_host()
    record = host.add_plugin("cli", CommandPlugin(acme_sync))
    assert record.commands == ["acme-sync"]
    assert host.commands["acme-sync"].obj is acme_sync


def test_register_commands_refuses_non_commands_and_duplicates() -> None:
    host = fresh_host()
    assert host.add_plugin("not-a-command", CommandPlugin(lambda: None)).status == "quarantined"
    host.add_plugin("cli", CommandPlugin(acme_sync))
    duplicate = host.add_plugin("cli-again", CommandPlugin(acme_sync))
    assert duplicate.status == "quarantined"
    assert "already registered" in (duplicate.reason or "")


class RoutePlugin:
    def __init__(self, router: Any) -> None:
        self.router = router

    @hookimpl
    def register_routes(self, register: Any) -> None:
        register(self.router)


def test_register_routes_keeps_api_routers() -> None:
    host = fresh_host()
    record = host.add_plugin("web", RoutePlugin(acme_router))
    assert record.status == "loaded"
    assert [(entry.plugin, entry.obj) for entry in host.routers] == [("web", acme_router)]
    assert isinstance(host.routers[0].obj, APIRouter)


def test_register_routes_refuses_something_else() -> None:
    host = fresh_host()
    record = host.add_plugin("web", RoutePlugin({"path": "/x"}))
    assert record.status == "quarantined"
    assert "not a fastapi.APIRouter" in (record.reason or "")
    assert host.routers == []


def test_one_plugin_may_implement_every_registration_hook() -> None:
    class Everything:
        LENDHUB_HOOK_API = "1"

        @hookimpl
        def register_connectors(self, register: Any) -> None:
            register(AcmeLitigation)

        @hookimpl
        def register_webhook_sources(self, register: Any) -> None:
            register(EsignWebhooks)

        @hookimpl
        def register_commands(self, register: Any) -> None:
            register(acme_sync)

        @hookimpl
        def register_routes(self, register: Any) -> None:
            register(acme_router)

    host: PluginHost = make_plugin_manager(load_entrypoints=False, builtins=())
    record = host.add_plugin("all", Everything())
    assert record.status == "loaded", record.reason
    assert record.hooks == sorted(
        ["register_commands", "register_connectors", "register_routes", "register_webhook_sources"]
    )
    assert (record.connectors, record.webhook_sources, record.commands) == (
        ["acme-litigation"],
        ["acme-esign"],
        ["acme-sync"],
    )
