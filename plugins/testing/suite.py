"""``ConnectorTestSuite``: the conformance checks every connector passes, built-in or third-party.

Subclass it in a test module (the subclass name must start with ``Test`` so pytest collects it)::

    class TestAcmeConformance(ConnectorTestSuite):
        connector = AcmeBureau
        config = dict(SANDBOX_CONFIG)          # no base_url: the suite points it at the simulator
        fault_path = "/v1/reports"             # injected faults only hit these requests

        async def call(self, connector):
            return await connector.fetch_report(subject(CLEAN_BORROWER), authorization_id="A1")

The suite serves the connector's own simulator (``connector.simulator``) with uvicorn on a loopback
port, once per class, and runs each check against it over real HTTP, injecting faults through the
simulator's :class:`~plugins.sdk.FaultInjector`. Every check is a test method with a stable name;
a check that truly cannot apply is listed in ``skip_checks`` with a written reason (an empty reason
fails the check instead of skipping it).

The tests are synchronous and drive the connector with :func:`asyncio.run`, so the suite runs the
same whether or not the host project uses pytest-asyncio, and in whatever mode.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import yaml
from pydantic import BaseModel, SecretBytes, SecretStr

from plugins.sdk import (
    AuthError,
    Connector,
    ConnectorError,
    EgressDenied,
    HttpConnector,
    MemoryCallRecorder,
    TransientError,
    VendorContractError,
)
from plugins.sdk.calllog import CallRecord
from plugins.sdk.config import secret_values
from plugins.validation import connector_problems
from schemas.canonical.common import CanonicalModel

from .evidence import unbacked_claims
from .quality import validate_quality_file
from .server import ServedApp, serve_app

__all__ = ["CHECKS", "ConnectorTestSuite", "Harness"]

CHECKS: tuple[str, ...] = (
    "test_metadata_complete",
    "test_config_secrets_are_secretstr",
    "test_call_returns_canonical_model",
    "test_auth_failure_is_permanent",
    "test_transient_errors_are_retried",
    "test_retry_after_is_honoured",
    "test_timeout_is_transient",
    "test_malformed_body_is_contract_error",
    "test_only_declared_hosts_are_called",
    "test_secrets_never_logged",
    "test_writes_are_idempotent",
)
"""The stable names of the checks, usable as keys of ``skip_checks``."""

HTTP_CHECKS: frozenset[str] = frozenset(
    {
        "test_auth_failure_is_permanent",
        "test_transient_errors_are_retried",
        "test_retry_after_is_honoured",
        "test_timeout_is_transient",
        "test_malformed_body_is_contract_error",
        "test_only_declared_hosts_are_called",
    }
)
"""Checks that exercise a vendor over HTTP; a ``vendorless`` connector skips them with its reason."""

# Config field names that hold credentials; identifiers, URLs, paths and public keys do not.
_SECRET_NAME = re.compile(
    r"secret|token|passw|credential|api_?key|app_?key|private_?key|access_?key|(^|_)key$"
)
_NOT_SECRET_NAME = re.compile(r"public|(_id|_url|_path|_file|_header|_name|_ttl|_seconds|_type)$")

# Overrides that keep the checks fast and deterministic; applied only to fields the config has.
_FAST: dict[str, Any] = {
    "connect_timeout": 1.0,
    "read_timeout": 3.0,
    "total_timeout": 10.0,
    "max_attempts": 3,
    "max_retry_after": 5.0,
    "backoff_initial": 0.01,
    "backoff_max": 0.05,
    "breaker_failure_threshold": 50,
    "rate_limit_per_second": None,
    "max_concurrency": None,
}
_TIMEOUT: dict[str, Any] = {"read_timeout": 0.3, "connect_timeout": 0.5, "total_timeout": 2.0}
_MIN_SECRET_LENGTH = 6  # shorter values match too much innocent text to be checked


@dataclass
class Harness:
    """One connector instance under test and what it did.

    Attributes:
        connector: the instance, built from the suite's config pointed at the simulator.
        recorder: its call log.
        sleeps: every wait the connector asked for (the fake sleep returns at once).
        sent: every URL actually sent over the wire (an httpx event hook sees them).
    """

    connector: Connector
    recorder: MemoryCallRecorder
    sleeps: list[float] = field(default_factory=list)
    sent: list[httpx.URL] = field(default_factory=list)

    @property
    def records(self) -> list[CallRecord]:
        """The call-log rows so far."""
        return self.recorder.records


def _annotation_is_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(arg in (SecretStr, SecretBytes) for arg in getattr(annotation, "__args__", ()))


def _identity(model: Any) -> Any:
    """The first id-like field of a model (``flow_id``, ``voucher_id``), else the whole model."""
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            if name == "id" or name.endswith("_id"):
                return (name, getattr(model, name))
    return model


class ConnectorTestSuite:
    """Base class of a connector's conformance tests; see the module docstring.

    Attributes:
        connector: the connector class under test.
        config: config values valid for the simulator, without ``base_url``.
        simulator_options: keyword arguments for the simulator's ``create_app``.
        fault_path: injected faults hit only requests whose URL path contains this (so token or
            login calls are not disturbed); empty means every request.
        skip_checks: check name → the written reason it cannot apply to this connector.
        no_fixed_hosts: why ``info.hosts`` is empty, for services the lender hosts itself (the
            configured ``base_url`` is then the only allowed host); empty means hosts are required.
        vendorless: why the connector calls no vendor at all (a pure in-process model); the
            simulator is then not required and every HTTP check skips with this reason.
    """

    connector: ClassVar[type[Connector]]
    config: ClassVar[dict[str, Any]] = {}
    simulator_options: ClassVar[dict[str, Any]] = {}
    fault_path: ClassVar[str] = ""
    skip_checks: ClassVar[dict[str, str]] = {}
    no_fixed_hosts: ClassVar[str] = ""
    vendorless: ClassVar[str] = ""

    # -- what a subclass provides -----------------------------------------------------------------

    async def call(self, connector: Any) -> Any:
        """One representative read for the clean sandbox subject; returns a canonical model."""
        raise NotImplementedError(f"{type(self).__name__} must define async call(self, connector)")

    async def write(self, connector: Any) -> Any:
        """Writers only: one write with a fixed idempotency key; ``None`` for read-only connectors."""
        return None

    # -- fixtures ---------------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_simulator(cls) -> Iterator[ServedApp | None]:
        """The connector's simulator served on a loopback port for the whole class."""
        target = cls.connector.simulator
        if not target:
            yield None
            return
        module_name, _, factory_name = target.partition(":")
        factory = getattr(importlib.import_module(module_name), factory_name or "create_app")
        app = factory(**cls.simulator_options)
        with serve_app(app) as served:
            yield served

    @pytest.fixture
    def sim(self, conformance_simulator: ServedApp | None) -> Iterator[ServedApp | None]:
        """The class's simulator with its fault plan cleared before and after each check."""
        if conformance_simulator is not None:
            conformance_simulator.clear_faults()
        yield conformance_simulator
        if conformance_simulator is not None:
            conformance_simulator.clear_faults()

    # -- helpers ----------------------------------------------------------------------------------

    def _gate(self, check: str) -> None:
        """Skip ``check`` when ``skip_checks`` names it with a reason; fail when the reason is empty."""
        if self.vendorless.strip() and check in HTTP_CHECKS:
            pytest.skip(f"{check}: {self.vendorless}")
        if check not in self.skip_checks:
            return
        reason = self.skip_checks[check]
        if not (isinstance(reason, str) and reason.strip()):
            pytest.fail(f"skip_checks[{check!r}] needs a written reason; an empty one does not skip")
        pytest.skip(f"{check}: {reason}")

    def _config(self, sim: ServedApp | None, **overrides: Any) -> BaseModel:
        cfg_cls: type[BaseModel] = self.connector.Config
        fields = cfg_cls.model_fields
        values = dict(self.config)
        if sim is not None and "base_url" in fields:
            values["base_url"] = sim.url
        values.update({k: v for k, v in {**_FAST, **overrides}.items() if k in fields})
        return cfg_cls.model_validate(values)

    @asynccontextmanager
    async def _harness(self, sim: ServedApp | None, **overrides: Any) -> AsyncIterator[Harness]:
        config = self._config(sim, **overrides)
        recorder = MemoryCallRecorder(limit=None)
        sleeps: list[float] = []
        sent: list[httpx.URL] = []

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)
            await asyncio.sleep(0)

        async def on_request(request: httpx.Request) -> None:
            sent.append(request.url)

        cls = self.connector
        http = httpx.AsyncClient(event_hooks={"request": [on_request]})
        if issubclass(cls, HttpConnector):
            connector: Connector = cls(
                config,  # type: ignore[arg-type]
                instance="conformance",
                http=http,
                recorder=recorder,
                sleep=fake_sleep,
            )
        else:
            connector = cls(config, instance="conformance")
        try:
            yield Harness(connector, recorder, sleeps, sent)
        finally:
            await connector.aclose()
            await http.aclose()

    def _require_sim(self, sim: ServedApp | None) -> ServedApp:
        if sim is None:
            pytest.fail(
                f"{self.connector.__qualname__}.simulator is not set, so this check cannot run; "
                "set it, or list the check in skip_checks with a written reason"
            )
        return sim

    def _on_fault_path(self, records: list[CallRecord]) -> list[CallRecord]:
        return [r for r in records if self.fault_path in httpx.URL(r.url).path]

    async def _expect_error(self, harness: Harness, error: type[ConnectorError]) -> ConnectorError:
        try:
            result = await self.call(harness.connector)
        except ConnectorError as exc:
            if not isinstance(exc, error):
                pytest.fail(f"expected {error.__name__}, got {type(exc).__name__}: {exc}")
            return exc
        pytest.fail(f"expected {error.__name__}, but call() returned {type(result).__name__}")

    # -- the checks -------------------------------------------------------------------------------

    def test_metadata_complete(self) -> None:
        """Registration would accept the class; hosts, simulator, docs, README and quality file exist."""
        self._gate("test_metadata_complete")
        cls = self.connector
        problems = list(connector_problems(cls))
        unknown = sorted(set(self.skip_checks) - set(CHECKS))
        if unknown:
            problems.append(f"skip_checks names unknown checks {unknown}; known: {', '.join(CHECKS)}")
        info = getattr(cls, "info", None)
        if info is not None:
            if not info.hosts and not (self.no_fixed_hosts.strip() or self.vendorless.strip()):
                problems.append(
                    "info.hosts is empty: declare the vendor's production hosts "
                    "(or set no_fixed_hosts with the reason the lender hosts the service)"
                )
            if not info.docs_url.strip():
                problems.append("info.docs_url is empty: say where an integrator reads the setup")
        if not self.vendorless.strip():
            problems += self._simulator_problems()
        elif self.connector.simulator:
            problems.append("vendorless is set but the class names a simulator; it calls a vendor after all")
        folder = Path(inspect.getfile(cls)).parent
        for name in ("README.md", "quality.yaml"):
            if not (folder / name).is_file():
                problems.append(f"{name} missing beside {inspect.getfile(cls)}")
        if (folder / "quality.yaml").is_file():
            problems += validate_quality_file(folder / "quality.yaml")
            problems += self._unbacked(folder / "quality.yaml")
        assert not problems, "\n".join(problems)

    def _unbacked(self, path: Path) -> list[str]:
        """Rules ``quality.yaml`` marks done that this suite's own skips or the class contradict."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = data.get("rules") if isinstance(data, dict) else None
        if not isinstance(rules, dict):
            return []  # validate_quality_file reports the malformed file
        skipped = dict(self.skip_checks)
        if self.vendorless.strip():
            skipped.update(dict.fromkeys(HTTP_CHECKS, self.vendorless))
        return [f"{path}: {problem}" for problem in unbacked_claims(rules, self.connector, skipped)]

    def _simulator_problems(self) -> list[str]:
        target = self.connector.simulator
        if not target:
            return ["simulator is not set: point it at 'package.simulator:create_app'"]
        module_name, sep, factory_name = target.partition(":")
        if not sep:
            return [f"simulator {target!r} must be 'module:factory'"]
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            return [f"simulator module {module_name!r} cannot be imported: {type(exc).__name__}: {exc}"]
        problems = []
        if not callable(getattr(module, factory_name, None)):
            problems.append(f"simulator {target!r}: {factory_name} is not a callable in {module_name}")
        if not isinstance(getattr(module, "SANDBOX_CONFIG", None), dict):
            problems.append(f"{module_name}.SANDBOX_CONFIG must be a dict of the sandbox config values")
        return problems

    def test_config_secrets_are_secretstr(self) -> None:
        """Every credential-looking config field is a ``SecretStr`` (or ``SecretBytes``)."""
        self._gate("test_config_secrets_are_secretstr")
        plain = [
            name
            for name, info in self.connector.Config.model_fields.items()
            if _SECRET_NAME.search(name.lower())
            and not _NOT_SECRET_NAME.search(name.lower())
            and not _annotation_is_secret(info.annotation)
        ]
        assert not plain, f"credential fields must be SecretStr: {', '.join(plain)}"

    def test_call_returns_canonical_model(self, sim: ServedApp | None) -> None:
        """call() over real HTTP returns a canonical model that survives a JSON round trip."""
        self._gate("test_call_returns_canonical_model")

        async def run() -> Any:
            async with self._harness(sim) as h:
                return await self.call(h.connector)

        result = asyncio.run(run())
        assert isinstance(result, CanonicalModel), (
            f"call() returned {type(result).__name__}, not a schemas.canonical model"
        )
        again = type(result).model_validate_json(result.model_dump_json())
        assert again == result, "the result does not round-trip through its JSON form"

    def test_auth_failure_is_permanent(self, sim: ServedApp | None) -> None:
        """HTTP 401 → AuthError after exactly one attempt."""
        self._gate("test_auth_failure_is_permanent")
        served = self._require_sim(sim)

        async def run() -> list[CallRecord]:
            async with self._harness(served) as h:
                served.push("401", path_filter=self.fault_path)
                await self._expect_error(h, AuthError)
                return self._on_fault_path(h.records)

        records = asyncio.run(run())
        assert len(records) == 1, f"expected exactly 1 attempt on {self.fault_path!r}, saw {len(records)}"

    def test_transient_errors_are_retried(self, sim: ServedApp | None) -> None:
        """503, 503, then the real answer → success in 3 attempts, all in the call log."""
        self._gate("test_transient_errors_are_retried")
        served = self._require_sim(sim)

        async def run() -> tuple[Any, list[CallRecord]]:
            async with self._harness(served) as h:
                served.push("503", "503", path_filter=self.fault_path)
                result = await self.call(h.connector)
                return result, self._on_fault_path(h.records)

        result, records = asyncio.run(run())
        assert isinstance(result, CanonicalModel)
        first = [(r.attempt, r.status_code, r.error_class) for r in records[:3]]
        assert [a for a, _, _ in first] == [1, 2, 3], f"expected attempts 1, 2, 3 in the call log: {first}"
        assert [s for _, s, _ in first[:2]] == [503, 503], first
        assert first[2][2] is None, f"the third attempt should succeed: {first}"

    def test_retry_after_is_honoured(self, sim: ServedApp | None) -> None:
        """429 with ``Retry-After: 2`` → the connector waits at least 2 s, then succeeds."""
        self._gate("test_retry_after_is_honoured")
        served = self._require_sim(sim)

        async def run() -> tuple[Any, list[float]]:
            async with self._harness(served) as h:
                served.push("429:2", path_filter=self.fault_path)
                return await self.call(h.connector), h.sleeps

        result, sleeps = asyncio.run(run())
        assert isinstance(result, CanonicalModel)
        assert any(s >= 2 for s in sleeps), f"Retry-After: 2 not honoured; waits were {sleeps}"

    def test_timeout_is_transient(self, sim: ServedApp | None) -> None:
        """A vendor slower than the read timeout on every attempt → TransientError."""
        self._gate("test_timeout_is_transient")
        served = self._require_sim(sim)

        async def run() -> None:
            async with self._harness(served, **_TIMEOUT) as h:
                attempts = int(getattr(h.connector.config, "max_attempts", 3))
                served.push(*["timeout:1.5"] * attempts, path_filter=self.fault_path)
                await self._expect_error(h, TransientError)

        asyncio.run(run())

    def test_malformed_body_is_contract_error(self, sim: ServedApp | None) -> None:
        """An HTML page where the vendor sends JSON → VendorContractError (not a crash)."""
        self._gate("test_malformed_body_is_contract_error")
        served = self._require_sim(sim)

        async def run() -> None:
            async with self._harness(served) as h:
                served.push("malformed", path_filter=self.fault_path)
                await self._expect_error(h, VendorContractError)

        asyncio.run(run())

    def test_only_declared_hosts_are_called(self, sim: ServedApp | None) -> None:
        """Every request goes to the simulator or a declared host; another host is refused unsent."""
        self._gate("test_only_declared_hosts_are_called")
        served = self._require_sim(sim)
        allowed = {httpx.URL(served.url).host, *self.connector.info.hosts}

        async def run() -> tuple[list[httpx.URL], list[httpx.URL]]:
            async with self._harness(served) as h:
                await self.call(h.connector)
                before = list(h.sent)
                if isinstance(h.connector, HttpConnector):
                    with pytest.raises(EgressDenied):
                        await h.connector.request("GET", "http://evil.example/x", operation="probe")
                return before, h.sent[len(before) :]

        sent, after = asyncio.run(run())
        strays = sorted({url.host for url in sent} - allowed)
        assert not strays, f"requests went to undeclared hosts: {strays}"
        assert not after, f"a refused request was still sent: {after}"

    def test_secrets_never_logged(self, sim: ServedApp | None, caplog: pytest.LogCaptureFixture) -> None:
        """No secret config value appears in log lines, call-log rows or error messages."""
        self._gate("test_secrets_never_logged")
        caplog.set_level(logging.DEBUG)
        config = self._config(sim)
        secrets = [s for s in secret_values(config) if len(s) >= _MIN_SECRET_LENGTH]
        texts: dict[str, list[str]] = {"log": [], "call log": [], "error message": []}

        async def run() -> None:
            async with self._harness(sim) as h:
                await self.call(h.connector)
                if sim is not None:
                    sim.push("401", path_filter=self.fault_path)
                    try:
                        await self.call(h.connector)
                    except ConnectorError as exc:
                        texts["error message"] += [str(exc), repr(exc), str(exc.__cause__ or "")]
                for record in h.records:
                    texts["call log"] += [
                        str(v) for v in (record.url, record.request_body, record.response_body)
                    ]

        asyncio.run(run())
        texts["log"].append(caplog.text)
        leaks = [
            f"secret #{i + 1} in the {where}"
            for i, secret in enumerate(secrets)
            for where, found in texts.items()
            if any(secret in text for text in found)
        ]
        assert not leaks, f"config secrets leaked: {', '.join(leaks)}"

    def test_writes_are_idempotent(self, sim: ServedApp | None) -> None:
        """The same write twice (same idempotency key) yields the same object, not two."""
        self._gate("test_writes_are_idempotent")

        async def run() -> tuple[Any, Any]:
            async with self._harness(sim) as h:
                first = await self.write(h.connector)
                if first is None:
                    return None, None
                return first, await self.write(h.connector)

        first, second = asyncio.run(run())
        if first is None:
            pytest.skip("read-only connector: write() returns None")
        assert isinstance(first, CanonicalModel), f"write() returned {type(first).__name__}"
        assert _identity(first) == _identity(second), (
            f"the same write twice gave two objects: {_identity(first)} != {_identity(second)}"
        )
