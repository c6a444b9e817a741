"""Driving Debian's ``wrk`` with ``bench/webhooks.lua`` and reading its report."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

__all__ = ["run_wrk", "wrk_rate", "wrk_requests"]

SCRIPT = Path(__file__).with_name("webhooks.lua")


def run_wrk(url: str, lines: list[str], concurrency: int, seconds: int, tmp: Path) -> str:
    """wrk's report for replaying ``lines`` (tab-separated, see the Lua script) against ``url``."""
    requests = tmp / "requests.tsv"
    requests.write_text("\n".join(lines) + "\n")
    path = httpx.URL(url).raw_path.decode()
    base = url[: -len(path)]
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(SCRIPT)]
    cmd += [base, "--", str(requests), path, "2"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def wrk_requests(report: str) -> int:
    """How many requests wrk says it completed ("12345 requests in 10.00s")."""
    for line in report.splitlines():
        words = line.split()
        if len(words) > 2 and words[1] == "requests" and words[2] == "in":
            return int(words[0])
    return 0


def wrk_rate(report: str) -> float:
    """wrk's ``Requests/sec``."""
    for line in report.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return 0.0
