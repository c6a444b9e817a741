"""A 钉钉 sandbox: access tokens, workflow process instances, and encrypted callbacks.

It plays 钉钉's new API as the connector meets it: AppKey/AppSecret are checked at the token
endpoint, every workflow call needs a live ``x-acs-dingtalk-access-token`` (tokens expire after
``token_ttl`` or on ``POST /sandbox/expire-tokens``), errors come as ``{"code", "message",
"requestid"}`` with 钉钉's HTTP statuses, and the outcome follows the sandbox subject in the form.
With ``callback_url`` set it pushes ``bpms_instance_change``/``bpms_task_change`` events signed
(SHA-1 ``msg_signature``) and AES-encrypted like 钉钉, and counts a delivery only when the receiver
answers with ``"success"`` encrypted and signed for this app; otherwise it retries.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime
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

__all__ = ["SANDBOX_CONFIG", "SANDBOX_INSTANCES", "SANDBOX_PROCESS_CODE", "DingTalkSimulator", "create_app"]

SANDBOX_PROCESS_CODE = "PROC-LENDHUB-LOAN-0001"
"""The one approval template (贷款审批) the sandbox organisation has."""

SANDBOX_CONFIG: dict[str, object] = {
    "app_key": "dingsandboxlendhub",
    "app_secret": "sandbox-dingtalk-app-secret",
    "callback_token": "sandboxtoken",
    "aes_key": "c2FuZGJveC1kaW5ndGFsay1hZXMta2V5LTMyYnl0ZXM",
    "dept_id": 1,
}

SANDBOX_INSTANCES = {
    "clean": "sandbox-clean-0000-4000-8000-000000000001",
    "delinquent": "sandbox-delinquent-4000-8000-000000000002",
    "dishonest": "sandbox-dishonest-4000-8000-000000000003",
    "unknown": "sandbox-unknown-0000-4000-8000-000000000004",
}
"""Process instances every sandbox starts with, one per sandbox person (key → instance id)."""

OFFICER, MANAGER, INITIAL, FINAL = "sandbox_officer", "sandbox_manager", "初审", "终审"

_OUTCOMES: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    CLEAN_BORROWER.id_number: (
        "agree",
        [(INITIAL, OFFICER, "AGREE", "资料齐全"), (FINAL, MANAGER, "AGREE", "同意")],
    ),
    ACTIVE_COMPANY.uscc: (
        "agree",
        [(INITIAL, OFFICER, "AGREE", "资料齐全"), (FINAL, MANAGER, "AGREE", "同意")],
    ),
    DELINQUENT_BORROWER.id_number: (
        "refuse",
        [(INITIAL, OFFICER, "AGREE", "资料齐全"), (FINAL, MANAGER, "REFUSE", "征信显示 M3+ 逾期")],
    ),
    DISHONEST_DEBTOR.id_number: ("refuse", [(INITIAL, OFFICER, "REFUSE", "失信被执行人且限制高消费")]),
    REVOKED_COMPANY.uscc: ("refuse", [(INITIAL, OFFICER, "REFUSE", "企业已吊销营业执照")]),
}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse(
        {"code": code, "message": message, "requestid": uuidlib.uuid4().hex}, status_code=status
    )


@dataclass
class _Instance:
    instance_id: str
    process_code: str
    originator: str
    dept_id: str
    form: list[dict[str, Any]]
    created: float
    outcome: tuple[str, list[tuple[str, str, str, str]]] | None


class DingTalkSimulator:
    """The vendor state behind the routes; tests reach it as ``create_app(...).app.state.simulator``."""

    def __init__(self, options: dict[str, Any]) -> None:
        conf = {**SANDBOX_CONFIG, **options}
        self.app_key, self.app_secret = str(conf["app_key"]), str(conf["app_secret"])
        self.crypto = crypto.CallbackCrypto(str(conf["callback_token"]), str(conf["aes_key"]), self.app_key)
        self.callback_url: str | None = options.get("callback_url")
        self.token_ttl = int(options.get("token_ttl", 7200))
        self.decision_delay = float(options.get("decision_delay", 0.0))
        self.callback_attempts = int(options.get("callback_attempts", 3))
        self.callback_retry_delay = float(options.get("callback_retry_delay", 0.1))
        self.tokens: dict[str, tuple[str, float]] = {}
        self.instances: dict[str, _Instance] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.token_requests = 0
        self._tasks: set[asyncio.Task[None]] = set()
        people = {p.key: p for p in (CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR, UNKNOWN_PERSON)}
        for key, instance_id in SANDBOX_INSTANCES.items():
            number = people[key].id_number
            self.instances[instance_id] = _Instance(
                instance_id,
                SANDBOX_PROCESS_CODE,
                "sandbox_initiator",
                "1",
                [{"name": "借款人证件号", "value": number}],
                time.time() - 3600 - self.decision_delay,
                _OUTCOMES.get(number),
            )

    async def token(self, request: Request) -> Response:
        """The token endpoint: checks AppKey and AppSecret, issues an expiring token."""
        self.token_requests += 1
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "MissingParameter", "body is not JSON")
        key, secret = body.get("appKey"), body.get("appSecret")
        if key not in (self.app_key, EXHAUSTED_CREDENTIAL) or not isinstance(secret, str):
            return _error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        if not secrets.compare_digest(secret, self.app_secret):
            return _error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        token = secrets.token_hex(16)
        self.tokens[token] = (key, time.time() + self.token_ttl)
        return JSONResponse({"accessToken": token, "expireIn": self.token_ttl})

    def expire_tokens(self) -> None:
        """Make every issued token invalid."""
        self.tokens.clear()

    def _authorise(self, request: Request) -> Response | None:
        entry = self.tokens.get(request.headers.get("x-acs-dingtalk-access-token", ""))
        if entry is None or entry[1] < time.time():
            return _error(401, "InvalidAuthentication", "不合法的access_token")
        if entry[0] == EXHAUSTED_CREDENTIAL:
            return _error(403, "Forbidden.AccessDenied.ApiCallQuotaExceeded", "API调用量已超过当月上限")
        return None

    async def create(self, request: Request) -> Response:
        """Start a process instance: checks token, processCode, originator, deptId and form."""
        refused = self._authorise(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            form = body["formComponentValues"]
            assert isinstance(form, list) and all(isinstance(v, dict) and "name" in v for v in form)
        except (ValueError, KeyError, TypeError, AssertionError):
            return _error(400, "InvalidParameter.FormComponentValues", "formComponentValues 不合法")
        if body.get("processCode") != SANDBOX_PROCESS_CODE:
            return _error(400, "InvalidParameter.ProcessCode", "processCode 不存在")
        if not body.get("originatorUserId") or body.get("deptId") in (None, ""):
            return _error(400, "InvalidParameter", "originatorUserId 和 deptId 不能为空")
        text = " ".join(str(v.get("value", "")) for v in form)
        outcome = next((o for key, o in _OUTCOMES.items() if key in text), None)
        instance = _Instance(
            str(uuidlib.uuid4()),
            SANDBOX_PROCESS_CODE,
            str(body["originatorUserId"]),
            str(body["deptId"]),
            form,
            time.time(),
            outcome,
        )
        self.instances[instance.instance_id] = instance
        if self.callback_url:
            task = asyncio.get_running_loop().create_task(self._push_all(instance))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return JSONResponse({"result": {"instanceId": instance.instance_id}, "success": True})

    async def get(self, request: Request) -> Response:
        """Read a process instance (``InvalidParameter.ProcessInstanceId.NotFound`` when unknown)."""
        refused = self._authorise(request)
        if refused is not None:
            return refused
        instance = self.instances.get(request.query_params.get("processInstanceId", ""))
        if instance is None:
            return _error(400, "InvalidParameter.ProcessInstanceId.NotFound", "审批实例不存在")
        return JSONResponse({"result": self.detail(instance), "success": True})

    def _steps(self, inst: _Instance) -> list[tuple[str, str, str, str]]:
        decided = inst.outcome is not None and time.time() >= inst.created + self.decision_delay
        return inst.outcome[1] if decided and inst.outcome is not None else []

    def detail(self, inst: _Instance) -> dict[str, Any]:
        """The ``result`` of ``GET /v1.0/workflow/processInstances`` as 钉钉 shapes it."""
        decided_at = inst.created + self.decision_delay
        steps = self._steps(inst)
        records: list[dict[str, Any]] = [
            {
                "userId": inst.originator,
                "date": _iso(inst.created),
                "type": "START_PROCESS_INSTANCE",
                "result": "NONE",
            }
        ]
        tasks = []
        for number, (node, approver, verdict, remark) in enumerate(steps, start=1):
            task_id = f"{number}{abs(hash(inst.instance_id)) % 10**9}"
            tasks.append(
                {
                    "taskId": task_id,
                    "userId": approver,
                    "status": "COMPLETED",
                    "result": verdict,
                    "createTime": _iso(inst.created),
                    "finishTime": _iso(decided_at),
                    "activityId": f"act-{node}",
                    "activityName": node,
                    "processInstanceId": inst.instance_id,
                }
            )
            records.append(
                {
                    "userId": approver,
                    "date": _iso(decided_at),
                    "type": "EXECUTE_TASK_NORMAL",
                    "result": verdict,
                    "remark": remark,
                    "taskId": task_id,
                }
            )
        if not steps:
            tasks.append(
                {
                    "taskId": f"1{abs(hash(inst.instance_id)) % 10**9}",
                    "userId": OFFICER,
                    "status": "RUNNING",
                    "result": "NONE",
                    "createTime": _iso(inst.created),
                    "activityId": f"act-{INITIAL}",
                    "activityName": INITIAL,
                    "processInstanceId": inst.instance_id,
                }
            )
        done = bool(steps)
        return {
            "title": f"{inst.originator}提交的贷款审批",
            "processCode": inst.process_code,
            "createTime": _iso(inst.created),
            "finishTime": _iso(decided_at) if done else None,
            "originatorUserId": inst.originator,
            "originatorDeptId": inst.dept_id,
            "status": "COMPLETED" if done else "RUNNING",
            "result": inst.outcome[0] if done and inst.outcome else "",
            "businessId": f"2024{len(self.instances):010d}",
            "operationRecords": records,
            "tasks": tasks,
            "formComponentValues": [
                {"name": v["name"], "value": v.get("value", ""), "componentType": "TextField"}
                for v in inst.form
            ],
        }

    # -- callbacks ---------------------------------------------------------------------------

    async def _push_all(self, inst: _Instance) -> None:
        base = {
            "processInstanceId": inst.instance_id,
            "corpId": "dingsandboxcorp",
            "processCode": inst.process_code,
            "title": f"{inst.originator}提交的贷款审批",
            "staffId": inst.originator,
            "createTime": int(inst.created * 1000),
        }
        await self.push({"EventType": "bpms_instance_change", "type": "start", **base})
        if inst.outcome is None:
            return
        await asyncio.sleep(self.decision_delay)
        for node, approver, verdict, remark in inst.outcome[1]:
            await self.push(
                {
                    "EventType": "bpms_task_change",
                    "type": "finish",
                    "result": verdict.lower(),
                    "remark": remark,
                    "activityName": node,
                    **base,
                    "staffId": approver,
                }
            )
        await self.push(
            {
                "EventType": "bpms_instance_change",
                "type": "finish",
                "result": inst.outcome[0],
                "finishTime": int(time.time() * 1000),
                **base,
            }
        )

    def signed(self, event: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        """Encrypt and sign an event: the query parameters and raw body 钉钉 would send."""
        encrypt = self.crypto.encrypt(json.dumps(event, ensure_ascii=False))
        timestamp, nonce = str(int(time.time() * 1000)), secrets.token_hex(4)
        query = {
            "msg_signature": crypto.signature(self.crypto.token, timestamp, nonce, encrypt),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        return query, json.dumps({"encrypt": encrypt}).encode()

    def reply_ok(self, answer: httpx.Response) -> bool:
        """Whether the receiver answered with ``success`` encrypted and signed for this app."""
        try:
            reply = answer.json()
            self.crypto.verify(
                reply["msg_signature"], str(reply["timeStamp"]), str(reply["nonce"]), reply["encrypt"]
            )
            return answer.status_code == 200 and self.crypto.decrypt(reply["encrypt"]) == "success"
        except (ValueError, KeyError, TypeError, crypto.CallbackCryptoError):
            return False

    async def push(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver one event, retrying until the receiver returns the encrypted success reply."""
        assert self.callback_url is not None
        query, body = self.signed(event)
        record: dict[str, Any] = {"event": event, "attempts": 0, "delivered": False, "responses": []}
        self.deliveries.append(record)
        async with httpx.AsyncClient(timeout=2.0) as http:
            for attempt in range(1, self.callback_attempts + 1):
                record["attempts"] = attempt
                try:
                    answer = await http.post(
                        self.callback_url,
                        params=query,
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    record["responses"].append(answer.status_code)
                    if self.reply_ok(answer):
                        record["delivered"] = True
                        break
                except httpx.HTTPError as exc:
                    record["responses"].append(type(exc).__name__)
                await asyncio.sleep(self.callback_retry_delay)
        return record

    async def sandbox_callbacks(self, request: Request) -> Response:
        """Sandbox-only: every callback delivery so far."""
        return JSONResponse(self.deliveries)

    async def sandbox_expire(self, request: Request) -> Response:
        """Sandbox-only: expire every issued token."""
        self.expire_tokens()
        return JSONResponse({"expired": True})


def create_app(**options: Any) -> FaultInjector:
    """The 钉钉 sandbox as an ASGI app.

    Options: ``app_key``, ``app_secret``, ``callback_token``, ``aes_key`` (defaults in
    SANDBOX_CONFIG), ``callback_url``, ``token_ttl``, ``decision_delay``, ``callback_attempts``,
    ``callback_retry_delay``, ``fault`` (standing fault).
    """
    sim = DingTalkSimulator(options)
    app = Starlette(
        routes=[
            Route("/v1.0/oauth2/accessToken", sim.token, methods=["POST"]),
            Route("/v1.0/workflow/processInstances", sim.create, methods=["POST"]),
            Route("/v1.0/workflow/processInstances", sim.get, methods=["GET"]),
            Route("/sandbox/callbacks", sim.sandbox_callbacks, methods=["GET"]),
            Route("/sandbox/expire-tokens", sim.sandbox_expire, methods=["POST"]),
        ]
    )
    app.state.simulator = sim
    return FaultInjector(app, standing=options.get("fault"))
