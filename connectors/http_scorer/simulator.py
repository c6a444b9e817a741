"""A lender's model service speaking the LendHub scoring protocol v1, for tests and ``make run``.

It verifies requests exactly as the README tells a lender's service to — key id known, timestamp
within the tolerance, ``v1=`` HMAC-SHA256 over ``timestamp + "." + raw body`` in constant time —
and answers every refusal with ``{"error": {"code", "message"}}`` and the matching status. The
sandbox subjects score deterministically; anyone else gets a stable score derived from the
application id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.sdk import FaultInjector
from plugins.sdk.sandbox import (
    CLEAN_BORROWER,
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    UNKNOWN_PERSON,
)

__all__ = ["SANDBOX_CONFIG", "SANDBOX_KEY_ID", "SANDBOX_SECRET", "create_app"]

SANDBOX_KEY_ID = "sandbox"
SANDBOX_SECRET = "sandbox-scorer-secret-5f1c"
SANDBOX_CONFIG: dict[str, object] = {"key_id": SANDBOX_KEY_ID, "signing_secret": SANDBOX_SECRET}
"""Config values the simulator accepts by default (everything but ``base_url``)."""

MODEL = {"name": "sandbox-pd", "version": "2024.06.1"}
_BANDS = ((720, "A", "APPROVE"), (660, "B", "APPROVE"), (600, "C", "REVIEW"), (540, "D", "REVIEW"))

# Deterministic answers for the sandbox people: (score, band, decision, pd, reasons, contributions).
_CANNED: dict[str, tuple[int, str, str, str, list[str], list[dict[str, Any]]]] = {
    CLEAN_BORROWER.id_number: (
        752,
        "A",
        "APPROVE",
        "0.0080",
        [],
        [
            {"feature": "worst_dpd_24m", "value": "0", "bin": "0", "points": 90, "reason_code": None},
            {"feature": "hard_inquiries_6m", "value": "1", "bin": "0-2", "points": 40, "reason_code": None},
        ],
    ),
    DELINQUENT_BORROWER.id_number: (
        512,
        "E",
        "DECLINE",
        "0.2650",
        ["DELINQ_M3_PLUS", "INQUIRIES_HIGH", "FIVE_CATEGORY_SUBSTANDARD"],
        [
            {
                "feature": "worst_dpd_24m",
                "value": "97",
                "bin": "90+",
                "points": -60,
                "reason_code": "DELINQ_M3_PLUS",
            },
            {
                "feature": "hard_inquiries_6m",
                "value": "7",
                "bin": "6+",
                "points": 0,
                "reason_code": "INQUIRIES_HIGH",
            },
        ],
    ),
    DISHONEST_DEBTOR.id_number: (
        431,
        "E",
        "DECLINE",
        "0.4100",
        ["KO_DISHONEST_EXECUTED", "KO_CONSUMPTION_RESTRICTED", "ENFORCEMENT_CASE"],
        [
            {
                "feature": "dishonest_executed",
                "value": "true",
                "bin": "yes",
                "points": -120,
                "reason_code": "KO_DISHONEST_EXECUTED",
            },
        ],
    ),
}


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class ScorerSimulator:
    """The service's state: keys, clock tolerance, and answers already given (for idempotency).

    Args:
        keys: key id → signing secret the service knows.
        tolerance: how far (seconds) a request timestamp may be from the service's clock.
        clock: the service's wall clock.
    """

    def __init__(self, keys: dict[str, str], tolerance: float, clock: Callable[[], float]) -> None:
        self.keys = keys
        self.tolerance = tolerance
        self.clock = clock
        self.answers: dict[str, dict[str, Any]] = {}
        self.scored = 0

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        """Refuse the request with the service's error, or ``None`` when it is authentic."""
        key_id = request.headers.get("x-lendhub-key-id")
        stamp = request.headers.get("x-lendhub-timestamp")
        header = request.headers.get("x-lendhub-signature")
        if not (key_id and stamp and header):
            return _error(
                401, "missing_signature", "X-LendHub-Key-Id, -Timestamp and -Signature are required"
            )
        secret = self.keys.get(key_id)
        if secret is None:
            return _error(401, "unknown_key", "unknown key id")
        if not stamp.isdigit() or abs(self.clock() - int(stamp)) > self.tolerance:
            return _error(401, "stale_timestamp", f"timestamp outside ±{int(self.tolerance)} s")
        offered = [p.removeprefix("v1=") for p in header.split() if p.startswith("v1=")]
        message = stamp.encode() + b"." + body

        def matches(key: str) -> bool:
            expected = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
            return any(hmac.compare_digest(expected, sig) for sig in offered)

        if matches(secret):
            if EXHAUSTED_CREDENTIAL in (key_id, secret):
                return _error(402, "quota_exhausted", "the scoring quota of this key is used up")
            return None
        if matches(EXHAUSTED_CREDENTIAL):
            # An account whose secret is the sandbox's exhausted credential: authentic but broke.
            return _error(402, "quota_exhausted", "the scoring quota of this key is used up")
        return _error(401, "invalid_signature", "signature does not match")

    async def health(self, request: Request) -> Response:
        """Signed ``GET /v1/health``: proves the caller's key works."""
        refused = self.authenticate(request, await request.body())
        return refused or JSONResponse({"status": "ok", "model": MODEL})

    async def score(self, request: Request) -> Response:
        """``POST /v1/score``: the decision for the applicant in the body."""
        body = await request.body()
        refused = self.authenticate(request, body)
        if refused is not None:
            return refused
        idem = request.headers.get("idempotency-key")
        if idem and idem in self.answers:
            return JSONResponse(self.answers[idem])
        try:
            document = json.loads(body)
        except ValueError:
            return _error(422, "invalid_request", "body is not JSON")
        if not isinstance(document, dict) or not isinstance(document.get("request_id"), str):
            return _error(422, "invalid_request", "request_id is required")
        applicant = document.get("applicant") if isinstance(document.get("applicant"), dict) else {}
        id_number = str(applicant.get("id_number", "")) if applicant else ""
        if id_number == UNKNOWN_PERSON.id_number:
            return _error(404, "subject_not_found", "no data for the applicant")
        answer = self._decide(document["request_id"], id_number, body)
        self.scored += 1
        if idem:
            self.answers[idem] = answer
        return JSONResponse(answer)

    def _decide(self, request_id: str, id_number: str, body: bytes) -> dict[str, Any]:
        canned = _CANNED.get(id_number)
        if canned is None:
            digest = int(hashlib.sha256(request_id.encode()).hexdigest(), 16)
            score = 560 + digest % 200
            band, decision = next(((b, d) for cut, b, d in _BANDS if score >= cut), ("E", "DECLINE"))
            canned = (score, band, decision, f"{(800 - score) / 2000:.4f}", [], [])
        score, band, decision, pd, reasons, contributions = canned
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))
        return {
            "request_id": request_id,
            "decision_id": "dec_" + hashlib.sha256(body).hexdigest()[:20],
            "score": score,
            "band": band,
            "decision": decision,
            "pd": pd,
            "reasons": [{"code": code, "description": code.replace("_", " ").lower()} for code in reasons],
            "contributions": contributions,
            "model": MODEL,
            "scored_at": stamp,
        }


def create_app(**options: Any) -> FaultInjector:
    """The simulator as an ASGI app wrapped in the SDK's fault injector.

    Args:
        **options: ``keys`` (key id → secret; defaults to the sandbox key plus the exhausted
            one), ``key_id`` / ``signing_secret`` (shorthand for one key), ``tolerance``
            (seconds, default 300), ``clock`` (callable returning seconds), ``fault`` (a standing
            fault spec such as ``"latency:0.2"``).
    """
    keys = dict(options.get("keys") or {SANDBOX_KEY_ID: SANDBOX_SECRET})
    if "key_id" in options or "signing_secret" in options:
        keys[str(options.get("key_id", SANDBOX_KEY_ID))] = str(options.get("signing_secret", SANDBOX_SECRET))
    keys.setdefault(EXHAUSTED_CREDENTIAL, EXHAUSTED_CREDENTIAL)
    sim = ScorerSimulator(keys, float(options.get("tolerance", 300.0)), options.get("clock") or time.time)
    app = Starlette(
        routes=[
            Route("/v1/score", sim.score, methods=["POST"]),
            Route("/v1/health", sim.health, methods=["GET"]),
        ]
    )
    app.state.simulator = sim
    return FaultInjector(app, standing=options.get("fault"))
