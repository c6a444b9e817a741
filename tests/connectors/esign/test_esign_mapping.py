"""e签宝 → canonical mapping, from recorded vendor bodies shaped as the contract card describes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.esign import client, mapping
from plugins.sdk import VendorContractError
from schemas.canonical.esignature import (
    Signer,
    SignerKind,
    SignerStatus,
    SignFlowRequest,
    SignFlowStatus,
)

FIXTURES = Path(__file__).parent / "fixtures"


def data(name: str) -> dict[str, Any]:
    return client.unwrap(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def test_signing_flow_maps_signers_documents_and_history() -> None:
    flow = mapping.flow_from_detail("x", data("detail_signing.json"))
    assert flow.flow_id == "b247b0085708412383d67ec47132038a"
    assert flow.status is SignFlowStatus.SIGNING and flow.vendor_status == "1"
    assert flow.title == "借款合同 - 张三"
    assert [d.name for d in flow.documents] == ["借款合同.pdf"]
    person, org = flow.signers
    assert person.kind is SignerKind.PERSON and person.status is SignerStatus.SIGNED
    assert person.signed_at == datetime(2024, 3, 15, 2, 1, 40, tzinfo=UTC)
    assert org.kind is SignerKind.ORGANIZATION and org.org_name == "上海示例测试有限公司"
    assert org.status is SignerStatus.SIGNING and org.sign_order == 2
    assert [s for s, _ in flow.history] == [SignFlowStatus.DRAFT, SignFlowStatus.SIGNING]
    assert flow.finished_at is None


@pytest.mark.parametrize(
    ("fixture", "status", "last"),
    [
        ("detail_completed.json", SignFlowStatus.COMPLETED, "完成"),
        ("detail_rejected.json", SignFlowStatus.REJECTED, "拒签"),
    ],
)
def test_finished_flow_ends_history_with_its_terminal_status(
    fixture: str, status: SignFlowStatus, last: str
) -> None:
    flow = mapping.flow_from_detail("x", data(fixture))
    assert flow.status is status
    assert flow.history[-1][0] is status and flow.events[-1].description == last
    assert flow.finished_at is not None and flow.finished_at.tzinfo is UTC


def test_round_trips_through_json() -> None:
    flow = mapping.flow_from_detail("x", data("detail_signing.json"))
    assert type(flow).model_validate_json(flow.model_dump_json()) == flow


def test_undocumented_status_is_a_contract_error() -> None:
    with pytest.raises(VendorContractError):
        mapping.flow_from_detail("x", {"signFlowStatus": 42})
    with pytest.raises(VendorContractError):
        mapping.flow_from_detail("x", {})


def test_download_maps_file_names_to_urls() -> None:
    urls = mapping.document_urls_from_download(data("download.json"))
    assert list(urls) == ["借款合同.pdf"] and urls["借款合同.pdf"].startswith("https://esignoss.esign.cn/")


def test_create_body_is_shaped_as_create_by_file() -> None:
    request = SignFlowRequest(
        subject="借款合同",
        document_name="c.pdf",
        document=b"%PDF",
        idempotency_key="k",
        signers=(
            Signer(name="张三", id_number="110105199003070017", mobile="17000000001"),
            Signer(
                name="李经理",
                mobile="17000000009",
                org_name="上海示例测试有限公司",
                org_id_number="913100001234567883",
                sign_order=2,
            ),
        ),
    )
    body = mapping.flow_create_body(request, "F1", notify_url="https://crm/webhooks/esign", biz_num="abc")
    assert body["docs"] == [{"fileId": "F1", "fileName": "c.pdf"}]
    assert body["signFlowConfig"]["autoStart"] is False and body["signFlowConfig"]["autoFinish"] is True
    assert body["signFlowConfig"]["notifyUrl"] == "https://crm/webhooks/esign"
    person, org = body["signers"]
    assert person["signerType"] == 0
    assert person["psnSignerInfo"]["psnInfo"] == {
        "psnName": "张三",
        "psnIDCardNum": "110105199003070017",
        "psnIDCardType": "CRED_PSN_CH_IDCARD",
    }
    assert org["signerType"] == 1 and org["orgSignerInfo"]["orgInfo"]["orgIDCardType"] == "CRED_ORG_USCC"
    assert org["signConfig"]["signOrder"] == 2
    assert person["signFields"][0]["customBizNum"] == "abc"


def test_upload_body_declares_md5_and_size() -> None:
    body = mapping.upload_url_body("c.pdf", b"%PDF", client.content_md5(b"%PDF"))
    assert body["fileSize"] == 4 and body["convertToPDF"] is False
    assert body["contentType"] == "application/octet-stream"
