"""Every shell example in the README and ``docs/`` runs, against a throwaway hub, and succeeds.

A fenced ``sh`` block is an example; it is run with ``bash -euo pipefail`` in a fresh folder
where a hub (embedded SQLite, the built-in connectors pointed at their simulators) serves on a
free port — ``127.0.0.1:8000`` in a block is rewritten to it, and ``--port 9100`` to the
simulators' first port — and ``ADMIN_PASSWORD`` is the
first administrator's password, as the docs say. A block that cannot run here (it builds the
project itself, or needs other machines) is preceded by ``<!-- docs-test: skip: <reason> -->``;
a skip without a reason fails. So an example that drifts from the code fails this test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from netsupport import free_port, free_port_block, wait_http

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- docs-test: skip(?P<skip>[^>]*)-->\n)?```(?:sh|bash)\n(?P<body>.*?)\n```", re.S)
ADMIN_PASSWORD = "Docs-test-9-password"


def examples() -> list[tuple[str, int, str, str | None]]:
    """Every shell block: (file, line, body, skip reason or None)."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            skip = match.group("skip")
            found.append((path.name, line, match.group("body"), None if skip is None else skip.strip(" :—-")))
    return found


def _listening(url: str, process: subprocess.Popen[bytes]) -> None:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, f"{url} did not come up"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh folder, a hub serving in it with the sandbox, and the environment examples run in."""
    home = tmp_path_factory.mktemp("docs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LENDHUB_")}
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT), LENDHUB_GC_THRESHOLD="0"
    )
    env["ADMIN_PASSWORD"] = ADMIN_PASSWORD
    run = {"cwd": home, "env": env, "check": True, "capture_output": True}
    subprocess.run(["lendhub", "db", "upgrade"], **run)  # type: ignore[call-overload]
    sandbox_port, hub_port = free_port_block(200), free_port()
    config = home / "var" / "connectors.sandbox.yaml"
    subprocess.run(  # type: ignore[call-overload]
        ["lendhub", "sandbox", "--port", str(sandbox_port), "--write-config", str(config), "--dry-run"], **run
    )
    sandbox = subprocess.Popen(
        ["lendhub", "sandbox", "--port", str(sandbox_port), "--write-config", str(config)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    served = subprocess.Popen(
        ["lendhub", "serve", "--port", str(hub_port)],
        cwd=home,
        env={**env, "LENDHUB_CONNECTORS_FILE": str(config)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{hub_port}/healthz", served)
        for url in re.findall(r"base_url: (http://127\.0\.0\.1:\d+)", config.read_text(encoding="utf-8")):
            _listening(url, sandbox)  # every simulator, not only the hub: examples call them
        yield (
            home,
            {
                **env,
                "HUB_PORT": str(hub_port),
                "SANDBOX_PORT": str(sandbox_port),
                "LENDHUB_CONNECTORS_FILE": str(config),
            },
        )
    finally:
        for process in (served, sandbox):
            process.terminate()
            process.wait(timeout=20)


def test_every_skipped_example_says_why():
    assert examples(), "no shell examples found"
    unexplained = [
        f"{name}:{line}" for name, line, _, skip in examples() if skip is not None and len(skip) < 10
    ]
    assert unexplained == []


ORDER = [
    "access.md",
    "README.md",
    "operators.md",
    "webhooks.md",
    "webhooks_outbound.md",
    "writing_connectors.md",
]


def test_every_runnable_example_succeeds(hub: tuple[Path, dict[str, str]]) -> None:
    home, env = hub
    if shutil.which("curl") is None or shutil.which("jq") is None:
        pytest.skip("the examples use curl and jq")
    runnable = [e for e in examples() if e[3] is None]
    runnable.sort(key=lambda e: (ORDER.index(e[0]) if e[0] in ORDER else len(ORDER), e[1]))
    assert len(runnable) >= 5
    failures = []
    for name, line, body, _ in runnable:
        script = body.replace("127.0.0.1:8000", f"127.0.0.1:{env['HUB_PORT']}")
        script = script.replace("--port 9100", f"--port {env['SANDBOX_PORT']}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            failures.append(f"{name}:{line} exited {done.returncode}: {(done.stderr or done.stdout)[-600:]}")
    assert failures == [], "\n\n".join(failures)
