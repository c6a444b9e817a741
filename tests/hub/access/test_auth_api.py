"""Signing in, tokens and their failures, /api/me, the host and JSON guards, scoped user lists."""

from __future__ import annotations

from datetime import timedelta

import jwt
from accesshub import PASSWORD, access_hub, bearer, make_org, sign_in
from sqlalchemy import select

from core.access import User
from core.audit import AuditEntry


async def test_the_newcomers_walk_first_admin_then_officer_refused_on_connectors(
    database_url, engine, tmp_path
):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        created = await client.post(
            "/api/users",
            json={"username": "newbie", "password": PASSWORD, "roles": ["loan_officer"], "branch": "SH01"},
            headers=admin,
        )
        assert created.status_code == 201, created.text
        officer = await bearer(client, "newbie")
        refused = await client.get("/api/connectors", headers=officer)
        assert refused.status_code == 403
        assert refused.json()["code"] == "auth.forbidden" and "connectors.read" in refused.json()["detail"]
        assert (await client.get("/api/connectors", headers=admin)).status_code == 200
        assert (await client.get("/api/connectors")).status_code == 401


async def test_token_answer_is_oauth2_shaped_and_me_tells_who_and_what(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        response = await sign_in(client, "LI")  # usernames are case-insensitive
        body = response.json()
        assert response.status_code == 200
        assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60 and body["refresh_token"]
        me = (await client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})).json()
        assert me["name"] == "li" and me["roles"] == ["loan_officer"] and me["branch"] == "SH01-T1"
        assert me["permissions"]["customers.read"] == "own"
        assert "connectors.read" not in me["permissions"]


async def test_wrong_password_and_unknown_user_answer_alike_and_both_are_audited(
    database_url, engine, tmp_path
):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        wrong = await sign_in(client, "li", "Wrong-passw0rd")
        unknown = await sign_in(client, "nobody", "Wrong-passw0rd")
        assert wrong.status_code == unknown.status_code == 401
        for response in (wrong, unknown):
            body = response.json()
            body.pop("instance", None)
            assert body["code"] == "auth.invalid_credentials"
        assert wrong.json()["detail"] == unknown.json()["detail"]
        async with runtime.sessions() as session:
            actions = (
                await session.scalars(
                    select(AuditEntry.target_id).where(AuditEntry.action == "auth.login_failed")
                )
            ).all()
        assert sorted(actions) == ["li", "nobody"]


async def test_repeated_failures_lock_the_username_known_or_not(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path, login_max_failures=3) as (client, runtime):
        await make_org(runtime)
        for name in ("li", "ghost"):
            for _ in range(2):
                assert (await sign_in(client, name, "Wrong-passw0rd")).json()[
                    "code"
                ] == "auth.invalid_credentials"
            locked = await sign_in(client, name, "Wrong-passw0rd")
            assert locked.status_code == 401 and locked.json()["code"] == "auth.locked"
            assert int(locked.headers["retry-after"]) > 0
        still = await sign_in(client, "li", PASSWORD)  # the right password does not open a lock early
        assert still.json()["code"] == "auth.locked"
        async with runtime.sessions() as session:
            assert (
                await session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.locked"))
            ) is not None


async def test_locked_message_is_in_the_callers_language(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path, login_max_failures=1) as (client, _runtime):
        zh = await sign_in(client, "x", "y")
        en = await client.post(
            "/api/auth/token", data={"username": "x", "password": "y"}, headers={"Accept-Language": "en-US"}
        )
        assert "锁定" in zh.json()["detail"] and "locked" in en.json()["detail"]
        assert zh.json()["code"] == en.json()["code"] == "auth.locked"


