"""The front-end gateway as a sandbox: checks signatures like the gateway, answers segment reports.

It plays gateway contract v1 (see ``client.py`` and the README): member code, timestamp window
and HMAC signature are checked before anything else and refused with the gateway's own codes
(HTTP 401, ``1003``/``1002``/``1001``); business results travel in ``code`` inside HTTP 200. The
sandbox subjects of :mod:`plugins.sdk.sandbox` get deterministic second-generation reports whose
``PC02``/``PC05`` summaries are derived from the generated accounts and queries, so a report is
internally consistent. Options: ``member_code``, ``user_code``, ``secret``, ``max_skew`` (seconds),
``as_of`` (a ``date``: the month the history ends), ``clock`` (seconds), ``fault``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
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
    SandboxPerson,
)

from . import client

__all__ = ["SANDBOX_CONFIG", "build_report", "create_app"]

SANDBOX_MEMBER_CODE = "LH0000000001"
SANDBOX_USER_CODE = "lendhub01"
SANDBOX_SECRET = "pboc-sandbox-secret-7d1f0a93"

SANDBOX_CONFIG: dict[str, object] = {
    "member_code": SANDBOX_MEMBER_CODE,
    "user_code": SANDBOX_USER_CODE,
    "secret": SANDBOX_SECRET,
}
"""Connector config (without ``base_url``) the sandbox gateway accepts."""

BEIJING = timezone(timedelta(hours=8))
QUERY_REASONS = {"01", "02", "03", "08", "16", "18"}


def _months(as_of: date, count: int = 24) -> list[str]:
    year, month = as_of.year, as_of.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _money(value: Decimal | int) -> str:
    return f"{Decimal(value):.2f}"


def _account(
    as_of: date,
    *,
    number: str,
    kind: str,
    institution: str,
    org_type: str,
    business: str,
    opened: str,
    limit: int,
    balance: Decimal,
    five: str,
    status: str,
    history: str,
    overdue_periods: int = 0,
    overdue_amount: Decimal = Decimal("0"),
    due: str = "",
    periods: int = 0,
    payment: Decimal = Decimal("0"),
) -> dict[str, Any]:
    """One ``PD01`` account; ``history`` is the 24-month string, oldest first."""
    card = kind == "R2"
    months = _months(as_of)
    return {
        "PD01A": {
            "PD01AI01": number,
            "PD01AD01": kind,
            "PD01AD02": org_type,
            "PD01AI02": institution,
            "PD01AI03": f"ACC{number[-6:]}",
            "PD01AD03": business,
            "PD01AR01": opened,
            "PD01AD04": "CNY",
            "PD01AJ01": "" if card else _money(limit),
            "PD01AJ02": _money(limit) if card else "",
            "PD01AR02": due,
            "PD01AS01": str(periods) if periods else "",
            "PD01AD07": "4",
        },
        "PD01B": {
            "PD01BD01": status,
            "PD01BJ01": _money(balance),
            "PD01BR02": f"{months[-1]}-05",
            "PD01BD03": five,
            "PD01BR03": f"{months[-1]}-{as_of.day:02d}",
        },
        "PD01C": {
            "PD01CR01": months[-1],
            "PD01CD01": status,
            "PD01CJ01": _money(balance),
            "PD01CJ02": _money(balance) if card else "",
            "PD01CD02": five,
            "PD01CS01": str(max(periods - 24, 0)) if periods else "",
            "PD01CJ04": _money(payment),
            "PD01CJ05": _money(payment if overdue_periods == 0 else 0),
            "PD01CR03": f"{months[-1]}-05",
            "PD01CS02": str(overdue_periods),
            "PD01CJ06": _money(overdue_amount),
        },
        "PD01D": {
            "PD01DR01": months[0],
            "PD01DR02": months[-1],
            "PD01DH": [{"PD01DR03": m, "PD01DD01": c} for m, c in zip(months, history, strict=True)],
        },
    }


def _accounts(person: SandboxPerson, as_of: date) -> list[dict[str, Any]]:
    n24 = "N" * 24
    if person is CLEAN_BORROWER:
        return [
            _account(as_of, number="D2019000000001", kind="D1", institution="甲银行股份有限公司北京分行",
                     org_type="11", business="11", opened="2019-06-18", due="2049-06-18", periods=360,
                     limit=1_200_000, balance=Decimal("986400.00"), five="1", status="1", history=n24,
                     payment=Decimal("6368.41")),
            _account(as_of, number="R2020000000002", kind="R2", institution="丙银行股份有限公司信用卡中心",
                     org_type="11", business="81", opened="2020-09-01", limit=50_000,
                     balance=Decimal("3200.50"), five="1", status="1", history=n24),
        ]  # fmt: skip
    if person is DELINQUENT_BORROWER:
        return [
            _account(as_of, number="D2022000000003", kind="D1", institution="乙消费金融有限公司",
                     org_type="24", business="91", opened="2022-03-10", due="2025-03-10", periods=36,
                     limit=60_000, balance=Decimal("42600.00"), five="3", status="2",
                     history="N" * 21 + "123", overdue_periods=3, overdue_amount=Decimal("12600.00"),
                     payment=Decimal("4200.00")),
            _account(as_of, number="R2021000000004", kind="R2", institution="丙银行股份有限公司信用卡中心",
                     org_type="11", business="81", opened="2021-05-20", limit=20_000,
                     balance=Decimal("19850.00"), five="2", status="1", history="N" * 23 + "1",
                     overdue_periods=1, overdue_amount=Decimal("1200.00")),
        ]  # fmt: skip
    if person is DISHONEST_DEBTOR:
        return [
            _account(as_of, number="R2018000000005", kind="R2", institution="丙银行股份有限公司信用卡中心",
                     org_type="11", business="81", opened="2018-04-02", limit=30_000,
                     balance=Decimal("28760.00"), five="5", status="5",
                     history="N" * 10 + "1234567" + "B" * 7, overdue_periods=7,
                     overdue_amount=Decimal("28760.00")),
        ]  # fmt: skip
    return []


def _queries(person: SandboxPerson, as_of: date) -> list[dict[str, str]]:
    def q(days: int, org_type: str, org: str, reason: str) -> dict[str, str]:
        when = as_of - timedelta(days=days)
        return {"PH010R01": when.isoformat(), "PH010D01": org_type, "PH010Q02": org, "PH010Q03": reason}

    if person is CLEAN_BORROWER:
        return [q(12, "11", "丁银行股份有限公司", "02"), q(240, "11", "丙银行股份有限公司", "01")]
    if person is DELINQUENT_BORROWER:
        return [
            q(3, "24", "戊消费金融有限公司", "02"),
            q(9, "51", "己小额贷款有限公司", "02"),
            q(17, "11", "庚银行股份有限公司", "03"),
            q(26, "24", "辛消费金融有限公司", "02"),
            q(41, "51", "壬小额贷款有限公司", "02"),
            q(70, "24", "乙消费金融有限公司", "01"),
        ]
    return [q(30, "11", "丙银行股份有限公司", "01")]


def _public(person: SandboxPerson) -> dict[str, Any]:
    if person is not DISHONEST_DEBTOR:
        return {}
    court = "广东省深圳市南山区人民法院"
    return {
        "PCJ": {"PF02": [{"PF02A": {
            "PF02AQ01": court, "PF02AQ02": "金融借款合同纠纷", "PF02AR01": "2022-11-03", "PF02AD01": "1",
            "PF02AQ03": "被告偿还原告借款本金80000元及利息", "PF02AR02": "2023-02-20",
            "PF02AQ04": "借款本息", "PF02AJ01": "86000.00"}}]},
        "PCE": {"PF03": [{"PF03A": {
            "PF03AQ01": court, "PF03AQ02": "金融借款合同纠纷", "PF03AR01": "2023-06-12", "PF03AD01": "",
            "PF03AQ03": "执行中", "PF03AR02": "", "PF03AQ04": "借款本息", "PF03AJ01": "86000.00",
            "PF03AQ05": "", "PF03AJ02": "0.00"}}]},
    }  # fmt: skip


_IDENTITY = {
    CLEAN_BORROWER.key: ("1", "20", "20", "北京市朝阳区示例路1号", "示例信息技术有限公司", "720", "28",
                         ["201"]),
    DELINQUENT_BORROWER.key: ("2", "30", "10", "上海市黄浦区示例路2号", "示例贸易有限公司", "512", "81",
                              ["104", "301", "402"]),
    DISHONEST_DEBTOR.key: ("1", "60", "40", "广东省深圳市南山区示例路3号", "", "401", "96", ["104", "501"]),
}  # fmt: skip


def _summaries(accounts: list[dict[str, Any]], queries: list[dict[str, str]], as_of: date) -> dict[str, Any]:
    loans = [a for a in accounts if a["PD01A"]["PD01AD01"] == "D1"]
    cards = [a for a in accounts if a["PD01A"]["PD01AD01"] == "R2"]

    def amount(a: dict[str, Any], seg: str, key: str) -> Decimal:
        return Decimal(a[seg][key] or "0")

    pc02: dict[str, Any] = {
        "PC02A": {
            "PC02AS01": str(len(accounts)),
            "PC02AS02": str(bool(loans) + bool(cards)),
            "PC02AH": [
                {"PC02AD01": code, "PC02AD02": big, "PC02AS03": str(len(group)),
                 "PC02AR01": min(a["PD01A"]["PD01AR01"] for a in group)[:7]}
                for code, big, group in (("19", "1", loans), ("21", "2", cards)) if group
            ],
        },
        "PC02C": {"PC02CS01": "0", "PC02CJ01": "0.00"},
    }  # fmt: skip
    bad = [a for a in cards if a["PD01B"]["PD01BD01"] == "5"] + [
        a for a in loans if a["PD01B"]["PD01BD01"] == "4"
    ]
    pc02["PC02C"] = {
        "PC02CS01": str(len(bad)),
        "PC02CJ01": _money(sum((amount(a, "PD01B", "PD01BJ01") for a in bad), Decimal(0))),
    }
    overdue = []
    for kind, group in (("1", loans), ("4", cards)):
        late = [a for a in group if any(h["PD01DD01"].isdigit() for h in a["PD01D"]["PD01DH"])]
        if late:
            digits = [
                int(h["PD01DD01"]) for a in late for h in a["PD01D"]["PD01DH"] if h["PD01DD01"].isdigit()
            ]
            overdue.append({
                "PC02DD01": kind, "PC02DS02": str(len(late)), "PC02DS03": str(len(digits)),
                "PC02DJ01": _money(max(amount(a, "PD01C", "PD01CJ06") for a in late)),
                "PC02DS04": str(max(digits)),
            })  # fmt: skip
    pc02["PC02D"] = {"PC02DS01": str(len(overdue)), "PC02DH": overdue}
    if loans:
        pc02["PC02E"] = {
            "PC02ES01": str(len({a["PD01A"]["PD01AI02"] for a in loans})),
            "PC02ES02": str(len(loans)),
            "PC02EJ01": _money(sum((amount(a, "PD01A", "PD01AJ01") for a in loans), Decimal(0))),
            "PC02EJ02": _money(sum((amount(a, "PD01B", "PD01BJ01") for a in loans), Decimal(0))),
            "PC02EJ03": _money(sum((amount(a, "PD01C", "PD01CJ04") for a in loans), Decimal(0))),
        }
    if cards:
        limits = [amount(a, "PD01A", "PD01AJ02") for a in cards]
        used = _money(sum((amount(a, "PD01C", "PD01CJ02") for a in cards), Decimal(0)))
        pc02["PC02H"] = {
            "PC02HS01": str(len({a["PD01A"]["PD01AI02"] for a in cards})),
            "PC02HS02": str(len(cards)),
            "PC02HJ01": _money(sum(limits, Decimal(0))),
            "PC02HJ02": _money(max(limits)),
            "PC02HJ03": _money(min(limits)),
            "PC02HJ04": used,
            "PC02HJ05": used,
        }

    def count(reason: str, days: int, *, orgs: bool = False) -> str:
        hits = [q for q in queries if q["PH010Q03"] == reason
                and date.fromisoformat(q["PH010R01"]) >= as_of - timedelta(days=days)]  # fmt: skip
        return str(len({q["PH010Q02"] for q in hits}) if orgs else len(hits))

    last = max(queries, key=lambda q: q["PH010R01"]) if queries else None
    pc05 = {
        "PC05A": {} if last is None else {
            "PC05AR01": last["PH010R01"], "PC05AD01": last["PH010D01"],
            "PC05AI01": last["PH010Q02"], "PC05AQ01": last["PH010Q03"]},
        "PC05B": {
            "PC05BS01": count("02", 30, orgs=True), "PC05BS02": count("03", 30, orgs=True),
            "PC05BS03": count("02", 30), "PC05BS04": count("03", 30), "PC05BS05": count("16", 30),
            "PC05BS06": count("01", 730), "PC05BS07": count("08", 730), "PC05BS08": count("18", 730)},
    }  # fmt: skip
    return {"PCO": {"PC02": pc02}, "PQO": {"PC05": pc05}}


def build_report(
    person: SandboxPerson, *, report_no: str, generated: datetime, as_of: date, member_code: str
) -> dict[str, Any]:
    """The full segment report of one sandbox person, summaries derived from the details."""
    gender, education, marital, home, employer, score, position, reasons = _IDENTITY[person.key]
    accounts = _accounts(person, as_of)
    queries = _queries(person, as_of)
    pid = person.id_number
    birth = f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}"
    stamp = f"{generated.astimezone(BEIJING):%Y-%m-%dT%H:%M:%S}"
    jobs = [{"PB040D01": "91", "PB040Q01": employer, "PB040R02": "2023-01-15"}] if employer else []
    report: dict[str, Any] = {
        "PRH": {"PA01": {
            "PA01A": {"PA01AI01": report_no, "PA01AR01": stamp},
            "PA01B": {"PA01BQ01": person.name, "PA01BD01": "10", "PA01BI01": person.id_number,
                      "PA01BI02": member_code, "PA01BD02": "02"},
            "PA01E": {"PA01ES01": "0"},
        }},
        "PIM": {"PB01": {
            "PB01A": {"PB01AD01": gender, "PB01AR01": birth, "PB01AD02": education, "PB01AD04": "91",
                      "PB01AD05": "CHN"},
            "PB01B": {"PB01BS01": "1", "PB01BH": [{"PB01BQ01": person.mobile, "PB01BR01": "2023-01-15"}]},
        }},
        "PMM": {"PB02": {"PB020D01": marital}},
        "PRM": {"PB03": [{"PB030D01": "2", "PB030Q01": home, "PB030R01": "2023-01-15"}]},
        "POM": {"PB04": jobs},
        "PSM": {"PC01": {"PC010Q01": score, "PC010Q02": position, "PC010S01": str(len(reasons)),
                         "PC010D01": reasons}},
        "PDA": {"PD01": accounts},
        "POQ": {"PH01": queries},
    }  # fmt: skip
    report.update(_summaries(accounts, queries, as_of))
    report.update(_public(person))
    return report


class Gateway:
    """The sandbox gateway's state: members, clock and the answers it already gave."""

    def __init__(self, options: dict[str, Any]) -> None:
        secret = str(options.get("secret", SANDBOX_SECRET))
        self.members = {
            str(options.get("member_code", SANDBOX_MEMBER_CODE)): secret,
            EXHAUSTED_CREDENTIAL: secret,
        }
        self.user_code = str(options.get("user_code", SANDBOX_USER_CODE))
        self.max_skew = float(options.get("max_skew", 300))
        self.as_of: date | None = options.get("as_of")
        self.clock: Callable[[], float] = options.get("clock", time.time)
        self.answers: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _answer(code: str, message: str, status: int = 200, **extra: Any) -> Response:
        return JSONResponse({"code": code, "message": message, **extra}, status_code=status)

    def _refuse(self, request: Request, body: bytes) -> Response | None:
        member = request.headers.get("x-member-code", "")
        secret = self.members.get(member)
        if secret is None:
            return self._answer("1003", "机构未开通或已停用", 401)
        timestamp = request.headers.get("x-timestamp", "")
        if not timestamp.isdigit() or abs(self.clock() - int(timestamp)) > self.max_skew:
            return self._answer("1002", "时间戳超出允许范围", 401)
        nonce = request.headers.get("x-nonce", "")
        expected = client.sign(secret, request.method, request.url.path, timestamp, nonce, body)
        if not nonce or not hmac.compare_digest(expected, request.headers.get("x-signature", "")):
            return self._answer("1001", "签名验证失败", 401)
        return None

    async def ping(self, request: Request) -> Response:
        """The credential check: signed GET, no body."""
        refused = self._refuse(request, await request.body())
        return refused or self._answer("0000", "成功", memberCode=request.headers["x-member-code"])

    async def report(self, request: Request) -> Response:
        """The report query."""
        raw = await request.body()
        refused = self._refuse(request, raw)
        if refused is not None:
            return refused
        member = request.headers["x-member-code"]
        try:
            query = json.loads(raw)
            fields = [str(query[k]) for k in ("requestId", "memberCode", "userCode", "queryReason", "name")]
            id_type, id_number = str(query["idType"]), str(query["idNumber"])
            authorization = str(query.get("authorizationId") or "")
        except (ValueError, KeyError, TypeError):
            return self._answer("2001", "请求参数错误")
        request_id, body_member, user_code, reason, name = fields
        if member == EXHAUSTED_CREDENTIAL or EXHAUSTED_CREDENTIAL in (user_code, self.user_code):
            return self._answer("3001", "查询量已用尽", requestId=request_id)
        if (
            body_member != member
            or user_code != self.user_code
            or id_type != "10"
            or reason not in QUERY_REASONS
        ):
            return self._answer("2001", "请求参数错误", requestId=request_id)
        if not authorization:
            return self._answer("2002", "授权信息缺失或无效", requestId=request_id)
        cached = self.answers.get(request_id)
        if cached is not None:
            return JSONResponse(cached)
        person = next((p for p in (CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR)
                       if p.id_number == id_number and p.name == name), None)  # fmt: skip
        if person is None:
            return self._answer("4001", "未查得信用报告", requestId=request_id)
        now = datetime.fromtimestamp(self.clock(), UTC)
        as_of = self.as_of or now.astimezone(BEIJING).date()
        serial = int(hashlib.sha256(request_id.encode()).hexdigest(), 16) % 10**8
        report_no = f"{now.astimezone(BEIJING):%Y%m%d%H%M%S}{serial:08d}"
        answer = {
            "code": "0000",
            "message": "成功",
            "requestId": request_id,
            "report": build_report(
                person, report_no=report_no, generated=now, as_of=as_of, member_code=member
            ),
        }
        self.answers[request_id] = answer
        return JSONResponse(answer)


def create_app(**options: Any) -> FaultInjector:
    """The sandbox gateway wrapped in fault injection (``fault`` sets a standing fault)."""
    gateway = Gateway(options)
    app = Starlette(
        routes=[
            Route(
                str(options.get("report_path", "/v1/pboc/personal-report")), gateway.report, methods=["POST"]
            ),
            Route(str(options.get("ping_path", "/v1/pboc/ping")), gateway.ping, methods=["GET"]),
        ]
    )
    return FaultInjector(app, standing=options.get("fault"))
