"""The guards one HTTP connector instance is wired with, built from its config.

Every call of an :class:`~plugins.sdk.http.HttpConnector` meets the same four: the egress
allow-list, the circuit breaker, the rate and concurrency limiter, and the retry policy. They are
made here, once per instance, from :class:`~plugins.sdk.config.HttpConnectorConfig`, so the
connector module reads as the road a call takes and this one as what stands on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from .breaker import CircuitBreaker
from .config import HttpConnectorConfig
from .egress import EgressPolicy
from .limits import Limiter
from .retry import RetryPolicy
from .state import SharedState

__all__ = ["Guards"]


@dataclass(frozen=True)
class Guards:
    """An instance's egress policy, breaker, limiter and retry policy."""

    egress: EgressPolicy
    breaker: CircuitBreaker
    limiter: Limiter
    retry_policy: RetryPolicy

    @classmethod
    def from_config(
        cls,
        config: HttpConnectorConfig,
        *,
        name: str,
        key: str,
        hosts: Iterable[str],
        state: SharedState,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        rng: Callable[[], float] | None = None,
    ) -> Guards:
        """The guards for one instance.

        Args:
            config: the instance's validated config.
            name: ``<slug>/<instance>``, for messages.
            key: the breaker and rate-limit key, one per instance.
            hosts: the hosts the connector declares; the config's ``base_url`` host joins them.
            state: where breaker and rate state live (in memory, or shared through Redis).
            clock: wall-clock seconds.
            sleep: how to wait for a rate slot or between attempts.
            rng: jitter source in [0, 1); the retry policy's own when ``None``.
        """
        return cls(
            egress=EgressPolicy(
                [*hosts, httpx.URL(config.base_url).host],
                name=name,
                allow_insecure_http=config.allow_insecure_http,
            ),
            breaker=CircuitBreaker(
                state.breakers,
                key,
                failure_threshold=config.breaker_failure_threshold,
                cooldown=config.breaker_cooldown_seconds,
                probe_ttl=config.total_timeout,
                clock=clock,
                name=name,
            ),
            limiter=Limiter(
                state.rates,
                key,
                rate_per_second=config.rate_limit_per_second,
                max_concurrency=config.max_concurrency,
                clock=clock,
                sleep=sleep,
                name=name,
            ),
            retry_policy=RetryPolicy(
                max_attempts=config.max_attempts,
                backoff_initial=config.backoff_initial,
                backoff_max=config.backoff_max,
                max_retry_after=config.max_retry_after,
                sleep=sleep,
                clock=clock,
                **({"rng": rng} if rng is not None else {}),
            ),
        )
