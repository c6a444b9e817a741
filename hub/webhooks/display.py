"""How an inbox event is shown to people: masked by default, in clear only as an audited reveal.

Partner bodies hold personal data (names, ID numbers, phone numbers) and a whole document has no
meaningful masked form, so the payload keeps its shape with every value starred and the raw body
is left out. A caller holding ``pii.reveal.payload`` who states a purpose sees both, and the reveal
is audited in the caller's transaction. The API and the CLI both show events through here.
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor
from core.access.reveal import check_reveal, mask_tree, record_reveal
from core.webhooks.models import WebhookRequest
from schemas.api.webhooks import InboxEventRead

from .service import WebhookService

__all__ = ["describe_request", "inbox_detail"]


def describe_request(request: WebhookRequest) -> dict[str, Any]:
    """The raw request for display: masked headers, body as text when it is UTF-8."""
    try:
        text: str | None = request.body.decode("utf-8")
        encoded: str | None = None
    except UnicodeDecodeError:
        text, encoded = None, base64.b64encode(request.body).decode("ascii")
    return {
        "id": request.id,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "body_text": text,
        "body_base64": encoded,
        "body_bytes": len(request.body),
        "verification": request.verification,
        "received_at": request.received_at,
    }


async def inbox_detail(
    service: WebhookService, session: AsyncSession, actor: Actor, inbox_id: str, *, purpose: str | None
) -> dict[str, Any]:
    """One event as ``actor`` may see it; with ``purpose``, revealed and audited (caller commits).

    Raises:
        Forbidden: a purpose was given but the actor may not reveal partner bodies.
        Invalid: the purpose is empty or too short.
        InboxNotFound, KeyRingError: from the service.
    """
    reason = check_reveal(actor, "payload", purpose) if purpose is not None else None
    row, request = await service.get(session, inbox_id)
    shown = InboxEventRead.model_validate(row, from_attributes=True).model_dump()
    described = describe_request(request)
    if reason is None:
        described.update(body_text=None, body_base64=None)
        return {**shown, "payload": mask_tree(row.payload), "revealed": False, "request": described}
    await record_reveal(
        session,
        actor,
        field_class="payload",
        fields=["payload", "request.body"],
        purpose=reason,
        target_type="webhook_inbox",
        target_id=row.id,
    )
    return {**shown, "payload": row.payload, "revealed": True, "request": described}
