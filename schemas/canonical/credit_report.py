"""A person's credit report as the CRM decides on it, whichever bureau delivered it.

The shape follows what a credit officer reads in a 二代征信 report: who the person is, the bureau
score and why, every account with its 24-month repayment string, the report's own summaries, who
queried the report and why, and public records. Bureaus that deliver less (百行 has no public
records) leave those parts empty; nothing here needs the vendor payload to be read again.

Derived helpers (``worst_status_24m``, ``has_m3_plus``, ``hard_inquiries``) are plain properties
and methods, so they never reach the serialised form and cannot drift from the data they read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .common import CanonicalModel, Money, PersonSubject

__all__ = [
    "AccountStatus",
    "AccountType",
    "AccountTypeSummary",
    "CreditAccount",
    "CreditIdentity",
    "CreditReport",
    "CreditScore",
    "CreditSummary",
    "FiveCategory",
    "OverdueSummary",
    "PublicRecord",
    "PublicRecordKind",
    "QueryReason",
    "QueryRecord",
    "QuerySummary",
    "status_severity",
]


class AccountType(StrEnum):
    """Account families of the 二代征信 report (``PD01AD01``)."""

    NON_REVOLVING_LOAN = "non_revolving_loan"  # D1 非循环贷账户
    REVOLVING_LOAN = "revolving_loan"  # R1 循环贷账户
    CREDIT_CARD = "credit_card"  # R2 贷记卡账户
    REVOLVING_SUB_ACCOUNT = "revolving_sub_account"  # R4 循环额度下分账户
    QUASI_CREDIT_CARD = "quasi_credit_card"  # R3 准贷记卡账户
    COLLECTION = "collection"  # C1 催收账户


class FiveCategory(StrEnum):
    """五级分类: the regulator's loan classification; the last three are 不良 (non-performing)."""

    NORMAL = "normal"  # 正常
    SPECIAL_MENTION = "special_mention"  # 关注
    SUBSTANDARD = "substandard"  # 次级
    DOUBTFUL = "doubtful"  # 可疑
    LOSS = "loss"  # 损失

    @property
    def non_performing(self) -> bool:
        """次级, 可疑 and 损失 together are 不良."""
        return self in (FiveCategory.SUBSTANDARD, FiveCategory.DOUBTFUL, FiveCategory.LOSS)


class AccountStatus(StrEnum):
    """Where an account stands now (账户状态), normalised across account families."""

    ACTIVE = "active"  # 正常
    OVERDUE = "overdue"  # 逾期
    SETTLED = "settled"  # 结清 / 销户
    BAD_DEBT = "bad_debt"  # 呆账
    FROZEN = "frozen"  # 冻结 / 止付
    TRANSFERRED = "transferred"  # 转出
    INACTIVE = "inactive"  # 未激活
    OTHER = "other"


class QueryReason(StrEnum):
    """Why a report was queried (查询原因); the first three are hard inquiries."""

    LOAN_APPROVAL = "loan_approval"  # 贷款审批
    CARD_APPROVAL = "card_approval"  # 信用卡审批
    GUARANTEE_REVIEW = "guarantee_review"  # 担保资格审查
    POST_LOAN = "post_loan"  # 贷后管理
    SELF = "self"  # 本人查询
    OTHER = "other"

    @property
    def hard(self) -> bool:
        """Hard inquiries: many in a short time hurt approvals; post-loan and self are soft."""
        return self in (QueryReason.LOAN_APPROVAL, QueryReason.CARD_APPROVAL, QueryReason.GUARANTEE_REVIEW)


class PublicRecordKind(StrEnum):
    """The public-record chapters of the report."""

    CIVIL_JUDGMENT = "civil_judgment"  # 民事判决
    ENFORCEMENT = "enforcement"  # 强制执行
    TAX_ARREARS = "tax_arrears"  # 欠税
    ADMINISTRATIVE_PENALTY = "administrative_penalty"  # 行政处罚


_SEVERITY = {"N": 0, "*": 0, "#": 0, "/": 0, "C": 0, "G": 0, "D": 8, "Z": 8, "B": 9}


def status_severity(char: str) -> int:
    """How bad one 24-month status character is: 0 fine, 1–7 months overdue, 8 paid by others, 9 呆账.

    ``D`` (担保人代还) and ``Z`` (以资抵债) mean the borrower did not pay; ``B`` is a bad debt.
    """
    if char.isdigit():
        return int(char)
    return _SEVERITY.get(char.upper(), 0)


