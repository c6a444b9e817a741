"""Vendor-neutral data that connectors return; the CRM decides on these, never on vendor payloads."""

from .business_registry import ChangeRecord, CompanyProfile, Shareholder
from .common import CanonicalModel, CompanySubject, Money, PersonSubject
from .credit_report import (
    AccountType,
    CreditAccount,
    CreditReport,
    CreditScore,
    FiveCategory,
    PublicRecord,
    QueryRecord,
)
from .esignature import SignDocument, Signer, SignFlow, SignFlowRequest, SignFlowStatus
from .finance import Voucher, VoucherEntry, VoucherReceipt
from .litigation import (
    ConsumptionRestriction,
    DishonestRecord,
    ExecutedRecord,
    LitigationCase,
    LitigationRecord,
)
from .oa import ApprovalInstance, ApprovalRequest, ApprovalStatus
from .risk import RiskDecision, RiskInput

__all__ = [
    "AccountType",
    "ApprovalInstance",
    "ApprovalRequest",
    "ApprovalStatus",
    "CanonicalModel",
    "ChangeRecord",
    "CompanyProfile",
    "CompanySubject",
    "ConsumptionRestriction",
    "CreditAccount",
    "CreditReport",
    "CreditScore",
    "DishonestRecord",
    "ExecutedRecord",
    "FiveCategory",
    "LitigationCase",
    "LitigationRecord",
    "Money",
    "PersonSubject",
    "PublicRecord",
    "QueryRecord",
    "RiskDecision",
    "RiskInput",
    "Shareholder",
    "SignDocument",
    "SignFlow",
    "SignFlowRequest",
    "SignFlowStatus",
    "Signer",
    "Voucher",
    "VoucherEntry",
    "VoucherReceipt",
]
