"""金蝶云星空 as LendHub's FinanceLedger port: session login → GL_VOUCHER save → receipt."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import httpx
from pydantic import Field

from plugins.sdk import (
    Capability,
    ConnectorError,
    ConnectorInfo,
    FinanceLedger,
    HttpConnector,
    HttpConnectorConfig,
    InvalidRequest,
    SecretStr,
    SupportLevel,
)
from schemas.canonical.finance import Voucher, VoucherReceipt

from . import client, mapping

__all__ = ["KingdeeConfig", "KingdeeLedger"]


class KingdeeConfig(HttpConnectorConfig):
    """Settings of one 金蝶云星空 data centre and account book.

    Args:
        acct_id: the data centre id (账套 / 数据中心 ID) passed to ValidateUser.
        username: the integration user.
        password: its password.
        lcid: language of messages (2052 = 简体中文).
        service_root: the path under which the WebAPI lives.
        account_book: FAccountBookID.FNumber of the book vouchers go to.
        org_number: FACCBOOKORGID.FNumber, the accounting organisation.
        voucher_word: default voucher group number (凭证字, PRE001 = 记).
        external_id_field: GL_VOUCHER header field holding the idempotency key; add it in BOS
            with a uniqueness rule (LOW-CONFIDENCE name, so configurable).
        dimension_flex: canonical dimension kind → FDetailID flex field.
        currency_numbers: ISO currency → 金蝶 currency number.
        session_ttl: seconds a session is reused before logging in again anyway.
    """

    acct_id: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr
    lcid: int = 2052
    service_root: str = "/K3Cloud"
    account_book: str = "001"
    org_number: str = "100"
    voucher_word: str = "PRE001"
    external_id_field: str = "F_LH_ExternalId"
    dimension_flex: dict[str, str] = Field(default_factory=lambda: dict(mapping.DEFAULT_DIMENSION_FLEX))
    currency_numbers: dict[str, str] = Field(default_factory=lambda: dict(mapping.DEFAULT_CURRENCY_NUMBERS))
    session_ttl: float = Field(default=15 * 60.0, gt=0)


class KingdeeLedger(HttpConnector, FinanceLedger):
    """Posts vouchers to 金蝶云星空; one voucher per idempotency key, however often posted.

    Idempotency is a lookup before save plus a vendor-side guard: under a single-flight lock
    on the key, ``ExecuteBillQuery`` looks for a voucher whose external-id field holds the key
    and returns it if found; otherwise ``Save`` writes the key into that field, whose uniqueness
    rule makes 金蝶 refuse a second voucher even if a retried save races a lost answer — the
    refusal is answered by looking the voucher up again.
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="kingdee",
        name="金蝶云星空 general ledger",
        capability=Capability.FINANCE_LEDGER,
        vendor="金蝶云星空",
        vendor_api_version="WebAPI (K3Cloud 7.x/8.x)",
        hosts=client.HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url="https://openapi.open.kingdee.com/ApiDoc",
    )
    Config: ClassVar[type[KingdeeConfig]] = KingdeeConfig
    simulator: ClassVar[str] = "connectors.kingdee.simulator:create_app"
    idempotency_header: ClassVar[str] = "X-LendHub-Idempotency-Key"
    config: KingdeeConfig

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """金蝶 reports failures inside HTTP 200 (ResponseStatus, LoginResultType)."""
        if not 200 <= response.status_code < 300:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return client.classify_body(body)

    @property
    def _session_key(self) -> str:
        # Keyed by the whole origin, not just the host: a session belongs to the server that
        # issued it and must not be sent to another port or scheme on the same address. It lives
        # in the unscoped ``shared_state`` on purpose: instances logged in as the same user on the
        # same server share one session rather than logging each other out.
        url = httpx.URL(self.config.base_url)
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        return f"kingdee:{origin}:{self.config.acct_id}:{self.config.username}:session"

    async def _login(self) -> str:
        body = client.login_body(
            self.config.acct_id,
            self.config.username,
            self.config.password.get_secret_value(),
            self.config.lcid,
        )
        response = await self.request(
            "POST",
            client.service_path(self.config.service_root, client.VALIDATE_USER),
            operation="login",
            json=body,
            idempotency_key="login",  # a new session is harmless, so login may be retried
        )
        return client.session_cookie(response)

    async def _session(self, *, stale: str | None = None) -> str:
        """A live session cookie; ``stale`` is one the server just refused (single-flight re-login)."""
        key = self._session_key
        cached = await self.shared_state.cache.get(key)
        if cached is not None and cached.decode() != stale:
            return cached.decode()
        async with self.shared_state.locks.hold(f"{key}:lock", ttl=self.config.total_timeout):
            cached = await self.shared_state.cache.get(key)
            if cached is not None and cached.decode() != stale:
                return cached.decode()  # another caller logged in while we waited
            cookie = await self._login()
            await self.shared_state.cache.set(key, cookie.encode(), ttl=self.config.session_ttl)
            return cookie

    async def _invoke(
        self, service: str, body: dict[str, Any], *, operation: str, idempotency_key: str | None = None
    ) -> Any:
        """Call a service with the session; on session loss log in again once and replay."""
        path = client.service_path(self.config.service_root, service)
        cookie = await self._session()
        for replay in (False, True):
            try:
                response = await self.request(
                    "POST",
                    path,
                    operation=operation,
                    json=body,
                    headers={"Cookie": cookie},
                    idempotency_key=idempotency_key,
                )
                return self.response_json(response)
            except client.SessionLost:
                if replay:
                    raise
                cookie = await self._session(stale=cookie)
        raise AssertionError("unreachable")  # pragma: no cover

    async def check_connection(self) -> None:
        """Log in afresh: proves the data centre, user and password."""
        cookie = await self._login()
        await self.shared_state.cache.set(self._session_key, cookie.encode(), ttl=self.config.session_ttl)

    async def _find(self, key: str) -> VoucherReceipt | None:
        query = mapping.lookup_query(
            key, account_book=self.config.account_book, external_id_field=self.config.external_id_field
        )
        # A query changes nothing, so it is safe to retry: the key lets the SDK retry this POST.
        answer = await self._invoke(
            client.EXECUTE_BILL_QUERY, query, operation="find_voucher", idempotency_key=f"query:{key}"
        )
        rows = client.query_rows(answer)
        return mapping.receipt_from_row(rows[0], key) if rows else None

    async def post_voucher(self, voucher: Voucher) -> VoucherReceipt:
        """Save the voucher unless one already exists for its idempotency key."""
        try:
            body = mapping.save_body(
                voucher,
                account_book=self.config.account_book,
                org_number=self.config.org_number,
                external_id_field=self.config.external_id_field,
                default_voucher_word=self.config.voucher_word,
                dimension_flex=self.config.dimension_flex,
                currency_numbers=self.config.currency_numbers,
            )
        except ValueError as exc:
            raise InvalidRequest(f"{self.name} post_voucher: {exc}", connector=self.slug) from None
        digest = hashlib.sha256(voucher.idempotency_key.encode()).hexdigest()[:32]
        lock = f"kingdee:{self.config.acct_id}:{self.config.account_book}:voucher:{digest}"
        async with self.shared_state.locks.hold(lock, ttl=self.config.total_timeout * 3):
            found = await self._find(voucher.idempotency_key)
            if found is not None:
                return found
            try:
                answer = await self._invoke(
                    client.SAVE, body, operation="save_voucher", idempotency_key=voucher.idempotency_key
                )
            except client.DuplicateVoucher:
                found = await self._find(voucher.idempotency_key)
                if found is None:
                    raise
                return found
            voucher_id, number = client.save_result(answer)
            return mapping.receipt_from_save(voucher_id, number, voucher)
