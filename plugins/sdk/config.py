"""The configuration every HTTP connector shares, and safe echoing of configs.

A connector's ``Config`` subclasses :class:`HttpConnectorConfig` and adds its credentials as
``SecretStr`` fields. Secrets stay ``SecretStr`` everywhere so that a stray ``repr`` or log line
shows ``**********``; :func:`public_config` is how the API and CLI show a config back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr

__all__ = ["HttpConnectorConfig", "public_config", "secret_fields", "secret_values"]

MASK = "***"


class HttpConnectorConfig(BaseModel):
    """Settings of one HTTP connector instance; subclass it to add the vendor's fields.

    Args:
        base_url: where the vendor (or its simulator) lives; its host joins the egress allow-list.
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
