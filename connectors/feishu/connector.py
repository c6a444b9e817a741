"""Glue: config → 飞书 client → mapping, behind the OaApproval port."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field

from plugins.sdk import (
    AuthError,
    Capability,
    ConnectorError,
    ConnectorInfo,
    HttpConnector,
    HttpConnectorConfig,
    InvalidRequest,
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

__all__ = ["FeishuApproval", "FeishuConfig"]


class FeishuConfig(HttpConnectorConfig):
    """Settings of one 飞书 self-built app (企业自建应用).

    Args:
        app_id: the app's App ID (``cli_…``).
        app_secret: the app's App Secret.
        encrypt_key: the event subscription's Encrypt Key; needed to receive callbacks.
        verification_token: the event subscription's Verification Token.
        user_id_type: which user id ``ApprovalRequest.initiator`` and approvers are.
        field_types: form widget id → widget type (``amount``, ``textarea``…); others are ``input``.
        refresh_margin: seconds before expiry at which a cached token is no longer used.
        event_max_age: oldest callback timestamp accepted, in seconds (replay protection).
    """

    base_url: str = "https://open.feishu.cn"
    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    encrypt_key: SecretStr | None = None
    verification_token: SecretStr | None = None
    user_id_type: Literal["user_id", "open_id"] = "user_id"
    field_types: dict[str, str] = Field(default_factory=dict)
    refresh_margin: float = Field(default=300.0, ge=0)
    event_max_age: float = Field(default=300.0, gt=0)


class FeishuApproval(HttpConnector, OaApproval):
    """飞书 approval v4: create and read approval instances with a cached tenant access token."""

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="feishu-oa",
        name="飞书 approval",
        capability=Capability.OA_APPROVAL,
        vendor="飞书 Feishu / Lark",
        vendor_api_version="approval v4",
        hosts=client.PRODUCTION_HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url="https://open.feishu.cn/document/server-docs/approval-v4/instance/create",
    )
    Config: ClassVar[type[FeishuConfig]] = FeishuConfig
    simulator: ClassVar[str] = "connectors.feishu.simulator:create_app"
    config: FeishuConfig

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Read 飞书's ``code`` whatever the HTTP status (errors come with 200, 400 or 429)."""
        if not response.content.lstrip().startswith(b"{"):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return client.classify_body(response.status_code, body, response.headers)

    # -- token --------------------------------------------------------------------------------

    @property
    def _token_key(self) -> str:
        return f"feishu:tenant_token:{self.instance}:{self.config.app_id}"

    async def _token(self, *, stale: str | None = None) -> str:
        """The tenant access token: cached until shortly before expiry, fetched single-flight.

        Args:
            stale: a token the vendor just refused; never handed out again.
        """
        cache = self.state.cache
        cached = await cache.get(self._token_key)
        if cached is not None and cached.decode() != stale:
            return cached.decode()
        async with self.state.locks.hold(f"{self._token_key}:fetch", ttl=self.config.total_timeout):
            # Another holder may have refreshed while we waited for the lock.
            cached = await cache.get(self._token_key)
            if cached is not None and cached.decode() != stale:
                return cached.decode()
            response = await self.request(
                "POST",
                client.TOKEN_PATH,
                operation="tenant_access_token",
                json={"app_id": self.config.app_id, "app_secret": self.config.app_secret.get_secret_value()},
            )
            token, expire = client.parse_token(self.response_json(response))
            ttl = expire - self.config.refresh_margin
            if ttl <= 0:
                ttl = expire / 2
            if ttl > 0:
                await cache.set(self._token_key, token.encode(), ttl=ttl)
            return token

    async def _call(self, method: str, path: str, *, operation: str, **kwargs: Any) -> Any:
        """Send with the bearer token; on 飞书's token-invalid code refresh once and resend."""
        token = await self._token()
        for attempt in (1, 2):
            try:
                response = await self.request(
                    method, path, operation=operation, headers={"Authorization": f"Bearer {token}"}, **kwargs
                )
                return self.response_json(response)
            except AuthError as error:
                if attempt == 2 or error.vendor_code is None:
                    raise
                if int(error.vendor_code) not in client.TOKEN_INVALID_CODES:
                    raise
                await self.state.cache.delete(self._token_key)
                token = await self._token(stale=token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def check_connection(self) -> None:
        """Fetch a fresh tenant access token: proves app id and secret (costs no API quota)."""
        await self.state.cache.delete(self._token_key)
        await self._token()

    # -- the port ----------------------------------------------------------------------------

    async def create_instance(self, request: ApprovalRequest) -> ApprovalInstance:
        """Start an approval, idempotently.

        The idempotency key becomes 飞书's ``uuid``, so a resubmission (``60012`` uuid conflict)
        reads the instance created the first time instead of failing.
        """
        uuid = client.dedupe_uuid(request.idempotency_key)
        body = client.create_body(
            request, uuid=uuid, user_id_type=self.config.user_id_type, field_types=self.config.field_types
        )
        try:
            answer = await self._call(
                "POST",
                client.CREATE_PATH,
                operation="create_instance",
                json=body,
                idempotency_key=request.idempotency_key,
            )
        except InvalidRequest as error:
            if error.vendor_code != str(client.UUID_CONFLICT):
                raise
            return await self.get_instance(uuid)
        data = answer.get("data") if isinstance(answer, dict) else None
        code = data.get("instance_code") if isinstance(data, dict) else None
        if not isinstance(code, str) or not code:
            raise VendorContractError(f"{self.name} create_instance: answer lacks data.instance_code")
        now = datetime.now(UTC)
        return ApprovalInstance(
            instance_id=code,
            status=ApprovalStatus.PENDING,
            history=((ApprovalStatus.PENDING, now),),
            template_code=request.template_code,
            initiator=request.initiator,
            department_id=request.department_id,
            created_at=now,
            form=tuple(
                ApprovalFormField(field_id=k, type=self.config.field_types.get(k, "input"), value=v)
                for k, v in request.form.items()
            ),
            vendor_status="PENDING",
        )

    async def get_instance(self, instance_id: str) -> ApprovalInstance:
        """Read an instance by its instance code (or the ``uuid`` it was created with)."""
        answer = await self._call(
            "GET",
            client.INSTANCE_PATH.format(instance_id=instance_id),
            operation="get_instance",
            params={"user_id_type": self.config.user_id_type},
        )
        return mapping.instance_from_detail(answer.get("data"), instance_id=instance_id)

    # -- the callback side ---------------------------------------------------------------------

    def open_event(self, headers: Mapping[str, str], body: bytes) -> ApprovalStatusChanged | dict[str, str]:
        """Verify and decrypt one event-subscription request, as a webhook receiver must.

        Args:
            headers: the request headers (case-insensitive lookup is up to the caller's mapping).
            body: the raw request body, exactly as received.

        Returns:
            For a URL verification, the ``{"challenge": …}`` reply to send back; otherwise the
            approval status change.

        Raises:
            crypto.EventCryptoError: bad signature, stale timestamp, wrong token or key.
        """
        encrypt_key = self.config.encrypt_key.get_secret_value() if self.config.encrypt_key else None
        envelope = _json_object(body)
        if "encrypt" in envelope:
            if encrypt_key is None:
                raise crypto.EventCryptoError("encrypted event but no encrypt_key configured")
            event = _json_object(crypto.decrypt(str(envelope["encrypt"]), encrypt_key))
        else:
            event = envelope
        token = (
            event.get("token") if event.get("schema") != "2.0" else (event.get("header") or {}).get("token")
        )
        expected = self.config.verification_token
        if expected is not None and token != expected.get_secret_value():
            raise crypto.EventCryptoError("verification token does not match")
        if event.get("type") == "url_verification":
            return {"challenge": str(event.get("challenge", ""))}
        if encrypt_key is not None:
            lower = {k.lower(): v for k, v in headers.items()}
            timestamp = lower.get("x-lark-request-timestamp", "")
            crypto.verify_signature(
                timestamp,
                lower.get("x-lark-request-nonce", ""),
                encrypt_key,
                body,
                lower.get("x-lark-signature", ""),
            )
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.config.event_max_age:
                raise crypto.EventCryptoError("X-Lark-Request-Timestamp is stale")
        return mapping.event_to_status_change(event)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise crypto.EventCryptoError("event body is not JSON") from None
    if not isinstance(value, dict):
        raise crypto.EventCryptoError("event body is not a JSON object")
    return value
