"""THE hook contracts between LendHub and its plugins.

Every function here is a pluggy hook specification: a promise about when the hub calls a hook,
with which arguments, and what it does with the answer. Plugins implement them with
``@hookimpl`` from ``plugins.sdk``. Arguments are passed by keyword and an implementation may
accept any subset of them, so a hook evolves by *adding* arguments without breaking plugins.

There are four kinds, grouped below and listed in ``REGISTRATION_HOOKS``, ``EVENT_HOOKS``,
``INBOUND_HOOKS`` and ``DECISION_HOOKS``:

- registration hooks take a ``register`` callback, so the host validates and de-duplicates in
  one place and can attribute a bad registration to the plugin that made it;
- event hooks receive a ``DomainEvent`` from the outbox, at least once, outside any request;
- inbound hooks receive a verified ``WebhookDelivery`` from the webhook inbox, at least once;
- decision hooks are ``firstresult``: the first plugin with an opinion wins and the built-in
  default in ``plugins.defaults`` is ``trylast``.

Versioning: ``HOOK_API_VERSION`` is ``MAJOR.MINOR``. A plugin declares the version it was
written against with a module attribute, ``LENDHUB_HOOK_API = "MAJOR.MINOR"``. The host accepts it when
the major versions match and the plugin's minor is not newer than the host's; anything else
quarantines the plugin. A plugin that declares nothing is accepted with a note. Adding a hook
or an argument bumps the minor; removing or changing one bumps the major.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from core.integrations.base import Capability, Connector
    from schemas.api.webhooks import WebhookDelivery
    from schemas.events import DomainEvent

__all__ = [
    "DECISION_HOOKS",
    "EVENT_HOOKS",
    "HOOK_API_ATTRIBUTE",
    "HOOK_API_VERSION",
    "INBOUND_HOOKS",
    "PROJECT_NAME",
    "REGISTRATION_HOOKS",
    "hookspec",
]

PROJECT_NAME = "lendhub"
"""The pluggy project name; must equal ``plugins.sdk.markers.PROJECT_NAME`` (core may not import it)."""

HOOK_API_VERSION = "1.3"
"""The hook API this host implements, ``MAJOR.MINOR``."""

HOOK_API_ATTRIBUTE = "LENDHUB_HOOK_API"
"""Name of the module attribute a plugin declares its hook-API version in."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)

REGISTRATION_HOOKS = (
    "register_connectors",
    "register_webhook_sources",
    "register_commands",
    "register_routes",
    "register_permissions",
    "register_flow_extensions",
)
EVENT_HOOKS = (
    "application_submitted",
    "application_stage_entered",
    "application_decision_made",
    "application_decided",
    "contract_signed",
    "loan_disbursed",
    "repayment_posted",
    "delinquency_changed",
    "webhook_subscription_disabled",
)
INBOUND_HOOKS = ("webhook_received",)
DECISION_HOOKS = ("select_connector_instance",)

# ---------------------------------------------------------------------------------------------
# Registration hooks: called once per plugin, synchronously, at start-up
# ---------------------------------------------------------------------------------------------


