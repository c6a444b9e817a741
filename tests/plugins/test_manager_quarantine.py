"""Safe loading: a bad plugin is quarantined with its reason and the host still starts."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, ClassVar

import pytest
from manager_stubs import AcmeConfig, AcmeLitigation, ConnectorPlugin, fresh_host, make_bureau
from pydantic import SecretStr

from core.hookspecs import HOOK_API_VERSION
from core.integrations.base import Capability, ConnectorInfo
from core.integrations.ports import CreditBureau, Litigation
from plugins.events import deliver_event
from plugins.manager import PluginLoadError
from plugins.sdk.markers import hookimpl
from plugins.validation import hook_api_problem
from schemas.events import DomainEvent


class Exploding:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        raise RuntimeError("vendor SDK missing")


def test_plugin_raising_in_a_registration_hook_is_quarantined_and_others_load() -> None:
    host = fresh_host()
    bad = host.add_plugin("exploding", Exploding())
    good = host.add_plugin("acme", ConnectorPlugin(AcmeLitigation))
    assert bad.status == "quarantined"
    assert bad.reason == "register_connectors raised RuntimeError: vendor SDK missing"
    assert good.status == "loaded"
    assert not host.pm.has_plugin("exploding")
    assert [record.name for record in host.quarantined] == ["exploding"]


def test_quarantine_rolls_back_what_the_plugin_registered_before_failing() -> None:
    host = fresh_host()
    record = host.add_plugin("half", ConnectorPlugin(AcmeLitigation, object))
    assert record.status == "quarantined"
    assert host.connectors == {}
    assert record.connectors == []


def test_a_refusal_swallowed_by_the_plugin_still_quarantines_it() -> None:
    class Sneaky:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            with contextlib.suppress(ValueError):
                register(object)
            register(AcmeLitigation)

    record = fresh_host().add_plugin("sneaky", Sneaky())
    assert record.status == "quarantined"
    assert "is not a Connector subclass" in (record.reason or "")


class TwoPorts(CreditBureau, Litigation):
    info = make_bureau().info
    Config = AcmeConfig


class Mismatched(CreditBureau):
    info = ConnectorInfo(
        slug="mismatch", name="M", capability=Capability.LITIGATION, vendor="V", vendor_api_version="1"
    )
    Config = AcmeConfig


class PlainConfig(CreditBureau):
    info = make_bureau("plain").info
    Config: ClassVar[Any] = dict


class NoInfo(CreditBureau):
    Config = AcmeConfig


class Abstract(CreditBureau):
    info = make_bureau("abstract").info
    Config = AcmeConfig


@pytest.mark.parametrize(
    ("cls", "reason"),
    [
        (object, "is not a Connector subclass"),
        (make_bureau(), "is not a Connector subclass"),  # replaced below by an instance
        (TwoPorts, "must subclass exactly one capability port (found: CreditBureau, Litigation)"),
        (Mismatched, "capability is <Capability.LITIGATION: 'litigation'> but the class implements"),
        (PlainConfig, "Config is not a pydantic model"),
        (NoInfo, "info is not a ConnectorInfo"),
        (make_bureau("Bad Slug!"), "slug 'Bad Slug!' must be lower-case"),
        (make_bureau(vendor=" "), "vendor is empty"),
        (Abstract, "does not implement fetch_report"),
    ],
    ids=["object", "instance", "two-ports", "capability", "config", "no-info", "slug", "vendor", "abstract"],
)
def test_register_connectors_refuses_invalid_classes(cls: Any, reason: str) -> None:
    if reason == "is not a Connector subclass" and cls is not object:
        cls = cls(AcmeConfig())  # an instance, not a class
    record = fresh_host().add_plugin("bad", ConnectorPlugin(cls))
    assert record.status == "quarantined"
    assert reason in (record.reason or "")


def test_unknown_hook_is_caught_and_attributed_with_a_suggestion() -> None:
    class Typo:
        @hookimpl
        def register_conectors(self, register: Any) -> None:
            register(AcmeLitigation)

    host = fresh_host()
    record = host.add_plugin("typo", Typo())
    assert record.status == "quarantined"
    assert record.reason == (
        "implements unknown hook 'register_conectors' (did you mean 'register_connectors'?)"
    )
    assert record.hooks == ["register_conectors"]
    assert not host.pm.has_plugin("typo")
    host.pm.check_pending()  # nothing unverified is left behind


def test_optional_hooks_with_no_spec_are_allowed() -> None:
    class Optional:
        @hookimpl(optionalhook=True)
        def some_future_hook(self) -> None: ...

    assert fresh_host().add_plugin("optional", Optional()).status == "loaded"


def test_bad_hookimpl_signature_is_quarantined() -> None:
    class WrongArgs:
        @hookimpl
        def register_connectors(self, register: Any, colour: str) -> None: ...

    record = fresh_host().add_plugin("wrong", WrongArgs())
    assert record.status == "quarantined"
    assert "could not be registered: PluginValidationError" in (record.reason or "")


_MAJOR, _MINOR = (int(part) for part in HOOK_API_VERSION.split("."))
NEWER_MINOR = f"{_MAJOR}.{_MINOR + 1}"  # a plugin written for a host newer than this one


@pytest.mark.parametrize("declared", [f"{_MAJOR + 1}.0", "0.9", NEWER_MINOR, "1.0.0", "latest", 2])
def test_incompatible_hook_api_version_is_quarantined(declared: object) -> None:
    class Versioned(ConnectorPlugin):
        LENDHUB_HOOK_API = declared  # type: ignore[assignment]

    host = fresh_host()
    record = host.add_plugin("versioned", Versioned(AcmeLitigation))
    assert record.status == "quarantined"
    assert "LENDHUB_HOOK_API" in (record.reason or "") or "incompatible" in (record.reason or "")
    assert host.connectors == {}


@pytest.mark.parametrize("declared", ["1", "1.0", " 1.0 ", 1])
def test_compatible_hook_api_versions_load(declared: object) -> None:
    assert hook_api_problem(declared) is None

    class Versioned(ConnectorPlugin):
        LENDHUB_HOOK_API = declared  # type: ignore[assignment]

    record = fresh_host().add_plugin("versioned", Versioned(AcmeLitigation))
    assert record.status == "loaded"
    assert record.notes == []


async def test_quarantined_plugin_event_hooks_never_run() -> None:
    calls: list[str] = []

    class Broken:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            raise RuntimeError("boom")

        @hookimpl
        def loan_disbursed(self, event: DomainEvent) -> None:
            calls.append("broken")

    host = fresh_host()
    host.add_plugin("broken", Broken())
    failures = await deliver_event(
        host, "loan_disbursed", DomainEvent(type="loan_disbursed", subject_type="loan", subject_id="1")
    )
    assert failures == []
    assert calls == []


def test_builtin_that_fails_to_import_is_quarantined() -> None:
    host = fresh_host(builtins=("plugins.defaults", "connectors.no_such_vendor.plugin"))
    record = host.plugins["connectors.no_such_vendor.plugin"]
    assert record.status == "quarantined"
    assert (record.reason or "").startswith("failed to import: ModuleNotFoundError")
    assert host.plugins["plugins.defaults"].status == "loaded"


def test_strict_mode_raises_naming_the_plugin_and_reason() -> None:
    host = fresh_host(strict=True)
    with pytest.raises(PluginLoadError) as caught:
        host.add_plugin("exploding", Exploding())
    assert caught.value.plugin == "exploding"
    assert "vendor SDK missing" in caught.value.reason
    with pytest.raises(PluginLoadError, match="no_such_vendor"):
        fresh_host(strict=True, builtins=("connectors.no_such_vendor.plugin",))


def test_tracing_logs_hook_calls_with_secrets_masked(caplog: pytest.LogCaptureFixture) -> None:
    class Chooser:
        @hookimpl
        def select_connector_instance(self, capability: Any, product: str, instances: list[str]) -> None:
            return None

    host = fresh_host(trace=True)
    host.add_plugin("chooser", Chooser())
    caplog.set_level(logging.INFO, logger="lendhub.plugins.trace")
    host.pm.hook.select_connector_instance(
        capability=Capability.RISK_MODEL,
        product={"api_key": "k-123", "password": SecretStr("pw-456"), "code": "sme"},
        instances=[SecretStr("inst-secret")],
    )
    text = caplog.text
    assert "select_connector_instance" in text
    assert "chooser" in text
    assert "sme" in text
    for secret in ("k-123", "pw-456", "inst-secret"):
        assert secret not in text


def test_the_same_plugin_object_twice_is_quarantined_the_second_time() -> None:
    host = fresh_host()
    plugin = ConnectorPlugin(AcmeLitigation)
    host.add_plugin("once", plugin)
    again = host.add_plugin("twice", plugin)
    assert again.status == "quarantined"
    assert (
        again.reason
        == "could not be registered: ValueError: Plugin already registered under a different name: twice="
        + repr(plugin)
    )


def test_two_plugins_with_one_name_both_load_under_distinct_names() -> None:
    host = fresh_host()
    first = host.add_plugin("acme", ConnectorPlugin(AcmeLitigation), distribution="lendhub-acme")
    second = host.add_plugin("acme", ConnectorPlugin(make_bureau()), distribution="acme-fork")
    assert (first.name, first.status) == ("acme", "loaded")
    assert (second.name, second.status) == ("acme#2", "loaded")
    assert host.connectors["acme-bureau"].plugin == "acme#2"
