"""Everything a LendHub process holds while it runs, built in one place and closed in reverse.

The API's lifespan, ``lendhub worker`` and the CLI commands that need the database all start a
:class:`Runtime`; nothing is built at import time, so tests make a fresh one each.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import pii
from core.access import Actor, Permission, PermissionRegistry
from core.access.auth import LoginPolicy
from core.access.service import ensure_builtin_roles
from core.access.tokens import SigningKeys
from core.documents import Storage
from core.jobs.handlers import JobHandlers
from core.jobs.periodic import schedule_periodic
from core.secretbox import SecretBox
from plugins.call_log import DatabaseCallRecorder
from plugins.instance_owners import reconcile_owners
from plugins.instances import ConnectorInstances, InstanceError
from plugins.manager import PluginHost, make_plugin_manager, warn_once
from plugins.ownership import owner_change, pinned_owner
from plugins.quarantine_audit import audit_quarantines
from plugins.sdk import CookielessAsyncClient, HttpConnector, SharedState
from schemas.api.plugins import InstanceOwnerChange, InstanceSummary

from .connectors_file import apply_connectors_file
from .database import check_database, make_engine, make_session_factory, mask_url
from .documents import make_storage
from .jobs import build_job_handlers
from .keyprints import KeySet, key_sets, outdated_keys, verify_keys
from .outbound import register_outbound_handlers
from .schema import ensure_schema
from .secrets import load_key_ring, load_secret_box, load_signing_keys
from .settings import Settings
from .state import RedisNamespace, make_shared_state, per_process_state_warning
from .workers.runner import JobBackend, make_job_queue

__all__ = ["Runtime", "permission_registry"]

log = logging.getLogger(__name__)


def permission_registry(host: PluginHost) -> PermissionRegistry:
    """LendHub's permission codes plus those the loaded plugins registered."""
    registry = PermissionRegistry()
    for code, registered in host.permissions.items():
        registry.add(Permission(code, registered.obj, owner=registered.plugin))
    return registry


