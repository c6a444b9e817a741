"""Event hooks: every plugin gets the event, failures stay with the plugin that raised."""

from __future__ import annotations

import logging

import pytest
from manager_stubs import fresh_host

from core.hookspecs import EVENT_HOOKS
from plugins.events import PluginFailure, deliver_event
from plugins.manager import PluginHost
from plugins.sdk.markers import hookimpl
from schemas.events import DomainEvent


def event_for(hook: str) -> DomainEvent:
    return DomainEvent(type=hook, subject_type="loan", subject_id="L-1", payload={"amount": "1000.00"})


class Recorder:
    """Implements every event hook, sync, appending (hook, event id) to ``seen``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def _record(self, hook: str, event: DomainEvent) -> None:
        self.seen.append((hook, str(event.id)))

    @hookimpl
    def application_submitted(self, event: DomainEvent) -> None:
        self._record("application_submitted", event)

    @hookimpl
    def application_stage_entered(self, event: DomainEvent) -> None:
        self._record("application_stage_entered", event)

    @hookimpl
    def application_decision_made(self, event: DomainEvent) -> None:
        self._record("application_decision_made", event)

    @hookimpl
    def application_decided(self, event: DomainEvent) -> None:
        self._record("application_decided", event)

    @hookimpl
    def contract_signed(self, event: DomainEvent) -> None:
        self._record("contract_signed", event)

    @hookimpl
    def loan_disbursed(self, event: DomainEvent) -> None:
        self._record("loan_disbursed", event)

    @hookimpl
    def repayment_posted(self, event: DomainEvent) -> None:
        self._record("repayment_posted", event)

    @hookimpl
    def delinquency_changed(self, event: DomainEvent) -> None:
        self._record("delinquency_changed", event)

    @hookimpl
    def webhook_subscription_disabled(self, event: DomainEvent) -> None:
        self._record("webhook_subscription_disabled", event)


@pytest.fixture
def recorded() -> tuple[PluginHost, Recorder]:
    host = fresh_host()
    recorder = Recorder()
    assert host.add_plugin("recorder", recorder).status == "loaded"
    return host, recorder


async def _delivered_once(recorded: tuple[PluginHost, Recorder], hook: str) -> None:
    host, recorder = recorded
    event = event_for(hook)
    assert await deliver_event(host, hook, event) == []
    assert recorder.seen == [(hook, str(event.id))]


async def test_deliver_application_submitted(recorded: tuple[PluginHost, Recorder]) -> None:
    await _delivered_once(recorded, "application_submitted")


async def test_deliver_application_decided(recorded: tuple[PluginHost, Recorder]) -> None:
    await _delivered_once(recorded, "application_decided")


async def test_deliver_contract_signed(recorded: tuple[PluginHost, Recorder]) -> None:
    await _delivered_once(recorded, "contract_signed")


async def test_deliver_loan_disbursed(recorded: tuple[PluginHost, Recorder]) -> None:
    await _delivered_once(recorded, "loan_disbursed")


async def test_deliver_repayment_posted(recorded: tuple[PluginHost, Recorder]) -> None:
    await _delivered_once(recorded, "repayment_posted")


async def test_deliver_delinquency_changed(recorded: tuple[PluginHost, Recorder]) -> None:
    await _delivered_once(recorded, "delinquency_changed")


def test_recorder_covers_every_event_hook() -> None:
    assert {name for name in EVENT_HOOKS if callable(getattr(Recorder, name, None))} == set(EVENT_HOOKS)


class FailingDisbursal:
    @hookimpl
    def loan_disbursed(self, event: DomainEvent) -> None:
        raise RuntimeError("ledger down")


class AsyncDisbursal:
    def __init__(self) -> None:
        self.awaited: list[str] = []

    @hookimpl
    async def loan_disbursed(self, event: DomainEvent) -> None:
        self.awaited.append(str(event.id))


class AsyncFailingDisbursal:
    @hookimpl
    async def loan_disbursed(self, event: DomainEvent) -> None:
        raise TimeoutError("vendor timed out")


async def test_loan_disbursed_failure_is_isolated_and_the_others_still_run(
    recorded: tuple[PluginHost, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    host, recorder = recorded
    async_plugin = AsyncDisbursal()
    host.add_plugin("failing", FailingDisbursal())  # called before the recorder (LIFO)
    host.add_plugin("async-failing", AsyncFailingDisbursal())
    host.add_plugin("async", async_plugin)
    event = event_for("loan_disbursed")
    caplog.set_level(logging.ERROR, logger="lendhub.plugins.events")

    failures = await deliver_event(host, "loan_disbursed", event)

    assert recorder.seen == [("loan_disbursed", str(event.id))]
    assert async_plugin.awaited == [str(event.id)]
    assert [(f.plugin, f.hook, f.event_id, f.error) for f in failures] == [
        ("async-failing", "loan_disbursed", event.id, "TimeoutError: vendor timed out"),
        ("failing", "loan_disbursed", event.id, "RuntimeError: ledger down"),
    ]
    assert all(isinstance(f, PluginFailure) and isinstance(f.exception, Exception) for f in failures)
    assert "plugin failing failed in loan_disbursed" in caplog.text
    assert "plugin async-failing failed in loan_disbursed" in caplog.text


async def test_redelivery_calls_every_plugin_again_with_the_same_event_id(
    recorded: tuple[PluginHost, Recorder],
) -> None:
    host, recorder = recorded
    event = event_for("repayment_posted")
    await deliver_event(host, "repayment_posted", event)
    await deliver_event(host, "repayment_posted", event)
    assert recorder.seen == [("repayment_posted", str(event.id))] * 2


async def test_event_with_no_implementations_delivers_nothing() -> None:
    assert await deliver_event(fresh_host(), "contract_signed", event_for("contract_signed")) == []


@pytest.mark.parametrize("name", ["register_connectors", "select_connector_instance", "loan_disbursd"])
async def test_deliver_event_refuses_a_hook_that_is_not_an_event_hook(name: str) -> None:
    with pytest.raises(ValueError, match="is not an event hook"):
        await deliver_event(fresh_host(), name, event_for("loan_disbursed"))
