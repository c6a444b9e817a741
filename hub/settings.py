"""Settings from the environment and ``.env``; a bad value stops start-up with its name.

Everything has an embedded default so ``make run`` works on a fresh laptop: SQLite under ``var/``,
in-process workers, in-memory shared state. Setting ``LENDHUB_DATABASE_URL`` and
``LENDHUB_REDIS_URL`` switches the same code to PostgreSQL and Redis.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "load_settings"]

_DRIVERS = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _target_ok(item: str) -> bool:
    """``*``, an IP address or network, or a valid host name."""
    if item == "*":
        return True
    try:
        ipaddress.ip_network(item.strip("[]"), strict=False)
        return True
    except ValueError:
        pass
    labels = item.lower().rstrip(".").split(".")
    return len(item) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names each culprit and what is expected."""


class Settings(BaseSettings):
    """Process-wide settings; read once at start-up by ``load_settings``."""

    model_config = SettingsConfigDict(env_prefix="LENDHUB_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/lendhub.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    redis_url: str | None = Field(default=None, description="redis://host:port/db; unset = in-memory")
    redis_prefix: str = Field(
        default="lendhub",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="first part of every Redis key and stream; deployments sharing one Redis "
        "database each need their own",
    )
    load_plugins: str | None = Field(
        default=None,
        description="comma list of third-party distributions whose plugins load; empty = none; "
        "unset = all installed; the built-ins always load",
    )
    trace_plugins: bool = False
    strict_plugins: bool = False
    secret_key: SecretStr | None = Field(
        default=None,
        description="key that encrypts connector secrets at rest; unset = a key file under var/",
    )
    secret_key_file: Path = Path("var/secret.key")
    pii_keys: SecretStr | None = Field(
        default=None,
        description="keys that seal personal data at rest, KID:BASE64 comma list, newest first; "
        "unset = a key file under var/",
    )
    pii_index_key: SecretStr | None = Field(
        default=None, description="base64 key of the blind indexes (required with LENDHUB_PII_KEYS)"
    )
    pii_key_file: Path | None = Field(default=None, description="unset = pii.keys beside the secret key file")
    auth_keys: SecretStr | None = Field(
        default=None,
        description="keys that sign access tokens, comma list, newest first, 32+ bytes each; "
        "unset = a key file under var/",
    )
    auth_key_file: Path | None = Field(
        default=None, description="unset = auth.key beside the secret key file"
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_hours: int = Field(default=12, ge=1, le=24 * 90)
    login_max_failures: int = Field(default=5, ge=1, le=100, description="failed sign-ins before a lock")
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    allowed_hosts: str = Field(
        default="127.0.0.1,localhost,[::1]",
        description="comma list of Host header values the API answers (port ignored; '*' = any; "
        "'.example.com' = the domain and its subdomains)",
    )
    connectors_file: Path | None = Field(
        default=None, description="YAML file of connector instances applied at start-up"
    )
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    inprocess_workers: bool = Field(
        default=True, description="run job workers inside the API process (the embedded default)"
    )
    gc_threshold: int = Field(
        default=10_000,
        ge=0,
        description="allocations between young-generation garbage collections while serving "
        "(Python's default is 700); 0 leaves the interpreter's settings alone",
    )

    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024, description="larger bodies get 413")
    webhook_retry_schedule: str = Field(
        default="5,30,120,600,1800,7200",
        description="seconds between inbox processing attempts (jitter added); then dead letter",
    )
    webhook_dispatch_timeout_seconds: float = Field(
        default=60.0, gt=0, description="seconds a plugin may take for one event before it counts as failed"
    )
    webhook_dedupe_ttl_seconds: int = Field(default=86_400, ge=1, description="Redis fast-path memory")
    outbound_retry_schedule: str = Field(
        default="0,5,300,1800,7200,18000,36000,50400,72000,86400",
        description="seconds before each delivery attempt to a partner subscription (jitter added)",
    )
    outbound_timeout_seconds: float = Field(default=15.0, gt=0)
    outbound_disable_after_failures: int = Field(
        default=50, ge=1, description="consecutive failed attempts that auto-disable a subscription"
    )
    outbound_allow_private_targets: str = Field(
        default="",
        description="comma list of hosts or CIDRs a subscription may target although private or "
        "loopback ('*' for any; for tests and the sandbox only)",
    )

    documents_dir: Path = Field(
        default=Path("var/documents"),
        description="directory of the local document store (used unless LENDHUB_DOCUMENTS_S3_URL is set)",
    )
    documents_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        le=2 * 1024 * 1024 * 1024,
        description="largest accepted upload in bytes; reading stops at the limit",
    )
    documents_s3_url: str | None = Field(
        default=None, description="S3-compatible endpoint, http(s)://host[:port]; set = documents go there"
    )
    documents_s3_bucket: str | None = Field(default=None, description="bucket (must exist)")
    documents_s3_region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{1,40}$")
    documents_s3_prefix: str = Field(
        default="",
        pattern=r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})*/?)?$",
        description="key prefix inside the bucket, e.g. lendhub/",
    )
    documents_s3_access_key: SecretStr | None = Field(
        default=None, description="access key id; unset with the secret key = the AWS_* environment"
    )
    documents_s3_secret_key: SecretStr | None = None
    documents_s3_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    documents_s3_virtual_hosted: bool = Field(
        default=False, description="bucket.host style requests instead of host/bucket (AWS, OSS)"
    )

    @field_validator("webhook_retry_schedule", "outbound_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        try:
            seconds = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError("expected a comma list of seconds, e.g. 5,30,120") from None
        if not seconds or any(s < 0 for s in seconds):
            raise ValueError("expected at least one non-negative number of seconds")
        return value

    @field_validator("outbound_allow_private_targets")
    @classmethod
    def _targets(cls, value: str) -> str:
        bad = [item for item in (part.strip() for part in value.split(",")) if item and not _target_ok(item)]
        if bad:
            raise ValueError(
                f"{', '.join(repr(b) for b in bad)}: expected '*', host names, IP addresses or CIDRs "
                "(e.g. 127.0.0.1,10.0.0.0/8,partner.internal)"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(_DRIVERS):
            raise ValueError(f"expected a URL starting with one of {', '.join(_DRIVERS)}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a URL starting with redis://, rediss:// or unix://")
        return value

    @field_validator("documents_s3_url")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ValueError("expected http(s)://host[:port] without credentials (use the key variables)")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                "expected only scheme, host and port; the bucket goes in LENDHUB_DOCUMENTS_S3_BUCKET"
            )
        return value.rstrip("/")

    @field_validator("documents_s3_bucket")
    @classmethod
    def _s3_bucket(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _BUCKET.match(value) or ".." in value:
            raise ValueError("expected an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'")
        return value

    @model_validator(mode="after")
    def _s3_complete(self) -> Settings:
        if self.documents_s3_url and not self.documents_s3_bucket:
            raise ValueError("LENDHUB_DOCUMENTS_S3_URL needs LENDHUB_DOCUMENTS_S3_BUCKET")
        if (self.documents_s3_access_key is None) != (self.documents_s3_secret_key is None):
            raise ValueError(
                "LENDHUB_DOCUMENTS_S3_ACCESS_KEY and LENDHUB_DOCUMENTS_S3_SECRET_KEY "
                "are set together or not at all"
            )
        return self

    @model_validator(mode="after")
    def _pii_keys_pair(self) -> Settings:
        if (self.pii_keys is None) != (self.pii_index_key is None):
            raise ValueError("LENDHUB_PII_KEYS and LENDHUB_PII_INDEX_KEY are set together or not at all")
        return self

    @property
    def pii_key_path(self) -> Path:
        """Where the embedded default keeps the PII keys."""
        return self.pii_key_file or self.secret_key_file.with_name("pii.keys")

    @property
    def auth_key_path(self) -> Path:
        """Where the embedded default keeps the token-signing key."""
        return self.auth_key_file or self.secret_key_file.with_name("auth.key")

    @property
    def allowed_host_list(self) -> list[str]:
        """``allowed_hosts`` as lower-case names."""
        return [part.strip().lower() for part in self.allowed_hosts.split(",") if part.strip()]

    @property
    def webhook_retry_delays(self) -> list[float]:
        """``webhook_retry_schedule`` as seconds."""
        return [float(part) for part in self.webhook_retry_schedule.split(",") if part.strip()]

    @property
    def outbound_retry_delays(self) -> list[float]:
        """``outbound_retry_schedule`` as seconds."""
        return [float(part) for part in self.outbound_retry_schedule.split(",") if part.strip()]

    @property
    def embedded_database(self) -> bool:
        """The database is the embedded default (``LENDHUB_DATABASE_URL`` unset or set to it).

        Only that one is migrated in place by the processes that use it (``hub.schema``).
        """
        default: str = type(self).model_fields["database_url"].default
        return self.database_url == default

    @property
    def plugin_allow_list(self) -> list[str] | None:
        """Distributions named by ``LENDHUB_LOAD_PLUGINS``; ``None`` when unset (load all)."""
        if self.load_plugins is None:
            return None
        return [name.strip() for name in self.load_plugins.split(",") if name.strip()]


def _without_userinfo(value: Any) -> Any:
    """A URL with its ``user:password@`` masked, so an error never echoes a password."""
    if isinstance(value, str) and "@" in value and "://" in value:
        scheme, _, rest = value.partition("://")
        userinfo, at, host = rest.rpartition("@")
        if at and "/" not in userinfo:
            return f"{scheme}://***@{host}"
    return value


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation errors into one message naming every bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = error["loc"]
            name = "LENDHUB_" + "_".join(str(part) for part in loc).upper() if loc else "settings"
            secret = any(word in name for word in ("SECRET", "KEY")) or not loc
            shown = "***" if secret else repr(_without_userinfo(error.get("input")))
            lines.append(f"{name}: {error['msg']} (got {shown})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