@dataclass
class Runtime:
    """The process's database, plugins, shared state, HTTP client, connectors and job backend."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    host: PluginHost
    state: SharedState
    http: httpx.AsyncClient
    recorder: DatabaseCallRecorder
    box: SecretBox
    instances: ConnectorInstances
    handlers: JobHandlers
    jobs: JobBackend | None = None
    redis: Redis | None = None
    config_problems: list[str] = field(default_factory=list)
    signing_keys: SigningKeys = field(default_factory=lambda: SigningKeys([SigningKeys.generate()]))
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)
    permissions: PermissionRegistry = field(default_factory=PermissionRegistry)
    key_sets: list[KeySet] = field(default_factory=list)
    """This process's keys as ``/readyz`` compares them with the other processes' (``hub.keyprints``)."""
    schema_note: str | None = None
    _document_storage: Storage | None = None
    """What start-up did to the database's schema (the embedded default migrated), if anything."""

    @classmethod
    async def start(cls, settings: Settings, *, jobs: bool = True, host: PluginHost | None = None) -> Runtime:
        """Build and start everything; raises DatabaseUnavailable or PluginLoadError naming the culprit.

        A database not at this code's migration head is refused (``SchemaMismatch``), except the
        embedded default, which is migrated (``schema_note`` says so); so are keys that cannot open
        what other processes sealed (``KeysMismatch``, ``hub.keyprints``).

        Args:
            settings: the process settings.
            jobs: start the job backend (in-process workers, or the Redis producer/consumer).
            host: an already built plugin host (tests); built from the settings when ``None``.
        """
        # Every key first: a bad one stops start-up before anything is opened that must be closed.
        ring = load_key_ring(settings)
        box, signing_keys = load_secret_box(settings), load_signing_keys(settings)
        pii.install(ring)  # before anything reads or writes a sealed column
        engine = make_engine(settings.database_url)
        try:
            await check_database(engine)
            schema_note = await ensure_schema(engine, migrate=settings.embedded_database)
            keys = key_sets(settings, box=box, ring=ring, signing=signing_keys)
            await verify_keys(engine, keys)
        except BaseException:
            await engine.dispose()
            raise
        if schema_note:
            log.info("%s", schema_note)  # the commands show runtime.schema_note their own way
        sessions = make_session_factory(engine)
        if host is None:
            host = make_plugin_manager(
                load_plugins=settings.plugin_allow_list,
                trace=settings.trace_plugins,
                strict=settings.strict_plugins,
            )
        for record in host.quarantined:
            warn_once(f"plugin {record.name} quarantined: {record.reason}")  # once, if the host said it
        if warning := per_process_state_warning(settings):
            log.warning("%s", warning)
        state = make_shared_state(settings.redis_url, prefix=RedisNamespace(settings.redis_prefix).state)
        # Shared by every connector instance and every webhook delivery, so it keeps no cookies:
        # one vendor's session must never ride along to another vendor or a partner.
        http = CookielessAsyncClient(
            timeout=httpx.Timeout(10.0),
            limits=httpx.Limits(max_connections=200),
            follow_redirects=False,
        )
        recorder = DatabaseCallRecorder(sessions)
        recorder.start()
        instances = ConnectorInstances(host, box, http=http, state=state, recorder=recorder)
        handlers = build_job_handlers(host, settings)
        register_outbound_handlers(handlers, settings=settings, box=box, http_factory=lambda: http)
        runtime = cls(settings, engine, sessions, host, state, http, recorder, box, instances, handlers)
        runtime.permissions = permission_registry(host)
        runtime.signing_keys = signing_keys
        runtime.key_sets = keys
        runtime.login_policy = LoginPolicy(
            max_failures=settings.login_max_failures,
            lock_minutes=settings.login_lock_minutes,
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=timedelta(hours=settings.refresh_token_hours),
        )
        await runtime.seed_roles()
        runtime.schema_note = schema_note
        if settings.redis_url:
            runtime.redis = Redis.from_url(settings.redis_url)
        try:
            async with sessions() as session, session.begin():
                await audit_quarantines(session, host)
                await reconcile_owners(session, instances)  # before the connectors file re-applies rows
        except BaseException:
            await runtime.aclose()
            raise
        if settings.connectors_file is not None:
            runtime.config_problems = await apply_connectors_file(runtime, settings.connectors_file)
        if jobs:
            runtime.jobs = make_job_queue(settings, session_factory=sessions, handlers=handlers)
            await runtime.jobs.start()
            await schedule_periodic(sessions, handlers)  # the sweeper starts them when due
        return runtime

    async def seed_roles(self) -> None:
        """Create the built-in roles that are missing, audited as the system."""
        async with self.sessions() as session, session.begin():
            created = await ensure_builtin_roles(session, Actor.system("seed"))
        if created:
            log.info("created built-in roles: %s", ", ".join(created))

    def document_storage(self) -> Storage:
        """The document store of this process, made on first use from the settings."""
        if self._document_storage is None:
            self._document_storage = make_storage(self.settings)
        return self._document_storage

    async def aclose(self) -> None:
        """Stop workers, flush the call log, close connections; in reverse order of start."""
        if self.jobs is not None:
            await self.jobs.stop()
        await self.instances.aclose()
        await self.recorder.aclose()
        await self.http.aclose()
        await self.state.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, Any]:
        """What ``/readyz`` reports: ``ok``, ``degraded`` (serving; look at it) or ``unavailable``."""
        checks: dict[str, Any] = {}
        status = "ok"
        try:
            async with asyncio.timeout(3):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                outdated = await outdated_keys(self.engine, self.key_sets)
            checks["database"] = {"status": "ok"}
            if outdated:
                checks["keys"] = {"status": "unavailable", "error": "; ".join(outdated)}
                status = "unavailable"
        except Exception as exc:
            checks["database"] = {
                "status": "unavailable",
                "url": mask_url(self.settings.database_url),
                "error": f"{type(exc).__name__}: {exc}"[:300],
            }
            status = "unavailable"
        if self.redis is not None:
            try:
                async with asyncio.timeout(3):
                    await self.redis.ping()
                checks["redis"] = {"status": "ok"}
            except Exception as exc:
                checks["redis"] = {"status": "unavailable", "error": f"{type(exc).__name__}: {exc}"[:300]}
                status = "unavailable"
        summaries = await self.instance_summaries() if status != "unavailable" else {}
        breakers = {i.name: {"state": i.breaker, **i.detail} for items in summaries.values() for i in items}
        if any(b.get("state") not in ("closed", "disabled", "none") for b in breakers.values()):
            status = "degraded" if status == "ok" else status
        quarantined = {r.name: r.reason for r in self.host.quarantined}
        owner_changes = {
            i.name: {"connector": slug, **i.owner_change.model_dump(mode="json")}
            for slug, items in summaries.items()
            for i in items
            if i.owner_change is not None
        }
        if quarantined or self.config_problems or owner_changes:
            status = "degraded" if status == "ok" else status
        return {
            "status": status,
            "checks": checks,
            "breakers": breakers,
            "quarantined_plugins": quarantined,
            "connector_config_problems": self.config_problems,
            "connector_owner_changes": owner_changes,
        }

    async def instance_summaries(self) -> dict[str, list[InstanceSummary]]:
        """Configured instances by connector slug, each with its breaker state (for reports)."""
        report: dict[str, list[InstanceSummary]] = {}
        async with self.sessions() as session:
            for row in await self.instances.list(session):
                breaker, detail = "disabled", dict[str, object]()
                change = owner_change(row, self.host)
                if change is not None:
                    breaker, detail = "owner_changed", {"error": change.describe()}
                elif row.enabled:
                    try:
                        connector = await self.instances.connector(session, row.name)
                    except InstanceError as exc:
                        breaker, detail = "misconfigured", {"error": str(exc)}
                    else:
                        breaker = "none"
                        if isinstance(connector, HttpConnector):
                            detail = (await connector.breaker_snapshot()).as_dict()
                            breaker = str(detail.pop("state"))
                owner = pinned_owner(row)
                summary = InstanceSummary(
                    name=row.name,
                    enabled=row.enabled,
                    breaker=breaker,
                    detail=detail,
                    owner=None if owner is None else str(owner),
                    owner_change=None
                    if change is None
                    else InstanceOwnerChange(
                        configured=change.configured, current=change.current, detected_at=change.detected_at
                    ),
                )
                report.setdefault(row.connector_slug, []).append(summary)
        return report
