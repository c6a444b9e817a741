"""``lendhub webhooks …``: partner endpoints, secrets, the inbox, dead letters and replays.

The URL shape is ``/webhooks/{scheme}/{NAME}``: the source is the verification scheme (a
registered webhook source such as ``standard-webhooks``), the instance is the partner's NAME.
A generated ``whsec_`` secret is printed once, when it is created or rotated in, and never
again. Replays queue jobs; a running ``lendhub worker`` (or ``serve``) picks them up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.pii import KeyRingError
from hub.database import DatabaseUnavailable
from hub.runtime import Runtime
from hub.settings import SettingsError
from hub.webhooks.display import inbox_detail
from hub.webhooks.service import InboxConflict, InboxNotFound, ReplayRefused, WebhookService
from hub.webhooks.sources import SourceInstanceError, secret_field_kinds
from schemas.api.webhooks import InboxEventRead

from .common import parse_pairs, run_with_runtime, start_runtime
from .output import echo_json, echo_secret, echo_table, json_option

__all__ = ["webhooks"]

T = TypeVar("T")

_ERRORS = (
    SettingsError,
    DatabaseUnavailable,
    SourceInstanceError,
    InboxNotFound,
    InboxConflict,
    ReplayRefused,
    KeyRingError,  # a sealed body or payload this process's PII keys cannot open
)


async def _start_runtime() -> Runtime:
    """The runtime the commands use; tests replace it to bring their own plugin host."""
    return await start_runtime()


def _run(work: Callable[[WebhookService, AsyncSession], Awaitable[T]], *, commit: bool = False) -> T:
    """Run ``work`` in one session of a worker-less runtime; domain errors become click errors."""

    async def in_session(runtime: Runtime) -> T:
        service = WebhookService.from_runtime(runtime)
        async with service.sessions() as session:
            result = await work(service, session)
            if commit:
                await service.commit_and_notify(session)
            return result

    return run_with_runtime(in_session, errors=_ERRORS, start=lambda: _start_runtime())


async def _audit(session: AsyncSession, action: str, target_type: str, target_id: str, **after: Any) -> None:
    """An audit entry for a change made here, by the operator at this machine."""
    await audit.record(
        session, Actor.operator(), action, target_type=target_type, target_id=target_id, after=after or None
    )


def _since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time, got {value!r}", param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rows(items: list[dict[str, Any]], *keys: str) -> list[list[Any]]:
    return [[item.get(key) for key in keys] for item in items]


@click.group("webhooks")
def webhooks() -> None:
    """Partner webhook endpoints, their secrets, the inbox and its dead letters."""


@webhooks.command("add-source")
@click.argument("name")
@click.option("--scheme", required=True, help="The webhook source, e.g. standard-webhooks.")
@click.option("--set", "settings_", multiple=True, metavar="KEY=VALUE", help="A config field.")
@click.option(
    "--base-url", default="http://localhost:8000", show_default=True, help="Where partners reach the hub."
)
@click.option("--disabled", is_flag=True, help="Create it disabled (partners get 404).")
def add_source(name: str, scheme: str, settings_: tuple[str, ...], base_url: str, disabled: bool) -> None:
    """Create the endpoint NAME for a partner; prints its URL and, if generated, its secret (once)."""
    config = parse_pairs(settings_, "--set")

    async def work(service: WebhookService, session: AsyncSession) -> tuple[str, str | None]:
        kinds = secret_field_kinds(service.sources.source_class(scheme).Config)
        generate = bool(kinds) and not any(key in config for key in kinds)
        row, secret = await service.sources.add(
            session, source=scheme, name=name, config=config, enabled=not disabled, generate_secret=generate
        )
        await _audit(session, "webhooks.source_create", "webhook_source_instance", f"{scheme}/{name}")
        return f"/webhooks/{row.source}/{row.name}", secret

    path, secret = _run(work, commit=True)
    click.echo(f"url: {base_url.rstrip('/')}{path}")
    if secret:
        echo_secret("secret", secret, "give it to the partner now; it is not shown again")


@webhooks.command("rotate-secret")
@click.argument("name")
@click.option("--scheme", required=True, help="The webhook source of the endpoint.")
def rotate_secret(name: str, scheme: str) -> None:
    """Add a new secret in front; the previous one keeps verifying until retire-secret."""

    async def work(service: WebhookService, session: AsyncSession) -> str:
        _, secret = await service.sources.rotate(session, scheme, name)
        await _audit(session, "webhooks.source_rotate", "webhook_source_instance", f"{scheme}/{name}")
        return secret

    echo_secret(
        "secret",
        _run(work, commit=True),
        "both secrets verify now; run retire-secret once the partner signs with the new one",
    )


@webhooks.command("retire-secret")
@click.argument("name")
@click.option("--scheme", required=True, help="The webhook source of the endpoint.")
def retire_secret(name: str, scheme: str) -> None:
    """Keep only the newest secret."""

    async def work(service: WebhookService, session: AsyncSession) -> int:
        row = await service.sources.retire(session, scheme, name)
        await _audit(session, "webhooks.source_retire", "webhook_source_instance", f"{scheme}/{name}")
        return int(service.sources.describe(row)["secrets_active"])

    click.echo(f"secrets active: {_run(work, commit=True)}")


@webhooks.command("sources")
@json_option
def sources(as_json: bool) -> None:
    """List the configured endpoints (secrets masked)."""

    async def work(service: WebhookService, session: AsyncSession) -> list[dict[str, Any]]:
        return [service.sources.describe(row) for row in await service.sources.list(session)]

    found = _run(work)
    if as_json:
        echo_json(found)
        return
    echo_table(
        ["SOURCE", "NAME", "ENABLED", "SECRETS", "CREATED"],
        [
            [i["source"], i["name"], i["enabled"], i.get("secrets_active", "-"), i.get("created_at")]
            for i in found
        ],
        empty="no webhook endpoints; add one with `lendhub webhooks add-source`",
    )


@webhooks.command("inbox")
@click.option("--status", help="received, processing, processed, superseded, dead or discarded.")
@click.option("--source", help="Only this webhook source.")
@click.option("--instance", help="Only this instance.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0, 1_000_000), default=0)
@json_option
def inbox(
    status: str | None, source: str | None, instance: str | None, limit: int, offset: int, as_json: bool
) -> None:
    """List inbox events, oldest first (payloads left out)."""

    async def work(service: WebhookService, session: AsyncSession) -> dict[str, Any]:
        rows, total = await service.page(
            session, source=source, instance=instance, status=status, limit=limit, offset=offset
        )
        items = [InboxEventRead.model_validate(row, from_attributes=True).model_dump() for row in rows]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    page = _run(work)
    if as_json:
        echo_json(page)
        return
    echo_table(
        ["ID", "SOURCE", "INSTANCE", "EVENT", "TYPE", "STATUS", "ATTEMPTS", "RECEIVED"],
        [
            [
                i["id"],
                i["source"],
                i["instance"],
                i["event_id"],
                i["event_type"],
                i["status"],
                i["attempts"],
                i["created_at"],
            ]
            for i in page["items"]
        ],
        empty="no inbox events match",
    )
    if page["total"] > len(page["items"]):
        click.echo(f"{len(page['items'])} of {page['total']} shown (--limit, --offset)", err=True)


@webhooks.command("show")
@click.argument("inbox_id")
@click.option(
    "--reveal",
    "purpose",
    metavar="PURPOSE",
    help="Show payload and body in clear, stating why (audited); masked otherwise.",
)
def show(inbox_id: str, purpose: str | None) -> None:
    """One event with its payload and raw request (credential headers masked)."""

    async def work(service: WebhookService, session: AsyncSession) -> dict[str, Any]:
        return await inbox_detail(service, session, Actor.operator(), inbox_id, purpose=purpose)

    echo_json(_run(work, commit=purpose is not None))


@webhooks.command("replay")
@click.argument("inbox_id")
def replay(inbox_id: str) -> None:
    """Verify the stored request again and queue the event for processing."""

    async def work(service: WebhookService, session: AsyncSession) -> int:
        row = await service.replay(session, inbox_id)
        await _audit(session, "webhooks.replay", "webhook_inbox", row.id, replays=row.replays)
        return row.replays

    click.echo(f"queued {inbox_id} (replay {_run(work, commit=True)})")


@webhooks.command("replay-dead")
@click.option("--source", required=True, help="The webhook source whose dead letters to replay.")
@click.option("--since", "since_", required=True, help="ISO 8601 time (UTC if no offset).")
@click.option("--instance", help="Only this instance.")
@click.option("--dry-run", is_flag=True, help="List what would be replayed; change nothing.")
def replay_dead(source: str, since_: str, instance: str | None, dry_run: bool) -> None:
    """Replay every dead letter of a source received since a time."""
    since = _since(since_)

    async def work(service: WebhookService, session: AsyncSession) -> dict[str, Any]:
        matched, replayed, failed = await service.replay_dead(
            session, source=source, instance=instance, since=since, dry_run=dry_run
        )
        if not dry_run:
            await _audit(
                session,
                "webhooks.replay_dead",
                "webhook_source",
                source,
                instance=instance,
                since=since,
                replayed=replayed,
                failed=failed,
            )
        return {"dry_run": dry_run, "matched": matched, "replayed": replayed, "failed": failed}

    echo_json(_run(work, commit=not dry_run))


@webhooks.command("discard")
@click.argument("inbox_id")
@click.option("--reason", required=True, help="Why; kept on the event.")
def discard(inbox_id: str, reason: str) -> None:
    """Give up on an unfinished event."""

    async def work(service: WebhookService, session: AsyncSession) -> str:
        row = await service.discard(session, inbox_id, reason)
        await _audit(session, "webhooks.discard", "webhook_inbox", row.id, reason=reason)
        return row.status

    click.echo(f"{inbox_id}: {_run(work, commit=True)}")


@webhooks.command("stats")
@json_option
def stats(as_json: bool) -> None:
    """Inbox events per source, instance and status; refusals per reason."""

    async def work(service: WebhookService, session: AsyncSession) -> dict[str, Any]:
        return {"inbox": await service.status_counts(session), "refusals": await service.refusals(session)}

    counts = _run(work)
    if as_json:
        echo_json(counts)
        return
    echo_table(
        ["SOURCE", "INSTANCE", "STATUS", "EVENTS"],
        _rows(counts["inbox"], "source", "instance", "status", "count"),
        empty="the inbox is empty",
    )
    click.echo()
    echo_table(
        ["SOURCE", "INSTANCE", "REFUSED BECAUSE", "COUNT", "LAST"],
        [
            [r.get("source"), r.get("instance"), r.get("reason"), r.get("count"), r.get("last_at")]
            for r in counts["refusals"]
        ],
        empty="no refusals",
    )