class CreditScore(BaseModel):
    """A bureau score with the reasons the bureau gives for it (PBOC 数字解读 ``PC01``).

    ``reason_codes`` are ordered by importance, most important first.
    """

    model_config = ConfigDict(frozen=True)

    value: int
    reason_codes: tuple[str, ...] = ()
    model: str | None = None
    range_min: int | None = None
    range_max: int | None = None
    percentile: Decimal | None = None  # 相对位置: share of the population scoring lower, 0–100


class CreditAccount(BaseModel):
    """One account line of the report (``PD01``).

    ``status_24m`` is the 24-month repayment string, oldest month first, one character per month:
    ``N`` on time, ``1``–``7`` months overdue, ``C`` closed, ``B`` 呆账, ``D`` paid by guarantor,
    ``Z`` 以资抵债, ``G`` ended otherwise, ``*``/``#``/``/`` nothing due or unknown.
    """

    model_config = ConfigDict(frozen=True)

    account_type: AccountType
    institution: str
    opened_on: date | None = None
    credit_limit: Money | None = None
    balance: Money
    five_category: FiveCategory | None = None
    overdue_amount: Money | None = None
    overdue_periods: int = 0
    status_24m: str = ""
    account_id: str | None = None
    institution_type: str | None = None
    business_type: str | None = None  # 业务种类, e.g. 个人消费贷款
    loan_amount: Money | None = None  # 借款金额 (non-revolving)
    due_on: date | None = None
    closed_on: date | None = None
    status: AccountStatus | None = None
    guarantee: str | None = None  # 担保方式
    repayment_periods: int | None = None
    remaining_periods: int | None = None
    scheduled_payment: Money | None = None  # 本月应还款
    actual_payment: Money | None = None  # 本月实还款
    last_payment_on: date | None = None
    status_24m_from: str | None = None  # first month of status_24m, YYYY-MM

    @property
    def worst_status_24m(self) -> str:
        """The worst character of the 24-month string (``N`` when the string is empty or clean)."""
        worst = max(self.status_24m, key=status_severity, default="N")
        return worst if status_severity(worst) > 0 else "N"

    @property
    def max_overdue_periods_24m(self) -> int:
        """Most months overdue at once in the last 24 months (1–7), current overdue included."""
        digits = [int(c) for c in self.status_24m if c.isdigit()]
        return max([*digits, self.overdue_periods, 0])

    @property
    def is_revolving(self) -> bool:
        """Credit lines and cards, where the limit matters more than the original amount."""
        return self.account_type not in (AccountType.NON_REVOLVING_LOAN, AccountType.COLLECTION)


class AccountTypeSummary(BaseModel):
    """One line of 信贷交易信息概要 per account family (``PC02E``–``PC02I``)."""

    model_config = ConfigDict(frozen=True)

    account_type: AccountType
    institutions: int = 0
    accounts: int = 0
    credit_limit_total: Decimal = Decimal("0")
    balance_total: Decimal = Decimal("0")  # for cards: the used amount (已用额度)
    avg_payment_6m: Decimal | None = None  # 最近6个月平均应还款 / 平均使用额度
    max_single_limit: Decimal | None = None  # cards: 单家行最高授信额


class OverdueSummary(BaseModel):
    """逾期(透支)汇总 per account family (``PC02D``)."""

    model_config = ConfigDict(frozen=True)

    account_type: AccountType
    accounts: int = 0
    months: int = 0  # months with an overdue in the history
    max_month_amount: Decimal = Decimal("0")  # largest overdue total of a single month
    longest_overdue_months: int = 0


class QuerySummary(BaseModel):
    """查询记录汇总 (``PC05B``): institution and query counts over the bureau's windows."""

    model_config = ConfigDict(frozen=True)

    loan_approval_institutions_1m: int = 0
    card_approval_institutions_1m: int = 0
    loan_approval_queries_1m: int = 0
    card_approval_queries_1m: int = 0
    self_queries_1m: int = 0
    post_loan_queries_2y: int = 0
    guarantee_queries_2y: int = 0
    merchant_queries_2y: int = 0
    last_query_on: date | None = None
    last_query_reason: str | None = None


class CreditSummary(BaseModel):
    """The report's own summaries (信贷交易信息概要), as the bureau computed them."""

    model_config = ConfigDict(frozen=True)

    total_accounts: int = 0
    first_credit_month: str | None = None  # YYYY-MM of the first credit business
    by_type: tuple[AccountTypeSummary, ...] = ()
    overdue: tuple[OverdueSummary, ...] = ()
    bad_debt_accounts: int = 0  # 呆账
    bad_debt_balance: Decimal = Decimal("0")
    recovered_accounts: int = 0  # 被追偿
    recovered_balance: Decimal = Decimal("0")
    queries: QuerySummary | None = None

    def for_type(self, account_type: AccountType) -> AccountTypeSummary | None:
        """The summary line of one account family, ``None`` when the report has none."""
        return next((s for s in self.by_type if s.account_type == account_type), None)


