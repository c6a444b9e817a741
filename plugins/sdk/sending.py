"""One attempt on the wire: timeouts cut to the call's deadline, transport failures made typed.

httpx bounds each socket operation; a call also has a total deadline across its attempts. So
each attempt's connect/read/write/pool timeouts are cut to what remains of the deadline, the
whole answer is bounded by it too (a vendor dripping its answer byte by byte cannot outlive the
call), and every way the send can fail without an answer becomes a :class:`TransientError` whose
message names the call and the timeouts, never the request's content.
"""

from __future__ import annotations

import asyncio

import httpx

from core.integrations.errors import TransientError

__all__ = ["AttemptTimeouts"]


class AttemptTimeouts:
    """An instance's HTTP timeouts, and their share of a deadline for one attempt.

    Args:
        timeout: the configured per-operation timeouts.
        total: the call's total deadline in seconds, for messages.
    """

    def __init__(self, timeout: httpx.Timeout, total: float) -> None:
        self.timeout = timeout
        self.total = total
        self._as_dict = timeout.as_dict()
        self._longest = max(v for v in self._as_dict.values() if v is not None)

    def within(self, remaining: float) -> dict[str, float | None]:
        """The per-operation timeouts, none longer than ``remaining`` seconds."""
        if remaining < self._longest:
            return {k: remaining if v is None else min(v, remaining) for k, v in self._as_dict.items()}
        return self._as_dict

    async def send(
        self, http: httpx.AsyncClient, request: httpx.Request, *, remaining: float, label: str, connector: str
    ) -> httpx.Response:
        """Send ``request`` once, never following redirects, within ``remaining`` seconds.

        Args:
            http: the client to send with.
            request: the built request (its timeout extension is set here).
            remaining: seconds left of the call's deadline.
            label: ``<slug>/<instance> <operation>``, the start of every error message.
            connector: the connector slug the errors carry.

        Raises:
            TransientError: the deadline had passed, a timeout struck, or the transport failed.
        """
        if remaining <= 0:
            raise TransientError(f"{label}: total deadline reached", connector=connector)
        request.extensions["timeout"] = self.within(remaining)
        try:
            async with asyncio.timeout(remaining):
                return await http.send(request, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"{label}: {type(exc).__name__} (connect {self.timeout.connect}s, read {self.timeout.read}s)",
                connector=connector,
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{label}: {type(exc).__name__}", connector=connector) from exc
        except TimeoutError as exc:
            raise TransientError(
                f"{label}: no complete answer within the {self.total}s deadline", connector=connector
            ) from exc
