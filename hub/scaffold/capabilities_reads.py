"""Scaffold fragments of the capabilities that read: credit bureau, litigation, registry, risk."""

from __future__ import annotations

from .spec import COMPANY_TABLE, PEOPLE_TABLE, CapabilitySpec

__all__ = ["READ_SPECS"]

READ_SPECS: dict[str, CapabilitySpec] = {
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
        subjects_table=PEOPLE_TABLE,
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
        subjects_table=PEOPLE_TABLE,
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
        subjects_table=COMPANY_TABLE,
        fixture_op="company_profile",
        fixture_data=(
            '{"name": "上海示例测试有限公司", "credit_code": "913100001234567883", "status": "存续"}'
        ),
        fixture_expr="    result = mapping.company_profile(data)",
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
        subjects_table=PEOPLE_TABLE,
        fixture_op="score",
        fixture_data='{"score": "720", "band": "A", "reasons": [], "model": "sandbox-model", "version": "1"}',
        fixture_expr='    result = mapping.risk_decision(data, "APP-1")',
    ),
}
