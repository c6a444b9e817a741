"""The configuration every HTTP connector shares, and safe echoing of configs.

A connector's ``Config`` subclasses :class:`HttpConnectorConfig` and adds its credentials as
``SecretStr`` fields. Secrets stay ``SecretStr`` everywhere so that a stray ``repr`` or log line
shows ``**********``; :func:`public_config` is how the API and CLI show a config back.

Credentials ride on every request to ``base_url``, so the URL is checked here, once, before any
instance exists: an absolute ``http(s)://`` URL with a host and no user name or password in it,
and plain ``http://`` only to this machine (a loopback address or ``localhost``) unless the
operator sets ``allow_insecure_http`` on the instance.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import Any, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr, model_validator

__all__ = [
    "MASK",
    "HttpConnectorConfig",
    "is_loopback_host",
    "origin_of",
    "public_config",
    "secret_fields",
    "secret_values",
]

MASK = "***"


class HttpConnectorConfig(BaseModel):
    """Settings of one HTTP connector instance; subclass it to add the vendor's fields.

    Args:
        base_url: where the vendor (or its simulator) lives; its host joins the egress allow-list.
            ``https://``, or ``http://`` to a loopback host (see ``allow_insecure_http``).
        allow_insecure_http: let this instance send its credentials over plain ``http://`` to a
            host that is not this machine (a gateway on a trusted network, say). Off by default.
        connect_timeout: seconds to establish a connection.
        read_timeout: seconds of silence tolerated while waiting for the answer.
        total_timeout: the deadline of one call, all retries and waits included.
        max_attempts: attempts per call, the first included.
        max_retry_after: the longest ``Retry-After`` honoured; a longer one fails the call.
        backoff_initial: first backoff window in seconds (full jitter, doubling per attempt).
        backoff_max: largest backoff window in seconds.
        rate_limit_per_second: vendor's request-rate budget for this instance; ``None`` for none.
        max_concurrency: calls in flight per process; ``None`` for no limit.
        breaker_failure_threshold: consecutive transient failures that open the breaker.
        breaker_cooldown_seconds: how long an open breaker refuses calls before probing.
        cost_per_call: what one call costs (in the lender's currency), for the cost budget.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    allow_insecure_http: bool = False
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    total_timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_retry_after: float = Field(default=30.0, ge=0)
    backoff_initial: float = Field(default=0.2, ge=0)
    backoff_max: float = Field(default=5.0, ge=0)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, ge=1)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=30.0, gt=0)
    cost_per_call: Decimal = Field(default=Decimal("0"), ge=0)

    @model_validator(mode="after")
    def _base_url_is_safe(self) -> Self:
        # The messages name the host at most: a URL may carry a credential in its path or query.
        try:
            url = httpx.URL(self.base_url)
        except httpx.InvalidURL:
            raise ValueError("base_url is not a valid URL") from None
        if url.scheme not in ("http", "https"):
            raise ValueError("base_url must start with http:// or https://")
        if not url.host:
            raise ValueError("base_url has no host")
        if url.userinfo:
            raise ValueError(
                "base_url must not hold a user name or password; put credentials in the secret fields"
            )
        if url.scheme == "http" and not self.allow_insecure_http and not is_loopback_host(url.host):
            raise ValueError(
                f"base_url: plain http:// to {url.host!r}, which is not this machine, would send the "
                "credentials in clear; use https://, or set allow_insecure_http: true on this "
                "instance if the network to it is trusted"
            )
        return self


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost`` or a loopback address (127.0.0.0/8, ::1).

    Only literal addresses count, not names that happen to resolve to one: a name's answer can
    change after the check.
    """
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, lower-cased, the port made explicit for http(s).

    Two base URLs with the same origin reach the same server; credentials are bound to it.
    """
    parsed = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host.rstrip(".").lower(), parsed.port or default


def secret_fields(model_cls: type[BaseModel]) -> set[str]:
    """Names of the fields of ``model_cls`` declared as ``SecretStr``/``SecretBytes`` (optional too)."""
    found: set[str] = set()
    for name, info in model_cls.model_fields.items():
        annotation = info.annotation
        args = getattr(annotation, "__args__", ())
        if annotation in (SecretStr, SecretBytes) or any(a in (SecretStr, SecretBytes) for a in args):
            found.add(name)
    return found


def secret_values(model: BaseModel) -> list[str]:
    """The plain values of every secret field set on ``model``, for masking them in logs."""
    values: list[str] = []
    for name in secret_fields(type(model)):
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, SecretBytes):
            values.append(value.get_secret_value().decode("utf-8", "replace"))
    return [v for v in values if v]


def public_config(model: BaseModel) -> dict[str, Any]:
    """The config as JSON-ready data with every secret replaced by ``"***"``.

    Unset optional secrets stay ``None`` so an operator can tell "not configured" from "hidden".
    """
    data: dict[str, Any] = model.model_dump(mode="json")
    for name in secret_fields(type(model)):
        if data.get(name) is not None:
            data[name] = MASK
    return data