class CreditIdentity(BaseModel):
    """Who the bureau says the person is (身份信息, 婚姻, 居住, 职业); all optional."""

    model_config = ConfigDict(frozen=True)

    gender: str | None = None
    birth_date: date | None = None
    marital_status: str | None = None
    education: str | None = None
    employment_status: str | None = None
    employer: str | None = None
    residence: str | None = None
    mobiles: tuple[str, ...] = ()
    fraud_alert: bool = False  # 防欺诈警示
    dispute_count: int = 0  # 异议信息提示


class QueryRecord(BaseModel):
    """Who looked at the report, when, and why (查询记录).

    ``reason`` is the bureau's wording (贷款审批); ``reason_category`` is what the CRM counts on.
    """

    model_config = ConfigDict(frozen=True)

    queried_on: date
    institution_type: str
    reason: str
    institution: str | None = None
    reason_code: str | None = None
    reason_category: QueryReason = QueryReason.OTHER


class PublicRecord(BaseModel):
    """Civil judgments, enforcements, tax arrears, administrative penalties.

    ``kind`` holds a :class:`PublicRecordKind` value; ``authority`` is the court, tax office or
    agency; ``amount`` the amount at stake (标的, 欠税总额, 罚款).
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    authority: str
    recorded_on: date | None = None
    amount: Money | None = None
    cause: str | None = None  # 案由 / 处罚内容
    status: str | None = None  # 结案方式 / 案件状态
    result: str | None = None  # 判决/调解结果 / 复议结果
    closed_on: date | None = None  # 结案 / 生效 / 截止日期
    executed_amount: Money | None = None  # 已执行标的金额


class CreditReport(CanonicalModel):
    """Everything the CRM reads from a bureau about one person.

    ``total_overdue`` is the sum of current overdue amounts over all accounts, in CNY.
    """

    report_id: str
    subject: PersonSubject
    generated_at: datetime
    score: CreditScore | None = None
    accounts: tuple[CreditAccount, ...] = ()
    queries: tuple[QueryRecord, ...] = ()
    public_records: tuple[PublicRecord, ...] = ()
    total_overdue: Decimal = Decimal("0")
    bureau: str | None = None  # pboc, baihang, ...
    identity: CreditIdentity | None = None
    summary: CreditSummary | None = None

    def accounts_of(self, *types: AccountType) -> tuple[CreditAccount, ...]:
        """Accounts of the given families, in report order."""
        return tuple(a for a in self.accounts if a.account_type in types)

    @property
    def worst_status_24m(self) -> str:
        """The worst 24-month status character over every account (``N`` when clean)."""
        worst = "N"
        for account in self.accounts:
            candidate = account.worst_status_24m
            if status_severity(candidate) > status_severity(worst):
                worst = candidate
        return worst

    @property
    def max_overdue_periods_24m(self) -> int:
        """Most months overdue at once on any account in the last 24 months."""
        return max((a.max_overdue_periods_24m for a in self.accounts), default=0)

    @property
    def has_m3_plus(self) -> bool:
        """Any account 3+ months overdue (61+ DPD) within 24 months, or a bad debt / paid by others."""
        return self.max_overdue_periods_24m >= 3 or status_severity(self.worst_status_24m) >= 8

    @property
    def has_non_performing(self) -> bool:
        """Any account classified 次级, 可疑 or 损失."""
        return any(a.five_category is not None and a.five_category.non_performing for a in self.accounts)

    @property
    def currently_overdue(self) -> bool:
        """Any account overdue now."""
        return self.total_overdue > 0 or any(a.overdue_periods > 0 for a in self.accounts)

    def hard_inquiries(self, *, since: date | None = None, days: int | None = None) -> int:
        """Hard inquiries (loan, card, guarantee approval) on or after ``since`` or in the last ``days``.

        ``days`` counts back from the report's generation date, so the answer does not change
        with the day the CRM reads it.
        """
        if since is None and days is not None:
            since = self.generated_at.date() - timedelta(days=days)
        return sum(
            1 for q in self.queries if q.reason_category.hard and (since is None or q.queried_on >= since)
        )

    def public_records_of(self, kind: PublicRecordKind) -> tuple[PublicRecord, ...]:
        """Public records of one kind."""
        return tuple(r for r in self.public_records if r.kind == kind)
