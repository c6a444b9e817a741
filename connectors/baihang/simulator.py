"""百行征信 as a sandbox: Basic auth, RSA decryption of name / ID / mobile, the report envelope.

It holds the private half of the sandbox key pair (the public half is in :data:`SANDBOX_CONFIG`),
checks the Basic credentials first (HTTP 401 ``ERR-20001`` Not Authorized), then decrypts every
encrypted field (a tampered or wrongly keyed ciphertext → ``ERR-10002`` 解密失败), then answers in
百行's envelope with each report section as a JSON string. Sandbox subjects answer
deterministically; a person it does not know gets empty sections, as 百行 does. A repeated
``reqID`` gets the first answer again. The account ``sandbox-exhausted`` gets ``ERR-20002``.
Options: ``account``, ``password``, ``private_key`` (PEM), ``rsa_padding``, ``as_of`` (a date),
``fault``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
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

__all__ = ["SANDBOX_CONFIG", "SANDBOX_PRIVATE_KEY", "SANDBOX_PUBLIC_KEY", "create_app"]

BEIJING = timezone(timedelta(hours=8))
SANDBOX_ACCOUNT = "LENDHUB_A0001"
SANDBOX_PASSWORD = "baihang-sandbox-pw-41c9"

SANDBOX_PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAwi+dZBBNeMnXvl5nNJo2WVhVGBXkNqwyJG2Q05vdatFRaQO0
ulmyRPupXytdGcnrrjHHbEJycYL0pHt8lx6Jaa5ETG9MNuFh6ZxErvfhrjkfavAl
Hovx1uWoCA5Q73voYnuPv7L1g0rCx9r6rThXhhBKiOpgrtMRDZVMVvRoGx44g0Zc
KHtpdwLZ7u7pr47+NpcQHp00mnZ9XL2uEUYFBJ0JK7cM99xM1UqxMJoM9w4hBHx1
EBXFuJA0ZzKqY1ydZPwS1+AlV6afUXyuLeYkD5jcVSXJlFmWc4iTl/KOcfmN9Qov
pWWbvEQ35YknRVk/Fotp6sPrrSIpd7huaXwsbwIDAQABAoIBAEuoPYxFBcov6gzT
vyYxh0dcMRtHPDlI8ehbf/fSXHxHvY5K0VlhpSFXY/AedxGbKGYgIvC9GtW7DhIf
wrUmQqeYLCgTnQAs4/ce2WvKTHWS7/i8Q9oY8EqoA8XPvhzwi+QC/EjWMu3KbQVs
/goLT55+LmwV1UGIHrbKGooug3k8qUU2diZIXhn2zhkXDtoDho+YI9ML46QpE43c
9DatWbt4x9HAzGX47o1nfwbL9LwpF7oncsPqZ082rjyYMGYCQQr7yyj3W015qSPJ
qmf9ChpACtV0a6P+8STy+c+IdX0out+5EtDW00yNPGK/M/QaKBJiFkZrPibjAX4f
9OpyZzECgYEA46QYcKg87l2IvhJP9i70Mn9xFei3tRA1fyQIcIEs3rA7GEnex6Wn
ZRzkc32jl6FFXy9bJ3fDqi+LCxGY3cZUqiSAfFlozb3D7etQAzUSmC1YU4xIqfoH
nqpEQLT52I4O/CgJDnHWIv3NbNGUpaiiZvEi/KI4cU3NOgH44e/pdzMCgYEA2mCT
XitMxhwN+Cu7udfOQ0CdobXjqqaUaTU74wh+NMdVdLJbL9FmunXTx3OHhFpHCzqz
QAvjEaxznJlKgUHUU5uhH4or0ya9MKw6Ht/OsWhbO3hnXnDOrZNyaj3iGhzM/jIb
B/UK9/pu7HGzbnhCV5v990EHwLFAW8m10C94BdUCgYEAwUcmaSCu+0P3QkqSEdg0
BlwmTA/XSqiEg3q4n61Nx5Wh1zGBMcn4ouUxIs3eBHQtTnAK2Svaubi8OZ2rSUGH
yR5M6UeQsH8ax/svaEm7i/GUOPu3Bnr/1TuDz9zY9YFIP9hOODF3OyZ7MJWRvEW9
/eFnb1Dc03bXdRUPl+X3N/kCgYEAqbwk7y3ip51Isltzt1hoxtcjbnzM72g4tKme
2bFRPz6sSl8TB1DQcx+AM2e1robo7255ws86eBM9bTussFj1auLtUnF37NAQfxNu
vW6h3jzJpKjKV5qA2mNfq/pbkoZOQ0m4vu+UzfgGXZtmpvesQSJLPPJ7zyc2aeGX
grBSrt0CgYAZlT4ojSoS3LRgRjUu6IwwuIqIbxquika+SK8bQsNANFNLb4okYrVs
O/ps4Jt/tooGGBvL16N3n1pmHY2lroed/hC7cDNuV12YEADmVvTg4snjDvLgVeZd
rCkF4qvsIahw5v5xdXmMuygNLzVq0kFJ5XH72crfxNiQre0q8vqoYw==
-----END RSA PRIVATE KEY-----
"""

