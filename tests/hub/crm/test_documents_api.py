"""Customer documents over HTTP: raw-body uploads checked by content, scoped lists and downloads,
downloads audited, form posts refused."""

from __future__ import annotations

import docsamples
from accesshub import access_hub, bearer, make_org
from sqlalchemy import select

from core.audit import AuditEntry

PERSON = {"kind": "person", "name": "张三", "id_number": "11010519491231002X", "mobile": "13800138000"}


async def test_upload_list_download_delete_within_scope(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path, documents_dir=tmp_path / "docs") as (client, runtime):
        await make_org(runtime)
        li, zhao = await bearer(client, "li"), await bearer(client, "zhao")
        customer = (await client.post("/api/customers", json=PERSON, headers=li)).json()["id"]
        url = f"/api/customers/{customer}/documents/id_card_front"
        png = docsamples.png()
        first = await client.put(
            url, params={"filename": "身份证.png"}, content=png, headers={**li, "Content-Type": "image/png"}
        )
        assert first.status_code == 201, first.text
        again = await client.put(
            url, params={"filename": "x.png"}, content=png, headers={**li, "Content-Type": "image/png"}
        )
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        lying = await client.put(url, content=png, headers={**li, "Content-Type": "application/pdf"})
        assert lying.status_code == 422 and lying.json()["code"] == "documents.declared_mismatch"
        form = await client.put(
            url, content=png, headers={**li, "Content-Type": "multipart/form-data; boundary=x"}
        )
        assert form.status_code == 415
        assert (
            await client.put(url, content=png, headers={**zhao, "Content-Type": "image/png"})
        ).status_code == 404
        listed = (await client.get(f"/api/customers/{customer}/documents", headers=li)).json()
        assert [d["doc_type"] for d in listed] == ["id_card_front"]
        doc = first.json()["id"]
        download = await client.get(f"/api/documents/{doc}/content", headers=li)
        assert download.status_code == 200 and download.content == png
        assert (await client.get(f"/api/documents/{doc}/content", headers=zhao)).status_code == 404
        assert (await client.delete(f"/api/documents/{doc}", headers=li)).status_code == 204
        assert (await client.get(f"/api/customers/{customer}/documents", headers=li)).json() == []
        async with runtime.sessions() as session:
            actions = (
                await session.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.action.like("documents.%"))
                    .order_by(AuditEntry.seq)
                )
            ).all()
        assert actions == ["documents.upload", "documents.download", "documents.delete"]
