"""Webhook source instances: configure, list, rotate and build them, secrets sealed at rest.

An instance is one partner's use of a source class, addressed as ``/webhooks/{source}/{name}``.
Secrets may be single ``SecretStr`` fields or lists of them: a list is the rotation set, newest
first, and every entry verifies. ``rotate`` puts a fresh ``whsec_`` secret in front and keeps
the older ones until ``retire``, so a partner can switch over without a window of refusals.

Built sources are cached per process for a few seconds: ingestion then costs no secret
decryption per request, and a change made elsewhere (another process, the CLI) is picked up
within ``cache_seconds``. Changes made through this object invalidate its cache at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets as random_secrets
import time
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.secretbox import SecretBox
from core.webhooks.models import WebhookSourceInstance
from plugins.manager import PluginHost
from plugins.sdk import WebhookSource, WebhookSourceConfig

__all__ = [
    "DuplicateSourceInstance",
    "InvalidSourceConfig",
    "SourceInstanceError",
    "SourceInstances",
    "UnknownSource",
    "UnknownSourceInstance",
    "generate_whsec",
    "secret_field_kinds",
]

MASK = "***"


class SourceInstanceError(Exception):
    """Base of source-instance configuration errors; ``problems`` lists each thing wrong."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message if not problems else f"{message}: " + "; ".join(problems))
        self.message = message
        self.problems = problems or []


class UnknownSource(SourceInstanceError):
    """No loaded plugin registered a webhook source of that name."""


class UnknownSourceInstance(SourceInstanceError):
    """The source exists but has no instance of that name (or it is disabled, for ingestion)."""


class DuplicateSourceInstance(SourceInstanceError):
    """An instance of that name exists already for the source."""


class InvalidSourceConfig(SourceInstanceError):
    """The config does not validate against the source's ``Config``, or cannot rotate."""


def generate_whsec(n_bytes: int = 32) -> str:
    """A new Standard Webhooks secret: ``whsec_`` and base64 of ``n_bytes`` random bytes (24–64)."""
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(n_bytes)).decode("ascii")


def _is_secret(annotation: Any) -> bool:
    return annotation in (SecretStr, SecretBytes)


def secret_field_kinds(config_cls: type[BaseModel]) -> dict[str, str]:
    """Secret fields of a source config: ``"one"`` for ``SecretStr``, ``"list"`` for ``list[SecretStr]``.

    ``Optional`` wrappers are looked through; ``plugins.sdk.secret_fields`` knows no lists.
    """
    kinds: dict[str, str] = {}
    for name, info in config_cls.model_fields.items():
        candidates = [info.annotation, *typing.get_args(info.annotation)]
        for candidate in candidates:
            if _is_secret(candidate):
                kinds[name] = "one"
                break
            origin = typing.get_origin(candidate)
            if origin in (list, tuple, typing.Sequence) and any(
                _is_secret(a) for a in typing.get_args(candidate)
            ):
                kinds[name] = "list"
                break
    return kinds


