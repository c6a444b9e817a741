"""Fault injection for vendor simulators, as plain ASGI so the SDK stays framework-free.

Every simulator wraps its app in :class:`FaultInjector`. Faults come from three places, first
match wins: the ``X-Sandbox-Fault`` request header (per request, for manual poking with curl), a
queue of planned faults (``plan.push("503", "503")`` — tests), or a standing fault set at start
(``lendhub sandbox --fault latency:0.2``). A fault is a short spec:

==================  =========================================================================
``503`` / ``500``   that status with a small JSON body
``429:2``           429 with ``Retry-After: 2``
``timeout:5``       wait 5 s before answering normally (longer than the client's read timeout)
``latency:0.3``     wait 0.3 s, then answer normally
``malformed``       HTTP 200 with an HTML body where the vendor sends JSON
==================  =========================================================================
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULT_HEADER", "FaultInjector", "FaultPlan", "parse_fault"]

FAULT_HEADER = "x-sandbox-fault"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Fault:
    """A parsed fault spec."""

    kind: str
    value: float = 0.0


def parse_fault(spec: str) -> Fault:
    """Parse a fault spec; ``ValueError`` naming the accepted forms when it is not one."""
    kind, _, raw = spec.strip().partition(":")
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        raise ValueError(f"fault {spec!r}: the value after ':' must be a number") from None
    if kind.isdigit() and 400 <= int(kind) <= 599:
        return Fault(kind, value)
    if kind in ("timeout", "latency", "malformed"):
        return Fault(kind, value or (30.0 if kind == "timeout" else 0.0))
    raise ValueError(f"fault {spec!r}: expected a status (503, 429:2), timeout:S, latency:S or malformed")


@dataclass
class FaultPlan:
    """Faults a test or operator arranges; ``path_filter`` limits queued faults to matching paths."""

    standing: Fault | None = None
    queued: deque[Fault] = field(default_factory=deque)
    path_filter: str = ""
    served: int = 0

    def push(self, *specs: str, path_filter: str | None = None) -> None:
        """Apply these faults, in order, to the next matching requests."""
        if path_filter is not None:
            self.path_filter = path_filter
        self.queued.extend(parse_fault(spec) for spec in specs)

    def clear(self) -> None:
        """Drop queued and standing faults."""
        self.queued.clear()
        self.standing = None
        self.path_filter = ""

    def take(self, path: str, header: str | None) -> Fault | None:
        """The fault for this request, if any (consuming a queued one)."""
        if header:
            return parse_fault(header)
        if self.queued and self.path_filter in path:
            return self.queued.popleft()
        return self.standing


class FaultInjector:
    """ASGI middleware that answers with planned faults instead of (or before) the vendor logic."""

    def __init__(self, app: ASGIApp, plan: FaultPlan | None = None, *, standing: str | None = None) -> None:
        self.app = app
        self.plan = plan or FaultPlan()
        if standing:
            self.plan.standing = parse_fault(standing)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI event, answering with a fault when one is due."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next(
            (
                v.decode("latin-1")
                for k, v in scope.get("headers", [])
                if k.decode("latin-1").lower() == FAULT_HEADER
            ),
            None,
        )
        try:
            fault = self.plan.take(scope.get("path", ""), header)
        except ValueError as exc:
            await _answer(send, 400, b'{"error": "%s"}' % str(exc).encode(), b"application/json")
            return
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.plan.served += 1
        if fault.kind in ("timeout", "latency"):
            await asyncio.sleep(fault.value)
            await self.app(scope, receive, send)
        elif fault.kind == "malformed":
            await _answer(send, 200, b"<html><body>502 Bad Gateway (proxy)</body></html>", b"text/html")
        else:
            headers = [(b"retry-after", str(int(fault.value)).encode())] if fault.kind == "429" else []
            body = b'{"error": "sandbox fault %s"}' % fault.kind.encode()
            await _answer(send, int(fault.kind), body, b"application/json", headers)


async def _answer(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