SANDBOX_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwi+dZBBNeMnXvl5nNJo2
WVhVGBXkNqwyJG2Q05vdatFRaQO0ulmyRPupXytdGcnrrjHHbEJycYL0pHt8lx6J
aa5ETG9MNuFh6ZxErvfhrjkfavAlHovx1uWoCA5Q73voYnuPv7L1g0rCx9r6rThX
hhBKiOpgrtMRDZVMVvRoGx44g0ZcKHtpdwLZ7u7pr47+NpcQHp00mnZ9XL2uEUYF
BJ0JK7cM99xM1UqxMJoM9w4hBHx1EBXFuJA0ZzKqY1ydZPwS1+AlV6afUXyuLeYk
D5jcVSXJlFmWc4iTl/KOcfmN9QovpWWbvEQ35YknRVk/Fotp6sPrrSIpd7huaXws
bwIDAQAB
-----END PUBLIC KEY-----
"""

SANDBOX_CONFIG: dict[str, object] = {
    "account": SANDBOX_ACCOUNT,
    "password": SANDBOX_PASSWORD,
    "rsa_public_key": SANDBOX_PUBLIC_KEY,
}
"""Connector config (without ``base_url``) the sandbox accepts."""

_PEOPLE = (CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR)


_ID_SHAPE = re.compile(r"\d{17}[\dXx]|\d{15}")


def _loan(
    as_of: date,
    number: str,
    org_type: str,
    loan_type: str,
    *,
    amount: str,
    balance: str,
    opened: str,
    status: str,
    history: str,
    revolving: bool = False,
    due: str = "",
    terms: int = 0,
    remaining: int = 0,
    overdue_amount: str = "0.00",
    overdue_periods: int = 0,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "accountId": number,
        "orgType": org_type,
        "loanType": loan_type,
        "balance": balance,
        "openDate": opened,
        "accountStatus": status,
        "currentOverdueAmount": overdue_amount,
        "currentOverduePeriods": str(overdue_periods),
        "repayStatus24": history,
        "reportMonth": f"{as_of:%Y-%m}",
    }
    if revolving:
        item["creditLimit"] = amount
    else:
        item.update(loanAmount=amount, dueDate=due, termCount=str(terms), remainingTerms=str(remaining))
    return item


def _sections(person: SandboxPerson, as_of: date) -> dict[str, Any]:
    def q(days: int, org_type: str, reason: str) -> dict[str, str]:
        return {
            "queryDate": (as_of - timedelta(days=days)).isoformat(),
            "orgType": org_type,
            "queryReason": reason,
        }

    n24 = "N" * 24
    if person is CLEAN_BORROWER:
        loans = [
            _loan(
                as_of,
                "BH-L-0001",
                "消费金融公司",
                "个人消费贷款",
                amount="30000.00",
                balance="0.00",
                opened="2022-01-10",
                due="2023-01-10",
                terms=12,
                status="3",
                history="N" * 12 + "C" * 12,
            )
        ]
        lines = [
            _loan(
                as_of,
                "BH-R-0002",
                "网络小额贷款公司",
                "循环授信",
                amount="20000.00",
                balance="1500.00",
                opened="2023-04-01",
                status="1",
                history=n24,
                revolving=True,
            )
        ]
        queries = [q(12, "商业银行", "授信审批"), q(200, "网络小额贷款公司", "贷后管理")]
        profile = {"gender": "男", "birthYear": "1990", "mobileCount": 1}
    elif person is DELINQUENT_BORROWER:
        loans = [
            _loan(
                as_of,
                "BH-L-0003",
                "网络小额贷款公司",
                "个人消费贷款",
                amount="24000.00",
                balance="17800.00",
                opened="2023-05-15",
                due="2025-05-15",
                terms=24,
                remaining=9,
                status="2",
                history="N" * 21 + "123",
                overdue_amount="6300.00",
                overdue_periods=3,
            )
        ]
        lines = [
            _loan(
                as_of,
                "BH-R-0004",
                "消费金融公司",
                "循环授信",
                amount="10000.00",
                balance="9800.00",
                opened="2022-08-01",
                status="2",
                history="N" * 23 + "1",
                revolving=True,
                overdue_amount="450.00",
                overdue_periods=1,
            )
        ]
        queries = [
            q(d, t, "授信审批")
            for d, t in (
                (4, "消费金融公司"),
                (11, "网络小额贷款公司"),
                (19, "网络小额贷款公司"),
                (33, "消费金融公司"),
            )
        ]
        profile = {"gender": "女", "birthYear": "1985", "mobileCount": 2}
    else:
        loans = [
            _loan(
                as_of,
                "BH-L-0005",
                "网络小额贷款公司",
                "个人消费贷款",
                amount="50000.00",
                balance="46200.00",
                opened="2021-02-01",
                due="2022-02-01",
                terms=12,
                status="4",
                history="N" * 6 + "1234567" + "B" * 11,
                overdue_amount="46200.00",
                overdue_periods=7,
            )
        ]
        lines = []
        queries = [q(45, "网络小额贷款公司", "贷后管理")]
        profile = {"gender": "男", "birthYear": "1992", "mobileCount": 1}

    def summary(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "accountCount": len(items),
            "overdueCount": sum(1 for i in items if i["accountStatus"] in "24"),
        }

    return {
        "personalProfile": profile,
        "homeInfo": [{"address": "示例市示例区示例路8号", "date": "2023-01"}],
        "workInfo": [{"company": "示例信息技术有限公司", "date": "2023-01"}],
        "nonRevolvingLoan": {"summary": summary(loans), "accounts": loans},
        "revolvingLoan": {"summary": summary(lines), "accounts": lines},
        "queryHistory": queries,
    }  # fmt: skip


def _mask(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


class Bureau:
    """The sandbox's state: the account, the private key and answers by ``reqID``."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.account = str(options.get("account", SANDBOX_ACCOUNT))
        self.password = str(options.get("password", SANDBOX_PASSWORD))
        pem = str(options.get("private_key", SANDBOX_PRIVATE_KEY)).encode("ascii")
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        self.key = key
        self.padding = client.rsa_padding(options.get("rsa_padding", "pkcs1v15"))
        self.as_of: date | None = options.get("as_of")
        self.answers: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _error(code: str, message: str, status: int = 200) -> Response:
        return JSONResponse({"errorCode": code, "errorMessage": message}, status_code=status)

    def _account(self, request: Request) -> str | None:
        """The authenticated account, or ``None`` when the Basic credentials are wrong."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            account, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if account not in (self.account, EXHAUSTED_CREDENTIAL):
            return None
        return account if hmac.compare_digest(password, self.password) else None

    def _decrypt(self, value: Any) -> str:
        return self.key.decrypt(base64.b64decode(str(value), validate=True), self.padding).decode("utf-8")

    async def report(self, request: Request) -> Response:
        """个人信用报告查询."""
        account = self._account(request)
        if account is None:
            return self._error("ERR-20001", "Not Authorized", 401)
        try:
            query = json.loads(await request.body())
            req_id = str(query["reqID"])
            encrypted = {k: query[k] for k in ("name", "pid")} | (
                {"mobile": query["mobile"]} if "mobile" in query else {}
            )
            for k in ("queryReason", "guaranteeType", "loanPurpose", "customType", "applyAmount"):
                str(query[k])
        except (ValueError, KeyError, TypeError):
            return self._error("ERR-10001", "参数错误")
        if account == EXHAUSTED_CREDENTIAL:
            return self._error("ERR-20002", "余额不足")
        try:
            plain = {k: self._decrypt(v) for k, v in encrypted.items()}
            # OpenSSL's implicit rejection turns a bad PKCS#1 v1.5 ciphertext into random
            # plaintext instead of an error, so a tampered field is caught by its shape.
            if not _ID_SHAPE.fullmatch(plain["pid"]):
                raise ValueError("pid does not decrypt to an ID number")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return self._error("ERR-10002", "解密失败")
        if req_id in self.answers:
            return JSONResponse(self.answers[req_id])
        now = datetime.now(UTC).astimezone(BEIJING)
        as_of = self.as_of or now.date()
        person = next((p for p in _PEOPLE if p.id_number == plain["pid"] and p.name == plain["name"]), None)
        data = _sections(person, as_of) if person is not None else {}
        header = {
            "reportId": f"BH{now:%Y%m%d%H%M%S}{req_id[:6].upper()}",
            "queryTime": f"{now:%Y-%m-%dT%H:%M:%S}",
        }
        answer: dict[str, Any] = {
            "errorCode": "0000",
            "errorMessage": "查询成功",
            "reqID": req_id,
            "pid": _mask(plain["pid"]),
            "name": plain["name"][:1] + "*" * (len(plain["name"]) - 1),
            "reportHeader": json.dumps(header, ensure_ascii=False),
        }
        for name in (
            "personalProfile",
            "homeInfo",
            "workInfo",
            "nonRevolvingLoan",
            "revolvingLoan",
            "queryHistory",
        ):
            answer[name] = json.dumps(data[name], ensure_ascii=False) if name in data else ""
        self.answers[req_id] = answer
        return JSONResponse(answer)


def create_app(**options: Any) -> FaultInjector:
    """The sandbox 百行 wrapped in fault injection (``fault`` sets a standing fault)."""
    bureau = Bureau(options)
    path = str(options.get("report_path", "/api/v1/credit/report"))
    return FaultInjector(
        Starlette(routes=[Route(path, bureau.report, methods=["POST"])]), standing=options.get("fault")
    )
