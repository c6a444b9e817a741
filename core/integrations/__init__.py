"""Ports: what the domain needs from connectors, and the errors they raise."""

from .base import Capability, Connector, ConnectorInfo, SupportLevel
from .errors import (
    AuthError,
    CircuitOpen,
    ConnectorError,
    EgressDenied,
    InvalidRequest,
    NotFound,
    PermanentError,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)
from .ports import (
    PORTS,
    BusinessRegistry,
    CreditBureau,
    ESignature,
    FinanceLedger,
    Litigation,
    OaApproval,
    RiskModel,
)

__all__ = [
    "PORTS",
    "AuthError",
    "BusinessRegistry",
    "Capability",
    "CircuitOpen",
    "Connector",
    "ConnectorError",
    "ConnectorInfo",
    "CreditBureau",
    "ESignature",
    "EgressDenied",
    "FinanceLedger",
    "InvalidRequest",
    "Litigation",
    "NotFound",
    "OaApproval",
    "PermanentError",
    "QuotaExhausted",
    "RateLimited",
    "RiskModel",
    "SupportLevel",
    "TransientError",
    "VendorContractError",
]
