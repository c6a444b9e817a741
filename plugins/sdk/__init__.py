"""The LendHub vendor SDK: the only package a connector imports besides ``schemas``.

Everything here is public and stable; ``__all__`` is the contract (a test guards it). A connector
subclasses a capability port and, when it speaks HTTP, :class:`HttpConnector`, declares ``info`` and
a ``Config`` (an :class:`HttpConnectorConfig` subclass with ``SecretStr`` credentials), maps vendor
answers onto the error tree, and registers itself with ``@hookimpl``::

    ConnectorError                 never raised directly
    ├── TransientError             retried with backoff: timeouts, 5xx, network
    │   ├── RateLimited            carries retry_after (seconds)
    │   └── CircuitOpen            breaker open, nothing sent
    └── PermanentError             never retried
        ├── AuthError  NotFound  InvalidRequest  QuotaExhausted
        ├── VendorContractError    the answer did not match the documented shape
        └── EgressDenied           the host is not on the allow-list
"""

from pydantic import SecretStr

from core.integrations import (
    PORTS,
    AuthError,
    BusinessRegistry,
    Capability,
    CircuitOpen,
    Connector,
    ConnectorError,
    ConnectorInfo,
    CreditBureau,
    EgressDenied,
    ESignature,
    FinanceLedger,
    InvalidRequest,
    Litigation,
    NotFound,
    OaApproval,
    PermanentError,
    QuotaExhausted,
    RateLimited,
    RiskModel,
    SupportLevel,
    TransientError,
    VendorContractError,
)

from .auth import (
    ApiKey,
    Authenticator,
    BasicAuth,
    HmacSigner,
    OAuth2ClientCredentials,
    SigningInput,
    token_expired,
)
from .breaker import BreakerSnapshot, CircuitBreaker
from .calllog import CallRecord, CallRecorder, MemoryCallRecorder, mask_headers, mask_pii, mask_secrets
from .config import HttpConnectorConfig, public_config, secret_fields
from .cookies import CookielessAsyncClient
from .egress import EgressPolicy
from .http import HttpConnector
from .limits import Limiter
from .markers import PROJECT_NAME, hookimpl
from .masking import Masker
from .retry import RetryPolicy, parse_rate_limit_reset, parse_retry_after, rate_limit_delay
from .simulation import FaultInjector, FaultPlan
from .state import (
    BreakerDecision,
    BreakerState,
    BreakerStore,
    Cache,
    Locks,
    MemoryBreakerStore,
    MemoryCache,
    MemoryLocks,
    MemoryRateCounter,
    RateCounter,
    SharedState,
)
from .webhook_verifiers import (
    CallbackCrypto,
    CallbackCryptoError,
    StandardWebhookMessage,
    docusign_signature,
    ed25519_public_key,
    generate_ed25519_keypair,
    generate_standard_webhook_secret,
    msg_signature,
    sign_standard_webhook_v1a,
    verify_docusign,
    verify_standard_webhook,
)
from .webhooks import (
    InboundRequest,
    SignatureInvalid,
    TimestampOutOfTolerance,
    Undecryptable,
    Unparsable,
    WebhookEvent,
    WebhookRejected,
    WebhookReply,
    WebhookSource,
    WebhookSourceConfig,
    sign_standard_webhook,
)

__all__ = [
    "PORTS",
    "PROJECT_NAME",
    "ApiKey",
    "AuthError",
    "Authenticator",
    "BasicAuth",
    "BreakerDecision",
    "BreakerSnapshot",
    "BreakerState",
    "BreakerStore",
    "BusinessRegistry",
    "Cache",
    "CallRecord",
    "CallRecorder",
    "CallbackCrypto",
    "CallbackCryptoError",
    "Capability",
    "CircuitBreaker",
    "CircuitOpen",
    "Connector",
    "ConnectorError",
    "ConnectorInfo",
    "CookielessAsyncClient",
    "CreditBureau",
    "ESignature",
    "EgressDenied",
    "EgressPolicy",
    "FaultInjector",
    "FaultPlan",
    "FinanceLedger",
    "HmacSigner",
    "HttpConnector",
    "HttpConnectorConfig",
    "InboundRequest",
    "InvalidRequest",
    "Limiter",
    "Litigation",
    "Locks",
    "Masker",
    "MemoryBreakerStore",
    "MemoryCache",
    "MemoryCallRecorder",
    "MemoryLocks",
    "MemoryRateCounter",
    "NotFound",
    "OAuth2ClientCredentials",
    "OaApproval",
    "PermanentError",
    "QuotaExhausted",
    "RateCounter",
    "RateLimited",
    "RetryPolicy",
    "RiskModel",
    "SecretStr",
    "SharedState",
    "SignatureInvalid",
    "SigningInput",
    "StandardWebhookMessage",
    "SupportLevel",
    "TimestampOutOfTolerance",
    "TransientError",
    "Undecryptable",
    "Unparsable",
    "VendorContractError",
    "WebhookEvent",
    "WebhookRejected",
    "WebhookReply",
    "WebhookSource",
    "WebhookSourceConfig",
    "docusign_signature",
    "ed25519_public_key",
    "generate_ed25519_keypair",
    "generate_standard_webhook_secret",
    "hookimpl",
    "mask_headers",
    "mask_pii",
    "mask_secrets",
    "msg_signature",
    "parse_rate_limit_reset",
    "parse_retry_after",
    "public_config",
    "rate_limit_delay",
    "secret_fields",
    "sign_standard_webhook",
    "sign_standard_webhook_v1a",
    "token_expired",
    "verify_docusign",
    "verify_standard_webhook",
]
