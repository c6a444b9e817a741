"""``lendhub webhooks subscriptions …``: partner subscriptions from a shell.

``add`` prints the new ``whsec_`` secret once (as ``rotate-secret`` does); nothing else ever
shows a secret. URLs pass the same SSRF check as the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.webhooks_out import (
    DeliveryStatus,
    SubscriptionError,
    WebhookDelivery,
    create_subscription,
    disable_subscription,
    enable_subscription,
    get_subscription,
    list_deliveries,
    list_subscriptions,
    redeliver,
    retire_previous_secret,
    rotate_secret,
)
from hub.outbound.router import describe
from hub.outbound.ssrf import AllowList, TargetRefused, TargetUnresolvable, resolve_target
from hub.runtime import Runtime
from schemas.api.subscriptions import DeliveryRead

from .common import run_with_runtime
from .output import echo_json, echo_secret, echo_table, iso, json_option

__all__ = ["subscriptions"]

T = TypeVar("T")


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run ``work`` on a worker-less runtime; refusals become one-line errors."""
    return run_with_runtime(work, errors=(SubscriptionError, TargetRefused, TargetUnresolvable))


@click.group("subscriptions")
def subscriptions() -> None:
    """Partner endpoints that receive LendHub's events, signed (Standard Webhooks)."""


async def _audit(session: AsyncSession, verb: str, name: str, after: dict[str, Any] | None = None) -> None:
    """An audit entry for a change made here, by the operator at this machine."""
    await audit.record(
        session,
        Actor.operator(),
        f"subscriptions.{verb}",
        target_type="webhook_subscription",
        target_id=name,
        after=after,
    )


@subscriptions.command("add")
@click.argument("name")
@click.option("--url", required=True, help="The partner's http(s) endpoint.")
@click.option("--event", "events", multiple=True, required=True, help="Event type, 'loan.*' prefix, or '*'.")
@click.option("--description", default=None)
@click.option("--disabled", is_flag=True, help="Add it disabled.")
@json_option
def add(
    name: str, url: str, events: tuple[str, ...], description: str | None, disabled: bool, as_json: bool
) -> None:
    """Add subscription NAME; prints its whsec_ secret, which is not shown again."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        await resolve_target(url, AllowList.from_setting(runtime.settings.outbound_allow_private_targets))
        async with runtime.sessions() as session, session.begin():
            row, secret = await create_subscription(
                session,
                runtime.box,
                name=name,
                url=url,
                event_types=list(events),
                enabled=not disabled,
                description=description,
            )
            described = describe(row).model_dump(mode="json")
            await _audit(session, "create", name, after=described)
            return {**described, "secret": secret}

    created = _run(work)
    if as_json:
        echo_json(created)
        click.echo("secret shown once — give it to the partner now; it is not shown again", err=True)
        return
    click.echo(
        f"subscription {created['name']} added: {created['url']} ({', '.join(created['event_types'])})"
    )
    echo_secret("secret", created["secret"], "give it to the partner now; it is not shown again")


@subscriptions.command("list")
@json_option
def list_all(as_json: bool) -> None:
    """List subscriptions."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            return [describe(row).model_dump(mode="json") for row in await list_subscriptions(session)]

    found = _run(work)
    if as_json:
        echo_json(found)
        return
    echo_table(
        ["NAME", "URL", "EVENTS", "STATE", "FAILURES"],
        [
            [
                item["name"],
                item["url"],
                ", ".join(item["event_types"]),
                "enabled" if item["enabled"] else f"disabled: {item['disabled_reason']}",
                item["consecutive_failures"],
            ]
            for item in found
        ],
        empty="no webhook subscriptions; add one with `lendhub webhooks subscriptions add`",
    )


