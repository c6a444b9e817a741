"""What the scaffold writes for each capability: port methods, mappers, simulator answers, calls.

Each :class:`CapabilitySpec` holds code fragments inserted into the templates. They implement the
port completely against the stub wire protocol of ``client.py.tmpl`` so that a freshly scaffolded
package passes the conformance suite before its author has written a line.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SPECS", "CapabilitySpec"]


@dataclass(frozen=True)
class CapabilitySpec:
    """Code fragments for one capability.

    Attributes:
        port: the port class name in ``plugins.sdk``.
        connector_models: canonical names the connector module imports.
        mapping_models: canonical names the mapping module imports.
        methods: the port methods (class-body indentation).
        mappers: the mapping functions (module level).
        handlers: the simulator's ``op_<operation>`` methods (class-body indentation).
        call_body: the conformance ``call`` body (method-body indentation).
        write_method: the conformance ``write`` method, or ``""`` for read-only ports.
        test_models: canonical names the conformance test imports.
        sandbox_imports: sandbox subjects the conformance test imports.
        subjects_table: README rows: what the simulator answers per sandbox subject.
        fixture_op: the operation whose recorded answer the mapping test uses.
        fixture_data: that answer's ``data`` object, as JSON text.
        fixture_expr: the mapping test's lines that set ``result`` from ``data`` (the
            recorded answer's ``data``), at function-body indentation.
        connector_imports: extra import lines of the connector module.
        test_imports: extra import lines of the conformance test.
    """

    port: str
    connector_models: str
    mapping_models: str
    methods: str
    mappers: str
    handlers: str
    call_body: str
    write_method: str
    test_models: str
    sandbox_imports: str
    subjects_table: str
    fixture_op: str
    fixture_data: str
    fixture_expr: str
    connector_imports: str = ""
    test_imports: str = ""


_PEOPLE_TABLE = """| `CLEAN_BORROWER` | a clean answer |
| `DELINQUENT_BORROWER` | an answer with overdue or high-risk data |
| `DISHONEST_DEBTOR` | an answer with 失信 / 限高 records where the capability has them |
| `UNKNOWN_PERSON` | the vendor's not-found (code 40401 → `NotFound`) or an empty result |"""

_COMPANY_TABLE = """| `ACTIVE_COMPANY` | 存续, no changes |
| `REVOKED_COMPANY` | 吊销 |
| `UNKNOWN_COMPANY` | code 40401 → `NotFound` |"""

_WRITES_TABLE = """| any write | the same idempotency key returns the same object |
| `CLEAN_BORROWER` as signer or initiator | a normal flow |"""