@hookspec
def register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the connector classes this plugin provides.

    Call ``register(cls)`` once per class. Register classes, not instances: the hub makes one
    instance per enabled configuration and injects its HTTP client, so two accounts at one
    vendor share a class. Do no I/O and read no settings here; start-up must stay fast and a
    vendor outage must not stop the hub from starting.

    What a class declares is what the hub relies on: an ``HttpConnector``'s ``sensitive_fields``
    and ``sensitive_headers`` (names, addresses, custom credential headers) are masked in the
    call log and logs, along with credential- and session-like names that need no declaring. The
    injected client keeps no cookies, so a connector that needs a vendor session keeps it itself
    and sends it as a ``Cookie`` header.

    Args:
        register: adds a ``Connector`` subclass. It raises ``RegistrationError`` when the class
            subclasses no port or several, its ``info`` has problems, its ``Config`` is not a
            pydantic model, its capability differs from its port's, or its slug is reserved for
            a LendHub built-in or claimed by another plugin too (then that plugin is quarantined
            as well: a contested slug goes to neither).

    Returns:
        Nothing; return values are ignored.

    Calling convention:
        Each implementation is called on its own, once, synchronously, while the host starts.
        If it raises, or any ``register`` call is refused, the whole plugin is quarantined and
        everything it registered is rolled back.

    Example:
        from plugins.sdk import hookimpl

        from .connector import AcmeCreditBureau

        @hookimpl
        def register_connectors(register):
            register(AcmeCreditBureau)

    Added in: hook API 1.0
    """


@hookspec
def register_webhook_sources(register: Callable[[type[Any]], None]) -> None:
    """Register the classes that verify and parse a partner's inbound webhooks.

    A webhook source knows one partner's signature scheme and envelope (e签宝 callbacks, an OA
    approval decision, a channel partner's leads). The hub mounts it under
    ``/webhooks/<name>``, verifies each delivery on its raw bytes and writes it to the inbox
    before answering.

    Args:
        register: adds a webhook source class. The class must have a non-empty ``name`` string,
            unique across plugins; otherwise ``RegistrationError`` is raised.

    Returns:
        Nothing; return values are ignored.

    Calling convention:
        Each implementation is called on its own, once, synchronously, at start-up. A failure
        quarantines the plugin and rolls back its registrations.

    Example:
        from plugins.sdk import hookimpl

        from .webhooks import EsignCallbacks

        @hookimpl
        def register_webhook_sources(register):
            register(EsignCallbacks)

    Added in: hook API 1.0
    """


@hookspec
def register_commands(register: Callable[[Any], None]) -> None:
    """Register click commands that appear under the ``lendhub`` command.

    Use it for operator tasks that belong to the plugin, such as importing a vendor's product
    list. Typed loosely because the domain does not depend on click.

    Args:
        register: adds a named ``click.Command`` (or group). Its name must be unique across
            plugins; otherwise ``RegistrationError`` is raised.

    Returns:
        Nothing; return values are ignored.

    Calling convention:
        Each implementation is called on its own, once, synchronously, when the CLI starts.
        A failure quarantines the plugin and rolls back its registrations.

    Example:
        import click
        from plugins.sdk import hookimpl

        @click.command(name="acme-sync")
        def acme_sync():
            "Fetch Acme's product catalogue."

        @hookimpl
        def register_commands(register):
            register(acme_sync)

    Added in: hook API 1.0
    """


@hookspec
def register_routes(register: Callable[[Any], None]) -> None:
    """Register FastAPI routers the hub mounts into its app.

    Use it for plugin-specific pages or APIs; mount them under ``/api/plugins/<plugin>/`` so
    they cannot collide with the hub's own paths. Typed loosely because the domain does not
    depend on FastAPI.

    Args:
        register: adds a ``fastapi.APIRouter``; anything else raises ``RegistrationError``.

    Returns:
        Nothing; return values are ignored.

    Calling convention:
        Each implementation is called on its own, once, synchronously, while the app is built.
        A failure quarantines the plugin and rolls back its registrations.

    Example:
        from fastapi import APIRouter
        from plugins.sdk import hookimpl

        router = APIRouter(prefix="/api/plugins/acme")

        @router.get("/status")
        def status():
            return {"ok": True}

        @hookimpl
        def register_routes(register):
            register(router)

    Added in: hook API 1.0
    """


# ---------------------------------------------------------------------------------------------
# Decision hooks: the first non-None answer wins
# ---------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def select_connector_instance(capability: Capability, product: str, instances: list[str]) -> str | None:
    """Choose which configured connector instance serves a capability for a product.

    A lender may configure several instances of a capability (two 百行 accounts, a bureau for
    consumer loans and another for SME loans). The domain asks this hook before each call, so
    routing rules live in a plugin instead of in the domain.

    Args:
        capability: the capability needed (``Capability.CREDIT_BUREAU`` ...).
        product: the loan product's code the call is for.
        instances: names of the enabled instances of that capability, in configuration order.

    Returns:
        One of ``instances``, or ``None`` to let the next plugin decide. A name not in
        ``instances`` is treated as an error by the caller.

    Calling convention:
        Stops at the first non-``None`` result, synchronously, in the calling process. The
        built-in default is ``trylast``: the instance named ``default`` if there is one, else
        the first configured, else ``None``.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        def select_connector_instance(capability, product, instances):
            if capability == "credit_bureau" and product.startswith("sme-"):
                return "baihang-sme" if "baihang-sme" in instances else None
            return None

    Added in: hook API 1.0
    """


@hookspec
def register_permissions(register: Callable[[str, str], None]) -> None:
    """Register the permission codes this plugin's routes and commands check.

    A plugin that adds routes (``register_routes``) guards them with its own codes, which then
    appear in ``GET /api/permissions`` and can be granted to roles like LendHub's own. Codes are
    ``<area>.<action>``, lower case; prefix them with your plugin's name so they cannot clash.

    Args:
        register: ``register(code, description)`` adds one code. A malformed code, one that
            LendHub or another plugin already registered, or an empty description raises
            ``RegistrationError`` and quarantines the plugin.

    Returns:
        Nothing; return values are ignored.

    Calling convention:
        Each implementation is called on its own, once, synchronously, at start-up. A failure
        quarantines the plugin and rolls back its registrations.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        def register_permissions(register):
            register("acme_scoring.run", "run the ACME scorecard on an application by hand")

    Added in: hook API 1.2
    """


@hookspec
def register_flow_extensions(register: Callable[[Any], None]) -> None:
    """Register conditions and actions approval flows may name.

    A condition (``core.flows.extensions.FlowCondition``) is a value flows read as
    ``checks.<name>`` — a blacklist hit, a policy deviation — computed from the application's
    condition values when a condition naming it is evaluated; keep it quick and free of I/O (a
    value that needs a vendor call belongs in a risk signal). An action
    (``core.flows.extensions.FlowAction``) is a step a stage runs when entered
    (``on_enter: [<name>]``), in a worker, at least once: be idempotent on
    ``(application_id, stage, round)``. A flow naming a condition or an action nobody registered
    is refused when saved or published.

    Args:
        register: ``register(extension)`` adds one ``FlowCondition`` or ``FlowAction``. A
            malformed name, one already taken, or any other object raises and quarantines the
            plugin.

    Returns:
        Nothing; return values are ignored.

    Calling convention:
        Each implementation is called on its own, once, synchronously, at start-up. A failure
        quarantines the plugin and rolls back its registrations.

    Example:
        from core.flows.extensions import FlowCondition
        from plugins.sdk import hookimpl

        @hookimpl
        def register_flow_extensions(register):
            register(FlowCondition("staff_borrower", "the borrower is on the staff list",
                                   lambda facts: facts["customer"].get("tags", []).count("staff") > 0))

    Added in: hook API 1.3
    """


# ---------------------------------------------------------------------------------------------
# Event hooks: every implementation called by a worker, from the outbox, at least once
# ---------------------------------------------------------------------------------------------


@hookspec
def application_submitted(event: DomainEvent) -> Awaitable[None] | None:
    """An application was submitted for review.

    Payload: ``application_id``, ``product``, ``amount`` (string decimal), ``channel``.

    Args:
        event: the domain event; ``event.type == "application_submitted"``, the subject is the
            application.

    Returns:
        ``None``, or an awaitable the worker awaits (``async def`` implementations work).

    Calling convention:
        Every implementation is called, by a worker, after the change is committed, never in
        the request. Delivery is at least once: be idempotent on ``event.id``. An exception is
        logged with the plugin's name and does not stop the other plugins.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def application_submitted(event):
            await notify_team(event.subject_id, dedupe_key=str(event.id))

    Added in: hook API 1.0
    """


@hookspec
def application_stage_entered(event: DomainEvent) -> Awaitable[None] | None:
    """An application entered a stage of its approval flow.

    Payload: ``application_id``, ``flow_key``, ``flow_version``, ``stage``, ``stage_name``,
    ``kind``, ``round``, ``assignees`` (usernames asked; empty for a queue until claimed),
    ``queue`` (usernames who may claim), ``cc`` (usernames to inform), ``due_at`` (ISO-8601 or
    ``null``), ``escalated`` (true when entered because an authority limit or SLA escalated).

    Args:
        event: the domain event; ``event.type == "application_stage_entered"``, the subject is
            the application.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def application_stage_entered(event):
            for user in event.payload["assignees"]:
                await push_todo(user, event.subject_id, key=str(event.id))

    Added in: hook API 1.3
    """


@hookspec
def application_decision_made(event: DomainEvent) -> Awaitable[None] | None:
    """One person decided at a stage (approve, reject, return; a committee member's vote).

    Payload: ``application_id``, ``stage``, ``round``, ``decision``, ``reason_codes``,
    ``decided_by``, ``on_behalf_of`` (the delegator, or ``null``), ``dossier_hash`` (SHA-256 of
    the case file the decision was made on), ``stage_outcome`` (``approved``, ``rejected``,
    ``returned``, or ``null`` while the stage still waits for others).

    Args:
        event: the domain event; ``event.type == "application_decision_made"``, the subject is
            the application.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        def application_decision_made(event):
            archive_opinion(event.subject_id, event.payload, key=str(event.id))

    Added in: hook API 1.3
    """


@hookspec
def application_decided(event: DomainEvent) -> Awaitable[None] | None:
    """An approval decision on an application was committed.

    Payload: ``application_id``, ``decision`` (``approved`` / ``declined``), ``reasons``,
    ``approved_amount`` (string decimal, when approved).

    Args:
        event: the domain event; ``event.type == "application_decided"``, the subject is the
            application.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        def application_decided(event):
            if event.payload["decision"] == "approved":
                enqueue_welcome_pack(event.subject_id, key=str(event.id))

    Added in: hook API 1.0
    """


@hookspec
def contract_signed(event: DomainEvent) -> Awaitable[None] | None:
    """Every party signed a loan contract; the e-signature vendor's callback confirmed it.

    Payload: ``contract_id``, ``application_id``, ``flow_id``, ``signed_at``.

    Args:
        event: the domain event; ``event.type == "contract_signed"``, the subject is the
            contract.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def contract_signed(event):
            await archive.store(event.payload["flow_id"], key=str(event.id))

    Added in: hook API 1.0
    """


@hookspec
def loan_disbursed(event: DomainEvent) -> Awaitable[None] | None:
    """A loan's principal was paid out and its schedule starts.

    Payload: ``loan_id``, ``amount`` (string decimal), ``currency``, ``disbursed_on``.

    Args:
        event: the domain event; ``event.type == "loan_disbursed"``, the subject is the loan.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def loan_disbursed(event):
            await ledger.post_disbursement(event.subject_id, idempotency_key=str(event.id))

    Added in: hook API 1.0
    """


@hookspec
def repayment_posted(event: DomainEvent) -> Awaitable[None] | None:
    """A repayment was applied to a loan.

    Payload: ``loan_id``, ``repayment_id``, ``amount`` (string decimal), ``principal``,
    ``interest``, ``penalty``, ``value_date``.

    Args:
        event: the domain event; ``event.type == "repayment_posted"``, the subject is the loan.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        def repayment_posted(event):
            send_receipt(event.payload["repayment_id"], key=str(event.id))

    Added in: hook API 1.0
    """


@hookspec
def delinquency_changed(event: DomainEvent) -> Awaitable[None] | None:
    """A loan moved between delinquency buckets (current, M1, M2, M3+) or five categories.

    Payload: ``loan_id``, ``dpd``, ``previous_bucket``, ``bucket``, ``five_category``.

    Args:
        event: the domain event; ``event.type == "delinquency_changed"``, the subject is the
            loan.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def delinquency_changed(event):
            if event.payload["bucket"] == "M3+":
                await open_collection_case(event.subject_id, key=str(event.id))

    Added in: hook API 1.0
    """


@hookspec
def webhook_received(delivery: WebhookDelivery) -> Awaitable[None] | None:
    """A partner's verified webhook event left the inbox for the plugins to act on.

    The hub verified the request on its raw bytes, stored it in the inbox before answering the
    partner, and a worker now hands each event to this hook: an e签宝 "sign flow finished"
    (the contract is signed), a 飞书 approval approved (the disbursement may proceed), a channel
    partner's new lead. Filter on ``delivery.source`` and ``delivery.event.type``; ignore what
    is not yours.

    Args:
        delivery: a ``schemas.api.webhooks.WebhookDelivery``: ``source`` and ``instance`` (the
            ``/webhooks/{source}/{instance}`` the partner called), ``event`` (``id``, ``type``,
            ``payload``, ``object_id``, ``object_version``, ``occurred_at``), ``inbox_id`` (the
            inbox row), ``received_at`` and ``replay`` (0, or how often an operator replayed it).

    Returns:
        ``None``, or an awaitable the worker awaits (``async def`` implementations work).

    Calling convention:
        Every implementation is called by a worker, after the event is committed to the inbox,
        never in the partner's request. Delivery is at least once (worker crashes, retries,
        operator replays): be idempotent on ``(delivery.source, delivery.instance,
        delivery.event.id)``. An exception is logged with the plugin's name, does not stop the
        other plugins, and makes the inbox retry the event on the configured schedule; when the
        schedule is exhausted it becomes a dead letter an operator can replay. An event older
        than one already processed for the same ``object_id`` is never delivered.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def webhook_received(delivery):
            if delivery.source == "esign" and delivery.event.type == "SIGN_FLOW_COMPLETE":
                await mark_contract_signed(delivery.event.object_id, key=delivery.event.id)

    Added in: hook API 1.0
    """


@hookspec
def webhook_subscription_disabled(event: DomainEvent) -> Awaitable[None] | None:
    """A partner's outbound webhook subscription was disabled, by the hub or by an operator.

    The hub stops delivering to a subscription whose endpoint answered ``410 Gone`` (``cause``
    ``gone``) or kept failing past the configured limit (``failing``); ``automatic`` is then
    true. An operator disabling it through the API or CLI raises the same event with ``cause``
    ``operator`` and ``automatic`` false. Use this hook to tell someone: an e-mail to the
    partner's contact, a ticket, a message to the integration team.

    Payload (``schemas.events.SubscriptionDisabled``): ``subscription_id``, ``name``, ``url``,
    ``cause``, ``automatic``, ``reason`` (in words), ``consecutive_failures``, ``last_status``
    (HTTP status of the last attempt or ``null``), ``last_error``.

    Args:
        event: the domain event; ``event.type == "webhook_subscription_disabled"``, the subject
            is the subscription.

    Returns:
        ``None``, or an awaitable the worker awaits.

    Calling convention:
        Every implementation is called by a worker from the outbox, at least once: be
        idempotent on ``event.id``. One plugin raising does not stop the others.

    Example:
        from plugins.sdk import hookimpl

        @hookimpl
        async def webhook_subscription_disabled(event):
            if event.payload["automatic"]:
                await page_integration_team(event.payload["url"], event.payload["reason"], key=str(event.id))

    Added in: hook API 1.0; payload typed (``cause``, ``url``, ``last_status``, ``last_error``) in 1.2
    """
