"""e签宝 v3 as LendHub's ESignature port: config → signed calls → canonical sign flows."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, ClassVar

import httpx
from pydantic import Field

from plugins.sdk import (
    Capability,
    ConnectorError,
    ConnectorInfo,
    ESignature,
    HttpConnector,
    HttpConnectorConfig,
    InvalidRequest,
    NotFound,
    SecretStr,
    SupportLevel,
    TransientError,
    VendorContractError,
)
from schemas.canonical.esignature import Signer, SignFlow, SignFlowRequest, SignFlowStatus

from . import client, mapping

__all__ = ["EsignConfig", "EsignSignature"]


class EsignConfig(HttpConnectorConfig):
    """Settings of one e签宝 app.

    Args:
        app_id: the AppId from the e签宝 open platform console (not secret; sent on every call).
        app_secret: the AppSecret that signs requests and callbacks.
        notify_url: the LendHub webhook that receives this app's callbacks; a request's own
            ``callback_url`` wins.
        idempotency_ttl: how long (seconds) an idempotency key is remembered.
        file_poll_interval: seconds between checks that an uploaded file is ready.
        file_poll_attempts: how many checks before giving up with a TransientError.
    """

    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    notify_url: str | None = None
    idempotency_ttl: float = Field(default=30 * 24 * 3600.0, gt=0)
    file_poll_interval: float = Field(default=0.2, ge=0)
    file_poll_attempts: int = Field(default=10, ge=1)


class EsignSignature(HttpConnector, ESignature):
    """Contracts signed through e签宝: upload, create by file, start, sign URL, revoke, download.

    ``create_flow`` is idempotent without vendor support for it: under a single-flight lock on
    the key it looks the key up in the shared cache first; otherwise it uploads, creates the
    flow with ``autoStart=false``, records the flow id, and only then starts it. A duplicate
    created by an answer lost in transit is therefore never started, never sent to a borrower.
    """

    info: ClassVar[ConnectorInfo] = ConnectorInfo(
        slug="esign",
        name="e签宝 electronic signature",
        capability=Capability.ESIGNATURE,
        vendor="e签宝",
        vendor_api_version="v3",
        hosts=client.HOSTS,
        support_level=SupportLevel.OFFICIAL,
        docs_url="https://open.esign.cn/doc/opendoc/apiv3-guide/tfb6gn",
    )
    Config: ClassVar[type[EsignConfig]] = EsignConfig
    simulator: ClassVar[str] = "connectors.esign.simulator:create_app"
    idempotency_header: ClassVar[str] = "X-LendHub-Idempotency-Key"
    sensitive_fields: ClassVar[tuple[str, ...]] = ("psnName", "psnAccount", "psnIDCardNum")
    """Signers' names, accounts (a mobile or an e-mail) and ID numbers, in flows and answers."""
    config: EsignConfig

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """e签宝 reports business failures as a non-zero ``code`` inside HTTP 200."""
        if not response.headers.get("content-type", "").startswith("application/json"):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return client.classify_envelope(response.status_code, body)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        retry_key: str | None = None,
    ) -> dict[str, Any]:
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = client.signed_headers(
            app_id=self.config.app_id,
            secret=self.config.app_secret.get_secret_value(),
            method=method,
            path=path,
            body=raw,
            timestamp_ms=int(self.clock() * 1000),
            params=params,
        )
        response = await self.request(
            method,
            path,
            operation=operation,
            content=raw or None,
            params=params,
            headers=headers,
            idempotency_key=retry_key,
        )
        return client.unwrap(self.response_json(response))

    async def check_connection(self) -> None:
        """A signed detail query for a flow that cannot exist: not-found proves the keys work."""
        try:
            await self._call("GET", "/v3/sign-flow/lendhub-connection-check/detail", operation="check")
        except NotFound:
            return

    # -- the port ---------------------------------------------------------------------------------

    async def create_flow(self, request: SignFlowRequest) -> SignFlow:
        """Upload the contract, create the flow, start it; the same key yields the same flow."""
        if not request.signers:
            raise InvalidRequest(f"{self.name} create_flow: a flow needs at least one signer")
        digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:32]
        # Keyed by the e签宝 app, in the unscoped ``shared_state``: two instances on the same app
        # account must not start two flows for one idempotency key.
        key = f"esign:{self.config.app_id}:flow:{digest}"
        async with self.shared_state.locks.hold(f"{key}:lock", ttl=self.config.total_timeout * 4):
            cached = await self.shared_state.cache.get(key)
            if cached is not None:
                flow_id = cached.decode()
            else:
                file_id = await self._upload(request.document_name, request.document)
                body = mapping.flow_create_body(
                    request,
                    file_id,
                    notify_url=request.callback_url or self.config.notify_url,
                    biz_num=digest,
                )
                data = await self._call(
                    "POST", "/v3/sign-flow/create-by-file", operation="create_flow", body=body
                )
                flow_id = _require(data, "signFlowId")
                await self.shared_state.cache.set(key, flow_id.encode(), ttl=self.config.idempotency_ttl)
            flow = await self.get_flow(flow_id)
            if flow.status is SignFlowStatus.DRAFT:
                try:
                    await self._call("POST", f"/v3/sign-flow/{flow_id}/start", operation="start_flow")
                except InvalidRequest:
                    # "already started": an earlier start whose answer was lost went through.
                    flow = await self.get_flow(flow_id)
                    if flow.status is SignFlowStatus.DRAFT:
                        raise
                    return flow
                flow = await self.get_flow(flow_id)
            return flow

    async def _upload(self, file_name: str, content: bytes) -> str:
        md5 = client.content_md5(content)
        data = await self._call(
            "POST",
            "/v3/files/file-upload-url",
            operation="file_upload_url",
            body=mapping.upload_url_body(file_name, content, md5),
            retry_key=f"upload-url:{md5}",  # only allocates a URL: safe to retry
        )
        file_id, upload_url = _require(data, "fileId"), _require(data, "fileUploadUrl")
        # The storage host checks Content-MD5 and Content-Type, not the e签宝 signature.
        await self.request(
            "PUT",
            upload_url,
            operation="file_upload",
            content=content,
            headers={"Content-MD5": md5, "Content-Type": "application/octet-stream"},
        )
        for _ in range(self.config.file_poll_attempts):
            status = await self._call("GET", f"/v3/files/{file_id}", operation="file_status")
            if int(status.get("fileStatus", -1)) in client.FILE_READY_STATUSES:
                return file_id
            await asyncio.sleep(self.config.file_poll_interval)
        raise TransientError(
            f"{self.name} file_status: the uploaded file is not ready yet", connector=self.slug
        )

    async def get_flow(self, flow_id: str) -> SignFlow:
        """The flow's detail, status history rebuilt from the vendor's timestamps."""
        data = await self._call("GET", f"/v3/sign-flow/{flow_id}/detail", operation="get_flow")
        return mapping.flow_from_detail(flow_id, data)

    async def revoke_flow(self, flow_id: str, *, reason: str) -> SignFlow:
        """Revoke an unfinished flow; revoking an already revoked flow answers its state."""
        current = await self.get_flow(flow_id)
        if current.status is SignFlowStatus.REVOKED:
            return current
        await self._call(
            "POST",
            f"/v3/sign-flow/{flow_id}/revoke",
            operation="revoke_flow",
            body={"revokeReason": reason},
        )
        return await self.get_flow(flow_id)

    async def signing_url(self, flow_id: str, *, signer: Signer) -> str:
        """The signer's page (the long URL; e签宝 also answers a ``shortUrl`` for SMS)."""
        if not signer.mobile:
            raise InvalidRequest(f"{self.name} signing_url: e签宝 finds signers by mobile (psnAccount)")
        data = await self._call(
            "POST",
            f"/v3/sign-flow/{flow_id}/sign-url",
            operation="signing_url",
            body=mapping.sign_url_body(signer),
            retry_key=f"sign-url:{flow_id}:{signer.mobile}",  # a read: safe to retry
        )
        return _require(data, "url")

    async def document_urls(self, flow_id: str) -> dict[str, str]:
        """Download URLs of the signed files; InvalidRequest (1437518) before the flow finishes."""
        data = await self._call(
            "GET", f"/v3/sign-flow/{flow_id}/file-download-url", operation="document_urls"
        )
        return mapping.document_urls_from_download(data)


def _require(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise VendorContractError(f"e签宝 answer has no {name}")
    return value
