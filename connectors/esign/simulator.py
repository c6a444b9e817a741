"""The e签宝 v3 side of the contract, for tests, the demo and ``lendhub sandbox``.

It checks every ``/v3`` request exactly as the gateway does (app id, Auth-Mode, the 15-minute
timestamp window, Content-MD5 of the body, the HMAC-SHA256 signature) and refuses with HTTP 401
and the gateway's ``{"success": false, "code": 401, "message": ...}``. Business answers use the
``{"code", "message", "data"}`` envelope inside HTTP 200. When a flow finishes (signed, refused,
expired, revoked) it pushes ``SIGN_FLOW_COMPLETE`` to the flow's ``notifyUrl`` (or the app's
``callback_url``) signed as e签宝 signs callbacks, retrying failed deliveries.

Sandbox-only routes (unsigned, not part of e签宝): ``POST /sandbox/flows/{id}/sign-all`` lets
every signer act as their magic subject does; ``POST /sandbox/flows/{id}/expire`` lets the
deadline pass. The ``auto_sign`` option runs sign-all as soon as a flow starts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.sdk import FaultInjector
from plugins.sdk.sandbox import (
    DELINQUENT_BORROWER,
    DISHONEST_DEBTOR,
    EXHAUSTED_CREDENTIAL,
    REVOKED_COMPANY,
    UNKNOWN_PERSON,
)

from . import client

__all__ = ["SANDBOX_CONFIG", "EsignSimulator", "create_app"]

SANDBOX_APP_ID = "7438000001"
SANDBOX_APP_SECRET = "esign-sandbox-secret-0f3c"
SANDBOX_CONFIG: dict[str, object] = {"app_id": SANDBOX_APP_ID, "app_secret": SANDBOX_APP_SECRET}

_DESCRIPTIONS = {0: "草稿", 1: "签署中", 2: "完成", 3: "撤销", 5: "过期", 7: "拒签"}
# What each magic subject does when asked to sign (keyed by ID number, USCC or mobile).
_REFUSES = {DISHONEST_DEBTOR.id_number, DISHONEST_DEBTOR.mobile, REVOKED_COMPANY.uscc}
_LETS_EXPIRE = {DELINQUENT_BORROWER.id_number, DELINQUENT_BORROWER.mobile}
_NEVER_SIGNS = {UNKNOWN_PERSON.id_number, UNKNOWN_PERSON.mobile}


def _envelope(data: Any = None, *, code: int = 0, message: str = "成功") -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": data})


def _gateway_refusal(message: str) -> JSONResponse:
    return JSONResponse({"success": False, "code": 401, "message": message}, status_code=401)


class EsignSimulator:
    """State and routes of one simulated e签宝 app; ``app`` is the bare Starlette app.

    Args:
        app_id: the sandbox AppId.
        app_secret: its AppSecret.
        callback_url: the console-level callback address (a flow's ``notifyUrl`` wins).
        auto_sign: sign every started flow at once, as its signers' magic subjects would.
        timestamp_tolerance_ms: the gateway's clock window.
        callback_retries: deliveries of one callback before giving up (e签宝: 16).
        callback_retry_delay: seconds between deliveries.
        clock: wall-clock seconds.
    """

    def __init__(
        self,
        *,
        app_id: str = SANDBOX_APP_ID,
        app_secret: str = SANDBOX_APP_SECRET,
        callback_url: str | None = None,
        auto_sign: bool = False,
        timestamp_tolerance_ms: int = 15 * 60 * 1000,
        callback_retries: int = 16,
        callback_retry_delay: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.apps = {app_id: app_secret, EXHAUSTED_CREDENTIAL: app_secret}
        self.callback_url = callback_url
        self.auto_sign = auto_sign
        self.tolerance_ms = timestamp_tolerance_ms
        self.callback_retries = callback_retries
        self.callback_retry_delay = callback_retry_delay
        self.clock = clock
        self.files: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(
            routes=[
                Route("/v3/files/file-upload-url", self.upload_url, methods=["POST"]),
                Route("/v3/files/{file_id}", self.file_status, methods=["GET"]),
                Route("/v3/sign-flow/create-by-file", self.create_by_file, methods=["POST"]),
                Route("/v3/sign-flow/{flow_id}/start", self.start, methods=["POST"]),
                Route("/v3/sign-flow/{flow_id}/detail", self.detail, methods=["GET"]),
                Route("/v3/sign-flow/{flow_id}/revoke", self.revoke, methods=["POST"]),
                Route("/v3/sign-flow/{flow_id}/sign-url", self.sign_url, methods=["POST"]),
                Route("/v3/sign-flow/{flow_id}/file-download-url", self.download_url, methods=["GET"]),
                Route("/oss/upload/{file_id}", self.oss_put, methods=["PUT"]),
                Route("/oss/download/{file_id}", self.oss_get, methods=["GET"]),
                Route("/sandbox/flows/{flow_id}/sign-all", self.sandbox_sign_all, methods=["POST"]),
                Route("/sandbox/flows/{flow_id}/expire", self.sandbox_expire, methods=["POST"]),
            ]
        )

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- the gateway ------------------------------------------------------------------------------

    async def _authenticate(self, request: Request) -> tuple[str, bytes] | Response:
        """Check the request as the gateway does; the app id and raw body, or the refusal."""
        body = await request.body()
        headers = request.headers
        if headers.get("x-tsign-open-auth-mode", "").lower() != "signature":
            return _gateway_refusal("TOKEN_CANT_BE_NULL")
        app_id = headers.get("x-tsign-open-app-id", "")
        secret = self.apps.get(app_id)
        if secret is None:
            return _gateway_refusal(f"INVALID_APP_ID: {app_id}")
        try:
            stamp = int(headers.get("x-tsign-open-ca-timestamp", ""))
        except ValueError:
            return _gateway_refusal("INVALID_TIMESTAMP: X-Tsign-Open-Ca-Timestamp missing")
        if abs(self._now_ms() - stamp) > self.tolerance_ms:
            return _gateway_refusal("INVALID_TIMESTAMP: request expired (15 min window)")
        md5 = headers.get("content-md5", "")
        if md5 != client.content_md5(body):
            return _gateway_refusal("INVALID_CONTENT_MD5: Content-MD5 does not match the body")
        params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        sts = client.string_to_sign(
            request.method,
            client.path_and_parameters(request.url.path, params),
            md5=md5,
            accept=headers.get("accept", ""),
            content_type=headers.get("content-type", ""),
            date=headers.get("date", ""),
        )
        if client.sign(secret, sts) != headers.get("x-tsign-open-ca-signature", ""):
            return _gateway_refusal("INVALID_SIGNATURE: signature verification failed")
        return app_id, body

    async def _json(self, request: Request) -> tuple[str, dict[str, Any]] | Response:
        checked = await self._authenticate(request)
        if isinstance(checked, Response):
            return checked
        app_id, raw = checked
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return _envelope(code=1435002, message="参数错误: body is not JSON")
        return app_id, body if isinstance(body, dict) else {}

    def _flow(self, request: Request) -> dict[str, Any] | Response:
        flow = self.flows.get(request.path_params["flow_id"])
        return flow if flow is not None else _envelope(code=1437100, message="签署流程不存在")

    # -- files ------------------------------------------------------------------------------------

    async def upload_url(self, request: Request) -> Response:
        """``POST /v3/files/file-upload-url``: a one-off storage URL for the file's bytes."""
        parsed = await self._json(request)
        if isinstance(parsed, Response):
            return parsed
        _, body = parsed
        if not body.get("fileName") or not body.get("contentMd5"):
            return _envelope(code=1435002, message="参数错误: fileName and contentMd5 are required")
        file_id = uuid.uuid4().hex
        self.files[file_id] = {"name": body["fileName"], "md5": body["contentMd5"], "status": 0, "data": b""}
        self.files[file_id]["type"] = body.get("contentType", "application/octet-stream")
        expires = self._now_ms() // 1000 + 3600
        url = f"{str(request.base_url).rstrip('/')}/oss/upload/{file_id}?Expires={expires}"
        return _envelope({"fileId": file_id, "fileUploadUrl": url})

    async def oss_put(self, request: Request) -> Response:
        """The storage host: accepts the bytes when Content-MD5 and Content-Type match."""
        file = self.files.get(request.path_params["file_id"])
        if file is None:
            return JSONResponse({"errCode": 404, "msg": "上传地址无效"}, status_code=404)
        data = await request.body()
        md5 = request.headers.get("content-md5", "")
        if md5 != file["md5"] or client.content_md5(data) != md5:
            return JSONResponse({"errCode": 1, "msg": "Content-MD5 不匹配"}, status_code=400)
        if request.headers.get("content-type", "") != file["type"]:
            return JSONResponse({"errCode": 1, "msg": "Content-Type 不匹配"}, status_code=400)
        file.update(data=data, status=2)
        return JSONResponse({"errCode": 0, "msg": "成功"})

    async def oss_get(self, request: Request) -> Response:
        """Download a (signed) file's bytes."""
        file = self.files.get(request.path_params["file_id"])
        if file is None:
            return Response(status_code=404)
        return Response(file["data"], media_type="application/pdf")

    async def file_status(self, request: Request) -> Response:
        """``GET /v3/files/{fileId}``: 0 not uploaded, 2 uploaded (ready)."""
        checked = await self._authenticate(request)
        if isinstance(checked, Response):
            return checked
        file = self.files.get(request.path_params["file_id"])
        if file is None:
            return _envelope(code=1435002, message="文件不存在")
        return _envelope(
            {"fileId": request.path_params["file_id"], "fileName": file["name"], "fileStatus": file["status"]}
        )

    # -- flows ------------------------------------------------------------------------------------

    async def create_by_file(self, request: Request) -> Response:
        """``POST /v3/sign-flow/create-by-file``; ``autoStart`` defaults to true as at e签宝."""
        parsed = await self._json(request)
        if isinstance(parsed, Response):
            return parsed
        app_id, body = parsed
        if app_id == EXHAUSTED_CREDENTIAL:
            return _envelope(code=1435405, message="企业账户中电子合同份数不足")
        docs = body.get("docs") or []
        signers = body.get("signers") or []
        if not docs or not signers:
            return _envelope(code=1435002, message="参数错误: docs and signers are required")
        for doc in docs:
            file = self.files.get(doc.get("fileId", ""))
            if file is None or file["status"] not in client.FILE_READY_STATUSES:
                return _envelope(code=1437513, message="文档未成功转换成pdf")
        config = body.get("signFlowConfig") or {}
        flow_id = uuid.uuid4().hex
        self.flows[flow_id] = {
            "id": flow_id,
            "status": 0,
            "config": config,
            "docs": [{"fileId": d["fileId"], "fileName": d.get("fileName", "")} for d in docs],
            "signers": [{**s, "signStatus": 0, "signTime": None} for s in signers],
            "created": self._now_ms(),
            "started": None,
            "finished": None,
            "app_id": app_id,
        }
        if config.get("autoStart", True):
            self._start(self.flows[flow_id])
        return _envelope({"signFlowId": flow_id})

    def _start(self, flow: dict[str, Any]) -> None:
        flow.update(status=1, started=self._now_ms())
        first = min(int((s.get("signConfig") or {}).get("signOrder", 1)) for s in flow["signers"])
        for signer in flow["signers"]:
            if int((signer.get("signConfig") or {}).get("signOrder", 1)) == first:
                signer["signStatus"] = 1
        if self.auto_sign:
            self._sign_all(flow)

    async def start(self, request: Request) -> Response:
        """``POST /v3/sign-flow/{id}/start``: only a draft can start."""
        checked = await self._authenticate(request)
        if isinstance(checked, Response):
            return checked
        flow = self._flow(request)
        if isinstance(flow, Response):
            return flow
        if flow["status"] != 0:
            return _envelope(code=1435002, message="流程已开启，不可重复开启")
        self._start(flow)
        return _envelope(None)

    async def detail(self, request: Request) -> Response:
        """``GET /v3/sign-flow/{id}/detail``."""
        checked = await self._authenticate(request)
        if isinstance(checked, Response):
            return checked
        flow = self._flow(request)
        if isinstance(flow, Response):
            return flow
        return _envelope(self._detail(flow))

    def _detail(self, flow: dict[str, Any]) -> dict[str, Any]:
        signers = []
        for s in flow["signers"]:
            entry: dict[str, Any] = {
                "signerType": s.get("signerType", 0),
                "signOrder": (s.get("signConfig") or {}).get("signOrder", 1),
                "signStatus": s["signStatus"],
                "signTime": s["signTime"],
            }
            if s.get("signerType", 0) == 1:
                org = s.get("orgSignerInfo") or {}
                transactor = org.get("transactorInfo") or {}
                entry["orgSigner"] = {
                    "orgName": org.get("orgName", ""),
                    "orgIDCardNum": (org.get("orgInfo") or {}).get("orgIDCardNum", ""),
                    "transactor": {
                        "psnName": (transactor.get("psnInfo") or {}).get("psnName", ""),
                        "psnAccount": {"accountMobile": transactor.get("psnAccount", "")},
                    },
                }
            else:
                psn = s.get("psnSignerInfo") or {}
                entry["psnSigner"] = {
                    "psnName": (psn.get("psnInfo") or {}).get("psnName", ""),
                    "psnAccount": {"accountMobile": psn.get("psnAccount", "")},
                }
            signers.append(entry)
        return {
            "signFlowId": flow["id"],
            "signFlowStatus": flow["status"],
            "signFlowDescription": _DESCRIPTIONS[flow["status"]],
            "signFlowCreateTime": flow["created"],
            "signFlowStartTime": flow["started"],
            "signFlowFinishTime": flow["finished"],
            "signFlowConfig": {"signFlowTitle": flow["config"].get("signFlowTitle", "")},
            "docs": flow["docs"],
            "signers": signers,
        }

    async def revoke(self, request: Request) -> Response:
        """``POST /v3/sign-flow/{id}/revoke``: only a draft or a flow being signed."""
        parsed = await self._json(request)
        if isinstance(parsed, Response):
            return parsed
        flow = self._flow(request)
        if isinstance(flow, Response):
            return flow
        if flow["status"] == 5:
            return _envelope(code=1437169, message="流程已过期")
        if flow["status"] not in (0, 1):
            return _envelope(code=1435002, message="流程已结束，不允许撤销")
        self._finish(flow, 3)
        return _envelope(None)

    async def sign_url(self, request: Request) -> Response:
        """``POST /v3/sign-flow/{id}/sign-url`` for a signer of a started flow."""
        parsed = await self._json(request)
        if isinstance(parsed, Response):
            return parsed
        _, body = parsed
        flow = self._flow(request)
        if isinstance(flow, Response):
            return flow
        if flow["status"] == 0:
            return _envelope(code=1437103, message="流程未开启")
        account = (body.get("operator") or {}).get("psnAccount", "")
        if account not in {_account(s) for s in flow["signers"]}:
            return _envelope(code=1435002, message="参数错误: 该账号不是流程签署人")
        base = str(request.base_url).rstrip("/")
        token = hashlib.sha256(f"{flow['id']}:{account}".encode()).hexdigest()[:16]
        return _envelope(
            {"url": f"{base}/sandbox/h5/sign/{flow['id']}?t={token}", "shortUrl": f"{base}/s/{token}"}
        )

    async def download_url(self, request: Request) -> Response:
        """``GET /v3/sign-flow/{id}/file-download-url``: only once the flow is complete."""
        checked = await self._authenticate(request)
        if isinstance(checked, Response):
            return checked
        flow = self._flow(request)
        if isinstance(flow, Response):
            return flow
        if flow["status"] != 2:
            return _envelope(code=1437518, message="流程未结束，不可下载")
        base = str(request.base_url).rstrip("/")
        files = [
            {
                "fileId": d["fileId"],
                "fileName": d["fileName"],
                "downloadUrl": f"{base}/oss/download/{d['fileId']}",
            }
            for d in flow["docs"]
        ]
        return _envelope({"files": files, "attachments": [], "certificateDownloadUrl": ""})

    # -- signing, finishing, callbacks ------------------------------------------------------------

    async def sandbox_sign_all(self, request: Request) -> Response:
        """Sandbox only: every signer acts as their magic subject does."""
        flow = self.flows.get(request.path_params["flow_id"])
        if flow is None:
            return JSONResponse({"error": "no such flow"}, status_code=404)
        if flow["status"] == 1:
            self._sign_all(flow)
        return JSONResponse({"signFlowStatus": flow["status"]})

    async def sandbox_expire(self, request: Request) -> Response:
        """Sandbox only: the flow's deadline passes."""
        flow = self.flows.get(request.path_params["flow_id"])
        if flow is None:
            return JSONResponse({"error": "no such flow"}, status_code=404)
        if flow["status"] in (0, 1):
            self._finish(flow, 5)
        return JSONResponse({"signFlowStatus": flow["status"]})

    def _sign_all(self, flow: dict[str, Any]) -> None:
        for signer in sorted(
            flow["signers"], key=lambda s: int((s.get("signConfig") or {}).get("signOrder", 1))
        ):
            keys = _subject_keys(signer)
            if keys & _REFUSES:
                signer["signStatus"] = 3
                self._finish(flow, 7)
                return
            if keys & _LETS_EXPIRE:
                self._finish(flow, 5)
                return
            if keys & _NEVER_SIGNS:
                return
            signer.update(signStatus=2, signTime=self._now_ms())
            self._push(flow, _mission_complete(flow, signer, self._now_ms()))
        self._finish(flow, 2)

    def _finish(self, flow: dict[str, Any], status: int) -> None:
        flow.update(status=status, finished=self._now_ms())
        self._push(
            flow,
            {
                "action": "SIGN_FLOW_COMPLETE",
                "timestamp": self._now_ms(),
                "signFlowId": flow["id"],
                "signFlowTitle": flow["config"].get("signFlowTitle", ""),
                "signFlowStatus": str(status),
                "statusDescription": _DESCRIPTIONS[status],
                "signFlowCreateTime": flow["created"],
                "signFlowStartTime": flow["started"],
                "signFlowFinishTime": flow["finished"],
            },
        )

    def _push(self, flow: dict[str, Any], payload: dict[str, Any]) -> None:
        url = flow["config"].get("notifyUrl") or self.callback_url
        if not url:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(url, flow["app_id"], payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, app_id: str, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(self._now_ms())
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-Tsign-Open-App-Id": app_id,
            "X-Tsign-Open-TIMESTAMP": timestamp,
            "X-Tsign-Open-SIGNATURE": client.callback_signature(self.apps[app_id], timestamp, query, raw),
            "X-Tsign-Open-SIGNATURE-ALGORITHM": client.CALLBACK_ALGORITHM,
        }
        record: dict[str, Any] = {
            "url": url,
            "payload": payload,
            "headers": headers,
            "body": raw,
            "attempts": 0,
        }
        self.deliveries.append(record)
        async with httpx.AsyncClient(timeout=5.0) as http:
            for attempt in range(1, self.callback_retries + 1):
                record["attempts"] = attempt
                try:
                    answer = await http.post(url, content=raw, headers=headers)
                    if 200 <= answer.status_code < 300:
                        record["delivered"] = True
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(self.callback_retry_delay)
        record["delivered"] = False


def _account(signer: dict[str, Any]) -> str:
    if signer.get("signerType", 0) == 1:
        return str(((signer.get("orgSignerInfo") or {}).get("transactorInfo") or {}).get("psnAccount", ""))
    return str((signer.get("psnSignerInfo") or {}).get("psnAccount", ""))


def _subject_keys(signer: dict[str, Any]) -> set[str]:
    psn = (signer.get("psnSignerInfo") or {}).get("psnInfo") or {}
    org = (signer.get("orgSignerInfo") or {}).get("orgInfo") or {}
    return {_account(signer), str(psn.get("psnIDCardNum", "")), str(org.get("orgIDCardNum", ""))} - {""}


def _mission_complete(flow: dict[str, Any], signer: dict[str, Any], now_ms: int) -> dict[str, Any]:
    field = (signer.get("signFields") or [{}])[0]
    payload: dict[str, Any] = {
        "action": "SIGN_MISSON_COMPLETE",
        "timestamp": now_ms,
        "signFlowId": flow["id"],
        "customBizNum": field.get("customBizNum", ""),
        "signOrder": (signer.get("signConfig") or {}).get("signOrder", 1),
        "operateTime": now_ms,
        "signResult": 2,
        "resultDescription": "签署完成",
    }
    if signer.get("signerType", 0) == 1:
        payload["organization"] = {"orgName": (signer.get("orgSignerInfo") or {}).get("orgName", "")}
    else:
        payload["psnAccount"] = _account(signer)
    return payload


def create_app(**options: Any) -> FaultInjector:
    """The simulator wrapped in fault injection; options are :class:`EsignSimulator`'s plus ``fault``."""
    fault = options.pop("fault", None)
    return FaultInjector(EsignSimulator(**options).app, standing=fault)
