"""Connector instances: an integrator's configured use of a connector class.

One class, many instances: two 百行 accounts are two rows naming the same slug. A row keeps the
non-secret config in clear (so operators can read it) and the secrets sealed by the hub's
:class:`~core.secretbox.SecretBox`; nothing here ever returns a secret value.

Errors say precisely what is wrong without echoing input values, which may be credentials:
an unknown slug lists the known ones; an invalid config names each field and the rule it broke.

Secrets are bound to the origin (scheme, host and port of ``base_url``) they were entered for. A
replace is the whole config: fields it leaves out take their defaults, never their stored values,
except secrets, which are kept only while the origin stays the same. A replace that moves the
instance to another origin must give every stored secret again, or it is refused and nothing
changes; otherwise 百行's password would follow a typo'd or hostile ``base_url``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.integrations.base import SLUG_PATTERN, Connector
from core.integrations.errors import (
    ConnectorError,
)
from core.models import ConnectorInstance
from core.secretbox import SecretBox, SecretBoxError
from plugins.check_advice import advice_for
from plugins.manager import PluginHost
from plugins.ownership import OwnerChange, current_owner, describe_owner, owner_change, pin_owner
from plugins.sdk import CallRecorder, HttpConnector, SharedState, secret_fields
from plugins.sdk.config import MASK, origin_of

__all__ = [
    "CheckResult",
    "ConnectorInstances",
    "DuplicateInstance",
    "InstanceDisabled",
    "InstanceError",
    "InvalidInstanceConfig",
    "OwnerChanged",
    "SecretsRequired",
    "UnknownConnector",
    "UnknownInstance",
]


class InstanceError(Exception):
    """Base of the configuration errors; ``problems`` lists each thing wrong, one per line."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message if not problems else f"{message}: " + "; ".join(problems))
        self.message = message
        self.problems = problems or []


class UnknownConnector(InstanceError):
    """No loaded plugin registered the slug."""


class InvalidInstanceConfig(InstanceError):
    """The config does not validate against the connector's ``Config``."""


class SecretsRequired(InvalidInstanceConfig):
    """A replace moves the instance to another origin without giving its stored secrets again.

    ``fields`` names the secret fields that must be given (the stored values are not used).
    """

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message, [f"{name}: must be given again for the new base_url" for name in fields])
        self.fields = fields


class DuplicateInstance(InstanceError):
    """An instance of that name exists already."""


class UnknownInstance(InstanceError):
    """No instance of that name."""


class InstanceDisabled(InstanceError):
    """The instance exists but an operator disabled it."""