SPECS: dict[str, CapabilitySpec] = {
    "credit_bureau": CapabilitySpec(
        port="CreditBureau",
        connector_models="CreditReport, PersonSubject",
        mapping_models="CreditReport, PersonSubject",
        methods='''
    async def fetch_report(
        self, subject: PersonSubject, *, authorization_id: str
    ) -> CreditReport:
        """The subject's credit report under the recorded authorization."""
        payload = {
            "name": subject.name,
            "id_number": subject.id_number,
            "authorization_id": authorization_id,
        }
        return mapping.credit_report(await self._call("fetch_report", payload), subject)
''',
        mappers='''

def credit_report(data: dict[str, Any], subject: PersonSubject) -> CreditReport:
    """A report answer → CreditReport."""
    return _build(
        CreditReport,
        {
            "report_id": data.get("report_id"),
            "subject": subject,
            "generated_at": data.get("generated_at"),
            "total_overdue": data.get("total_overdue", "0"),
        },
    )
''',
        handlers="""
    def op_fetch_report(self, payload: dict[str, Any], key: str) -> Response:
        id_number = str(payload.get("id_number", ""))
        known = {s.id_number for s in SUBJECTS} - {UNKNOWN_PERSON.id_number}
        if id_number not in known:
            return fail(40401, "no record for this subject")
        overdue = "36000.00" if id_number == DELINQUENT_BORROWER.id_number else "0"
        return ok(
            {
                "report_id": stable_id("RPT", id_number),
                "generated_at": "2024-05-01T08:00:00Z",
                "total_overdue": overdue,
            }
        )
""",
        call_body="""        person = CLEAN_BORROWER
        subject = PersonSubject(name=person.name, id_number=person.id_number)
        authorization_id = "AUTH-CONFORMANCE"
        return await connector.fetch_report(subject, authorization_id=authorization_id)""",
        write_method="",
        test_models="PersonSubject",
        sandbox_imports="CLEAN_BORROWER",
        subjects_table=_PEOPLE_TABLE,
        fixture_op="fetch_report",
        fixture_data='{"report_id": "RPT-1", "generated_at": "2024-05-01T08:00:00Z", "total_overdue": "0"}',
        fixture_expr="""    subject = mapping.PersonSubject(name="张三", id_number="110105199003070017")
    result = mapping.credit_report(data, subject)""",
    ),
    "litigation": CapabilitySpec(
        port="Litigation",
        connector_models="LitigationRecord",
        mapping_models="LitigationRecord",
        methods='''
    async def search(
        self, subject_name: str, *, id_number: str | None = None
    ) -> LitigationRecord:
        """Every judicial record about the subject; none for an unknown subject."""
        payload = {"name": subject_name, "id_number": id_number}
        data = await self._call("search", payload)
        return mapping.litigation_record(data, subject_name)
''',
        mappers='''

def litigation_record(data: dict[str, Any], subject_name: str) -> LitigationRecord:
    """A search answer → LitigationRecord."""
    return _build(
        LitigationRecord,
        {
            "subject_name": subject_name,
            "dishonest": [
                {
                    "case_number": d.get("case_no"),
                    "court": d.get("court"),
                    "obligation": d.get("duty", ""),
                }
                for d in data.get("dishonest", [])
            ],
            "restrictions": [
                {"case_number": r.get("case_no"), "court": r.get("court")}
                for r in data.get("restrictions", [])
            ],
        },
    )
''',
        handlers="""
    def op_search(self, payload: dict[str, Any], key: str) -> Response:
        name = str(payload.get("name", ""))
        if name in (DISHONEST_DEBTOR.name, REVOKED_COMPANY.name):
            record = {
                "case_no": "(2023)京0105执1234号",
                "court": "北京市朝阳区人民法院",
                "duty": "偿还借款",
            }
            return ok({"dishonest": [record], "restrictions": [record]})
        return ok({"dishonest": [], "restrictions": []})
""",
        call_body="""        person = CLEAN_BORROWER
        return await connector.search(person.name, id_number=person.id_number)""",
        write_method="",
        test_models="",
        sandbox_imports="CLEAN_BORROWER",
        subjects_table=_PEOPLE_TABLE,
        fixture_op="search",
        fixture_data=(
            '{"dishonest": [{"case_no": "(2023)京0105执1234号", "court": "北京市朝阳区人民法院", '
            '"duty": "偿还借款"}], "restrictions": []}'
        ),
        fixture_expr='    result = mapping.litigation_record(data, "王五")',
    ),
    "business_registry": CapabilitySpec(
        port="BusinessRegistry",
        connector_models="CompanyProfile, CompanySubject",
        mapping_models="CompanyProfile",
        methods='''
    async def company_profile(self, subject: CompanySubject) -> CompanyProfile:
        """The company's registration by USCC or name."""
        payload = {"uscc": subject.uscc, "name": subject.name}
        return mapping.company_profile(await self._call("company_profile", payload))
''',
        mappers='''

def company_profile(data: dict[str, Any]) -> CompanyProfile:
    """A company answer → CompanyProfile."""
    return _build(
        CompanyProfile,
        {
            "name": data.get("name"),
            "uscc": data.get("credit_code"),
            "legal_representative": data.get("legal_person", ""),
            "status": data.get("status", ""),
        },
    )
''',
        handlers="""
    def op_company_profile(self, payload: dict[str, Any], key: str) -> Response:
        for company in (ACTIVE_COMPANY, REVOKED_COMPANY):
            if payload.get("uscc") in (company.uscc, None) and payload.get("name") in (
                company.name,
                None,
            ):
                return ok(
                    {
                        "name": company.name,
                        "credit_code": company.uscc,
                        "status": "吊销" if company is REVOKED_COMPANY else "存续",
                    }
                )
        return fail(40401, "no such company")
""",
        call_body="""        subject = CompanySubject(uscc=ACTIVE_COMPANY.uscc)
        return await connector.company_profile(subject)""",
        write_method="",
        test_models="CompanySubject",
        sandbox_imports="ACTIVE_COMPANY",
        subjects_table=_COMPANY_TABLE,
        fixture_op="company_profile",
        fixture_data=(
            '{"name": "上海示例测试有限公司", "credit_code": "913100001234567883", "status": "存续"}'
        ),
        fixture_expr="    result = mapping.company_profile(data)",
    ),
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
        subjects_table=_WRITES_TABLE,
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
        subjects_table=_WRITES_TABLE,
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
        subjects_table=_WRITES_TABLE,
        fixture_op="get_instance",
        fixture_data='{"instance_id": "INST-SANDBOX", "status": "AGREE", "template": "LOAN"}',
        fixture_expr="    result = mapping.approval_instance(data)",
    ),
    "risk_model": CapabilitySpec(
        port="RiskModel",
        connector_models="RiskDecision, RiskInput",
        mapping_models="RiskDecision",
        methods='''
    async def score(self, risk_input: RiskInput) -> RiskDecision:
        """Score one application."""
        features = risk_input.features.items()
        subject = risk_input.subject
        payload = {
            "application_id": risk_input.application_id,
            "features": {k: None if v is None else str(v) for k, v in features},
            "id_number": subject.id_number if subject else None,
        }
        data = await self._call("score", payload)
        return mapping.risk_decision(data, risk_input.application_id)
''',
        mappers='''

def risk_decision(data: dict[str, Any], application_id: str) -> RiskDecision:
    """A score answer → RiskDecision (a score arrives as a string, kept exact)."""
    return _build(
        RiskDecision,
        {
            "score": data.get("score"),
            "band": data.get("band"),
            "reason_codes": data.get("reasons", []),
            "model_name": data.get("model"),
            "model_version": data.get("version"),
            "application_id": application_id,
        },
    )
''',
        handlers="""
    def op_score(self, payload: dict[str, Any], key: str) -> Response:
        risky_ids = (DELINQUENT_BORROWER.id_number, DISHONEST_DEBTOR.id_number)
        risky = payload.get("id_number") in risky_ids
        return ok(
            {
                "score": "480" if risky else "720",
                "band": "D" if risky else "A",
                "reasons": ["R01"] if risky else [],
                "model": "sandbox-model",
                "version": "1",
            }
        )
""",
        call_body="""        person = CLEAN_BORROWER
        risk_input = RiskInput(
            application_id="APP-1",
            features={"income": 12000},
            subject=PersonSubject(name=person.name, id_number=person.id_number),
        )
        return await connector.score(risk_input)""",
        write_method="",
        test_models="PersonSubject, RiskInput",
        sandbox_imports="CLEAN_BORROWER",
        subjects_table=_PEOPLE_TABLE,
        fixture_op="score",
        fixture_data='{"score": "720", "band": "A", "reasons": [], "model": "sandbox-model", "version": "1"}',
        fixture_expr='    result = mapping.risk_decision(data, "APP-1")',
    ),
}
