"""Scaffold fragments of the capabilities that write: e-signature, finance ledger, OA approval.

Their simulators keep what was written by idempotency key, so the conformance suite's
same-key-same-object check passes from the start.
"""

from __future__ import annotations

from .spec import WRITES_TABLE, CapabilitySpec

__all__ = ["WRITE_SPECS"]

WRITE_SPECS: dict[str, CapabilitySpec] = {
    "esignature": CapabilitySpec(
        port="ESignature",
        connector_models="Signer, SignFlow, SignFlowRequest",
        mapping_models="SignFlow",
        methods='''
    async def create_flow(self, request: SignFlowRequest) -> SignFlow:
        """Create and start a flow; the same idempotency key yields the same flow."""
        payload = {
            "subject": request.subject,
            "document_name": request.document_name,
            "document_b64": base64.b64encode(request.document).decode(),
            "signers": [{"name": s.name, "mobile": s.mobile} for s in request.signers],
        }
        key = request.idempotency_key
        data = await self._call("create_flow", payload, idempotency_key=key)
        return mapping.sign_flow(data)

    async def get_flow(self, flow_id: str) -> SignFlow:
        """Where the flow stands."""
        return mapping.sign_flow(await self._call("get_flow", {"flow_id": flow_id}))

    async def revoke_flow(self, flow_id: str, *, reason: str) -> SignFlow:
        """Withdraw an unfinished flow."""
        payload = {"flow_id": flow_id, "reason": reason}
        return mapping.sign_flow(await self._call("revoke_flow", payload))

    async def signing_url(self, flow_id: str, *, signer: Signer) -> str:
        """Where the signer signs."""
        payload = {"flow_id": flow_id, "signer": signer.name}
        data = await self._call("signing_url", payload)
        return str(data["url"])

    async def document_urls(self, flow_id: str) -> dict[str, str]:
        """Download URLs of the signed documents."""
        data = await self._call("document_urls", {"flow_id": flow_id})
        return {str(k): str(v) for k, v in data.get("documents", {}).items()}
''',
        mappers='''

def sign_flow(data: dict[str, Any]) -> SignFlow:
    """A flow answer → SignFlow."""
    return _build(
        SignFlow,
        {
            "flow_id": data.get("flow_id"),
            "status": data.get("status"),
            "title": data.get("subject", ""),
        },
    )
''',
        handlers="""
    def _flow(self, flow_id: str) -> dict[str, Any] | None:
        if flow_id == "FLOW-SANDBOX":
            return {"flow_id": flow_id, "status": "signing", "subject": "sandbox"}
        return next((f for f in self.store.values() if f["flow_id"] == flow_id), None)

    def op_create_flow(self, payload: dict[str, Any], key: str) -> Response:
        if key not in self.store:
            self.store[key] = {
                "flow_id": stable_id("FLOW", key),
                "status": "signing",
                "subject": payload.get("subject", ""),
            }
        return ok(self.store[key])

    def op_get_flow(self, payload: dict[str, Any], key: str) -> Response:
        flow = self._flow(str(payload.get("flow_id")))
        return ok(flow) if flow else fail(40401, "no such flow")

    def op_revoke_flow(self, payload: dict[str, Any], key: str) -> Response:
        flow = self._flow(str(payload.get("flow_id")))
        if flow is None:
            return fail(40401, "no such flow")
        return ok({**flow, "status": "revoked"})

    def op_signing_url(self, payload: dict[str, Any], key: str) -> Response:
        return ok({"url": f"https://sign.sandbox.example/{payload.get('flow_id')}"})

    def op_document_urls(self, payload: dict[str, Any], key: str) -> Response:
        url = f"https://files.sandbox.example/{payload.get('flow_id')}.pdf"
        return ok({"documents": {"contract.pdf": url}})
""",
        call_body="""        return await connector.get_flow("FLOW-SANDBOX")""",
        write_method="""
    async def write(self, connector: Any) -> Any:
        request = SignFlowRequest(
            subject="Loan contract",
            document_name="contract.pdf",
            document=b"%PDF-1.4 sandbox",
            signers=(Signer(name=CLEAN_BORROWER.name, mobile=CLEAN_BORROWER.mobile),),
            idempotency_key="conformance-flow-1",
        )
        return await connector.create_flow(request)
""",
        test_models="Signer, SignFlowRequest",
        sandbox_imports="CLEAN_BORROWER",
        subjects_table=WRITES_TABLE,
        fixture_op="get_flow",
        fixture_data='{"flow_id": "FLOW-SANDBOX", "status": "signing", "subject": "sandbox"}',
        fixture_expr="    result = mapping.sign_flow(data)",
        connector_imports="import base64\n",
    ),
    "finance_ledger": CapabilitySpec(
        port="FinanceLedger",
        connector_models="Voucher, VoucherReceipt",
        mapping_models="VoucherReceipt",
        methods='''
    async def post_voucher(self, voucher: Voucher) -> VoucherReceipt:
        """Post a balanced voucher; the same idempotency key yields one voucher."""
        payload = {
            "date": voucher.booked_on.isoformat(),
            "entries": [
                {
                    "account": e.account_code,
                    "summary": e.summary,
                    "debit": str(e.debit),
                    "credit": str(e.credit),
                }
                for e in voucher.entries
            ],
        }
        key = voucher.idempotency_key
        data = await self._call("post_voucher", payload, idempotency_key=key)
        return mapping.voucher_receipt(data, key)
''',
        mappers='''

def voucher_receipt(data: dict[str, Any], idempotency_key: str) -> VoucherReceipt:
    """A posting answer → VoucherReceipt."""
    return _build(
        VoucherReceipt,
        {
            "voucher_id": data.get("voucher_id"),
            "voucher_number": data.get("number", ""),
            "idempotency_key": idempotency_key,
            "replayed": bool(data.get("replayed", False)),
        },
    )
''',
        handlers="""
    def op_post_voucher(self, payload: dict[str, Any], key: str) -> Response:
        if key in self.store:
            return ok({**self.store[key], "replayed": True})
        number = f"记-{len(self.store) + 1}"
        self.store[key] = {"voucher_id": stable_id("V", key), "number": number}
        return ok(self.store[key])
""",
        call_body="""        return await self.write(connector)""",
        write_method="""
    async def write(self, connector: Any) -> Any:
        amount, summary = Decimal("1000.00"), "disbursement"
        voucher = Voucher(
            idempotency_key="conformance-voucher-1",
            booked_on=date(2024, 5, 1),
            entries=(
                VoucherEntry(account_code="1122", summary=summary, debit=amount),
                VoucherEntry(account_code="1002", summary=summary, credit=amount),
            ),
        )
        return await connector.post_voucher(voucher)
""",
        test_models="Voucher, VoucherEntry",
        sandbox_imports="",
        subjects_table=WRITES_TABLE,
        fixture_op="post_voucher",
        fixture_data='{"voucher_id": "V-1", "number": "记-1"}',
        fixture_expr='    result = mapping.voucher_receipt(data, "key-1")',
        test_imports="from datetime import date\nfrom decimal import Decimal\n",
    ),
    "oa_approval": CapabilitySpec(
        port="OaApproval",
        connector_models="ApprovalInstance, ApprovalRequest",
        mapping_models="ApprovalInstance",
        methods='''
    async def create_instance(self, request: ApprovalRequest) -> ApprovalInstance:
        """Start an approval; the same idempotency key yields the same instance."""
        payload = {
            "template": request.template_code,
            "initiator": request.initiator,
            "form": request.form,
        }
        key = request.idempotency_key
        data = await self._call("create_instance", payload, idempotency_key=key)
        return mapping.approval_instance(data)

    async def get_instance(self, instance_id: str) -> ApprovalInstance:
        """Where the approval stands."""
        data = await self._call("get_instance", {"instance_id": instance_id})
        return mapping.approval_instance(data)
''',
        mappers='''

_STATUS = {
    "RUNNING": "pending",
    "AGREE": "approved",
    "REFUSE": "rejected",
    "CANCEL": "canceled",
}


def approval_instance(data: dict[str, Any]) -> ApprovalInstance:
    """An instance answer → ApprovalInstance."""
    return _build(
        ApprovalInstance,
        {
            "instance_id": data.get("instance_id"),
            "status": _STATUS.get(str(data.get("status")), data.get("status")),
            "template_code": data.get("template"),
            "vendor_status": data.get("status"),
        },
    )
''',
        handlers="""
    def op_create_instance(self, payload: dict[str, Any], key: str) -> Response:
        if key not in self.store:
            self.store[key] = {
                "instance_id": stable_id("INST", key),
                "status": "RUNNING",
                "template": payload.get("template"),
            }
        return ok(self.store[key])

    def op_get_instance(self, payload: dict[str, Any], key: str) -> Response:
        instance_id = payload.get("instance_id")
        sandbox = {
            "instance_id": "INST-SANDBOX",
            "status": "AGREE",
            "template": "LOAN",
        }
        instances: list[dict[str, Any]] = [sandbox, *self.store.values()]
        found = next((i for i in instances if i["instance_id"] == instance_id), None)
        return ok(found) if found else fail(40401, "no such instance")
""",
        call_body="""        return await connector.get_instance("INST-SANDBOX")""",
        write_method="""
    async def write(self, connector: Any) -> Any:
        request = ApprovalRequest(
            template_code="LOAN",
            initiator="officer-1",
            form={"amount": "100000.00", "borrower": CLEAN_BORROWER.name},
            idempotency_key="conformance-approval-1",
        )
        return await connector.create_instance(request)
""",
        test_models="ApprovalRequest",
        sandbox_imports="CLEAN_BORROWER",
        subjects_table=WRITES_TABLE,
        fixture_op="get_instance",
        fixture_data='{"instance_id": "INST-SANDBOX", "status": "AGREE", "template": "LOAN"}',
        fixture_expr="    result = mapping.approval_instance(data)",
    ),
}