async def test_disabled_user_loses_access_and_refresh_at_once(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        tokens = (await sign_in(client, "li")).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await client.get("/api/me", headers=headers)).status_code == 200
        admin = await bearer(client, "admin")
        assert (await client.post("/api/users/li/disable", headers=admin)).status_code == 200
        gone = await client.get("/api/me", headers=headers)
        assert gone.status_code == 401 and gone.json()["code"] == "auth.token_revoked"
        refreshed = await client.post(
            "/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
        assert (await sign_in(client, "li")).json()["code"] == "auth.invalid_credentials"


async def test_refresh_gives_new_tokens_and_an_access_token_is_not_a_refresh_token(
    database_url, engine, tmp_path
):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        tokens = (await sign_in(client, "li")).json()
        ok = await client.post(
            "/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        )
        assert ok.status_code == 200 and ok.json()["access_token"] != tokens["access_token"]
        wrong = await client.post(
            "/api/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["access_token"]}
        )
        assert wrong.status_code == 401
        odd = await client.post("/api/auth/token", data={"grant_type": "client_credentials"})
        assert odd.status_code == 422 and odd.json()["code"] == "auth.unsupported_grant"
        # and a refresh token does not open the API
        assert (
            await client.get("/api/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
        ).status_code == 401


async def test_tampered_expired_and_foreign_tokens_are_refused_precisely(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        token = (await sign_in(client, "li")).json()["access_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
        forged = jwt.encode(
            {**claims, "sub": "someone-else"}, "not-our-key-but-long-enough-to-sign-with!!", headers=header
        )
        head, payload, signature = token.split(".")
        cases = {
            "tampered": (forged, "auth.token_invalid"),
            "truncated": (f"{head}.{payload}.{signature[:-4]}", "auth.token_invalid"),
            "garbage": ("not-a-jwt", "auth.token_invalid"),
            "unknown api token": ("lh_" + "A" * 43, "auth.token_invalid"),
        }
        user = None
        async with runtime.sessions() as session:
            user = await session.scalar(select(User).where(User.username == "li"))
        expired, _ = runtime.signing_keys.issue(
            subject=user.id, version=user.token_version, type="access", ttl=timedelta(seconds=-5)
        )
        cases["expired"] = (expired, "auth.token_expired")
        for name, (value, code) in cases.items():
            response = await client.get("/api/me", headers={"Authorization": f"Bearer {value}"})
            assert response.status_code == 401, name
            assert response.json()["code"] == code, name
            assert 'error="invalid_token"' in response.headers["www-authenticate"], name
        basic = await client.get("/api/me", headers={"Authorization": "Basic YWRtaW46eA=="})
        assert basic.status_code == 401 and basic.json()["code"] == "auth.required"


async def test_revoked_api_token_stops_at_once(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        created = await client.post(
            "/api/tokens", json={"name": "crm-sync", "roles": ["integrator"]}, headers=admin
        )
        assert created.status_code == 201
        value = created.json()["token"]
        listed = await client.get("/api/tokens", headers=admin)
        assert value not in listed.text and listed.json()[0]["prefix"] == value[:8]
        system = {"Authorization": f"Bearer {value}"}
        me = (await client.get("/api/me", headers=system)).json()
        assert me["kind"] == "token" and me["roles"] == ["integrator"]
        assert (await client.get("/api/connectors", headers=system)).status_code == 200
        assert (await client.delete("/api/tokens/crm-sync", headers=admin)).status_code == 204
        assert (await client.get("/api/connectors", headers=system)).json()["code"] == "auth.token_revoked"


async def test_unknown_role_and_weak_password_are_precise_422s(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        unknown = await client.post(
            "/api/users", json={"username": "a1", "password": PASSWORD, "roles": ["wizard"]}, headers=admin
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "access.unknown_role"
        weak = await client.post(
            "/api/users", json={"username": "a2", "password": "a2short", "roles": ["reviewer"]}, headers=admin
        )
        assert weak.status_code == 422
        assert {e["code"] for e in weak.json()["errors"]} >= {
            "password.too_short",
            "password.contains_username",
        }
        dup = await client.post(
            "/api/users", json={"username": "LI", "password": PASSWORD, "roles": ["reviewer"]}, headers=admin
        )
        assert dup.status_code == 409


async def test_last_admin_cannot_be_disabled_or_demoted(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        refused = await client.post("/api/users/admin/disable", headers=admin)
        assert refused.status_code == 409 and refused.json()["code"] == "access.last_admin"
        demoted = await client.put("/api/users/admin/roles", json={"roles": ["auditor"]}, headers=admin)
        assert demoted.status_code == 409


async def test_user_list_is_scoped_in_the_query(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        seen = {}
        for who in ("li", "chen", "sun"):
            listed = await client.get("/api/users", headers=await bearer(client, who))
            seen[who] = sorted(u["username"] for u in listed.json())
        assert seen["li"] == ["li"]  # own
        assert seen["chen"] == ["chen", "li", "wang"]  # EAST subtree
        assert seen["sun"] == ["admin", "chen", "li", "sun", "wang", "zhao"]  # auditor: all
        outside = await client.get("/api/users/zhao", headers=await bearer(client, "chen"))
        missing = await client.get("/api/users/nobody", headers=await bearer(client, "chen"))
        assert outside.status_code == missing.status_code == 404
        assert outside.json()["detail"].replace("zhao", "X") == missing.json()["detail"].replace(
            "nobody", "X"
        )


async def test_custom_role_as_data_and_auditor_reads_but_cannot_change(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        made = await client.post(
            "/api/roles",
            json={"name": "connector_viewer", "grants": {"connectors.read": "all", "access.me": "all"}},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        bad = await client.post(
            "/api/roles", json={"name": "bad", "grants": {"connectors.fly": "all"}}, headers=admin
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["grants", "connectors.fly"]
        await client.post(
            "/api/users",
            json={"username": "viewer", "password": PASSWORD, "roles": ["connector_viewer"]},
            headers=admin,
        )
        viewer = await bearer(client, "viewer")
        assert (await client.get("/api/connectors", headers=viewer)).status_code == 200
        assert (await client.get("/api/users", headers=viewer)).status_code == 403
        auditor = await bearer(client, "sun")
        assert (await client.get("/api/audit", headers=auditor)).status_code == 200
        assert (await client.get("/api/connectors", headers=auditor)).status_code == 200
        assert (
            await client.post("/api/branches", json={"code": "X", "name": "x"}, headers=auditor)
        ).status_code == 403


async def test_audit_api_filters_and_branch_manager_sees_only_their_subtree(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        for who in ("li", "zhao"):
            await bearer(client, who)  # each sign-in is audited with the user's branch
        admin = await bearer(client, "admin")
        logins = (await client.get("/api/audit", params={"action": "auth.login"}, headers=admin)).json()
        assert {e["target_id"] for e in logins} >= {"li", "zhao", "admin"}
        assert all(e["hash"] and e["action"] == "auth.login" for e in logins)
        prefixed = (await client.get("/api/audit", params={"action": "branches.*"}, headers=admin)).json()
        assert len(prefixed) == 5
        manager = (
            await client.get(
                "/api/audit", params={"action": "auth.login"}, headers=await bearer(client, "chen")
            )
        ).json()
        assert {e["target_id"] for e in manager} == {"li", "chen"}


async def test_unknown_host_is_refused_but_probes_answer(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, _runtime):
        rebinding = await client.get("/api/me", headers={"Host": "evil.example"})
        assert rebinding.status_code == 400 and rebinding.headers["content-type"].startswith(
            "application/problem+json"
        )
        assert rebinding.json()["code"] == "auth.host_not_allowed"
        assert "LENDHUB_ALLOWED_HOSTS" in rebinding.json()["detail"]  # says what to do about it
        assert (await client.get("/openapi.json", headers={"Host": "evil.example"})).status_code == 400
        assert (await client.get("/healthz", headers={"Host": "10.0.0.7:8000"})).status_code == 200
        assert (await client.get("/api/me", headers={"Host": "localhost:8000"})).status_code == 401
        assert (await client.get("/api/me", headers={"Host": "[::1]:8000"})).status_code == 401
    async with access_hub(database_url, tmp_path, allowed_hosts="lendhub.example.cn,.corp.example") as (
        client,
        _,
    ):
        assert (await client.get("/api/me", headers={"Host": "lendhub.example.cn"})).status_code == 401
        assert (await client.get("/api/me", headers={"Host": "crm.corp.example"})).status_code == 401
        assert (await client.get("/api/me", headers={"Host": "corp.example.evil"})).status_code == 400


async def test_changes_must_be_json_so_a_cross_site_form_cannot_post(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        form = await client.post("/api/branches", data={"code": "X", "name": "x"}, headers=admin)
        assert form.status_code == 415 and form.json()["type"].endswith("json-required")
        assert form.json()["code"] == "auth.json_required" and form.json()["instance"] == "/api/branches"
        plain = await client.post(
            "/api/branches",
            content=b'{"code":"X","name":"x"}',
            headers={**admin, "Content-Type": "text/plain"},
        )
        assert plain.status_code == 415
        ok = await client.post("/api/branches", json={"code": "X", "name": "x"}, headers=admin)
        assert ok.status_code == 201


async def test_audit_api_pages_newest_first_and_filters_by_actor_and_time(database_url, engine, tmp_path):
    async with access_hub(database_url, tmp_path) as (client, runtime):
        await make_org(runtime)
        admin = await bearer(client, "admin")
        first = (await client.get("/api/audit", params={"limit": 3}, headers=admin)).json()
        assert [e["seq"] for e in first] == sorted((e["seq"] for e in first), reverse=True)
        older = (
            await client.get("/api/audit", params={"limit": 3, "before_seq": first[-1]["seq"]}, headers=admin)
        ).json()
        assert older and older[0]["seq"] == first[-1]["seq"] - 1
        by_operator = (await client.get("/api/audit", params={"actor": "user:admin"}, headers=admin)).json()
        assert by_operator and {e["actor"] for e in by_operator} == {"user:admin"}
        future = (
            await client.get("/api/audit", params={"since": "2999-01-01T00:00:00Z"}, headers=admin)
        ).json()
        assert future == []
