"""The inbox admin API under ``/api/webhooks``: inbox, dead letters, replay, discard, sources.

Unit of work: each endpoint commits its own session and wakes workers only after the commit,
so a replayed event is never picked up before it is visible.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.pii import KeyRingError
from core.webhooks.models import InboxStatus, WebhookInboxEvent
from schemas.api.common import Timestamp
from schemas.api.webhooks import (
    DiscardRequest,
    InboxEventDetail,
    InboxEventRead,
    InboxPage,
    RefusalCountRead,
    ReplayDeadRequest,
    ReplayDeadResult,
    ReplayResult,
    SecretRotated,
    SourceInstanceCreate,
    SourceInstanceCreated,
    SourceInstanceRead,
)

from ..api.paging import Limit, Offset
from ..api.problems import ProblemError
from ..api.security import require
from .deps import WebhookServiceDep
from .display import inbox_detail
from .service import InboxConflict, InboxNotFound, ReplayRefused
from .sources import (
    DuplicateSourceInstance,
    SourceInstanceError,
    UnknownSource,
    UnknownSourceInstance,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


async def _session(service: WebhookServiceDep) -> AsyncIterator[AsyncSession]:
    async with service.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


Session = Annotated[AsyncSession, Depends(_session)]


def _problem(exc: Exception) -> ProblemError:
    if isinstance(exc, InboxNotFound):
        return ProblemError(404, "webhook-inbox-not-found", "Inbox event not found", str(exc))
    if isinstance(exc, InboxConflict):
        return ProblemError(409, "webhook-inbox-conflict", "Inbox event is in another state", str(exc))
    if isinstance(exc, KeyRingError):  # names the missing key id, never a key or the data
        return ProblemError(500, "webhook-inbox-undecryptable", "Inbox event cannot be opened", str(exc))
    if isinstance(exc, ReplayRefused):
        return ProblemError(422, exc.slug, "Replay refused", str(exc))
    if isinstance(exc, UnknownSourceInstance):
        return ProblemError(404, "webhook-source-instance-not-found", "Source instance not found", str(exc))
    if isinstance(exc, DuplicateSourceInstance):
        return ProblemError(409, "webhook-source-instance-exists", "Source instance exists", str(exc))
    if isinstance(exc, UnknownSource):
        return ProblemError(
            422, "webhook-unknown-source", "Unknown webhook source", exc.message, problems=exc.problems
        )
    if isinstance(exc, SourceInstanceError):
        return ProblemError(
            422, "webhook-invalid-source-config", "Invalid source config", exc.message, problems=exc.problems
        )
    raise exc


def _read(row: WebhookInboxEvent) -> InboxEventRead:
    return InboxEventRead.model_validate(row, from_attributes=True)


@router.get("/inbox", dependencies=[require("webhooks.read")])
async def list_inbox(
    service: WebhookServiceDep,
    session: Session,
    source: str | None = None,
    instance: str | None = None,
    status: InboxStatus | None = None,
    since: Timestamp | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> InboxPage:
    """Inbox events, oldest first, filtered by source, instance, status and receipt time."""
    rows, total = await service.page(
        session,
        source=source,
        instance=instance,
        status=status.value if status else None,
        since=since,
        limit=limit,
        offset=offset,
    )
    return InboxPage(items=[_read(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/dead-letters", dependencies=[require("webhooks.read")])
async def list_dead_letters(
    service: WebhookServiceDep,
    session: Session,
    source: str | None = None,
    since: Timestamp | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> InboxPage:
    """Events whose retries are exhausted, with their last error."""
    rows, total = await service.page(
        session, source=source, status=InboxStatus.DEAD.value, since=since, limit=limit, offset=offset
    )
    return InboxPage(items=[_read(row) for row in rows], total=total, limit=limit, offset=offset)


@router.get("/inbox/{inbox_id}")
async def get_inbox_event(
    inbox_id: str,
    service: WebhookServiceDep,
    session: Session,
    actor: Actor = require("webhooks.read"),
    purpose: Annotated[str | None, Query(max_length=500, description="why the body is revealed")] = None,
) -> InboxEventDetail:
    """One event with its payload and raw request (credential headers masked).

    Partner bodies hold personal data, so by default the payload shows its shape with every value
    masked and the raw body is left out. With ``purpose`` a caller holding ``pii.reveal.payload``
    sees both in clear, and the reveal is audited with that purpose.
    """
    try:
        shown = await inbox_detail(service, session, actor, inbox_id, purpose=purpose)
    except (InboxNotFound, KeyRingError) as exc:
        raise _problem(exc) from None
    if shown["revealed"]:
        await session.commit()  # the reveal's audit entry
    return InboxEventDetail.model_validate(shown)


@router.post("/inbox/{inbox_id}/replay")
async def replay_inbox_event(
    inbox_id: str, service: WebhookServiceDep, session: Session, actor: Actor = require("webhooks.manage")
) -> ReplayResult:
    """Verify the stored raw request again (tolerance judged at receipt time) and process it anew."""
    try:
        row = await service.replay(session, inbox_id)
    except (InboxNotFound, InboxConflict, ReplayRefused) as exc:
        raise _problem(exc) from None
    await audit.record(
        session,
        actor,
        "webhooks.replay",
        target_type="webhook_inbox",
        target_id=row.id,
        after={"replays": row.replays},
    )
    await service.commit_and_notify(session)
    return ReplayResult(id=row.id, status=row.status, replays=row.replays)


@router.post("/replay-dead")
async def replay_dead_letters(
    body: ReplayDeadRequest,
    service: WebhookServiceDep,
    session: Session,
    actor: Actor = require("webhooks.manage"),
) -> ReplayDeadResult:
    """Replay every dead letter of a source since a time; ``dry_run`` only lists them."""
    matched, replayed, failed = await service.replay_dead(
        session,
        source=body.source,
        instance=body.instance,
        since=body.since,
        dry_run=body.dry_run,
        limit=body.limit,
    )
    if not body.dry_run:
        await audit.record(
            session,
            actor,
            "webhooks.replay_dead",
            target_type="webhook_source",
            target_id=body.source,
            after={"instance": body.instance, "since": body.since, "replayed": replayed, "failed": failed},
        )
    await service.commit_and_notify(session)
    return ReplayDeadResult(dry_run=body.dry_run, matched=matched, replayed=replayed, failed=failed)


@router.post("/inbox/{inbox_id}/discard")
async def discard_inbox_event(
    inbox_id: str,
    body: DiscardRequest,
    service: WebhookServiceDep,
    session: Session,
    actor: Actor = require("webhooks.manage"),
) -> InboxEventRead:
    """Give up on an unfinished event, with a reason kept on the row."""
    try:
        row = await service.discard(session, inbox_id, body.reason)
    except (InboxNotFound, InboxConflict) as exc:
        raise _problem(exc) from None
    await audit.record(
        session,
        actor,
        "webhooks.discard",
        target_type="webhook_inbox",
        target_id=row.id,
        after={"reason": body.reason},
    )
    await session.commit()
    return _read(row)


@router.get("/refusals", dependencies=[require("webhooks.read")])
async def list_refusals(service: WebhookServiceDep, session: Session) -> list[RefusalCountRead]:
    """How many requests were refused, per source, instance and reason."""
    return [RefusalCountRead.model_validate(item) for item in await service.refusals(session)]


@router.get("/sources", dependencies=[require("webhooks.read")])
async def list_source_instances(service: WebhookServiceDep, session: Session) -> list[SourceInstanceRead]:
    """Every configured source instance; secrets shown as ``***``."""
    rows = await service.sources.list(session)
    return [SourceInstanceRead.model_validate(service.sources.describe(row)) for row in rows]


@router.post("/sources", status_code=status.HTTP_201_CREATED)
async def add_source_instance(
    body: SourceInstanceCreate,
    service: WebhookServiceDep,
    session: Session,
    actor: Actor = require("webhooks.manage"),
) -> SourceInstanceCreated:
    """Configure a source instance; a generated ``whsec_`` secret is in this answer only."""
    try:
        row, secret = await service.sources.add(
            session,
            source=body.source,
            name=body.name,
            config=body.config,
            enabled=body.enabled,
            generate_secret=body.generate_secret,
        )
    except SourceInstanceError as exc:
        raise _problem(exc) from None
    await audit.record(
        session,
        actor,
        "webhooks.source_create",
        target_type="webhook_source_instance",
        target_id=f"{body.source}/{body.name}",
        after=service.sources.describe(row),
    )
    await session.commit()
    return SourceInstanceCreated(**service.sources.describe(row), secret=secret)


@router.post("/sources/{source}/{name}/rotate")
async def rotate_source_secret(
    source: str,
    name: str,
    service: WebhookServiceDep,
    session: Session,
    actor: Actor = require("webhooks.manage"),
) -> SecretRotated:
    """Add a new ``whsec_`` secret in front; the previous ones verify until retired."""
    try:
        row, secret = await service.sources.rotate(session, source, name)
    except SourceInstanceError as exc:
        raise _problem(exc) from None
    await audit.record(
        session,
        actor,
        "webhooks.source_rotate",
        target_type="webhook_source_instance",
        target_id=f"{source}/{name}",
    )
    await session.commit()
    return SecretRotated(**service.sources.describe(row), secret=secret)


@router.post("/sources/{source}/{name}/retire")
async def retire_source_secrets(
    source: str,
    name: str,
    service: WebhookServiceDep,
    session: Session,
    actor: Actor = require("webhooks.manage"),
) -> SourceInstanceRead:
    """Keep only the newest secret: partners must sign with it from now on."""
    try:
        row = await service.sources.retire(session, source, name)
    except SourceInstanceError as exc:
        raise _problem(exc) from None
    await audit.record(
        session,
        actor,
        "webhooks.source_retire",
        target_type="webhook_source_instance",
        target_id=f"{source}/{name}",
    )
    await session.commit()
    return SourceInstanceRead.model_validate(service.sources.describe(row))
