"""What the sandbox 企查查 knows about the shared sandbox subjects, in the vendor's wire shape.

The same story as every litigation and registry simulator tells:

* ``REVOKED_COMPANY``: 吊销，未注销, 被告 in two civil cases, two shareholders, two changes;
* ``DISHONEST_DEBTOR``: 被告 in a private-lending case, then 失信, 被执行 and 限高;
* ``ACTIVE_COMPANY``: 存续, capital in US dollars, one shareholder, no cases;
* everyone else (``CLEAN_BORROWER``, ``UNKNOWN_*``): Status ``201`` 查询无结果.
"""

from __future__ import annotations

from typing import Any

from plugins.sdk.sandbox import ACTIVE_COMPANY, DISHONEST_DEBTOR, REVOKED_COMPANY

__all__ = [
    "BASIC_DETAILS",
    "DISHONEST",
    "EXECUTED",
    "JUDGMENTS",
    "RESTRICTIONS",
    "find_company",
    "find_items",
]


def _mask(id_number: str) -> str:
    return id_number[:4] + "*" * 10 + id_number[-4:]


REVOKED_KEYNO = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
ACTIVE_KEYNO = "0f9e8d7c6b5a49382716f5e4d3c2b1a0"
LENDER = "示例银行股份有限公司北京分行"
ENFORCEMENT_NO = "(2022)粤0305执1234号"

JUDGMENTS: dict[str, list[dict[str, Any]]] = {
    REVOKED_COMPANY.name: [
        {
            "Id": "c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5",
            "CaseName": f"{LENDER}与{REVOKED_COMPANY.name}金融借款合同纠纷一审民事判决书",
            "CaseNo": "(2023)京0105民初12345号",
            "CaseReason": "金融借款合同纠纷",
            "Court": "北京市朝阳区人民法院",
            "SubmitDate": "2023-09-01 00:00:00",
            "JudgeDate": "2023-08-20 00:00:00",
            "CaseType": "ms",
            "DocType": "判决书",
            "Amount": "1250000.00",
            "CaseRole": [{"P": LENDER, "R": "原告"}, {"P": REVOKED_COMPANY.name, "R": "被告"}],
        },
        {
            "Id": "c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f6",
            "CaseName": f"示例电子设备有限公司与{REVOKED_COMPANY.name}买卖合同纠纷一审民事判决书",
            "CaseNo": "(2022)京0108民初9876号",
            "CaseReason": "买卖合同纠纷",
            "Court": "北京市海淀区人民法院",
            "SubmitDate": "2022-12-05 00:00:00",
            "JudgeDate": "2022-11-18 00:00:00",
            "CaseType": "ms",
            "DocType": "判决书",
            "Amount": "386000.50",
            # 企查查 sometimes delivers the roles as a JSON string; the sandbox does both.
            "CaseRole": (
                '[{"P":"示例电子设备有限公司","R":"原告"},{"P":"' + REVOKED_COMPANY.name + '","R":"被告"}]'
            ),
        },
    ],
    DISHONEST_DEBTOR.name: [
        {
            "Id": "c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f7",
            "CaseName": f"李某某与{DISHONEST_DEBTOR.name}民间借贷纠纷一审民事判决书",
            "CaseNo": "(2021)粤0305民初4567号",
            "CaseReason": "民间借贷纠纷",
            "Court": "深圳市南山区人民法院",
            "SubmitDate": "2021-10-08 00:00:00",
            "JudgeDate": "2021-09-27 00:00:00",
            "CaseType": "ms",
            "DocType": "判决书",
            "Amount": "200000",
            "CaseRole": [{"P": "李某某", "R": "原告"}, {"P": DISHONEST_DEBTOR.name, "R": "被告"}],
        }
    ],
}

DISHONEST: dict[str, list[dict[str, Any]]] = {
    DISHONEST_DEBTOR.name: [
        {
            "Id": "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a01",
            "Name": DISHONEST_DEBTOR.name,
            "OrgNo": _mask(DISHONEST_DEBTOR.id_number),
            "Liandate": "2022-03-01 00:00:00",
            "Anno": ENFORCEMENT_NO,
            "Executegov": "深圳市南山区人民法院",
            "Executestatus": "全部未履行",
            "Publicdate": "2022-06-15 00:00:00",
            "Executeno": "(2021)粤0305民初4567号",
            "Executeunite": "深圳市南山区人民法院",
            "Yiwu": "被告王五于判决生效之日起十日内偿还原告借款本金200000元及利息",
            "ActionRemark": "有履行能力而拒不履行生效法律文书确定义务",
            "Amount": "200000",
        },
        {
            # A namesake in another province: a caller who passes the ID number must not get it.
            "Id": "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a02",
            "Name": DISHONEST_DEBTOR.name,
            "OrgNo": "3201**********1234",
            "Liandate": "2020-02-10 00:00:00",
            "Anno": "(2020)苏0106执888号",
            "Executegov": "南京市鼓楼区人民法院",
            "Executestatus": "全部未履行",
            "Publicdate": "2020-05-20 00:00:00",
            "Executeno": "(2019)苏0106民初777号",
            "Executeunite": "南京市鼓楼区人民法院",
            "Yiwu": "偿还货款50000元",
            "ActionRemark": "违反财产报告制度",
            "Amount": "50000",
        },
    ],
}

EXECUTED: dict[str, list[dict[str, Any]]] = {
    DISHONEST_DEBTOR.name: [
        {
            "Id": "6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b12",
            "Name": DISHONEST_DEBTOR.name,
            "PartyCardNum": _mask(DISHONEST_DEBTOR.id_number),
            "Liandate": "2022-03-01 00:00:00",
            "Anno": ENFORCEMENT_NO,
            "ExecuteGov": "深圳市南山区人民法院",
            "Biaodi": "215000",
            "Status": "执行中",
        }
    ],
}

