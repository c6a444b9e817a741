"""Who may register a connector slug: built-in slugs are reserved, a contested slug goes to nobody.

A slug is what connector instances name, so the plugin holding it receives their credentials.
These tests play the vendor who tries to take a slug that is not theirs.
"""

from __future__ import annotations

import itertools

import pytest
from manager_stubs import (
    AcmeLitigation,
    ConnectorPlugin,
    EsignWebhooks,
    acme_router,
    acme_sync,
    fresh_host,
    make_bureau,
)

from core.integrations.base import Connector
from plugins.claims import BUILTIN_CONNECTOR_SLUGS
from plugins.manager import DEFAULT_PLUGINS, PluginLoadError, make_plugin_manager
from plugins.sdk.markers import hookimpl


def test_reserved_slugs_are_exactly_the_builtin_connectors_slugs() -> None:
    host = make_plugin_manager(load_entrypoints=False, builtins=DEFAULT_PLUGINS)
    assert set(host.connectors) == BUILTIN_CONNECTOR_SLUGS
    assert all(host.plugins[entry.plugin].builtin for entry in host.connectors.values())


@pytest.mark.parametrize("slug", sorted(BUILTIN_CONNECTOR_SLUGS))
def test_a_third_party_plugin_cannot_take_a_builtin_slug_whose_builtin_failed_to_load(slug: str) -> None:
    # The built-in connector's module is missing (a broken install, an optional dependency): the
    # slug is free in the registry, which is exactly when a squatter would get it.
    host = fresh_host(builtins=("plugins.defaults", "connectors.no_such_vendor.plugin"))
    record = host.add_plugin(
        "aaa-squat", ConnectorPlugin(make_bureau(slug)), distribution="lendhub-aaa-squat", version="6.6.6"
    )
    assert record.status == "quarantined"
    assert record.reason == (
        f"register_connectors: connector slug {slug!r} is reserved for LendHub's built-in connectors"
    )
    assert slug not in host.connectors


def test_a_third_party_plugin_claiming_a_loaded_builtin_slug_is_refused_and_the_builtin_keeps_it() -> None:
    host = make_plugin_manager(load_entrypoints=False)
    builtin_cls = host.connector_class("pboc-credit")
    record = host.add_plugin("squat", ConnectorPlugin(make_bureau("pboc-credit")), distribution="squat")
    assert record.status == "quarantined"
    assert "reserved for LendHub's built-in connectors" in (record.reason or "")
    assert host.connector_class("pboc-credit") is builtin_cls
    assert host.plugins["connectors.pboc.plugin"].status == "loaded"


class Everything(ConnectorPlugin):
    """The rightful vendor: a connector slug plus a webhook source, a command and a router."""

    @hookimpl
    def register_webhook_sources(self, register: object) -> None:
        register(EsignWebhooks)  # type: ignore[operator]

    @hookimpl
    def register_commands(self, register: object) -> None:
        register(acme_sync)  # type: ignore[operator]

    @hookimpl
    def register_routes(self, register: object) -> None:
        register(acme_router)  # type: ignore[operator]


def test_a_slug_clash_quarantines_both_claimants_and_withdraws_what_the_first_registered() -> None:
    host = fresh_host()
    rightful = host.add_plugin(
        "acme", Everything(make_bureau(), AcmeLitigation), distribution="lendhub-acme", version="0.3.1"
    )
    assert rightful.status == "loaded"
    squatter = host.add_plugin(
        "aaa", ConnectorPlugin(make_bureau()), distribution="lendhub-aaa-squat", version="6.6.6"
    )

    assert (rightful.status, squatter.status) == ("quarantined", "quarantined")
    assert squatter.reason == (
        "register_connectors: connector slug 'acme-bureau' is also claimed by plugin 'acme' "
        "(lendhub-acme 0.3.1); a contested slug goes to neither plugin"
    )
    assert rightful.reason == (
        "connector slug 'acme-bureau' is also claimed by plugin 'aaa' "
        "(lendhub-aaa-squat 6.6.6); a contested slug goes to neither plugin"
    )
    # Nothing of either plugin is left: not the contested slug, not the rightful plugin's others.
    assert host.connectors == {}
    assert host.webhook_sources == {} and host.commands == {} and host.routers == []
    assert rightful.connectors == rightful.webhook_sources == rightful.commands == []
    assert not host.pm.is_registered(rightful.plugin)
    assert not host.pm.is_registered(squatter.plugin)


def test_a_third_claimant_of_a_contested_slug_is_quarantined_too() -> None:
    host = fresh_host()
    host.add_plugin("acme", ConnectorPlugin(make_bureau(), AcmeLitigation), distribution="lendhub-acme")
    host.add_plugin("aaa", ConnectorPlugin(make_bureau()), distribution="lendhub-aaa")
    late = host.add_plugin("zzz", ConnectorPlugin(make_bureau()), distribution="lendhub-zzz")
    assert late.status == "quarantined"
    assert "is also claimed by plugins 'acme', 'aaa'" in (late.reason or "")
    # A slug of a plugin withdrawn over a clash is not up for grabs either.
    grab = host.add_plugin("grab", ConnectorPlugin(AcmeLitigation), distribution="lendhub-grab")
    assert grab.status == "quarantined"
    assert "'acme-litigation' is also claimed by plugin 'acme'" in (grab.reason or "")
    assert host.connectors == {}


@pytest.mark.parametrize("order", list(itertools.permutations(["acme", "aaa", "other"])))
def test_the_outcome_of_a_clash_does_not_depend_on_loading_order(order: tuple[str, ...]) -> None:
    classes: dict[str, list[type[Connector]]] = {
        "acme": [make_bureau()],
        "aaa": [make_bureau()],
        "other": [AcmeLitigation],
    }
    host = fresh_host()
    for name in order:
        host.add_plugin(name, ConnectorPlugin(*classes[name]), distribution=f"lendhub-{name}")
    status = {name: host.plugins[name].status for name in classes}
    assert status == {"acme": "quarantined", "aaa": "quarantined", "other": "loaded"}
    assert list(host.connectors) == ["acme-litigation"]


def test_strict_mode_refuses_to_start_on_a_clash() -> None:
    host = fresh_host(strict=True)
    host.add_plugin("acme", ConnectorPlugin(make_bureau()))
    with pytest.raises(PluginLoadError, match="'acme-bureau' is also claimed by plugin 'acme'"):
        host.add_plugin("aaa", ConnectorPlugin(make_bureau()))
