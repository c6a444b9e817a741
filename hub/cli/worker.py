"""``lendhub worker``: run background jobs until SIGTERM or SIGINT, then stop gracefully."""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
from collections.abc import Callable

import click

from core.jobs import JobHandlers
from hub.database import DatabaseUnavailable
from hub.secrets import load_all_keys
from hub.settings import Settings, SettingsError, load_settings
from hub.workers.runner import run_worker

from .common import one_line

__all__ = ["HandlersFactory", "load_handlers", "make_worker_command", "worker"]

logger = logging.getLogger(__name__)

HandlersFactory = Callable[[Settings], JobHandlers]


def _no_handlers(settings: Settings) -> JobHandlers:
    logger.warning("no job handlers wired; jobs will fail until the host registers handlers")
    return JobHandlers()


def load_handlers(reference: str, settings: Settings) -> JobHandlers:
    """Resolve ``module:attribute`` to a ``JobHandlers``, calling it with settings if callable.

    Raises:
        click.BadParameter: the reference does not name a registry or factory.
    """
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise click.BadParameter(f"expected module:attribute, got {reference!r}", param_hint="--handlers")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load {reference!r}: {exc}", param_hint="--handlers") from exc
    handlers = target(settings) if callable(target) and not isinstance(target, JobHandlers) else target
    if not isinstance(handlers, JobHandlers):
        raise click.BadParameter(f"{reference!r} is not a JobHandlers", param_hint="--handlers")
    return handlers


def make_worker_command(build_handlers: HandlersFactory = _no_handlers) -> click.Command:
    """Build the ``worker`` command around the host's handler factory."""

    @click.command("worker")
    @click.option(
        "--concurrency", type=click.IntRange(1, 256), help="Jobs at once [LENDHUB_WORKER_CONCURRENCY]."
    )
    @click.option("--handlers", "handlers_ref", metavar="MODULE:ATTR", help="JobHandlers or factory to use.")
    @click.option(
        "--grace", type=float, default=30.0, show_default=True, help="Seconds to finish jobs on stop."
    )
    def worker(concurrency: int | None, handlers_ref: str | None, grace: float) -> None:
        """Run background jobs until SIGTERM or SIGINT."""
        try:
            settings = load_settings()
            load_all_keys(settings)  # one line naming a bad key setting, not a traceback below
        except SettingsError as exc:
            raise one_line(exc, str(exc)) from None
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)  # the schema check's set-up chatter
        handlers = load_handlers(handlers_ref, settings) if handlers_ref else build_handlers(settings)
        try:
            asyncio.run(_serve(settings, handlers, concurrency, grace))
        except (DatabaseUnavailable, SettingsError) as exc:
            raise one_line(exc, str(exc)) from None
        click.echo("worker stopped")

    return worker


async def _serve(settings: Settings, handlers: JobHandlers, concurrency: int | None, grace: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run_worker(settings, handlers, concurrency=concurrency, stop=stop, grace=grace)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


worker = make_worker_command()
