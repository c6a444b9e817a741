"""What the sandbox 天眼查 knows about the shared sandbox subjects, in the vendor's wire shape.

Kept apart from :mod:`.simulator` so the story (who is sued, who is dishonest) reads in one place:

* ``REVOKED_COMPANY``: 吊销, 被告 in two civil cases, two shareholders, two change records;
* ``DISHONEST_DEBTOR``: 被告 in a private-lending case, then 失信, 被执行 and 限高 in its enforcement;
* ``ACTIVE_COMPANY``: 存续, capital in US dollars, one shareholder, no cases;
* everyone else (``CLEAN_BORROWER``, ``UNKNOWN_*``): nothing on file.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from plugins.sdk.sandbox import ACTIVE_COMPANY, DISHONEST_DEBTOR, REVOKED_COMPANY

__all__ = [
    "BASEINFO",
    "CHANGES",
    "DISHONEST",
    "EXECUTED",
    "HOLDERS",
    "LAWSUITS",
    "RESTRICTIONS",
    "find_company",
    "find_items",
]

_BEIJING = timezone(timedelta(hours=8))


def ms(day: str) -> int:
    """Epoch milliseconds of Beijing midnight on ``day``, the way the vendor sends dates."""
    return int(datetime.fromisoformat(day).replace(tzinfo=_BEIJING).timestamp() * 1000)


def _mask(id_number: str) -> str:
    return id_number[:4] + "*" * 10 + id_number[-4:]


REVOKED_ID = 2310000001
ACTIVE_ID = 2310000002
LENDER = "示例银行股份有限公司北京分行"
ENFORCEMENT_NO = "(2022)粤0305执1234号"

LAWSUITS: dict[str, list[dict[str, Any]]] = {
    REVOKED_COMPANY.name: [
        {
            "id": 91000001,
            "uuid": "5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e01",
            "caseMoney": "1250000.00",
            "submitTime": ms("2023-09-01"),
            "docType": "民事判决书",
            "lawsuitUrl": "https://www.tianyancha.com/lawsuit/5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e01",
            "lawsuitH5Url": "https://m.tianyancha.com/lawsuit/5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e01",
            "title": f"{LENDER}与{REVOKED_COMPANY.name}金融借款合同纠纷一审民事判决书",
            "court": "北京市朝阳区人民法院",
            "judgeTime": "2023-08-20",
            "caseNo": "(2023)京0105民初12345号",
            "caseType": "民事案件",
            "caseReason": "金融借款合同纠纷",
            "casePersons": [
                {"role": "原告", "type": "2", "name": LENDER, "gid": "", "result": "", "emotion": 1},
                {
                    "role": "被告",
                    "type": "2",
                    "name": REVOKED_COMPANY.name,
                    "gid": str(REVOKED_ID),
                    "result": "",
                    "emotion": -1,
                },
            ],
        },
        {
            "id": 91000002,
            "uuid": "5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e02",
            "caseMoney": "386000.50",
            "submitTime": ms("2022-12-05"),
            "docType": "民事判决书",
            "lawsuitUrl": "https://www.tianyancha.com/lawsuit/5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e02",
            "lawsuitH5Url": "https://m.tianyancha.com/lawsuit/5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e02",
            "title": f"示例电子设备有限公司与{REVOKED_COMPANY.name}买卖合同纠纷一审民事判决书",
            "court": "北京市海淀区人民法院",
            "judgeTime": "2022-11-18",
            "caseNo": "(2022)京0108民初9876号",
            "caseType": "民事案件",
            "caseReason": "买卖合同纠纷",
            "casePersons": [
                {
                    "role": "原告",
                    "type": "2",
                    "name": "示例电子设备有限公司",
                    "gid": "",
                    "result": "",
                    "emotion": 1,
                },
                {
                    "role": "被告",
                    "type": "2",
                    "name": REVOKED_COMPANY.name,
                    "gid": str(REVOKED_ID),
                    "result": "",
                    "emotion": -1,
                },
            ],
        },
    ],
    DISHONEST_DEBTOR.name: [
        {
            "id": 91000003,
            "uuid": "5b1f0c1e0a6a4f0c9d6f1a2b3c4d5e03",
            "caseMoney": "200000",
            "submitTime": ms("2021-10-08"),
            "docType": "民事判决书",
            "lawsuitUrl": "",
            "lawsuitH5Url": "",
            "title": f"李某某与{DISHONEST_DEBTOR.name}民间借贷纠纷一审民事判决书",
            "court": "深圳市南山区人民法院",
            "judgeTime": "2021-09-27",
            "caseNo": "(2021)粤0305民初4567号",
            "caseType": "民事案件",
            "caseReason": "民间借贷纠纷",
            "casePersons": [
                {"role": "原告", "type": "1", "name": "李某某", "gid": "", "result": "", "emotion": 1},
                {
                    "role": "被告",
                    "type": "1",
                    "name": DISHONEST_DEBTOR.name,
                    "gid": "",
                    "result": "",
                    "emotion": -1,
                },
            ],
        }
    ],
}

DISHONEST: dict[str, list[dict[str, Any]]] = {
    DISHONEST_DEBTOR.name: [
        {
            "iname": DISHONEST_DEBTOR.name,
            "cardnum": _mask(DISHONEST_DEBTOR.id_number),
            "casecode": ENFORCEMENT_NO,
            "courtname": "深圳市南山区人民法院",
            "areaname": "广东",
            "gistid": "(2021)粤0305民初4567号",
            "gistunit": "深圳市南山区人民法院",
            "duty": "被告王五于判决生效之日起十日内偿还原告借款本金200000元及利息",
            "performance": "全部未履行",
            "performedPart": "0",
            "unperformPart": "200000",
            "disrupttypename": "有履行能力而拒不履行生效法律文书确定义务",
            "regdate": ms("2022-03-01"),
            "publishdate": ms("2022-06-15"),
            "type": "0",
            "businessentity": "",
            "staff": [],
        },
        {
            # A namesake in another province: a caller who passes the ID number must not get it.
            "iname": DISHONEST_DEBTOR.name,
            "cardnum": "3201**********1234",
            "casecode": "(2020)苏0106执888号",
            "courtname": "南京市鼓楼区人民法院",
            "areaname": "江苏",
            "gistid": "(2019)苏0106民初777号",
            "gistunit": "南京市鼓楼区人民法院",
            "duty": "偿还货款50000元",
            "performance": "全部未履行",
            "performedPart": "0",
            "unperformPart": "50000",
            "disrupttypename": "违反财产报告制度",
            "regdate": ms("2020-02-10"),
            "publishdate": ms("2020-05-20"),
            "type": "0",
            "businessentity": "",
            "staff": [],
        },
    ],
}

EXECUTED: dict[str, list[dict[str, Any]]] = {
    DISHONEST_DEBTOR.name: [
        {
            "caseCode": ENFORCEMENT_NO,
            "execCourtName": "深圳市南山区人民法院",
            "pname": DISHONEST_DEBTOR.name,
            "partyCardNum": _mask(DISHONEST_DEBTOR.id_number),
            "caseCreateTime": ms("2022-03-01"),
            "execMoney": "215000",
        }
    ],
}

RESTRICTIONS: dict[str, list[dict[str, Any]]] = {
    DISHONEST_DEBTOR.name: [
        {
            "id": 7710001,
            "caseCode": ENFORCEMENT_NO,
            "qyinfo": "",
            "qyinfoAlias": "",
            "xname": DISHONEST_DEBTOR.name,
            "hcgid": "",
            "cid": "",
            "alias": "",
            "applicant": "李某某",
            "applicantCid": "",
            "caseCreateTime": ms("2022-03-01"),
            "publishDate": ms("2022-07-01"),
            "filePath": "https://static.tianyancha.com/xiangao/7710001.pdf",
        }
    ],
}

BASEINFO: dict[str, dict[str, Any]] = {
    REVOKED_COMPANY.name: {
        "id": REVOKED_ID,
        "name": REVOKED_COMPANY.name,
        "creditCode": REVOKED_COMPANY.uscc,
        "regNumber": "110105000000001",
        "orgNumber": "MA5F0000X",
        "taxNumber": REVOKED_COMPANY.uscc,
        "legalPersonName": "钱七",
        "type": 1,
        "regCapital": "1000万人民币",
        "regCapitalCurrency": "人民币",
        "actualCapital": "200万人民币",
        "actualCapitalCurrency": "人民币",
        "estiblishTime": ms("2016-04-12"),
        "regStatus": "吊销",
        "fromTime": ms("2016-04-12"),
        "toTime": ms("2036-04-11"),
        "approvedTime": ms("2024-01-10"),
        "regInstitute": "北京市朝阳区市场监督管理局",
        "regLocation": "北京市朝阳区示例路1号",
        "businessScope": "技术开发、技术咨询;软件开发。",
        "companyOrgType": "有限责任公司(自然人投资或控股)",
        "industry": "软件和信息技术服务业",
        "base": "bj",
        "city": "北京市",
        "district": "朝阳区",
        "historyNames": "北京示例网络有限公司;",
        "revokeDate": ms("2024-01-10"),
        "revokeReason": "未按规定接受年度检验",
        "updateTimes": ms("2024-02-01"),
    },
    ACTIVE_COMPANY.name: {
        "id": ACTIVE_ID,
        "name": ACTIVE_COMPANY.name,
        "creditCode": ACTIVE_COMPANY.uscc,
        "regNumber": "310000400000001",
        "legalPersonName": "周九",
        "type": 1,
        "regCapital": "500万美元",
        "regCapitalCurrency": "美元",
        "estiblishTime": ms("2012-08-08"),
        "regStatus": "存续",
        "regInstitute": "上海市市场监督管理局",
        "regLocation": "上海市浦东新区示例大道88号",
        "businessScope": "计算机软硬件的技术开发。",
        "companyOrgType": "有限责任公司(外国法人独资)",
        "industry": "科技推广和应用服务业",
        "base": "sh",
        "historyNames": "",
    },
}

HOLDERS: dict[str, list[dict[str, Any]]] = {
    REVOKED_COMPANY.name: [
        {
            "id": 1,
            "name": "钱七",
            "type": 2,
            "capital": [{"amomon": "600万人民币", "paymet": "货币", "time": "2036-04-11", "percent": "60%"}],
            "capitalActl": [
                {"amomon": "120万人民币", "paymet": "货币", "time": "2017-01-01", "percent": "60%"}
            ],
        },
        {
            "id": 2,
            "name": "示例控股有限公司",
            "type": 1,
            "capital": [{"amomon": "400万人民币", "paymet": "货币", "time": "2036-04-11", "percent": "40%"}],
            "capitalActl": [],
        },
    ],
    ACTIVE_COMPANY.name: [
        {
            "id": 3,
            "name": "示例国际有限公司",
            "type": 1,
            "capital": [{"amomon": "500万美元", "paymet": "货币", "time": "2032-08-07", "percent": "100%"}],
            "capitalActl": [],
        }
    ],
}

CHANGES: dict[str, list[dict[str, Any]]] = {
    REVOKED_COMPANY.name: [
        {
            "id": 11,
            "changeItem": "法定代表人变更",
            "changeTime": "2021-05-06",
            "contentBefore": "孙八",
            "contentAfter": "钱七",
        },
        {
            "id": 12,
            "changeItem": "名称变更",
            "changeTime": "2019-03-15",
            "contentBefore": "北京示例网络有限公司",
            "contentAfter": REVOKED_COMPANY.name,
        },
    ],
}

_ALIASES = {
    REVOKED_COMPANY.uscc: REVOKED_COMPANY.name,
    str(REVOKED_ID): REVOKED_COMPANY.name,
    ACTIVE_COMPANY.uscc: ACTIVE_COMPANY.name,
    str(ACTIVE_ID): ACTIVE_COMPANY.name,
}


def _canonical(keyword: str) -> str:
    return _ALIASES.get(keyword, keyword)


def find_company(keyword: str) -> dict[str, Any] | None:
    """The ``baseinfo/normal`` result for a company name, USCC or vendor id."""
    return BASEINFO.get(_canonical(keyword))


def find_items(table: dict[str, list[dict[str, Any]]], keyword: str) -> list[dict[str, Any]]:
    """A list endpoint's items for a name, USCC or vendor id (empty when unknown)."""
    return table.get(_canonical(keyword), [])