def _plain(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        return value.get_secret_value().decode("utf-8")
    return str(value)


def _validation_problems(exc: ValidationError) -> list[str]:
    """Field and rule of each error; never the input, which may be a secret."""
    return [f"{'.'.join(str(p) for p in err['loc']) or '(config)'}: {err['msg']}" for err in exc.errors()]


class SourceInstances:
    """Configures, lists, rotates and builds webhook source instances; never commits.

    Args:
        host: the plugin host whose registered source classes instances may name.
        box: seals and opens the secrets column.
        cache_seconds: how long a built source is reused by ``resolve``.
    """

    def __init__(self, host: PluginHost, box: SecretBox, *, cache_seconds: float = 5.0) -> None:
        self.host = host
        self.box = box
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, WebhookSource | None]] = {}
        self._generation = 0  # bumped by every change made through this object
        self._loading: dict[tuple[str, str], asyncio.Future[tuple[float, WebhookSource | None]]] = {}

    def source_class(self, source: str) -> type[WebhookSource]:
        """The class registered as ``source``; UnknownSource lists the registered names."""
        registered = self.host.webhook_sources.get(source)
        if registered is None:
            known = ", ".join(sorted(self.host.webhook_sources)) or "none"
            raise UnknownSource(f"webhook source {source!r} is not registered", [f"known sources: {known}"])
        cls: type[WebhookSource] = registered.obj
        return cls

    # -- reading -------------------------------------------------------------------------------

    async def row(self, session: AsyncSession, source: str, name: str) -> WebhookSourceInstance:
        """The instance row; UnknownSourceInstance when there is none."""
        row = await session.scalar(
            select(WebhookSourceInstance).where(
                WebhookSourceInstance.source == source, WebhookSourceInstance.name == name
            )
        )
        if row is None:
            raise UnknownSourceInstance(f"webhook source {source!r} has no instance {name!r}")
        return row

    async def list(self, session: AsyncSession, source: str | None = None) -> list[WebhookSourceInstance]:
        """Every instance (of one source), by source and name."""
        stmt = select(WebhookSourceInstance).order_by(
            WebhookSourceInstance.source, WebhookSourceInstance.name
        )
        if source is not None:
            stmt = stmt.where(WebhookSourceInstance.source == source)
        return list((await session.scalars(stmt)).all())

    def open_secrets(self, row: WebhookSourceInstance) -> dict[str, Any]:
        """The row's secrets in clear: strings, or lists of strings for rotation fields."""
        if not row.secrets_ciphertext:
            return {}
        opened: dict[str, Any] = {}
        for key, value in self.box.open(row.secrets_ciphertext).items():
            if key.startswith("list:"):
                opened[key.removeprefix("list:")] = json.loads(value)
            else:
                opened[key] = value
        return opened

    def build(self, row: WebhookSourceInstance) -> WebhookSource:
        """A source object configured from the row (secrets opened)."""
        cls = self.source_class(row.source)
        config = self._validate(cls, {**row.config, **self.open_secrets(row)})
        return cls(config, instance=row.name)

    async def resolve(
        self, sessions: async_sessionmaker[AsyncSession], source: str, name: str
    ) -> WebhookSource:
        """The enabled, built source for ingestion, from the short cache when fresh.

        Takes the session factory, not a session: a cache hit, the usual case, then costs no
        session at all. Concurrent misses for one instance share a single database read.

        Raises:
            UnknownSource: no such source class.
            UnknownSourceInstance: no such instance, or it is disabled.
        """
        self.source_class(source)
        key = (source, name)
        cached = self._cache.get(key)
        if cached is None or time.monotonic() - cached[0] > self.cache_seconds:
            cached = await self._refresh(sessions, key)
        if cached[1] is None:
            raise UnknownSourceInstance(f"webhook source {source!r} has no enabled instance {name!r}")
        return cached[1]

    async def _refresh(
        self, sessions: async_sessionmaker[AsyncSession], key: tuple[str, str]
    ) -> tuple[float, WebhookSource | None]:
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        task = asyncio.ensure_future(self._load(sessions, key, self._generation))
        self._loading[key] = task
        return await asyncio.shield(task)

    async def _load(
        self, sessions: async_sessionmaker[AsyncSession], key: tuple[str, str], generation: int
    ) -> tuple[float, WebhookSource | None]:
        try:
            async with sessions() as session:
                row = await session.scalar(
                    select(WebhookSourceInstance).where(
                        WebhookSourceInstance.source == key[0], WebhookSourceInstance.name == key[1]
                    )
                )
            built = self.build(row) if row is not None and row.enabled else None
            loaded = (time.monotonic(), built)
            if generation == self._generation:  # no change was made here while it loaded
                self._cache[key] = loaded
            return loaded
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]

    def _invalidate(self, source: str, name: str) -> None:
        """Forget the built source, and make loads already under way not cache what they read."""
        self._cache.pop((source, name), None)
        self._generation += 1
        self._loading.clear()

    def describe(self, row: WebhookSourceInstance) -> dict[str, Any]:
        """The instance for display: public config plus each secret field as ``***``."""
        opened = self.open_secrets(row)
        shown = dict(row.config)
        active = 0
        for key, value in opened.items():
            shown[key] = [MASK] * len(value) if isinstance(value, list) else MASK
            active += len(value) if isinstance(value, list) else 1
        return {
            "source": row.source,
            "name": row.name,
            "enabled": row.enabled,
            "path": f"/webhooks/{row.source}/{row.name}",
            "config": shown,
            "secrets_active": active,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    # -- writing -------------------------------------------------------------------------------

    async def add(
        self,
        session: AsyncSession,
        *,
        source: str,
        name: str,
        config: Mapping[str, Any],
        enabled: bool = True,
        generate_secret: bool = False,
    ) -> tuple[WebhookSourceInstance, str | None]:
        """Create an instance; with ``generate_secret`` a new ``whsec_`` secret fills the secret field.

        Returns:
            The row and the generated secret (``None`` when none was generated): show it once.
        """
        cls = self.source_class(source)
        existing = await session.scalar(
            select(WebhookSourceInstance.id).where(
                WebhookSourceInstance.source == source, WebhookSourceInstance.name == name
            )
        )
        if existing is not None:
            raise DuplicateSourceInstance(f"webhook source {source!r} already has an instance {name!r}")
        merged = dict(config)
        secret: str | None = None
        if generate_secret:
            field, kind = self._rotation_field(cls)
            secret = generate_whsec()
            merged[field] = [secret] if kind == "list" else secret
        model = self._validate(cls, merged)
        public, sealed = self._split(cls, model)
        row = WebhookSourceInstance(
            source=source, name=name, enabled=enabled, config=public, secrets_ciphertext=sealed
        )
        session.add(row)
        await session.flush()
        self._invalidate(source, name)
        return row, secret

    async def rotate(
        self, session: AsyncSession, source: str, name: str
    ) -> tuple[WebhookSourceInstance, str]:
        """Put a new ``whsec_`` secret in front of the rotation list; the older ones keep verifying."""
        row = await self.row(session, source, name)
        cls = self.source_class(source)
        field, kind = self._rotation_field(cls)
        if kind != "list":
            raise InvalidSourceConfig(
                f"webhook source {source!r} has one secret, not a rotation list",
                [f"set {field!r} again through the API instead"],
            )
        opened = self.open_secrets(row)
        secret = generate_whsec()
        opened[field] = [secret, *opened.get(field, [])]
        await self._store(row, cls, opened)
        return row, secret

    async def retire(self, session: AsyncSession, source: str, name: str) -> WebhookSourceInstance:
        """Drop every secret but the newest from the rotation list."""
        row = await self.row(session, source, name)
        cls = self.source_class(source)
        field, kind = self._rotation_field(cls)
        opened = self.open_secrets(row)
        if kind == "list" and opened.get(field):
            opened[field] = opened[field][:1]
        await self._store(row, cls, opened)
        return row

    async def set_enabled(
        self, session: AsyncSession, source: str, name: str, enabled: bool
    ) -> WebhookSourceInstance:
        """Enable or disable an instance; a disabled one answers 404 to partners."""
        row = await self.row(session, source, name)
        row.enabled = enabled
        await session.flush()
        self._invalidate(source, name)
        return row

    async def _store(
        self, row: WebhookSourceInstance, cls: type[WebhookSource], secrets: dict[str, Any]
    ) -> None:
        model = self._validate(cls, {**row.config, **secrets})
        _, row.secrets_ciphertext = self._split(cls, model)
        self._invalidate(row.source, row.name)

    def _rotation_field(self, cls: type[WebhookSource]) -> tuple[str, str]:
        kinds = secret_field_kinds(cls.Config)
        if not kinds:
            raise InvalidSourceConfig(f"webhook source {cls.name!r} has no secret field to generate")
        lists = [name for name, kind in kinds.items() if kind == "list"]
        name = lists[0] if lists else next(iter(kinds))
        return name, kinds[name]

    def _validate(self, cls: type[WebhookSource], config: Mapping[str, Any]) -> WebhookSourceConfig:
        try:
            return cls.Config.model_validate(dict(config))
        except ValidationError as exc:
            raise InvalidSourceConfig(
                f"config for webhook source {cls.name!r} is invalid", _validation_problems(exc)
            ) from None

    def _split(self, cls: type[WebhookSource], model: BaseModel) -> tuple[dict[str, Any], str | None]:
        kinds = secret_field_kinds(type(model))
        sealed: dict[str, str] = {}
        for name, kind in kinds.items():
            value = getattr(model, name, None)
            if value is None:
                continue
            if kind == "list":
                sealed[f"list:{name}"] = json.dumps([_plain(item) for item in value])
            else:
                sealed[name] = _plain(value)
        public = {k: v for k, v in model.model_dump(mode="json").items() if k not in kinds}
        return public, (self.box.seal(sealed) if sealed else None)
