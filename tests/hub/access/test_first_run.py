"""A newcomer's first run, as the README tells it, over real HTTP against `lendhub serve`.

Fresh folder, embedded SQLite: the first admin from the CLI, sign in, a branch and a loan officer
through the API, the officer refused on the connector admin and the admin allowed; and the SQLite
file holds no clear personal data that went in through the API.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from netsupport import free_port, wait_http

PASSWORD = "Corr3ct-horse"
LENDHUB = [sys.executable, "-c", "from hub.cli import main; main()"]


def _lendhub(cwd: Path, env: dict[str, str], *args: str, input: str | None = None) -> str:
    done = subprocess.run(
        [*LENDHUB, *args], cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_first_run_over_real_http(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LENDHUB_")}
    env.update(LENDHUB_LOAD_PLUGINS="", LENDHUB_GC_THRESHOLD="0", PYTHONPATH=str(Path.cwd()))
    _lendhub(tmp_path, env, "db", "upgrade")
    printed = _lendhub(tmp_path, env, "users", "bootstrap")
    password = re.search(r"password (\S+)", printed)
    assert password is not None, printed
    port = free_port()
    server = subprocess.Popen(
        [*LENDHUB, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", server)
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/api/connectors").status_code == 401
            token = client.post("/api/auth/token", data={"username": "admin", "password": password.group(1)})
            assert token.status_code == 200, token.text
            admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
            for code, parent in (("HQ", None), ("SH01", "HQ")):
                made = client.post(
                    "/api/branches", json={"code": code, "name": code, "parent": parent}, headers=admin
                )
                assert made.status_code == 201, made.text
            officer = client.post(
                "/api/users",
                json={"username": "li", "password": PASSWORD, "roles": ["loan_officer"], "branch": "SH01"},
                headers=admin,
            )
            assert officer.status_code == 201, officer.text
            li = client.post("/api/auth/token", data={"username": "li", "password": PASSWORD}).json()
            li_headers = {"Authorization": f"Bearer {li['access_token']}"}
            assert client.get("/api/connectors", headers=li_headers).status_code == 403
            assert client.get("/api/connectors", headers=admin).status_code == 200
            assert client.get("/api/me", headers={**li_headers, "Host": "evil.example"}).status_code == 400
    finally:
        server.terminate()
        server.wait(timeout=20)
    dump = "\n".join(sqlite3.connect(tmp_path / "var" / "lendhub.db").iterdump())
    assert PASSWORD not in dump and password.group(1) not in dump
    assert "$argon2id$" in dump  # the passwords are there only as argon2 hashes
