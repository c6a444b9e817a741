"""Glue: config → 钉钉 client → mapping, behind the OaApproval port."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field

from plugins.sdk import (
    AuthError,
    Capability,
    ConnectorError,
    ConnectorInfo,
    HttpConnector,
    HttpConnectorConfig,
    OaApproval,
    SecretStr,
    SupportLevel,
    VendorContractError,
)
from schemas.canonical.oa import (
    ApprovalFormField,
    ApprovalInstance,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStatusChanged,
)

from . import client, crypto, mapping

__all__ = ["DingTalkApproval", "DingTalkConfig"]


class DingTalkConfig(HttpConnectorConfig):
    """Settings of one 钉钉 internal app (企业内部应用).

    Args:
        app_key: the app's AppKey (Client ID); also the callback owner key.
        app_secret: the app's AppSecret (Client Secret).
        callback_token: the event subscription's 签名 Token.
        aes_key: the event subscription's 43-character EncodingAESKey.
        dept_id: the initiator's department when a request names none (钉钉 requires one in practice).
        microapp_agent_id: the app's AgentId, sent with every create.
        quota_codes: vendor codes meaning the API-call quota is used up (LOW confidence: configurable).
        not_found_codes: vendor codes meaning an unknown instance id (LOW confidence: configurable).
        idempotency_ttl: how long an idempotency key keeps answering with its instance, seconds.
        refresh_margin: seconds before expiry at which a cached token is no longer used.
        event_max_age: oldest callback timestamp accepted, in seconds (replay protection).
    """

    base_url: str = "https://api.dingtalk.com"
    app_key: SecretStr
    app_secret: SecretStr
    callback_token: SecretStr | None = None
    aes_key: SecretStr | None = None
    dept_id: int | None = None
    microapp_agent_id: int | None = None
    quota_codes: tuple[str, ...] = client.DEFAULT_QUOTA_CODES
    not_found_codes: tuple[str, ...] = client.DEFAULT_NOT_FOUND_CODES
    idempotency_ttl: float = Field(default=30 * 86400.0, gt=0)
    refresh_margin: float = Field(default=300.0, ge=0)
    event_max_age: float = Field(default=300.0, gt=0)


class DingTalkApproval(HttpConnector, OaApproval):
    """钉钉 workflow (OA 审批): create and read process instances with a cached access token.

    钉钉 has no server-side de-duplication for new instances, so idempotency is kept here: the
    idempotency key → instance id is remembered in the shared cache under a single-flight lock,
    and a create is never re-sent by the retry loop (a lost answer could hide a created instance).
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="dingtalk-oa",
        name="钉钉 OA 审批",
        capability=Capability.OA_APPROVAL,
        vendor="钉钉 DingTalk",
        vendor_api_version="workflow v1.0",
        hosts=client.PRODUCTION_HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url="https://open.dingtalk.com/document/orgapp/create-an-approval-instance",
    )
    Config: ClassVar[type[DingTalkConfig]] = DingTalkConfig
    simulator: ClassVar[str] = "connectors.dingtalk.simulator:create_app"
    config: DingTalkConfig

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Read 钉钉's ``code``/``errcode`` from JSON error bodies before the status table."""
        if not response.content.lstrip().startswith(b"{"):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return client.classify_body(
            response.status_code,
            body,
            quota_codes=self.config.quota_codes,
            not_found_codes=self.config.not_found_codes,
        )

    # -- token --------------------------------------------------------------------------------

    @property
    def _app(self) -> str:
        """A stable, non-secret handle of the app for cache keys."""
        return hashlib.sha256(self.config.app_key.get_secret_value().encode()).hexdigest()[:16]

    @property
    def _token_key(self) -> str:
        return f"dingtalk:access_token:{self.instance}:{self._app}"

    async def _token(self, *, stale: str | None = None) -> str:
        """The access token: cached until shortly before expiry, fetched single-flight."""
        cache = self.state.cache
        cached = await cache.get(self._token_key)
        if cached is not None and cached.decode() != stale:
            return cached.decode()
        async with self.state.locks.hold(f"{self._token_key}:fetch", ttl=self.config.total_timeout):
            cached = await cache.get(self._token_key)
            if cached is not None and cached.decode() != stale:
                return cached.decode()
            response = await self.request(
                "POST",
                client.TOKEN_PATH,
                operation="access_token",
                json={
                    "appKey": self.config.app_key.get_secret_value(),
                    "appSecret": self.config.app_secret.get_secret_value(),
                },
            )
            token, expire = client.parse_token(self.response_json(response))
            ttl = expire - self.config.refresh_margin
            if ttl <= 0:
                ttl = expire / 2
            if ttl > 0:
                await cache.set(self._token_key, token.encode(), ttl=ttl)
            return token

    async def _call(self, method: str, path: str, *, operation: str, **kwargs: Any) -> Any:
        """Send with ``x-acs-dingtalk-access-token``; on an invalid-token code refresh once and resend."""
        token = await self._token()
        for attempt in (1, 2):
            try:
                response = await self.request(
                    method,
                    path,
                    operation=operation,
                    headers={"x-acs-dingtalk-access-token": token},
                    **kwargs,
                )
                return self.response_json(response)
            except AuthError as error:
                if attempt == 2 or error.vendor_code not in client.TOKEN_INVALID_CODES:
                    raise
                await self.state.cache.delete(self._token_key)
                token = await self._token(stale=token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def check_connection(self) -> None:
        """Fetch a fresh access token: proves AppKey and AppSecret."""
        await self.state.cache.delete(self._token_key)
        await self._token()

    # -- the port ----------------------------------------------------------------------------

    async def create_instance(self, request: ApprovalRequest) -> ApprovalInstance:
        """Start a process instance; the same idempotency key yields the same instance."""
        digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()
        key = f"dingtalk:idempotency:{self.instance}:{self._app}:{digest}"
        async with self.state.locks.hold(f"{key}:lock", ttl=self.config.total_timeout):
            known = await self.state.cache.get(key)
            if known is not None:
                return await self.get_instance(known.decode())
            body = client.create_body(
                request, dept_id=self.config.dept_id, agent_id=self.config.microapp_agent_id
            )
            answer = await self._call("POST", client.INSTANCES_PATH, operation="create_instance", json=body)
            result = answer.get("result", answer) if isinstance(answer, dict) else None
            instance_id = result.get("instanceId") if isinstance(result, dict) else None
            if not isinstance(instance_id, str) or not instance_id:
                raise VendorContractError(f"{self.name} create_instance: answer lacks instanceId")
            await self.state.cache.set(key, instance_id.encode(), ttl=self.config.idempotency_ttl)
        now = datetime.now(UTC)
        return ApprovalInstance(
            instance_id=instance_id,
            status=ApprovalStatus.PENDING,
            history=((ApprovalStatus.PENDING, now),),
            template_code=request.template_code,
            title=request.title,
            initiator=request.initiator,
            department_id=body.get("deptId") and str(body["deptId"]),
            created_at=now,
            form=tuple(ApprovalFormField(name=k, value=v) for k, v in request.form.items()),
            vendor_status="RUNNING",
        )

    async def get_instance(self, instance_id: str) -> ApprovalInstance:
        """Read a process instance by its id."""
        answer = await self._call(
            "GET", client.INSTANCES_PATH, operation="get_instance", params={"processInstanceId": instance_id}
        )
        if not isinstance(answer, dict):
            raise VendorContractError(f"{self.name} get_instance: answer is not a JSON object")
        return mapping.instance_from_result(answer.get("result"), instance_id=instance_id)

    # -- the callback side ---------------------------------------------------------------------

    def _crypto(self) -> crypto.CallbackCrypto:
        if self.config.callback_token is None or self.config.aes_key is None:
            raise crypto.CallbackCryptoError("callback_token and aes_key are not configured", -40004)
        return crypto.CallbackCrypto(
            self.config.callback_token.get_secret_value(),
            self.config.aes_key.get_secret_value(),
            self.config.app_key.get_secret_value(),
        )

    def open_callback(
        self, query: Mapping[str, str], body: bytes
    ) -> tuple[ApprovalStatusChanged | None, dict[str, str]]:
        """Verify and decrypt one HTTP callback, as a webhook receiver must.

        Args:
            query: the query parameters (``msg_signature`` or ``signature``, ``timestamp``, ``nonce``).
            body: the raw body ``{"encrypt": …}``.

        Returns:
            The approval status change (``None`` for ``check_url`` and other events) and the
            encrypted ``success`` reply to answer with; without it 钉钉 retries.

        Raises:
            crypto.CallbackCryptoError: bad signature, stale timestamp, wrong key or owner.
        """
        box = self._crypto()
        try:
            encrypt = str(json.loads(body)["encrypt"])
        except (ValueError, KeyError, TypeError):
            raise crypto.CallbackCryptoError('body is not {"encrypt": …}', -40002) from None
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        box.verify(query.get("msg_signature") or query.get("signature") or "", timestamp, nonce, encrypt)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp) / 1000) > self.config.event_max_age:
            raise crypto.CallbackCryptoError("timestamp is stale", -40001)
        message = box.decrypt(encrypt)
        try:
            event = json.loads(message)
        except ValueError:
            raise crypto.CallbackCryptoError("decrypted message is not JSON", -40002) from None
        change = mapping.event_to_status_change(event) if isinstance(event, dict) else None
        reply = box.reply("success", str(int(time.time() * 1000)), secrets.token_hex(4))
        return change, reply
