"""``POST /api/imports``: a file as the raw body, loaded by the workers in batches as the uploader,
the refused rows downloadable, the same file again answered with the earlier import."""

from __future__ import annotations

import csv
import io

from accesshub import access_hub, bearer, make_org
from sqlalchemy import func, select
from waiting import wait_for

from core.customers import Customer
from core.imports import service as import_service

ROWS = [
    ["客户类型", "客户名称", "身份证号", "手机号"],
    ["个人", "张三", "11010519491231002X", "13800138000"],
    ["个人", "李四", "11010119900307803X", "13900139000"],
    ["个人", "王五", "11010519491231002Y", "12345"],
    ["个人", "赵六", "110105200002290048", "13700137000"],
]


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


async def _until_done(client, url, headers):
    async def done():
        body = (await client.get(url, headers=headers)).json()
        return body if body["status"] == "done" else None

    return await wait_for(done, within=20, what="the import to finish")


async def test_upload_is_loaded_in_batches_as_the_uploader(database_url, engine, tmp_path, monkeypatch):
    real = import_service.process_batch

    async def small_batches(*args, **kwargs):
        kwargs["size"] = 2
        return await real(*args, **kwargs)

    monkeypatch.setattr(import_service, "process_batch", small_batches)  # two jobs, one enqueuing the next
    async with access_hub(database_url, tmp_path, inprocess_workers=True) as (client, runtime):
        await make_org(runtime)
        li = await bearer(client, "li")
        sent = await client.post(
            "/api/imports",
            params={"filename": "客户.csv"},
            content=_csv(ROWS),
            headers={**li, "Content-Type": "text/csv"},
        )
        assert sent.status_code == 202, sent.text
        run = await _until_done(client, f"/api/imports/{sent.json()['id']}", li)
        assert (run["rows"], run["created"], run["rejected"], run["processed"]) == (4, 3, 1, 4)
        assert run["requested_by"] == "user:li"
        page = (await client.get("/api/customers", headers=li)).json()
        assert page["total"] == 3 and {c["owner"] for c in page["items"]} == {"li"}
        report = await client.get(f"/api/imports/{run['id']}/report", headers={**li, "Accept-Language": "en"})
        assert report.headers["content-type"].startswith("text/csv")
        lines = list(csv.reader(io.StringIO(report.text.lstrip("\ufeff"))))
        assert lines[0][:2] == ["row", "reasons"] and lines[1][0] == "4" and "id_number" in lines[1][1]
        assert "mobile" in lines[1][1] and lines[1][2:] == ROWS[3]
        again = await client.post(
            "/api/imports", content=_csv(ROWS), headers={**li, "Content-Type": "text/csv"}
        )
        assert again.status_code == 200 and again.json()["id"] == run["id"] and again.json()["repeated"]
        # Another branch's officer neither sees the import nor its report.
        zhao = await bearer(client, "zhao")
        assert (await client.get(f"/api/imports/{run['id']}/report", headers=zhao)).status_code == 404
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Customer)) == 3


async def test_bad_uploads_are_refused_with_the_reason(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        li = await bearer(client, "li")
        form = await client.post("/api/imports", content=b"a,b", headers={**li, "Content-Type": "text/plain"})
        assert form.status_code == 415  # a type an HTML form can send is refused by the guard
        pdf = await client.post(
            "/api/imports", content=b"%PDF", headers={**li, "Content-Type": "application/pdf"}
        )
        assert pdf.status_code == 422 and pdf.json()["code"] == "imports.media_type"
        wrong = await client.post(
            "/api/imports",
            content="客户类型,电话\n个人,1\n".encode(),
            headers={**li, "Content-Type": "text/csv"},
        )
        assert wrong.status_code == 422 and wrong.json()["code"] == "imports.column_unknown"
        assert "电话" in wrong.json()["detail"]
        empty = await client.post("/api/imports", content=b"", headers={**li, "Content-Type": "text/csv"})
        assert empty.status_code == 422 and empty.json()["code"] == "imports.unreadable"
        auditor = await bearer(client, "sun")
        refused = await client.post(
            "/api/imports", content=_csv(ROWS), headers={**auditor, "Content-Type": "text/csv"}
        )
        assert refused.status_code == 403
