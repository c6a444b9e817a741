"""The deterministic test subjects every simulator knows, so a demo tells one story across vendors.

Each simulator answers these the same way its vendor would for such a person or company: the
clean borrower has a clean report everywhere, the dishonest debtor appears on 失信 and 限高 lists in
every litigation source, and so on. Connector READMEs list them; tests and ``make run`` use them.
ID numbers and USCCs carry valid check characters (GB 11643, GB 32100) so validation passes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACTIVE_COMPANY",
    "CLEAN_BORROWER",
    "DELINQUENT_BORROWER",
    "DISHONEST_DEBTOR",
    "EXHAUSTED_CREDENTIAL",
    "REVOKED_COMPANY",
    "SANDBOX_COMPANIES",
    "SANDBOX_PEOPLE",
    "UNKNOWN_COMPANY",
    "UNKNOWN_PERSON",
    "SandboxCompany",
    "SandboxPerson",
]


@dataclass(frozen=True)
class SandboxPerson:
    """A natural person the simulators know (or, for ``UNKNOWN_PERSON``, deliberately do not)."""

    key: str
    name: str
    id_number: str
    mobile: str
    story: str


@dataclass(frozen=True)
class SandboxCompany:
    """A company the simulators know (or deliberately do not)."""

    key: str
    name: str
    uscc: str
    story: str


CLEAN_BORROWER = SandboxPerson(
    "clean", "张三", "110105199003070017", "17000000001", "clean report, no overdue, no court records"
)
DELINQUENT_BORROWER = SandboxPerson(
    "delinquent",
    "李四",
    "310101198511200022",
    "17000000002",
    "a consumer loan 90+ days past due (M3+), five-category 次级, several recent hard inquiries",
)
DISHONEST_DEBTOR = SandboxPerson(
    "dishonest",
    "王五",
    "440305199206150030",
    "17000000003",
    "a dishonest executed person (失信) with a consumption restriction (限高) and an enforcement case",
)
UNKNOWN_PERSON = SandboxPerson(
    "unknown", "赵六", "320106198808089998", "17000000004", "no record at any vendor (not found / empty)"
)
REVOKED_COMPANY = SandboxCompany(
    "revoked",
    "北京示例科技有限公司",
    "91440300MA5F0000X1",
    "business licence revoked (吊销), defendant in two lawsuits, shareholders and change records",
)
ACTIVE_COMPANY = SandboxCompany(
    "active", "上海示例测试有限公司", "913100001234567883", "in business (存续), no lawsuits"
)
UNKNOWN_COMPANY = SandboxCompany(
    "unknown", "不存在测试有限公司", "91110105MA01TE8T2E", "unknown to every registry (not found)"
)

EXHAUSTED_CREDENTIAL = "sandbox-exhausted"
"""A credential value (API key, app key, user name) whose account has no balance left: every
simulator answers it with the vendor's own quota/balance error."""

SANDBOX_PEOPLE = (CLEAN_BORROWER, DELINQUENT_BORROWER, DISHONEST_DEBTOR, UNKNOWN_PERSON)
SANDBOX_COMPANIES = (REVOKED_COMPANY, ACTIVE_COMPANY, UNKNOWN_COMPANY)
