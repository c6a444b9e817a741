"""Where the CPU goes during a benchmark, read from Linux's ``/proc`` (zeros elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cpu_report", "cpu_seconds", "machine_busy_seconds", "servers_cpu_seconds"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def servers_cpu_seconds(names: frozenset[str] = frozenset({"postgres", "redis-server"})) -> float:
    """CPU the local database and Redis server processes have used (live ones only: approximate)."""
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() in names:
                total += cpu_seconds(int(proc.name))
        except OSError:
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle so far (Linux ``/proc/stat``; 0 elsewhere)."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def cpu_report(before: dict[str, float], after: dict[str, float], accepted: int) -> str:
    """Where the CPU went during the hub's run, per accepted webhook."""
    per = {k: 1000 * (after[k] - before[k]) / max(accepted, 1) for k in before}
    return (
        f"CPU per accepted webhook: API {per['api']:.2f} ms, workers {per['workers']:.2f} ms "
        f"(while the load ran), PostgreSQL + Redis {per['servers']:.2f} ms, whole machine {per['machine']:.2f} ms"
    )
