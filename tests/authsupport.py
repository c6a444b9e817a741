"""Credentials for tests that drive the API: an API token with the roles a test needs.

Tokens are made through the same service the CLI uses (as the operator), so the suite exercises
the real authentication path on every API call rather than switching it off.
"""

from __future__ import annotations

import uuid
from typing import Any

from core.access import Actor
from core.access.service import create_token


async def token_headers(runtime: Any, *roles: str, branch: str | None = None) -> dict[str, str]:
    """``Authorization`` header of a new API token holding ``roles`` (admin by default)."""
    async with runtime.sessions() as session, session.begin():
        _, value = await create_token(
            session,
            Actor.operator("test"),
            name=f"test-{uuid.uuid4().hex[:10]}",
            roles=list(roles or ("admin",)),
            branch=branch,
        )
    return {"Authorization": f"Bearer {value}"}


async def authorise(client: Any, runtime: Any, *roles: str) -> None:
    """Give ``client`` an API token's header for every later request."""
    client.headers.update(await token_headers(runtime, *roles))