@subscriptions.command("disable")
@click.argument("name")
@click.option("--reason", default="disabled by an operator", show_default=True)
def disable(name: str, reason: str) -> None:
    """Stop delivering to NAME (pending deliveries become dead; redeliver them later)."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await disable_subscription(session, await get_subscription(session, name), reason)
            await _audit(session, "update", name, after={"enabled": False, "reason": reason})

    _run(work)
    click.echo(f"{name}: disabled")


@subscriptions.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Deliver to NAME again; its failure count starts from zero."""

    async def work(runtime: Runtime) -> None:
        async with runtime.sessions() as session, session.begin():
            await enable_subscription(session, await get_subscription(session, name))
            await _audit(session, "update", name, after={"enabled": True})

    _run(work)
    click.echo(f"{name}: enabled")


@subscriptions.command("rotate-secret")
@click.argument("name")
@click.option(
    "--overlap-hours", default=24.0, show_default=True, help="How long the old secret keeps signing."
)
@json_option
def rotate(name: str, overlap_hours: float, as_json: bool) -> None:
    """Give NAME a new secret (printed once); the old one signs too during the overlap."""
    if not 0 <= overlap_hours <= 720:
        raise click.BadParameter("between 0 and 720", param_hint="--overlap-hours")

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.sessions() as session, session.begin():
            row = await get_subscription(session, name)
            secret = await rotate_secret(session, runtime.box, row, overlap=timedelta(hours=overlap_hours))
            await _audit(session, "rotate_secret", name, after={"overlap_hours": overlap_hours})
            return {
                "name": row.name,
                "secret": secret,
                "previous_secret_expires_at": row.previous_secret_expires_at,
            }

    rotated = _run(work)
    if as_json:
        echo_json(rotated)
        click.echo("secret shown once — give it to the partner now", err=True)
        return
    until = iso(rotated["previous_secret_expires_at"])
    echo_secret(
        "secret", rotated["secret"], f"give it to the partner; the previous one also signs until {until}"
    )


@subscriptions.command("retire-secret")
@click.argument("name")
def retire(name: str) -> None:
    """Stop signing NAME's requests with its previous secret."""

    async def work(runtime: Runtime) -> bool:
        async with runtime.sessions() as session, session.begin():
            had = await retire_previous_secret(session, runtime.box, await get_subscription(session, name))
            await _audit(session, "retire_secret", name)
            return had

    had = _run(work)
    click.echo(f"{name}: previous secret retired" if had else f"{name}: no rotation was in progress")


@subscriptions.command("deliveries")
@click.argument("name")
@click.option("--status", type=click.Choice([s.value for s in DeliveryStatus]), default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@json_option
def deliveries(name: str, status: str | None, limit: int, as_json: bool) -> None:
    """NAME's latest deliveries, newest first."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            row = await get_subscription(session, name)
            found = await list_deliveries(session, row.id, status=status, limit=limit)
            return [DeliveryRead.model_validate(d).model_dump(mode="json") for d in found]

    found = _run(work)
    if as_json:
        echo_json(found)
        return
    echo_table(
        ["ID", "EVENT", "STATUS", "ATTEMPTS", "LAST STATUS", "LAST ERROR", "CREATED"],
        [
            [
                i["id"],
                i["event_type"],
                i["status"],
                i["attempts"],
                i["last_status_code"],
                i["last_error"],
                i["created_at"],
            ]
            for i in found
        ],
        empty=f"{name}: no deliveries",
    )


@subscriptions.command("redeliver")
@click.argument("name")
@click.argument("delivery_id")
def redeliver_one(name: str, delivery_id: str) -> None:
    """Queue one more attempt of DELIVERY_ID now (same webhook-id)."""

    async def work(runtime: Runtime) -> str:
        async with runtime.sessions() as session, session.begin():
            row = await get_subscription(session, name)
            if not row.enabled:
                raise click.ClickException(f"{name} is disabled; enable it first")
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.subscription_id != row.id:
                raise click.ClickException(f"{name} has no delivery {delivery_id!r}")
            job_id = await redeliver(session, delivery)
            await _audit(session, "redeliver", name, after={"delivery_id": delivery.id})
            return job_id

    click.echo(f"queued as job {_run(work)}")
