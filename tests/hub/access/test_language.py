"""Messages in the person's language: their setting first, else the request's Accept-Language."""

from __future__ import annotations

from accesshub import access_hub, bearer, make_org
from authsupport import token_headers


async def test_a_persons_choice_overrides_the_browser_and_can_be_cleared(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        li = await bearer(client, "li")
        zh = {**li, "Accept-Language": "zh-CN,zh;q=0.9"}
        missing = "/api/customers/nope"
        assert "客户不存在" in (await client.get(missing, headers=zh)).json()["title"]
        chosen = await client.patch("/api/me", json={"language": "en"}, headers=li)
        assert chosen.status_code == 200 and chosen.json()["language"] == "en"
        li = await bearer(client, "li")  # a new token carries the new setting
        answer = (await client.get(missing, headers={**li, "Accept-Language": "zh-CN"})).json()
        assert answer["title"].startswith("No customer") and answer["code"] == "customers.not_found"
        assert (await client.get("/api/me", headers=li)).json()["language"] == "en"
        bad = await client.patch("/api/me", json={"language": "fr"}, headers=li)
        assert bad.status_code == 422
        assert (await client.patch("/api/me", json={"language": None}, headers=li)).json()["language"] is None
        li = await bearer(client, "li")
        assert (
            "客户不存在"
            in (await client.get(missing, headers={**li, "Accept-Language": "zh"})).json()["title"]
        )
        system = await token_headers(runtime, "admin")
        refused = await client.patch("/api/me", json={"language": "en"}, headers=system)
        assert refused.status_code == 422 and refused.json()["code"] == "access.me_not_a_person"
