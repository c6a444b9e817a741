"""End to end against the simulator over loopback HTTP: magic subjects, refusals, injected faults."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import connectors.http_scorer.plugin as scorer_plugin
from connectors.http_scorer.connector import HttpScorer
from connectors.http_scorer.simulator import SANDBOX_CONFIG, SANDBOX_KEY_ID, SANDBOX_SECRET, create_app
from plugins.manager import make_plugin_manager
from plugins.sdk import (
    AuthError,
    MemoryCallRecorder,
    NotFound,
    QuotaExhausted,
    TransientError,
    VendorContractError,
)
from plugins.sdk.sandbox import (
    CLEAN_BORROWER,
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    UNKNOWN_PERSON,
    SandboxPerson,
)
from plugins.testing import ServedApp, serve_app
from schemas.canonical import PersonSubject
from schemas.canonical.risk import Recommendation, RiskDecision, RiskInput, RiskLevel


@pytest.fixture(scope="module")
def sim() -> Iterator[ServedApp]:
    with serve_app(create_app()) as served:
        yield served


@pytest.fixture(autouse=True)
def _no_faults(sim: ServedApp) -> Iterator[None]:
    sim.clear_faults()
    yield
    sim.clear_faults()


class Harness:
    def __init__(self, scorer: HttpScorer, recorder: MemoryCallRecorder, sleeps: list[float]) -> None:
        self.scorer, self.recorder, self.sleeps = scorer, recorder, sleeps

    def attempts(self) -> list[tuple[int, int | None, str | None]]:
        return [(r.attempt, r.status_code, r.error_class) for r in self.recorder.records]


@pytest.fixture
async def make(sim: ServedApp) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []

    def build(clock_offset: float = 0.0, **overrides: Any) -> Harness:
        values: dict[str, Any] = {
            **SANDBOX_CONFIG,
            "base_url": sim.url,
            "read_timeout": 2.0,
            "total_timeout": 5.0,
            "backoff_initial": 0.01,
            "backoff_max": 0.02,
            **overrides,
        }
        recorder = MemoryCallRecorder()
        sleeps: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)

        http = httpx.AsyncClient()
        clients.append(http)
        scorer = HttpScorer(
            HttpScorer.Config.model_validate(values),
            http=http,
            recorder=recorder,
            sleep=fake_sleep,
            clock=lambda: time.time() + clock_offset,
        )
        return Harness(scorer, recorder, sleeps)

    yield build
    for http in clients:
        await http.aclose()


def application(person: SandboxPerson, app_id: str = "APP-1") -> RiskInput:
    subject = PersonSubject(name=person.name, id_number=person.id_number, mobile=person.mobile)
    return RiskInput(application_id=app_id, subject=subject, features={"worst_dpd_24m": 0})


@pytest.mark.parametrize(
    ("person", "level", "advice", "first_reason"),
    [
        (CLEAN_BORROWER, RiskLevel.LOW, Recommendation.APPROVE, None),
        (DELINQUENT_BORROWER, RiskLevel.VERY_HIGH, Recommendation.DECLINE, "DELINQ_M3_PLUS"),
        (DISHONEST_DEBTOR, RiskLevel.VERY_HIGH, Recommendation.DECLINE, "KO_DISHONEST_EXECUTED"),
    ],
    ids=["clean", "delinquent", "dishonest"],
)
async def test_magic_subjects_score_deterministically(
    make: Any, person: SandboxPerson, level: RiskLevel, advice: Recommendation, first_reason: str | None
) -> None:
    h = make()
    decision = await h.scorer.score(application(person))
    again = await h.scorer.score(application(person))
    assert decision == again
    assert (decision.risk_level, decision.recommendation) == (level, advice)
    assert (decision.reason_codes[0] if decision.reason_codes else None) == first_reason
    assert (decision.model_name, decision.model_version) == ("sandbox-pd", "2024.06.1")
    assert decision.scored_at is not None and decision.scored_at.tzinfo is not None


async def test_unknown_person_is_not_found(make: Any) -> None:
    h = make()
    with pytest.raises(NotFound) as caught:
        await h.scorer.score(application(UNKNOWN_PERSON))
    assert caught.value.vendor_code == "subject_not_found"
    assert h.attempts() == [(1, 404, "NotFound")]


async def test_other_applicants_get_a_stable_score(make: Any) -> None:
    h = make()
    risk_input = RiskInput(application_id="APP-OTHER-9", features={"age": 30})
    first, second = await h.scorer.score(risk_input), await h.scorer.score(risk_input)
    assert first.score == second.score and first.band == second.band
    assert isinstance(first, RiskDecision)


@pytest.mark.parametrize(
    "overrides",
    [
        {"signing_secret": EXHAUSTED_CREDENTIAL},
        {"key_id": EXHAUSTED_CREDENTIAL, "signing_secret": EXHAUSTED_CREDENTIAL},
    ],
    ids=["secret", "key-id"],
)
async def test_exhausted_credential_is_quota_exhausted(make: Any, overrides: dict[str, str]) -> None:
    h = make(**overrides)
    with pytest.raises(QuotaExhausted) as caught:
        await h.scorer.score(application(CLEAN_BORROWER))
    assert caught.value.vendor_code == "quota_exhausted"
    assert h.attempts() == [(1, 402, "QuotaExhausted")]


@pytest.mark.parametrize(
    ("overrides", "offset", "code"),
    [
        ({"signing_secret": "not-the-secret"}, 0.0, "invalid_signature"),
        ({"key_id": "nobody"}, 0.0, "unknown_key"),
        ({}, -600.0, "stale_timestamp"),
        ({}, 600.0, "stale_timestamp"),
    ],
    ids=["wrong-secret", "unknown-key", "stale-past", "stale-future"],
)
async def test_simulator_refuses_bad_credentials(
    make: Any, overrides: dict[str, Any], offset: float, code: str
) -> None:
    h = make(clock_offset=offset, **overrides)
    with pytest.raises(AuthError) as caught:
        await h.scorer.score(application(CLEAN_BORROWER))
    assert caught.value.vendor_code == code
    assert h.attempts() == [(1, 401, "AuthError")]


def _signed(body: bytes, secret: str = SANDBOX_SECRET, stamp: int | None = None) -> dict[str, str]:
    ts = str(stamp if stamp is not None else int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-LendHub-Key-Id": SANDBOX_KEY_ID, "X-LendHub-Timestamp": ts, "X-LendHub-Signature": f"v1={sig}"}


def test_simulator_refuses_tampered_body_and_missing_headers(sim: ServedApp) -> None:
    signed_for = b'{"request_id":"A","features":{"worst_dpd_24m":0}}'
    tampered = b'{"request_id":"A","features":{"worst_dpd_24m":120}}'
    with httpx.Client(base_url=sim.url) as http:
        ok = http.post("/v1/score", content=signed_for, headers=_signed(signed_for))
        bad = http.post("/v1/score", content=tampered, headers=_signed(signed_for))
        bare = http.post("/v1/score", content=signed_for)
        rotated = http.post(
            "/v1/score",
            content=signed_for,
            headers={
                **_signed(signed_for),
                "X-LendHub-Signature": "v1=00ff " + _signed(signed_for)["X-LendHub-Signature"],
            },
        )
    assert ok.status_code == 200 and ok.json()["request_id"] == "A"
    assert (bad.status_code, bad.json()["error"]["code"]) == (401, "invalid_signature")
    assert (bare.status_code, bare.json()["error"]["code"]) == (401, "missing_signature")
    assert rotated.status_code == 200  # any one of several v1= values may match (key rotation)


def test_simulator_rejects_a_body_without_request_id(sim: ServedApp) -> None:
    body = b'{"features":{}}'
    with httpx.Client(base_url=sim.url) as http:
        answer = http.post("/v1/score", content=body, headers=_signed(body))
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request")


@pytest.mark.parametrize(
    ("faults", "overrides", "expected", "attempts"),
    [
        (["503", "503"], {}, None, [(1, 503, "TransientError"), (2, 503, "TransientError"), (3, 200, None)]),
        (
            ["500", "502", "504"],
            {},
            TransientError,
            [(1, 500, "TransientError"), (2, 502, "TransientError"), (3, 504, "TransientError")],
        ),
        (["429:1"], {}, None, [(1, 429, "RateLimited"), (2, 200, None)]),
        (["latency:0.1"], {}, None, [(1, 200, None)]),
        (
            ["timeout:1", "timeout:1", "timeout:1"],
            {"read_timeout": 0.2},
            TransientError,
            [(1, None, "TransientError"), (2, None, "TransientError"), (3, None, "TransientError")],
        ),
        (["timeout:1"], {"read_timeout": 0.2}, None, [(1, None, "TransientError"), (2, 200, None)]),
        (["malformed"], {}, VendorContractError, [(1, 200, "VendorContractError")]),
        (["401"], {}, AuthError, [(1, 401, "AuthError")]),
    ],
    ids=[
        "503-503-ok",
        "5xx-exhausts",
        "429-retry-after",
        "latency",
        "timeout-exhausts",
        "timeout-then-ok",
        "malformed",
        "401",
    ],
)
async def test_injected_faults(
    make: Any,
    sim: ServedApp,
    faults: list[str],
    overrides: dict[str, Any],
    expected: type[Exception] | None,
    attempts: list[Any],
) -> None:
    h = make(**overrides)
    sim.push(*faults, path_filter="/v1/score")
    if expected is None:
        decision = await h.scorer.score(application(CLEAN_BORROWER))
        assert decision.risk_level is RiskLevel.LOW
    else:
        with pytest.raises(expected):
            await h.scorer.score(application(CLEAN_BORROWER))
    assert h.attempts() == attempts
    if faults == ["429:1"]:
        assert 1.0 in h.sleeps


async def test_call_log_masks_pii_and_secret(make: Any) -> None:
    h = make()
    await h.scorer.score(application(DELINQUENT_BORROWER))
    record = h.recorder.records[0]
    assert record.request_body is not None
    assert DELINQUENT_BORROWER.id_number not in record.request_body
    assert DELINQUENT_BORROWER.mobile not in record.request_body
    assert SANDBOX_SECRET not in f"{record.url}{record.request_body}{record.response_body}"
    assert record.idempotency_key is not None and record.idempotency_key.startswith("score-APP-1-")


async def test_check_connection(make: Any) -> None:
    await make().scorer.check_connection()
    with pytest.raises(AuthError):
        await make(signing_secret="wrong-secret-123").scorer.check_connection()


def test_plugin_registers_the_connector() -> None:
    host = make_plugin_manager(load_entrypoints=False)
    host.add_plugin("connectors.http_scorer.plugin", scorer_plugin)
    assert host.connector_class("http-scorer") is HttpScorer