RESTRICTIONS: dict[str, list[dict[str, Any]]] = {
    DISHONEST_DEBTOR.name: [
        {
            "Id": "7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c23",
            "CaseNo": ENFORCEMENT_NO,
            "PersonName": DISHONEST_DEBTOR.name,
            "PersonId": "",
            "JudgeDate": "2022-03-01",
            "PublishDate": "2022-07-01",
            "KeyNo": "",
            "CompanyName": "",
            "Applicant": "李某某",
            "ApplicantNo": "",
        }
    ],
}

BASIC_DETAILS: dict[str, dict[str, Any]] = {
    REVOKED_COMPANY.name: {
        "KeyNo": REVOKED_KEYNO,
        "Name": REVOKED_COMPANY.name,
        "No": "110105000000001",
        "BelongOrg": "北京市朝阳区市场监督管理局",
        "OperId": "p0a1b2c3d4e5f6",
        "OperName": "钱七",
        "StartDate": "2016-04-12 00:00:00",
        "EndDate": "",
        "Status": "吊销，未注销",
        "Province": "BJ",
        "UpdatedDate": "2024-02-01 10:00:00",
        "CreditCode": REVOKED_COMPANY.uscc,
        "RegistCapi": "1000万元人民币",
        "RecCap": "200万元人民币",
        "EconKind": "有限责任公司(自然人投资或控股)",
        "Address": "北京市朝阳区示例路1号",
        "Scope": "技术开发、技术咨询;软件开发。",
        "TermStart": "2016-04-12 00:00:00",
        "TermEnd": "2036-04-11 00:00:00",
        "CheckDate": "2024-01-10 00:00:00",
        "OrgNo": "MA5F0000-X",
        "IsOnStock": "0",
        "Area": {"Province": "北京市", "City": "北京市", "County": "朝阳区"},
        "Industry": {
            "IndustryCode": "I",
            "Industry": "信息传输、软件和信息技术服务业",
            "SubIndustryCode": "65",
            "SubIndustry": "软件和信息技术服务业",
        },
        "UsedNameList": [{"Name": "北京示例网络有限公司", "ChangeDate": "2019-03-15"}],
        "RevokeInfo": {
            "CancelDate": "",
            "CancelReason": "",
            "RevokeDate": "2024-01-10",
            "RevokeReason": "未按规定接受年度检验",
        },
        "ShareHolderList": [
            {
                "KeyNo": "p0a1b2c3d4e5f6",
                "StockName": "钱七",
                "StockType": "自然人股东",
                "StockPercent": "60.00%",
                "ShouldCapi": "600",
                "RealCapi": "120",
                "ShoudDate": "2036-04-11",
            },
            {
                "KeyNo": "e9f8a7b6c5d4e3f2",
                "StockName": "示例控股有限公司",
                "StockType": "企业法人",
                "StockPercent": "40.00%",
                "ShouldCapi": "400",
                "ShoudDate": "2036-04-11",
            },
        ],
        "EmployeeList": [{"KeyNo": "p0a1b2c3d4e5f6", "Name": "钱七", "Job": "执行董事,经理"}],
        "ChangeList": [
            {
                "ProjectName": "法定代表人变更",
                "BeforeList": ["孙八"],
                "AfterList": ["钱七"],
                "ChangeDate": "2021-05-06",
            },
            {
                "ProjectName": "名称变更",
                "BeforeList": ["北京示例网络有限公司"],
                "AfterList": [REVOKED_COMPANY.name],
                "ChangeDate": "2019-03-15",
            },
        ],
    },
    ACTIVE_COMPANY.name: {
        "KeyNo": ACTIVE_KEYNO,
        "Name": ACTIVE_COMPANY.name,
        "No": "310000400000001",
        "BelongOrg": "上海市市场监督管理局",
        "OperName": "周九",
        "StartDate": "2012-08-08 00:00:00",
        "Status": "存续（在营、开业、在册）",
        "CreditCode": ACTIVE_COMPANY.uscc,
        "RegistCapi": "500万美元",
        "EconKind": "有限责任公司(外国法人独资)",
        "Address": "上海市浦东新区示例大道88号",
        "Scope": "计算机软硬件的技术开发。",
        "Industry": {
            "IndustryCode": "M",
            "Industry": "科学研究和技术服务业",
            "SubIndustryCode": "75",
            "SubIndustry": "科技推广和应用服务业",
        },
        "UsedNameList": [],
        "ShareHolderList": [
            {
                "KeyNo": "f1e2d3c4b5a6",
                "StockName": "示例国际有限公司",
                "StockType": "企业法人",
                "StockPercent": "100.00%",
                "ShouldCapi": "500万美元",
            }
        ],
        "ChangeList": [],
    },
}

_ALIASES = {
    REVOKED_COMPANY.uscc: REVOKED_COMPANY.name,
    REVOKED_KEYNO: REVOKED_COMPANY.name,
    ACTIVE_COMPANY.uscc: ACTIVE_COMPANY.name,
    ACTIVE_KEYNO: ACTIVE_COMPANY.name,
}


def _canonical(keyword: str) -> str:
    return _ALIASES.get(keyword, keyword)


def find_company(keyword: str) -> dict[str, Any] | None:
    """The 工商详情 ``Result`` for a company name, USCC or KeyNo."""
    return BASIC_DETAILS.get(_canonical(keyword))


def find_items(table: dict[str, list[dict[str, Any]]], search_key: str) -> list[dict[str, Any]]:
    """A list endpoint's items for a name, USCC or KeyNo (empty when unknown)."""
    return table.get(_canonical(search_key), [])
