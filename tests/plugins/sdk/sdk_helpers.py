"""Helpers shared by the SDK tests: a fake clock, a demo connector and a factory."""

from __future__ import annotations

from typing import Any

import httpx

from plugins.sdk import (
    Capability,
    ConnectorInfo,
    HttpConnector,
    HttpConnectorConfig,
    MemoryCallRecorder,
    SecretStr,
    SharedState,
)

BASE_URL = "https://api.demo.test/v1"
API_KEY = "sk_live_9f8e7d6c5b4a3210"


class FakeClock:
    """Wall clock that only moves when the code under test sleeps (or the test says so)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class DemoConfig(HttpConnectorConfig):
    api_key: SecretStr
    app_secret: SecretStr | None = None


class DemoConnector(HttpConnector):
    info = ConnectorInfo(
        slug="demo-bureau",
        name="Demo bureau",
        capability=Capability.CREDIT_BUREAU,
        vendor="Demo",
        vendor_api_version="1.0",
        hosts=("api.demo.test", "*.cdn.demo.test"),
    )
    Config = DemoConfig


def make_config(**overrides: Any) -> DemoConfig:
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "api_key": API_KEY,
        "max_attempts": 3,
        "total_timeout": 30.0,
        "breaker_failure_threshold": 100,
    }
    values.update(overrides)
    return DemoConfig(**values)


class Factory:
    def __init__(self, http: httpx.AsyncClient, clock: FakeClock, recorder: MemoryCallRecorder) -> None:
        self.http = http
        self.clock = clock
        self.recorder = recorder
        self.state = SharedState.memory()

    def __call__(self, cls: type[DemoConnector] = DemoConnector, **overrides: Any) -> DemoConnector:
        return cls(
            make_config(**overrides),
            instance="main",
            http=self.http,
            state=self.state,
            recorder=self.recorder,
            clock=self.clock,
            sleep=self.clock.sleep,
            rng=lambda: 0.5,
        )
