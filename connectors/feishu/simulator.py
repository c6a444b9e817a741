"""A 飞书 sandbox: tenant tokens, approval v4 instances, and encrypted approval-status callbacks.

It plays 飞书 as the connector meets it: the app secret is checked at the token endpoint, every
approval call needs a live bearer token (tokens expire after ``token_ttl`` or on
``POST /sandbox/expire-tokens``), answers use ``{"code", "msg", "data"}`` with 飞书's codes, and
the outcome of an approval follows the sandbox subject named in its form (see the README).
With ``callback_url`` set it pushes ``approval.instance.status_changed`` events encrypted with the
Encrypt Key and signed with ``X-Lark-Signature``, retrying until the receiver answers HTTP 200.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.sdk import FaultInjector
from plugins.sdk.sandbox import (
    ACTIVE_COMPANY,
    CLEAN_BORROWER,
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    REVOKED_COMPANY,
    UNKNOWN_PERSON,
)

from . import crypto

__all__ = ["SANDBOX_APPROVAL_CODE", "SANDBOX_CONFIG", "SANDBOX_INSTANCES", "FeishuSimulator", "create_app"]

SANDBOX_APPROVAL_CODE = "4202AD96-9EC1-4284-9C48-B923CDC4F30B"
"""The one approval definition (贷款审批) the sandbox tenant has."""

SANDBOX_CONFIG: dict[str, object] = {
    "app_id": "cli_sandbox_lendhub",
    "app_secret": "sandbox-feishu-app-secret",
    "encrypt_key": "sandbox-feishu-encrypt-key",
    "verification_token": "sandbox-feishu-verification-token",
}

SANDBOX_INSTANCES = {
    "clean": "5A000000-0000-4000-8000-000000000001",
    "delinquent": "5A000000-0000-4000-8000-000000000002",
    "dishonest": "5A000000-0000-4000-8000-000000000003",
    "unknown": "5A000000-0000-4000-8000-000000000004",
}
"""Instances every sandbox starts with, one per sandbox person (key → instance code)."""

OFFICER, MANAGER, INITIAL, FINAL = "ou_sandbox_officer", "ou_sandbox_manager", "初审", "终审"

# subject → (final status, [(node, approver, verdict, reason)], optional comment)
_OUTCOMES: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    CLEAN_BORROWER.id_number: (
        "APPROVED",
        [(INITIAL, OFFICER, "APPROVED", "资料齐全"), (FINAL, MANAGER, "APPROVED", "同意")],
    ),
    ACTIVE_COMPANY.uscc: (
        "APPROVED",
        [(INITIAL, OFFICER, "APPROVED", "资料齐全"), (FINAL, MANAGER, "APPROVED", "同意")],
    ),
    DELINQUENT_BORROWER.id_number: (
        "REJECTED",
        [(INITIAL, OFFICER, "APPROVED", "资料齐全"), (FINAL, MANAGER, "REJECTED", "征信显示 M3+ 逾期")],
    ),
    DISHONEST_DEBTOR.id_number: ("REJECTED", [(INITIAL, OFFICER, "REJECTED", "失信被执行人且限制高消费")]),
    REVOKED_COMPANY.uscc: ("REJECTED", [(INITIAL, OFFICER, "REJECTED", "企业已吊销营业执照")]),
}


def _ms(seconds: float) -> str:
    return str(int(seconds * 1000))


def _answer(
    code: int, msg: str, data: Any = None, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class _Instance:
    code: str
    uuid: str
    approval_code: str
    user_key: str
    user_id: str
    department_id: str
    form: str
    created: float
    outcome: tuple[str, list[tuple[str, str, str, str]]] | None
    pushed: set[str] = field(default_factory=set)


class FeishuSimulator:
    """The vendor state behind the routes; tests reach it as ``create_app(...).app.state.simulator``."""

    def __init__(self, options: dict[str, Any]) -> None:
        conf = {**SANDBOX_CONFIG, **options}
        self.app_id = str(conf["app_id"])
        self.app_secret = str(conf["app_secret"])
        self.encrypt_key = str(conf["encrypt_key"]) if conf.get("encrypt_key") else None
        self.verification_token = str(conf["verification_token"])
        self.callback_url: str | None = options.get("callback_url")
        self.event_version = str(options.get("event_version", "2.0"))
        self.token_ttl = int(options.get("token_ttl", 7200))
        self.decision_delay = float(options.get("decision_delay", 0.0))
        self.callback_attempts = int(options.get("callback_attempts", 3))
        self.callback_retry_delay = float(options.get("callback_retry_delay", 0.1))
        self.tokens: dict[str, tuple[str, float]] = {}
        self.instances: dict[str, _Instance] = {}
        self.by_uuid: dict[str, str] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.token_requests = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._seed()

    def _seed(self) -> None:
        people = {p.key: p for p in (CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR, UNKNOWN_PERSON)}
        for key, code in SANDBOX_INSTANCES.items():
            form = json.dumps([{"id": "borrower_id", "type": "input", "value": people[key].id_number}])
            created = time.time() - 3600 - self.decision_delay
            self.instances[code] = _Instance(
                code,
                f"sandbox-{key}",
                SANDBOX_APPROVAL_CODE,
                "open_id",
                "ou_sandbox_initiator",
                "",
                form,
                created,
                _OUTCOMES.get(people[key].id_number),
            )
            self.by_uuid[f"sandbox-{key}"] = code

    # -- auth --------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """The token endpoint: checks app id and secret, issues an expiring token."""
        self.token_requests += 1
        try:
            body = await request.json()
        except ValueError:
            return _answer(10003, "invalid param", status=400)
        app_id, secret = body.get("app_id"), body.get("app_secret")
        if app_id not in (self.app_id, EXHAUSTED_CREDENTIAL) or not isinstance(secret, str):
            return _answer(10003, "invalid param: app_id", status=400)
        if not secrets.compare_digest(secret, self.app_secret):
            return _answer(10014, "app secret invalid", status=400)
        token = "t-" + secrets.token_hex(16)
        self.tokens[token] = (app_id, time.time() + self.token_ttl)
        return JSONResponse({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": self.token_ttl})

    def expire_tokens(self) -> None:
        """Make every issued token invalid, as after a secret reset or expiry."""
        self.tokens.clear()

    def _authorise(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return _answer(99991661, "Missing access token for authorization", status=400)
        entry = self.tokens.get(header[7:])
        if entry is None or entry[1] < time.time():
            return _answer(99991663, "Invalid access token for authorization", status=400)
        if entry[0] == EXHAUSTED_CREDENTIAL:
            return _answer(99991403, "This month's API call quota has been exceeded", status=429)
        return None

    # -- approval v4 -------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        """Create an instance: checks token, approval code, form and uuid (60012 on reuse)."""
        refused = self._authorise(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            widgets = json.loads(body["form"])
            assert isinstance(widgets, list) and all(isinstance(w, dict) and "id" in w for w in widgets)
        except (ValueError, KeyError, TypeError, AssertionError):
            return _answer(1390001, "param is invalid: form", status=400)
        if body.get("approval_code") != SANDBOX_APPROVAL_CODE:
            return _answer(1390002, "approval code not found", status=400)
        user_key = "user_id" if body.get("user_id") else "open_id"
        user = body.get(user_key)
        if not isinstance(user, str) or not user:
            return _answer(1390001, "param is invalid: user_id or open_id required", status=400)
        dedupe = str(body.get("uuid") or "")
        if dedupe and dedupe.lower() in self.by_uuid:
            return _answer(60012, "uuid conflict", status=400)
        text = " ".join(str(w.get("value", "")) for w in widgets)
        outcome = next((o for key, o in _OUTCOMES.items() if key in text), None)
        code = str(uuidlib.uuid4()).upper()
        instance = _Instance(
            code,
            dedupe,
            SANDBOX_APPROVAL_CODE,
            user_key,
            user,
            str(body.get("department_id", "")),
            body["form"],
            time.time(),
            outcome,
        )
        self.instances[code] = instance
        if dedupe:
            self.by_uuid[dedupe.lower()] = code
        self._schedule_callbacks(instance)
        return _answer(0, "success", {"instance_code": code})

    async def get(self, request: Request) -> Response:
        """Read an instance by instance code or uuid (1390003 when unknown)."""
        refused = self._authorise(request)
        if refused is not None:
            return refused
        key = request.path_params["instance_id"]
        instance = self.instances.get(key) or self.instances.get(self.by_uuid.get(key.lower(), ""))
        if instance is None:
            return _answer(1390003, "instance code not found", status=400)
        return _answer(0, "success", self.detail(instance))

    def _decided(self, instance: _Instance) -> bool:
        return instance.outcome is not None and time.time() >= instance.created + self.decision_delay

    def status(self, instance: _Instance) -> str:
        """The instance status now: pending until the decision delay has passed."""
        return instance.outcome[0] if instance.outcome is not None and self._decided(instance) else "PENDING"

    def detail(self, inst: _Instance) -> dict[str, Any]:
        """The ``data`` of ``GET /approval/v4/instances/{id}`` as 飞书 shapes it."""
        started = inst.created
        decided_at = inst.created + self.decision_delay
        tasks: list[dict[str, Any]] = []
        timeline: list[dict[str, Any]] = [
            {"type": "START", "create_time": _ms(started), inst.user_key: inst.user_id}
        ]
        comments: list[dict[str, Any]] = []
        steps = inst.outcome[1] if inst.outcome is not None and self._decided(inst) else []
        for number, (node, approver, verdict, reason) in enumerate(steps, start=1):
            task_id = f"{inst.code[:8]}-{number}"
            tasks.append(self._task(task_id, node, approver, verdict, started, decided_at))
            timeline.append(
                {
                    "type": "PASS" if verdict == "APPROVED" else "REJECT",
                    "create_time": _ms(decided_at),
                    "open_id": approver,
                    "task_id": task_id,
                    "comment": reason,
                    "node_key": node,
                }
            )
            if verdict == "REJECTED":
                comments.append(
                    {
                        "id": f"c-{task_id}",
                        "open_id": approver,
                        "comment": reason,
                        "create_time": _ms(decided_at),
                    }
                )
        if not steps:
            tasks.append(self._task(f"{inst.code[:8]}-1", INITIAL, OFFICER, "PENDING", started, None))
        status = self.status(inst)
        return {
            "approval_code": inst.approval_code,
            "approval_name": "贷款审批",
            "instance_code": inst.code,
            "start_time": _ms(started),
            "end_time": _ms(decided_at) if status != "PENDING" else "0",
            inst.user_key: inst.user_id,
            "serial_number": f"2024{len(self.instances):08d}",
            "department_id": inst.department_id,
            "status": status,
            "uuid": inst.uuid,
            "form": inst.form,
            "task_list": tasks,
            "comment_list": comments,
            "timeline": timeline,
            "reverted": False,
        }

    @staticmethod
    def _task(
        task_id: str, node: str, approver: str, status: str, start: float, end: float | None
    ) -> dict[str, Any]:
        return {
            "id": task_id,
            "open_id": approver,
            "status": status,
            "node_id": f"node-{node}",
            "node_name": node,
            "type": "OR",
            "start_time": _ms(start),
            "end_time": _ms(end) if end else "0",
        }

    # -- callbacks ---------------------------------------------------------------------------

    def _schedule_callbacks(self, instance: _Instance) -> None:
        if not self.callback_url:
            return
        task = asyncio.get_running_loop().create_task(self._push_all(instance))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _push_all(self, instance: _Instance) -> None:
        await self.push(instance, "PENDING")
        if instance.outcome is not None:
            await asyncio.sleep(self.decision_delay)
            await self.push(instance, instance.outcome[0])

    def event(self, instance: _Instance, status: str) -> dict[str, Any]:
        """The approval event as 飞书 sends it (v2 envelope unless ``event_version="1.0"``)."""
        now = time.time()
        body = {
            "approval_code": instance.approval_code,
            "instance_code": instance.code,
            "status": status,
            "operate_time": _ms(now),
            "uuid": instance.uuid,
        }
        if self.event_version == "1.0":
            return {
                "uuid": uuidlib.uuid4().hex,
                "token": self.verification_token,
                "ts": str(now),
                "type": "event_callback",
                "event": {
                    "type": "approval_instance",
                    "app_id": self.app_id,
                    "tenant_key": "sandbox-tenant",
                    "instance_operate_time": _ms(now),
                    **body,
                },
            }
        return {
            "schema": "2.0",
            "header": {
                "event_id": uuidlib.uuid4().hex,
                "token": self.verification_token,
                "create_time": _ms(now),
                "event_type": "approval.instance.status_changed",
                "tenant_key": "sandbox-tenant",
                "app_id": self.app_id,
            },
            "event": body,
        }

    def envelope(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """Encrypt and sign an event: the raw body and headers 飞书 would send."""
        plain = json.dumps(event, ensure_ascii=False).encode()
        if self.encrypt_key is None:
            return plain, {"content-type": "application/json"}
        raw = json.dumps({"encrypt": crypto.encrypt(plain, self.encrypt_key)}).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        return raw, {
            "content-type": "application/json",
            "x-lark-request-timestamp": ts,
            "x-lark-request-nonce": nonce,
            "x-lark-signature": crypto.sign(ts, nonce, self.encrypt_key, raw),
        }

    async def push(self, instance: _Instance, status: str) -> dict[str, Any]:
        """Deliver one status event, retrying like 飞书 until the receiver answers HTTP 200."""
        assert self.callback_url is not None
        event = self.event(instance, status)
        body, headers = self.envelope(event)
        record: dict[str, Any] = {
            "instance_code": instance.code,
            "status": status,
            "attempts": 0,
            "delivered": False,
            "responses": [],
        }
        self.deliveries.append(record)
        async with httpx.AsyncClient(timeout=2.0) as http:
            for attempt in range(1, self.callback_attempts + 1):
                record["attempts"] = attempt
                try:
                    answer = await http.post(self.callback_url, content=body, headers=headers)
                    record["responses"].append(answer.status_code)
                    if answer.status_code == 200:
                        record["delivered"] = True
                        break
                except httpx.HTTPError as exc:
                    record["responses"].append(type(exc).__name__)
                await asyncio.sleep(self.callback_retry_delay)
        return record

    async def sandbox_callbacks(self, request: Request) -> Response:
        """Sandbox-only: every callback delivery so far, for tests and demos."""
        return JSONResponse(self.deliveries)

    async def sandbox_expire(self, request: Request) -> Response:
        """Sandbox-only: expire every issued token."""
        self.expire_tokens()
        return JSONResponse({"expired": True})


def create_app(**options: Any) -> FaultInjector:
    """The 飞书 sandbox as an ASGI app.

    Options: ``app_id``, ``app_secret``, ``encrypt_key``, ``verification_token`` (defaults in
    SANDBOX_CONFIG), ``callback_url``, ``event_version`` (``"2.0"``/``"1.0"``), ``token_ttl``,
    ``decision_delay``, ``callback_attempts``, ``callback_retry_delay``, ``fault`` (standing fault).
    """
    sim = FeishuSimulator(options)
    app = Starlette(
        routes=[
            Route("/open-apis/auth/v3/tenant_access_token/internal", sim.token, methods=["POST"]),
            Route("/open-apis/approval/v4/instances", sim.create, methods=["POST"]),
            Route("/open-apis/approval/v4/instances/{instance_id}", sim.get, methods=["GET"]),
            Route("/sandbox/callbacks", sim.sandbox_callbacks, methods=["GET"]),
            Route("/sandbox/expire-tokens", sim.sandbox_expire, methods=["POST"]),
        ]
    )
    app.state.simulator = sim
    return FaultInjector(app, standing=options.get("fault"))
