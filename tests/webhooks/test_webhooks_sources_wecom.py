"""The built-in wecom source: echostr URL verification, encrypted XML events, the encrypted success reply."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from pydantic import ValidationError

from plugins.sdk import (
    CallbackCrypto,
    InboundRequest,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookRejected,
    msg_signature,
)
from plugins.webhook_sources import WeComCallbacks, WeComConfig

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
TOKEN, CORP = "wecomtoken", "ww1234567890abcdef"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
VENDOR = CallbackCrypto(TOKEN, AES_KEY, CORP)  # plays 企业微信

APPROVAL = """<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>
<CreateTime>1772366390</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[sys_approval_change]]></Event>
<AgentID>3010040</AgentID><ApprovalInfo><SpNo>202603010001</SpNo><SpName><![CDATA[贷款审批]]></SpName><SpStatus>2</SpStatus>
<TemplateId><![CDATA[C4NxA]]></TemplateId><ApplyTime>1772366000</ApplyTime><Applyer><UserId><![CDATA[zhangsan]]></UserId><Party><![CDATA[1]]></Party></Applyer>
<SpRecord><SpStatus>2</SpStatus><ApproverAttr>1</ApproverAttr><Details><Approver><UserId><![CDATA[lisi]]></UserId></Approver><Speech><![CDATA[同意]]></Speech><SpStatus>2</SpStatus><SpTime>1772366380</SpTime></Details></SpRecord>
<SpRecord><SpStatus>2</SpStatus><ApproverAttr>1</ApproverAttr><Details><Approver><UserId><![CDATA[wangwu]]></UserId></Approver><SpStatus>2</SpStatus><SpTime>1772366389</SpTime></Details></SpRecord>
<StatuChangeEvent>2</StatuChangeEvent></ApprovalInfo></xml>"""


def source() -> WeComCallbacks:
    return WeComCallbacks(
        WeComConfig.model_validate({"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_id": CORP})
    )


def push(message: str, *, ts: str = TS, nonce: str = "n1", box: CallbackCrypto = VENDOR) -> InboundRequest:
    """A POST as 企业微信 sends it: XML with the encrypted message, signature in the query."""
    encrypt = box.encrypt(message)
    raw = f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><AgentID><![CDATA[3010040]]></AgentID><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    query = {"msg_signature": msg_signature(TOKEN, ts, nonce, encrypt), "timestamp": ts, "nonce": nonce}
    return InboundRequest(
        "POST", "/webhooks/wecom/main", query, {"content-type": "text/xml"}, raw.encode(), NOW
    )


def test_url_verification_answers_the_plaintext_echostr() -> None:
    echostr = VENDOR.encrypt("4512372346754921983")
    query = {
        "msg_signature": msg_signature(TOKEN, TS, "n2", echostr),
        "timestamp": TS,
        "nonce": "n2",
        "echostr": echostr,
    }
    reply = source().handshake(InboundRequest("GET", "/webhooks/wecom/main", query, {}, b"", NOW), now=NOW)
    assert reply is not None and reply.body == b"4512372346754921983" and reply.content_type == "text/plain"
    assert source().handshake(push(APPROVAL), now=NOW) is None


@pytest.mark.parametrize(
    ("case", "query", "error"),
    [
        (
            "bad signature",
            {"msg_signature": "0" * 40, "timestamp": TS, "nonce": "n", "echostr": "abc"},
            SignatureInvalid,
        ),
        ("no echostr", {"msg_signature": "0" * 40, "timestamp": TS, "nonce": "n"}, Unparsable),
        ("no signature", {"timestamp": TS, "nonce": "n", "echostr": "abc"}, SignatureInvalid),
    ],
)
def test_url_verification_refusals(case: str, query: dict[str, str], error: type[WebhookRejected]) -> None:
    with pytest.raises(error):
        source().handshake(InboundRequest("GET", "/", query, {}, b"", NOW), now=NOW)


def test_approval_event_verifies_decrypts_and_parses() -> None:
    [event] = source().verify(push(APPROVAL), now=NOW)
    assert event.event_type == "sys_approval_change"
    assert event.object_id == "202603010001"
    assert event.object_version == 1772366390
    assert event.occurred_at == datetime.fromtimestamp(1772366390, UTC)
    info = event.payload["ApprovalInfo"]
    assert info["SpName"] == "贷款审批" and len(info["SpRecord"]) == 2
    # The vendor's retry (re-encrypted with a new random prefix, new nonce) has the same id.
    [retry] = source().verify(push(APPROVAL, nonce="n9"), now=NOW)
    assert retry.event_id == event.event_id


def test_chat_messages_use_their_msgid() -> None:
    text = "<xml><MsgType>text</MsgType><Content>hi</Content><MsgId>1234567</MsgId><CreateTime>1772366390</CreateTime></xml>"
    [event] = source().verify(push(text), now=NOW)
    assert (event.event_id, event.event_type, event.object_id) == ("1234567", "text", None)


def test_reply_is_the_encrypted_success_the_vendor_can_open() -> None:
    reply = source().reply(push(APPROVAL), [], now=NOW)
    fields = {child.tag: child.text or "" for child in ElementTree.fromstring(reply.body)}
    VENDOR.verify(fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
    assert VENDOR.decrypt(fields["Encrypt"]) == "success"
    assert fields["TimeStamp"] == TS


def _with_query(**changes: str) -> InboundRequest:
    good = push(APPROVAL)
    return InboundRequest("POST", "/", {**good.query, **changes}, {}, good.body, NOW)


BOMB = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>'


def _with_body(raw: bytes) -> InboundRequest:
    return InboundRequest("POST", "/", dict(push(APPROVAL).query), {}, raw, NOW)


@pytest.mark.parametrize(
    ("case", "req", "error"),
    [
        ("wrong signature", _with_query(msg_signature="f" * 40), SignatureInvalid),
        ("signature over another nonce", _with_query(nonce="other"), SignatureInvalid),
        ("stale timestamp", push(APPROVAL, ts=str(int(NOW.timestamp()) - 301)), TimestampOutOfTolerance),
        ("future timestamp", push(APPROVAL, ts=str(int(NOW.timestamp()) + 301)), TimestampOutOfTolerance),
        ("timestamp not digits", push(APPROVAL, ts="soon"), SignatureInvalid),
        ("other corp", push(APPROVAL, box=CallbackCrypto(TOKEN, AES_KEY, "wwintruder")), Undecryptable),
        ("other aes key", push(APPROVAL, box=CallbackCrypto(TOKEN, base64.b64encode(os.urandom(32)).decode()[:43], CORP)), Undecryptable),
        ("not xml", _with_body(b'{"encrypt": "x"}'), Unparsable),
        ("no Encrypt", _with_body(b"<xml><ToUserName>x</ToUserName></xml>"), Unparsable),
        ("entity bomb", _with_body(BOMB), Unparsable),
        ("decrypted not xml", push("not xml at all"), Unparsable),
        ("decrypted without MsgType", push("<xml><Foo>1</Foo></xml>"), Unparsable),
        ("inner doctype", push('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>&e;</MsgType></xml>'), Unparsable),
        ("missing query", InboundRequest("POST", "/", {}, {}, push(APPROVAL).body, NOW), SignatureInvalid),
    ],
)  # fmt: skip
def test_refusals(case: str, req: InboundRequest, error: type[WebhookRejected]) -> None:
    with pytest.raises(error) as caught:
        source().verify(req, now=NOW)
    assert "贷款审批" not in str(caught.value) and AES_KEY not in str(caught.value)


def test_config_validation() -> None:
    with pytest.raises(ValidationError):
        WeComConfig.model_validate({"token": TOKEN, "encoding_aes_key": "short", "corp_id": CORP})
    with pytest.raises(ValidationError):
        WeComConfig.model_validate({"token": TOKEN, "encoding_aes_key": AES_KEY, "corp_id": ""})
