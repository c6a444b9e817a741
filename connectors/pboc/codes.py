"""Code tables of the second-generation report (vendors.md §1.1).

Account types, five-category classes and segment names are high confidence; account-status,
business-type, institution-type and query-reason codes are medium or low confidence, which is why
the mapping takes the last two as parameters (config ``query_reason_labels`` and
``institution_type_labels``) merged over the defaults here.
"""

from __future__ import annotations

from schemas.canonical.credit_report import AccountStatus, AccountType, FiveCategory, PublicRecordKind

ACCOUNT_TYPES: dict[str, AccountType] = {
    "D1": AccountType.NON_REVOLVING_LOAN,
    "R1": AccountType.REVOLVING_LOAN,
    "R2": AccountType.CREDIT_CARD,
    "R3": AccountType.QUASI_CREDIT_CARD,
    "R4": AccountType.REVOLVING_SUB_ACCOUNT,
    "C1": AccountType.COLLECTION,
}

FIVE_CATEGORY: dict[str, FiveCategory] = {
    "1": FiveCategory.NORMAL,
    "2": FiveCategory.SPECIAL_MENTION,
    "3": FiveCategory.SUBSTANDARD,
    "4": FiveCategory.DOUBTFUL,
    "5": FiveCategory.LOSS,
}
"""``PD01BD03``; 6 (违约) and 9 (未分类) carry no five-category class."""

LOAN_STATUS = {
    "1": AccountStatus.ACTIVE,
    "2": AccountStatus.OVERDUE,
    "3": AccountStatus.SETTLED,
    "4": AccountStatus.BAD_DEBT,
    "5": AccountStatus.TRANSFERRED,
}
CARD_STATUS = {
    "1": AccountStatus.ACTIVE,
    "2": AccountStatus.FROZEN,
    "3": AccountStatus.FROZEN,
    "31": AccountStatus.FROZEN,
    "4": AccountStatus.SETTLED,
    "5": AccountStatus.BAD_DEBT,
    "6": AccountStatus.INACTIVE,
}

DEFAULT_QUERY_REASONS: dict[str, str] = {
    "01": "贷后管理",
    "02": "贷款审批",
    "03": "信用卡审批",
    "08": "担保资格审查",
    "16": "本人查询",
    "18": "特约商户实名审查",
}
"""``PH010Q03`` codes: 02 and 03 agree with the PC05B counters (M); the rest is low confidence."""

DEFAULT_INSTITUTION_TYPES: dict[str, str] = {
    "11": "商业银行",
    "12": "村镇银行",
    "15": "外资银行",
    "16": "财务公司",
    "21": "信托公司",
    "23": "汽车金融公司",
    "24": "消费金融公司",
    "41": "保险公司",
    "51": "小额贷款公司",
    "53": "融资担保公司",
}
"""``PD01AD02``/``PH010D01`` institution types (low confidence; configurable)."""

BUSINESS_TYPES = {
    "11": "个人住房商业贷款",
    "13": "个人住房公积金贷款",
    "21": "个人汽车消费贷款",
    "31": "个人助学贷款",
    "41": "个人经营性贷款",
    "91": "个人消费贷款",
    "81": "贷记卡",
    "99": "其他贷款",
}
GUARANTEE = {"1": "质押", "2": "抵押", "3": "保证", "4": "信用/免担保", "5": "组合", "7": "农户联保"}
GENDER = {"1": "男", "2": "女", "0": "未知", "9": "未说明"}
MARITAL = {"10": "未婚", "20": "已婚", "30": "丧偶", "40": "离婚", "91": "单身", "99": "未知"}
EDUCATION = {"10": "研究生", "20": "本科", "30": "专科", "60": "高中", "90": "其他", "99": "未知"}
EMPLOYMENT = {"11": "国家公务员", "13": "专业技术人员", "17": "职员", "21": "企业管理人员", "91": "在职"}

SUMMARY_SEGMENTS = {
    "PC02E": AccountType.NON_REVOLVING_LOAN,
    "PC02F": AccountType.REVOLVING_SUB_ACCOUNT,
    "PC02G": AccountType.REVOLVING_LOAN,
}
CARD_SUMMARY_SEGMENTS = {"PC02H": AccountType.CREDIT_CARD, "PC02I": AccountType.QUASI_CREDIT_CARD}
OVERDUE_KINDS = {
    "1": AccountType.NON_REVOLVING_LOAN,
    "2": AccountType.REVOLVING_SUB_ACCOUNT,
    "3": AccountType.REVOLVING_LOAN,
    "4": AccountType.CREDIT_CARD,
    "5": AccountType.QUASI_CREDIT_CARD,
}
PUBLIC_BLOCKS = (
    ("POT", "PF01", "PF01A", PublicRecordKind.TAX_ARREARS),
    ("PCJ", "PF02", "PF02A", PublicRecordKind.CIVIL_JUDGMENT),
    ("PCE", "PF03", "PF03A", PublicRecordKind.ENFORCEMENT),
    ("PAP", "PF04", "PF04A", PublicRecordKind.ADMINISTRATIVE_PENALTY),
)

CLOSURE = {"1": "判决", "2": "调解", "3": "撤诉", "9": "其他"}