class OwnerChanged(InstanceDisabled):
    """Another distribution (or a release out of the pinned range) now provides the connector.

    Raised before any secret is opened: the new provider's classes never see the credentials
    until an integrator confirms it (``plugins.ownership``).
    """

    def __init__(self, change: OwnerChange) -> None:
        super().__init__(change.describe())
        self.change = change


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found, in words an integrator can act on."""

    name: str
    ok: bool
    detail: str
    error_class: str | None = None
    latency_ms: float = 0.0


def _validation_problems(exc: ValidationError) -> list[str]:
    """Field and rule for every error; never the input, which may be a secret."""
    return [
        f"{'.'.join(str(part) for part in err['loc']) or '(config)'}: {err['msg']}" for err in exc.errors()
    ]


def _split(model: BaseModel) -> tuple[dict[str, Any], dict[str, str]]:
    """Public part of a config (secret fields removed) and the plain secret values."""
    names = secret_fields(type(model))
    secrets: dict[str, str] = {}
    for name in names:
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            secrets[name] = value.get_secret_value()
        elif isinstance(value, SecretBytes):
            secrets[name] = value.get_secret_value().decode("utf-8")
    public = {k: v for k, v in model.model_dump(mode="json").items() if k not in names}
    return public, secrets


class ConnectorInstances:
    """Configures, lists, builds and checks connector instances.

    Services never commit: the caller owns the session's unit of work. Built connectors are cached
    per instance and rebuilt when the row changes.

    Args:
        host: the plugin host whose registered classes instances may name.
        box: seals and opens the secrets column.
        http: the shared HTTP client injected into every HTTP connector.
        state: shared breaker, rate, lock and cache state.
        recorder: where every connector's call-log rows go.
    """

    def __init__(
        self,
        host: PluginHost,
        box: SecretBox,
        *,
        http: httpx.AsyncClient,
        state: SharedState,
        recorder: CallRecorder,
    ) -> None:
        self.host = host
        self.box = box
        self.http = http
        self.state = state
        self.recorder = recorder
        self._built: dict[str, tuple[Any, Connector]] = {}
        self._lock = asyncio.Lock()

    # -- configuration ---------------------------------------------------------------------------

    def connector_class(self, slug: str) -> type[Connector]:
        """The class for ``slug``, or UnknownConnector listing the slugs that are loaded."""
        try:
            return self.host.connector_class(slug)
        except KeyError:
            known = ", ".join(sorted(self.host.connectors)) or "none"
            raise UnknownConnector(
                f"connector {slug!r} is not registered by any loaded plugin", [f"known connectors: {known}"]
            ) from None

    def validate(self, slug: str, config: Mapping[str, Any]) -> BaseModel:
        """The config parsed by the connector's ``Config``, or InvalidInstanceConfig naming fields."""
        cls = self.connector_class(slug)
        try:
            return cls.Config.model_validate(dict(config))
        except ValidationError as exc:
            raise InvalidInstanceConfig(
                f"config for connector {slug!r} is invalid", _validation_problems(exc)
            ) from None

    async def add(
        self,
        session: AsyncSession,
        *,
        name: str,
        connector: str,
        config: Mapping[str, Any],
        enabled: bool = True,
        replace: bool = False,
    ) -> ConnectorInstance:
        """Create an instance, or with ``replace`` replace its whole config.

        On a replace, a secret field left out (or given as the ``***`` the API shows) keeps its
        stored value only if the effective ``base_url`` (defaults applied) has the stored origin;
        otherwise SecretsRequired names the secret fields to give again, and nothing changes.
        Other fields left out take their defaults.
        """
        if not SLUG_PATTERN.match(name):
            raise InvalidInstanceConfig(
                f"instance name {name!r} is invalid", ["use lower-case letters, digits, '-' or '_'"]
            )
        row = await self._row(session, name)
        if row is not None and not replace:
            raise DuplicateInstance(f"instance {name!r} exists already (connector {row.connector_slug!r})")
        if row is not None and row.connector_slug == connector:
            self._refuse_changed_owner(row)  # its stored secrets would reach the new owner's Config
        names = secret_fields(self.connector_class(connector).Config)
        given = {k: v for k, v in config.items() if not (k in names and v == MASK)}
        kept: dict[str, str] = {}
        if row is not None and row.connector_slug == connector and row.secrets_ciphertext:
            missing = names - given.keys()
            if missing:
                kept = {k: v for k, v in self._open(row).items() if k in missing}
        model = self.validate(connector, {**given, **kept})
        if row is not None and kept:
            self._check_same_origin(row, model, sorted(kept))
        public, secrets = _split(model)
        sealed = self.box.seal(secrets) if secrets else None
        if row is None:
            row = ConnectorInstance(name=name, connector_slug=connector)
            session.add(row)
        owner = current_owner(self.host, connector)
        if owner is not None and (row.connector_slug != connector or row.owner_state is None):
            pin_owner(row, owner, "configured")
        row.connector_slug = connector
        row.enabled = enabled
        row.config = public
        row.secrets_ciphertext = sealed
        await session.flush()
        self._built.pop(name, None)
        return row

    @staticmethod
    def _check_same_origin(row: ConnectorInstance, model: BaseModel, kept: list[str]) -> None:
        """Refuse to keep stored secrets for a config whose effective base URL has another origin.

        The model is validated, so a ``base_url`` left out is the connector's default: a replace
        cannot reset the host and keep the secrets.
        """
        old_url, new_url = row.config.get("base_url"), getattr(model, "base_url", None)
        if old_url is None or new_url is None or origin_of(str(old_url)) == origin_of(str(new_url)):
            return
        scheme, host, port = origin_of(str(new_url))
        raise SecretsRequired(
            f"instance {row.name!r} would move to {scheme}://{host}:{port}, but its secrets were "
            "entered for another host; give them again",
            kept,
        )

    async def set_enabled(self, session: AsyncSession, name: str, enabled: bool) -> ConnectorInstance:
        """Enable or disable an instance without touching its config."""
        row = await self.get(session, name)
        row.enabled = enabled
        await session.flush()
        self._built.pop(name, None)
        return row

    async def list(self, session: AsyncSession) -> list[ConnectorInstance]:
        """Every instance, by name."""
        rows = await session.scalars(select(ConnectorInstance).order_by(ConnectorInstance.name))
        return list(rows)

    async def get(self, session: AsyncSession, name: str) -> ConnectorInstance:
        """The row named ``name``, or UnknownInstance."""
        row = await self._row(session, name)
        if row is None:
            raise UnknownInstance(f"no connector instance named {name!r}")
        return row

    def describe(self, row: ConnectorInstance) -> dict[str, Any]:
        """The instance as the API and CLI show it: secrets only as '***'."""
        try:
            cls: type[Connector] | None = self.connector_class(row.connector_slug)
        except UnknownConnector:
            cls = None
        secret_names = sorted(secret_fields(cls.Config)) if cls is not None else []
        return {
            "name": row.name,
            "connector": row.connector_slug,
            "capability": cls.info.capability.value if cls is not None else None,
            "vendor": cls.info.vendor if cls is not None else None,
            "available": cls is not None,
            "enabled": row.enabled,
            "config": {**row.config, **{n: "***" for n in secret_names if row.secrets_ciphertext}},
            **describe_owner(row, self.host),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    # -- use ---------------------------------------------------------------------------------------

    async def connector(self, session: AsyncSession, name: str) -> Connector:
        """The live connector for an enabled instance, built once and reused."""
        row = await self.get(session, name)
        if not row.enabled:
            raise InstanceDisabled(f"connector instance {name!r} is disabled")
        self._refuse_changed_owner(row)
        version = (row.connector_slug, row.updated_at, row.config, row.secrets_ciphertext)
        async with self._lock:
            cached = self._built.get(name)
            if cached is not None and cached[0] == version:
                return cached[1]
            built = self._build(row)
            self._built[name] = (version, built)
            return built

    def peek(self, name: str) -> Connector | None:
        """The connector already built for ``name``, if any; for health reports that must not build."""
        cached = self._built.get(name)
        return cached[1] if cached is not None else None

    async def check(self, session: AsyncSession, name: str) -> CheckResult:
        """Try the instance's credentials against the vendor and say precisely what is wrong."""
        started = time.perf_counter()
        try:
            connector = await self.connector(session, name)
            await connector.check_connection()
        except InstanceError as exc:
            return CheckResult(name, False, str(exc), type(exc).__name__)
        except ConnectorError as exc:
            advice = advice_for(exc)
            elapsed = (time.perf_counter() - started) * 1000
            return CheckResult(name, False, f"{advice} ({exc.message})", exc.error_class, elapsed)
        elapsed = (time.perf_counter() - started) * 1000
        return CheckResult(name, True, "credentials accepted by the vendor", None, elapsed)

    async def aclose(self) -> None:
        """Close every built connector."""
        for _, built in self._built.values():
            await built.aclose()
        self._built.clear()

    # -- internals ---------------------------------------------------------------------------------

    async def _row(self, session: AsyncSession, name: str) -> ConnectorInstance | None:
        row: ConnectorInstance | None = await session.scalar(
            select(ConnectorInstance).where(ConnectorInstance.name == name)
        )
        return row

    def _refuse_changed_owner(self, row: ConnectorInstance) -> None:
        change = owner_change(row, self.host)
        if change is not None:
            raise OwnerChanged(change)

    def _open(self, row: ConnectorInstance) -> dict[str, str]:
        if not row.secrets_ciphertext:
            return {}
        try:
            return self.box.open(row.secrets_ciphertext)
        except SecretBoxError as exc:
            raise InvalidInstanceConfig(
                f"secrets of instance {row.name!r} cannot be read", [str(exc)]
            ) from None

    def _build(self, row: ConnectorInstance) -> Connector:
        cls = self.connector_class(row.connector_slug)
        model = self.validate(row.connector_slug, {**row.config, **self._open(row)})
        if issubclass(cls, HttpConnector):
            return cls(model, instance=row.name, http=self.http, state=self.state, recorder=self.recorder)  # type: ignore[arg-type]
        return cls(model, instance=row.name)
