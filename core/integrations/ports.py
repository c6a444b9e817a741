"""One small port per capability: what the domain needs from the outside world.

The domain calls these and never learns which vendor answered. A connector subclasses exactly one
port (a vendor with two capabilities ships two classes) and raises only the error tree of
``core.integrations.errors``.
"""

from __future__ import annotations

from abc import abstractmethod

from schemas.canonical import (
    ApprovalInstance,
    ApprovalRequest,
    CompanyProfile,
    CompanySubject,
    CreditReport,
    LitigationRecord,
    PersonSubject,
    RiskDecision,
    RiskInput,
    Signer,
    SignFlow,
    SignFlowRequest,
    Voucher,
    VoucherReceipt,
)

from .base import Capability, Connector

__all__ = [
    "PORTS",
    "BusinessRegistry",
    "CreditBureau",
    "ESignature",
    "FinanceLedger",
    "Litigation",
    "OaApproval",
    "RiskModel",
]


class CreditBureau(Connector):
    """征信: a person's credit report, only with a recorded authorization."""

    @abstractmethod
    async def fetch_report(self, subject: PersonSubject, *, authorization_id: str) -> CreditReport:
        """Fetch the subject's report; ``authorization_id`` names the consent it relies on."""


class Litigation(Connector):
    """司法涉诉: cases, dishonest and executed person lists, consumption restrictions."""

    @abstractmethod
    async def search(self, subject_name: str, *, id_number: str | None = None) -> LitigationRecord:
        """All judicial records about a person or company; an unknown subject yields empty lists."""


class BusinessRegistry(Connector):
    """工商: a company's registration, shareholders and changes."""

    @abstractmethod
    async def company_profile(self, subject: CompanySubject) -> CompanyProfile:
        """Look a company up by USCC or name; raises NotFound when the registry has none."""


class ESignature(Connector):
    """电子签: contracts sent for signature; the vendor's callback reports completion."""

    @abstractmethod
    async def create_flow(self, request: SignFlowRequest) -> SignFlow:
        """Create and start a flow; the same ``idempotency_key`` yields the same flow."""

    @abstractmethod
    async def get_flow(self, flow_id: str) -> SignFlow:
        """Where a flow stands now."""

    @abstractmethod
    async def revoke_flow(self, flow_id: str, *, reason: str) -> SignFlow:
        """Withdraw a flow that is not finished."""

    @abstractmethod
    async def signing_url(self, flow_id: str, *, signer: Signer) -> str:
        """The URL where ``signer`` signs (sent to the borrower by SMS or shown in the app)."""

    @abstractmethod
    async def document_urls(self, flow_id: str) -> dict[str, str]:
        """Download URLs of the signed documents of a completed flow, by document name."""


class FinanceLedger(Connector):
    """财务: vouchers to the lender's general ledger."""

    @abstractmethod
    async def post_voucher(self, voucher: Voucher) -> VoucherReceipt:
        """Post a balanced voucher; posting the same ``idempotency_key`` twice yields one voucher."""


class OaApproval(Connector):
    """OA 审批: approvals the lender runs in its office-automation system."""

    @abstractmethod
    async def create_instance(self, request: ApprovalRequest) -> ApprovalInstance:
        """Start an approval; the same ``idempotency_key`` yields the same instance."""

    @abstractmethod
    async def get_instance(self, instance_id: str) -> ApprovalInstance:
        """Where an approval stands now."""


class RiskModel(Connector):
    """The lender's own risk model or anti-fraud service."""

    @abstractmethod
    async def score(self, risk_input: RiskInput) -> RiskDecision:
        """Score one application."""


PORTS: dict[Capability, type[Connector]] = {
    Capability.CREDIT_BUREAU: CreditBureau,
    Capability.LITIGATION: Litigation,
    Capability.BUSINESS_REGISTRY: BusinessRegistry,
    Capability.ESIGNATURE: ESignature,
    Capability.FINANCE_LEDGER: FinanceLedger,
    Capability.OA_APPROVAL: OaApproval,
    Capability.RISK_MODEL: RiskModel,
}
