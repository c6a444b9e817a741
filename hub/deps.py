"""Dependency aliases for endpoints: the runtime, and a session whose unit of work is the request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from .runtime import Runtime

__all__ = ["RuntimeDep", "SessionDep"]


async def get_runtime(request: Request) -> Runtime:
    """The runtime the lifespan started."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AsyncIterator[AsyncSession]:
    """A session committed when the endpoint returns normally and rolled back when it raises."""
    async with runtime.sessions() as session, session.begin():
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
