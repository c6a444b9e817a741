"""``lendhub import customers``: CSV (UTF-8 or GBK) and Excel, Chinese headers, every refused row
reported with its reason, resumable after a crash, and idempotent when run twice."""

from __future__ import annotations

import asyncio
import csv
import io

import openpyxl
import pytest
from click.testing import CliRunner
from dbfixtures import assert_not_in_dump, raw_dump
from sqlalchemy import func, select

from core.customers import Customer
from core.imports import service as import_service
from core.secretbox import generate_key
from hub.cli import cli as lendhub
from hub.database import make_engine, make_session_factory

PASSWORD = "Corr3ct-horse"
HEADER = ["客户类型", "客户名称", "身份证号", "统一社会信用代码", "手机号", "客户经理", "标签"]
ROWS = [
    ["个人", "张三", "11010519491231002X", "", "13800138000", "", "新客，VIP"],
    ["个人", "李四", "11010119900307803X", "", "13900139000", "", ""],
    ["个人", "王五", "11010519491231002Y", "", "12345", "", ""],  # bad ID and mobile
    ["企业", "上海测试科技有限公司", "", "91350100M000100Y43", "", "", ""],
    ["个人", "张三二", "11010519491231002X", "", "13800138001", "", ""],  # same ID as row 2
    ["个人", "赵六", "110105200002290048", "", "13700137000", "nobody", ""],  # unknown officer
    ["企业", "北京测试有限公司", "", "91110108551385082Q", "", "", ""],
]


@pytest.fixture
def run(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LENDHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDHUB_SECRET_KEY", generate_key())
    monkeypatch.setenv("LENDHUB_LOAD_PLUGINS", "")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LENDHUB_REDIS_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(lendhub, list(args), input=input, catch_exceptions=False)

    assert invoke("branches", "add", "HQ", "--name", "总行").exit_code == 0
    assert invoke("branches", "add", "SH01", "--name", "上海分行", "--parent", "HQ").exit_code == 0
    added = invoke(
        "users", "add", "li", "--role", "loan_officer", "--branch", "SH01", "--password-stdin", input=PASSWORD
    )
    assert added.exit_code == 0, added.output
    return invoke


def _count(database_url: str) -> int:
    async def read() -> int:
        engine = make_engine(database_url)
        try:
            async with make_session_factory(engine)() as session:
                return int(await session.scalar(select(func.count()).select_from(Customer)) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _csv(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def test_csv_import_reports_every_refused_row_and_a_second_run_loads_nothing(
    run, database_url, engine, tmp_path
):
    path = tmp_path / "客户.csv"
    path.write_bytes(_csv(ROWS))
    first = run("import", "customers", str(path), "--owner", "li")
    assert first.exit_code == 0, first.output
    assert "7 rows: 4 created, 3 refused" in first.output
    report = list(
        csv.reader(io.StringIO((tmp_path / "客户.csv.rejected.csv").read_text(encoding="utf-8-sig")))
    )
    assert report[0][:2] == ["原行号", "拒绝原因"] and report[0][2:] == HEADER
    reasons = {int(row[0]): row[1] for row in report[1:]}
    assert set(reasons) == {4, 6, 7}  # spreadsheet row numbers: the header is row 1
    assert "id_number" in reasons[4] and "mobile" in reasons[4]
    assert "第 2 行" in reasons[6] and "nobody" in reasons[7]
    assert report[1][2:] == ROWS[2]
    assert _count(database_url) == 4
    again = run("import", "customers", str(path), "--owner", "li", "--json")
    assert (
        again.exit_code == 0
        and '"resumed_or_repeated": true' in again.output
        and '"created": 4' in again.output
    )
    assert _count(database_url) == 4
    dump = asyncio.run(raw_dump(engine))
    assert_not_in_dump(dump, "11010519491231002X", "13800138000", "11010519491231002Y")


def test_gbk_csv_and_excel_files_read_the_same(run, database_url, tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(_csv(ROWS[:2], encoding="gbk"))
    assert "2 rows: 2 created, 0 refused" in run("import", "customers", str(gbk), "--owner", "li").output
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["企业", "上海测试科技有限公司", None, "91350100M000100Y43", None, "li", None])
    sheet.append(["个人", "赵六", "110105200002290048", None, 13700137000, "li", None])  # a number cell
    book.save(tmp_path / "客户.xlsx")
    excel = run("import", "customers", str(tmp_path / "客户.xlsx"))
    assert "2 rows: 2 created, 0 refused" in excel.output, excel.output
    assert _count(database_url) == 4


def test_an_interrupted_import_resumes_without_doubling(run, database_url, tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_bytes(_csv(ROWS))
    real = import_service.process_batch
    calls = {"n": 0}

    async def crash_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return await real(*args, **kwargs)

    monkeypatch.setattr(import_service, "process_batch", crash_on_third)
    with pytest.raises(RuntimeError, match="power cut"):
        run("import", "customers", str(path), "--owner", "li", "--batch-size", "2")
    assert _count(database_url) == 3  # two batches committed: rows 2-5, of which 3 valid
    monkeypatch.setattr(import_service, "process_batch", real)
    resumed = run("import", "customers", str(path), "--owner", "li", "--batch-size", "2")
    assert "7 rows: 4 created, 3 refused" in resumed.output, resumed.output
    assert _count(database_url) == 4


def test_a_file_that_does_not_fit_the_template_is_refused_whole(run, database_url, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("客户类型,客户名称,电话\n个人,张三,13800138000\n", encoding="utf-8")
    refused = run("import", "customers", str(path), "--owner", "li")
    assert refused.exit_code == 1 and "电话" in refused.output
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.7")
    assert run("import", "customers", str(tmp_path / "x.pdf")).exit_code == 1
    template = tmp_path / "template.csv"
    assert run("import", "customers", "--template", str(template)).exit_code == 0
    assert "2 rows: 2 created, 0 refused" in run("import", "customers", str(template)).output
    assert _count(database_url) == 2
