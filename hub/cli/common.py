"""What the CLI commands share: running work against a worker-less runtime, JSON output, KEY=VALUE.

One place turns the expected failures (bad settings, unreachable database, domain refusals) into
a one-line ``click`` error with exit status 1, so no command prints a traceback for bad input.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from core.i18n import negotiate
from core.pii import KeyRingError
from hub.database import DatabaseUnavailable
from hub.runtime import Runtime
from hub.settings import SettingsError, load_settings
from plugins.manager import PluginLoadError

from .output import echo_json

__all__ = [
    "cli_language",
    "debugging",
    "echo_json",
    "one_line",
    "parse_pairs",
    "read_in_session",
    "run_with_runtime",
    "start_runtime",
]

T = TypeVar("T")


async def start_runtime() -> Runtime:
    """A runtime without workers, from the environment's settings."""
    return await Runtime.start(load_settings(), jobs=False)


def run_with_runtime(
    work: Callable[[Runtime], Awaitable[T]],
    *,
    errors: tuple[type[Exception], ...] = (),
    start: Callable[[], Awaitable[Runtime]] | None = None,
) -> T:
    """Start a runtime, run ``work``, close it; expected errors become click errors.

    Args:
        work: what to do with the runtime.
        errors: the command's domain errors, reported as one line each.
        start: how to get a runtime (tests bring their own plugin host).
    """

    async def main() -> T:
        runtime = await (start or start_runtime)()
        if runtime.schema_note:
            click.echo(runtime.schema_note, err=True)
        try:
            return await work(runtime)
        finally:
            await runtime.aclose()

    caught: tuple[type[Exception], ...] = (
        SettingsError,
        DatabaseUnavailable,
        KeyRingError,
        PluginLoadError,
        *errors,
    )
    try:
        return asyncio.run(main())
    except DomainError as exc:
        raise one_line(exc, exc.message(cli_language())) from None
    except caught as exc:
        raise one_line(exc, str(exc)) from None


def read_in_session(read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``read`` in one session of a worker-less runtime, as :func:`run_with_runtime` does."""

    async def work(runtime: Runtime) -> T:
        async with runtime.sessions() as session:
            return await read(session)

    return run_with_runtime(work)


def debugging() -> bool:
    """Whether ``lendhub --debug`` (or ``LENDHUB_DEBUG=1``) asked for tracebacks."""
    return os.environ.get("LENDHUB_DEBUG", "").lower() in ("1", "true", "yes")


def one_line(exc: Exception, message: str) -> click.ClickException:
    """The error as one line for people; under ``--debug`` the original, traceback and all.

    Raises:
        Exception: ``exc`` itself when debugging.
    """
    if debugging():
        raise exc
    return click.ClickException(message)


def cli_language() -> str:
    """The operator's language from ``LC_ALL``/``LC_MESSAGES``/``LANG`` (``zh_CN.UTF-8`` → zh-CN)."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return negotiate(value.split(".")[0].replace("_", "-"))
    return negotiate(None)


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """``KEY=VALUE`` option values as a dict; a malformed one is a usage error naming ``option``."""
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
        pairs[key] = value
    return pairs
