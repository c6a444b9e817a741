"""The 金蝶云星空 WebAPI side of the contract, for tests, the demo and ``lendhub sandbox``.

``ValidateUser`` checks data centre, user and password and sets the session cookies; every other
service needs a live session and otherwise answers, inside HTTP 200, MsgCode 1 with
"会话信息已丢失，请重新登录". ``Save`` of ``GL_VOUCHER`` validates the voucher as 金蝶 does (balanced
debits and credits, known accounts and customers, a unique external id) and numbers it;
``ExecuteBillQuery`` answers a bare 2-D array.

Sandbox-only route (not part of 金蝶): ``POST /sandbox/expire-sessions`` forgets every session,
as a server restart or session timeout would. ``session_ttl`` expires sessions by time too.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.sdk import FaultInjector
from plugins.sdk.sandbox import EXHAUSTED_CREDENTIAL

from . import client

__all__ = ["KNOWN_CUSTOMERS", "SANDBOX_CONFIG", "KingdeeSimulator", "create_app"]

SANDBOX_ACCT_ID = "65f1a2b3c4d5e6"
SANDBOX_USER = "lendhub-api"
SANDBOX_PASSWORD = "kd-sandbox-pass-41c2"
SANDBOX_CONFIG: dict[str, object] = {
    "acct_id": SANDBOX_ACCT_ID,
    "username": SANDBOX_USER,
    "password": SANDBOX_PASSWORD,
}

KNOWN_ACCOUNTS = ("1001", "1002", "1122", "1231", "1303", "2221", "2241", "6011", "6021", "6051", "6702")
"""Top-level account codes of the sandbox chart; sub-accounts (``1303.01``) are accepted."""

KNOWN_CUSTOMERS = {
    "CUST-clean": "张三",
    "CUST-delinquent": "李四",
    "CUST-dishonest": "王五",
    "CUST-active": "上海示例测试有限公司",
    "CUST-revoked": "北京示例科技有限公司",
}
"""Customer numbers of the sandbox subjects; ``CUST-unknown`` (or any other) is not found, and
``CUST-revoked`` is disabled (禁用) like a company whose licence was revoked."""

_FILTER = re.compile(r"([\w.]+)\s*=\s*'((?:[^']|'')*)'")


def _status(
    success: bool, *, msg_code: int = 0, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "IsSuccess": success,
        "ErrorCode": 0 if success else 500,
        "Errors": errors or [],
        "SuccessEntitys": extra.pop("entities", []),
        "SuccessMessages": [],
        "MsgCode": msg_code,
    }


def _failure(msg_code: int, message: str, field: str = "") -> JSONResponse:
    status = _status(False, msg_code=msg_code, errors=[{"FieldName": field, "Message": message, "DIndex": 0}])
    return JSONResponse({"Result": {"ResponseStatus": status}})


class KingdeeSimulator:
    """State and routes of one simulated data centre; ``app`` is the bare Starlette app.

    Args:
        acct_id: the data centre id.
        username: the integration user (``EXHAUSTED_CREDENTIAL`` is a user without a licence).
        password: its password.
        session_ttl: seconds a session lives without use.
        external_id_field: the GL_VOUCHER field with a uniqueness rule.
        clock: wall-clock seconds.
    """

    def __init__(
        self,
        *,
        acct_id: str = SANDBOX_ACCT_ID,
        username: str = SANDBOX_USER,
        password: str = SANDBOX_PASSWORD,
        session_ttl: float = 1200.0,
        external_id_field: str = "F_LH_ExternalId",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.acct_id = acct_id
        self.users = {username: password, EXHAUSTED_CREDENTIAL: password}
        self.session_ttl = session_ttl
        self.external_id_field = external_id_field
        self.clock = clock
        self.sessions: dict[str, float] = {}
        self.vouchers: list[dict[str, Any]] = []
        self.logins = 0
        root = "/K3Cloud"
        self.app = Starlette(
            routes=[
                Route(client.service_path(root, client.VALIDATE_USER), self.validate_user, methods=["POST"]),
                Route(client.service_path(root, client.SAVE), self.save, methods=["POST"]),
                Route(
                    client.service_path(root, client.EXECUTE_BILL_QUERY), self.bill_query, methods=["POST"]
                ),
                Route("/sandbox/expire-sessions", self.expire_sessions, methods=["POST"]),
            ]
        )

    # -- session ----------------------------------------------------------------------------------

    async def validate_user(self, request: Request) -> Response:
        """``AuthService.ValidateUser`` in the ``parameters`` or the named-field form."""
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"LoginResultType": 0, "Message": "请求格式错误", "MessageCode": ""})
        if isinstance(body.get("parameters"), list) and len(body["parameters"]) >= 3:
            acct, user, password = (str(v) for v in body["parameters"][:3])
        else:
            acct, user, password = (
                str(body.get("acctID")),
                str(body.get("username")),
                str(body.get("password")),
            )
        if acct != self.acct_id:
            return JSONResponse(
                {"LoginResultType": 0, "Message": "数据中心不存在", "MessageCode": "DataCenterNotExist"}
            )
        if self.users.get(user) != password:
            return JSONResponse(
                {"LoginResultType": 0, "Message": "用户名或密码错误！", "MessageCode": "UserNameOrPwdError"}
            )
        if user == EXHAUSTED_CREDENTIAL:
            return JSONResponse(
                {
                    "LoginResultType": 0,
                    "Message": "当前站点许可已用完，请联系系统管理员",
                    "MessageCode": "CheckLicenseFail",
                }
            )
        self.logins += 1
        session = uuid.uuid4().hex
        self.sessions[session] = self.clock() + self.session_ttl
        answer = JSONResponse(
            {
                "LoginResultType": 1,
                "Message": None,
                "MessageCode": "",
                "KDSVCSessionId": session,
                "IsSuccessByAPI": True,
                "Context": {"UserName": user, "DBid": acct, "UserLocale": "zh-CN"},
            }
        )
        answer.set_cookie("kdservice-sessionid", session, httponly=True)
        answer.set_cookie("ASP.NET_SessionId", uuid.uuid4().hex[:24], httponly=True)
        return answer

    def _live(self, request: Request) -> bool:
        session = request.cookies.get("kdservice-sessionid", "")
        expires = self.sessions.get(session)
        if expires is None or expires < self.clock():
            self.sessions.pop(session, None)
            return False
        self.sessions[session] = self.clock() + self.session_ttl  # sliding expiry
        return True

    async def expire_sessions(self, request: Request) -> Response:
        """Sandbox only: forget every session."""
        dropped = len(self.sessions)
        self.sessions.clear()
        return JSONResponse({"expired": dropped})

    # -- services ---------------------------------------------------------------------------------

    async def save(self, request: Request) -> Response:
        """``DynamicFormService.Save`` of a GL_VOUCHER."""
        if not self._live(request):
            return _failure(1, "会话信息已丢失，请重新登录")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _failure(8, "参数错误: 请求不是合法的JSON")
        form_id = body.get("formid") or (body.get("parameters") or [None])[0]
        if form_id != "GL_VOUCHER":
            return _failure(5, f"单据标识 {form_id} 不支持")
        model = (body.get("data") or {}).get("Model") or {}
        refused = self._validate(model)
        if refused is not None:
            return refused
        external_id = str(model.get(self.external_id_field, ""))
        if external_id and any(v["external_id"] == external_id for v in self.vouchers):
            return _failure(11, f"外部单据号 {external_id} 已存在，违反唯一性校验", self.external_id_field)
        voucher_id = 100000 + len(self.vouchers) + 1
        number = f"记-{len(self.vouchers) + 1:04d}"
        self.vouchers.append(
            {
                "id": voucher_id,
                "number": number,
                "external_id": external_id,
                "book": (model.get("FAccountBookID") or {}).get("FNumber", ""),
                "year": int(model.get("FYEAR") or 0),
                "period": int(model.get("FPERIOD") or 0),
                "model": model,
            }
        )
        entity = {"Id": voucher_id, "Number": number, "DIndex": 0}
        result = {
            "ResponseStatus": _status(True, entities=[entity]),
            "Id": voucher_id,
            "Number": number,
            "NeedReturnData": [{}],
        }
        return JSONResponse({"Result": result})

    def _validate(self, model: dict[str, Any]) -> Response | None:
        entries = model.get("FEntity") or []
        if not (model.get("FAccountBookID") or {}).get("FNumber"):
            return _failure(8, "账簿 字段是必录字段", "FAccountBookID")
        if len(entries) < 2:
            return _failure(11, "凭证至少需要两条分录", "FEntity")
        debit = credit = Decimal(0)
        for index, entry in enumerate(entries):
            account = str((entry.get("FACCOUNTID") or {}).get("FNumber", ""))
            if account.split(".")[0] not in KNOWN_ACCOUNTS:
                return _failure(9, f"第{index + 1}行分录 科目编码 {account} 不存在", "FACCOUNTID")
            for value in (entry.get("FDetailID") or {}).values():
                number = str((value or {}).get("FNumber", ""))
                if number.startswith("CUST-") and number not in KNOWN_CUSTOMERS:
                    return _failure(9, f"第{index + 1}行分录 客户编码 {number} 不存在", "FDetailID")
                if number == "CUST-revoked":
                    return _failure(11, f"第{index + 1}行分录 客户 {number} 已禁用", "FDetailID")
            try:
                debit += Decimal(str(entry.get("FDEBIT") or 0))
                credit += Decimal(str(entry.get("FCREDIT") or 0))
            except InvalidOperation:
                return _failure(8, f"第{index + 1}行分录 金额格式错误", "FDEBIT")
        if debit != credit:
            return _failure(11, f"借贷不平衡：借方 {debit}，贷方 {credit}", "FEntity")
        return None

    async def bill_query(self, request: Request) -> Response:
        """``DynamicFormService.ExecuteBillQuery`` of GL_VOUCHER; errors wrapped in a 2-D array."""
        if not self._live(request):
            status = _status(
                False, msg_code=1, errors=[{"FieldName": "", "Message": "会话信息已丢失，请重新登录"}]
            )
            return JSONResponse([[{"Result": {"ResponseStatus": status}}]])
        try:
            data = json.loads(await request.body()).get("data") or {}
        except (ValueError, AttributeError):
            data = {}
        if data.get("FormId") != "GL_VOUCHER":
            status = _status(False, msg_code=5, errors=[{"FieldName": "FormId", "Message": "单据标识不支持"}])
            return JSONResponse([[{"Result": {"ResponseStatus": status}}]])
        filters = {k: v.replace("''", "'") for k, v in _FILTER.findall(str(data.get("FilterString", "")))}
        fields = {self.external_id_field: "external_id", "FAccountBookID.FNumber": "book"}
        rows = []
        for voucher in self.vouchers:
            if all(voucher.get(fields.get(k, k)) == v for k, v in filters.items()):
                values = {"FVOUCHERID": voucher["id"], "FBillNo": voucher["number"]}
                values.update(FYEAR=voucher["year"], FPERIOD=voucher["period"])
                rows.append([values.get(key.strip()) for key in str(data.get("FieldKeys", "")).split(",")])
        limit = int(data.get("Limit") or 0)
        return JSONResponse(rows[:limit] if limit else rows)


def create_app(**options: Any) -> FaultInjector:
    """The simulator wrapped in fault injection; options are :class:`KingdeeSimulator`'s plus ``fault``."""
    fault = options.pop("fault", None)
    return FaultInjector(KingdeeSimulator(**options).app, standing=fault)
