"""Pure translations between e签宝 v3 JSON and LendHub's canonical e-signature models.

Nothing here does I/O, so every function is tested from recorded vendor bodies alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from plugins.sdk import VendorContractError
from schemas.canonical.esignature import (
    SignDocument,
    Signer,
    SignerKind,
    SignerStatus,
    SignFlow,
    SignFlowEvent,
    SignFlowRequest,
    SignFlowStatus,
)

__all__ = [
    "FLOW_STATUS",
    "SIGNER_STATUS",
    "document_urls_from_download",
    "flow_create_body",
    "flow_from_detail",
    "from_millis",
    "sign_url_body",
    "upload_url_body",
]

FLOW_STATUS: dict[int, SignFlowStatus] = {
    0: SignFlowStatus.DRAFT,  # 草稿
    1: SignFlowStatus.SIGNING,  # 签署中
    2: SignFlowStatus.COMPLETED,  # 完成
    3: SignFlowStatus.REVOKED,  # 撤销
    5: SignFlowStatus.EXPIRED,  # 过期
    7: SignFlowStatus.REJECTED,  # 拒签
}
"""``signFlowStatus`` → canonical status (also the string values of SIGN_FLOW_COMPLETE)."""

SIGNER_STATUS: dict[int, SignerStatus] = {
    0: SignerStatus.WAITING,
    1: SignerStatus.SIGNING,
    2: SignerStatus.SIGNED,
    3: SignerStatus.REJECTED,
}
"""``signers[].signStatus`` → canonical signer status (LOW-CONFIDENCE numbering)."""

_ID_CARD = "CRED_PSN_CH_IDCARD"
_USCC = "CRED_ORG_USCC"


def from_millis(value: Any) -> datetime | None:
    """An e签宝 epoch-milliseconds timestamp as an aware UTC datetime (``None`` for empty)."""
    if value in (None, "", 0, "0"):
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        raise VendorContractError(f"e签宝 timestamp {value!r} is not epoch milliseconds") from None


def upload_url_body(file_name: str, content: bytes, md5: str) -> dict[str, Any]:
    """Body of ``POST /v3/files/file-upload-url`` for a ready PDF."""
    return {
        "fileName": file_name,
        "fileSize": len(content),
        "contentMd5": md5,
        "contentType": "application/octet-stream",
        "convertToPDF": not file_name.lower().endswith(".pdf"),
    }


def _signer_body(signer: Signer, index: int, file_id: str, biz_num: str) -> dict[str, Any]:
    account = signer.mobile or ""
    field = {
        "customBizNum": biz_num,
        "fileId": file_id,
        "normalSignFieldConfig": {
            "autoSign": False,
            "signFieldStyle": 1,
            "signFieldPosition": {"positionPage": "1", "positionX": 120 + 160 * index, "positionY": 160},
        },
    }
    body: dict[str, Any] = {
        "signConfig": {"signOrder": signer.sign_order, "forcedReadingTime": 0},
        "signFields": [field],
    }
    if signer.signer_kind is SignerKind.ORGANIZATION:
        body["signerType"] = 1
        body["orgSignerInfo"] = {
            "orgName": signer.org_name or signer.name,
            "orgInfo": {"orgIDCardNum": signer.org_id_number or "", "orgIDCardType": _USCC},
            "transactorInfo": {"psnAccount": account, "psnInfo": {"psnName": signer.name}},
        }
    else:
        body["signerType"] = 0
        info: dict[str, Any] = {"psnName": signer.name}
        if signer.id_number:
            info["psnIDCardNum"] = signer.id_number
            info["psnIDCardType"] = _ID_CARD
        body["psnSignerInfo"] = {"psnAccount": account, "psnInfo": info}
    return body


def flow_create_body(
    request: SignFlowRequest, file_id: str, *, notify_url: str | None, biz_num: str
) -> dict[str, Any]:
    """Body of ``POST /v3/sign-flow/create-by-file``.

    The flow is created with ``autoStart=false`` so that a duplicate created by a lost answer is
    never sent to a borrower: only the flow the connector recorded gets started.
    ``autoFinish=true`` lets the flow complete when the last signer signs.
    """
    config: dict[str, Any] = {
        "signFlowTitle": request.subject,
        "autoStart": False,
        "autoFinish": True,
        "noticeConfig": {"noticeTypes": "1"},
    }
    if notify_url:
        config["notifyUrl"] = notify_url
    if request.expire_at is not None:
        config["signFlowExpireTime"] = int(request.expire_at.timestamp() * 1000)
    return {
        "docs": [{"fileId": file_id, "fileName": request.document_name}],
        "signFlowConfig": config,
        "signers": [_signer_body(s, i, file_id, biz_num) for i, s in enumerate(request.signers)],
    }


def sign_url_body(signer: Signer) -> dict[str, Any]:
    """Body of ``POST /v3/sign-flow/{id}/sign-url`` for one signer (by account = mobile)."""
    body: dict[str, Any] = {"operator": {"psnAccount": signer.mobile or ""}, "urlType": 2}
    if signer.signer_kind is SignerKind.ORGANIZATION:
        body["organization"] = {"orgName": signer.org_name or signer.name}
    return body


def _signer_from_detail(raw: Mapping[str, Any]) -> Signer:
    status = SIGNER_STATUS.get(int(raw.get("signStatus", 0) or 0))
    common = {
        "sign_order": int(raw.get("signOrder", 1) or 1),
        "status": status,
        "signed_at": from_millis(raw.get("signTime")),
    }
    if int(raw.get("signerType", 0) or 0) == 1:
        org = raw.get("orgSigner") or {}
        transactor = org.get("transactor") or {}
        return Signer(
            name=str(transactor.get("psnName") or org.get("orgName", "")),
            mobile=(transactor.get("psnAccount") or {}).get("accountMobile"),
            org_name=org.get("orgName"),
            org_id_number=(org.get("orgIDCardNum") or None),
            kind=SignerKind.ORGANIZATION,
            **common,
        )
    psn = raw.get("psnSigner") or {}
    return Signer(
        name=str(psn.get("psnName", "")),
        mobile=(psn.get("psnAccount") or {}).get("accountMobile"),
        kind=SignerKind.PERSON,
        **common,
    )


def flow_from_detail(flow_id: str, data: Mapping[str, Any]) -> SignFlow:
    """``GET /v3/sign-flow/{id}/detail`` data → :class:`SignFlow`.

    e签宝 reports no history list; the history is rebuilt from the create, start and finish
    timestamps it does report.
    """
    try:
        code = int(data["signFlowStatus"])
    except (KeyError, TypeError, ValueError):
        raise VendorContractError("e签宝 flow detail has no numeric signFlowStatus") from None
    status = FLOW_STATUS.get(code)
    if status is None:
        raise VendorContractError(f"e签宝 signFlowStatus {code} is not documented")
    description = str(data.get("signFlowDescription") or "")
    created = from_millis(data.get("signFlowCreateTime"))
    started = from_millis(data.get("signFlowStartTime"))
    finished = from_millis(data.get("signFlowFinishTime"))
    events: list[SignFlowEvent] = []
    if created is not None:
        events.append(SignFlowEvent(status=SignFlowStatus.DRAFT, at=created, description="created"))
    if started is not None:
        events.append(SignFlowEvent(status=SignFlowStatus.SIGNING, at=started, description="started"))
    if finished is not None and status.terminal:
        events.append(SignFlowEvent(status=status, at=finished, description=description))
    docs = tuple(
        SignDocument(file_id=str(d.get("fileId", "")), name=str(d.get("fileName", "")))
        for d in data.get("docs") or ()
    )
    config = data.get("signFlowConfig") or {}
    return SignFlow(
        flow_id=str(data.get("signFlowId") or flow_id),
        status=status,
        signers=tuple(_signer_from_detail(s) for s in data.get("signers") or ()),
        documents=docs,
        history=tuple((e.status, e.at) for e in events),
        events=tuple(events),
        title=str(config.get("signFlowTitle") or data.get("signFlowTitle") or ""),
        vendor_status=str(code),
        status_description=description,
        created_at=created,
        finished_at=finished if status.terminal else None,
    )


def document_urls_from_download(data: Mapping[str, Any]) -> dict[str, str]:
    """``GET /v3/sign-flow/{id}/file-download-url`` data → ``{file name: download URL}``."""
    files = data.get("files")
    if not isinstance(files, list):
        raise VendorContractError("e签宝 download answer has no files list")
    return {str(f["fileName"]): str(f["downloadUrl"]) for f in files if f.get("downloadUrl")}
