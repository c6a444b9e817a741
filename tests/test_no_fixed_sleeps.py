"""Tests synchronise on events, conditions or polled state, never on a fixed sleep.

A test that sleeps "long enough" for another task to reach a point is slow on an idle machine and
flaky on a busy one, and a test that sleeps and then asserts that nothing happened proves nothing
(the thing may happen a moment later). This walks every test module and refuses a call of
``asyncio.sleep`` / ``time.sleep`` with a literal duration unless it is

* ``sleep(0)``: a yield to the loop, not a wait;
* inside a loop that also checks something (polling a condition, or a probe that counts ticks);
* marked ``# timing: <why>`` on its line or the line above, for the few sleeps where time passing
  is the behaviour under test (a signature growing stale).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
MARK = "# timing:"


def _is_sleep(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "sleep"
        and isinstance(func.value, ast.Name)
        and func.value.id in {"asyncio", "time"}
    )


def _literal_seconds(call: ast.Call) -> float | None:
    if not call.args or not isinstance(call.args[0], ast.Constant):
        return None  # a computed interval: a helper's poll period or a simulated delay
    value = call.args[0].value
    return float(value) if isinstance(value, int | float) else None


def _polling(loop: ast.For | ast.AsyncFor | ast.While) -> bool:
    """A loop that does more than sleep: it checks a condition or counts ticks."""
    only_sleep = len(loop.body) == 1 and isinstance(loop.body[0], ast.Expr)
    return not only_sleep or (isinstance(loop, ast.While) and not isinstance(loop.test, ast.Constant))


def fixed_sleeps(path: Path, root: Path = TESTS) -> list[str]:
    """``file:line`` (relative to ``root``) of every unexplained fixed sleep in ``path``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[str] = []

    def visit(node: ast.AST, loops: tuple[ast.AST, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, ())  # a loop outside the function does not make its sleep a poll
                continue
            inner = (*loops, child) if isinstance(child, ast.For | ast.AsyncFor | ast.While) else loops
            if isinstance(child, ast.Call) and _is_sleep(child):
                seconds = _literal_seconds(child)
                marked = any(MARK in lines[n] for n in (child.lineno - 1, child.lineno - 2) if n >= 0)
                polled = any(_polling(loop) for loop in loops)  # type: ignore[arg-type]
                if seconds and not marked and not polled:
                    found.append(f"{path.relative_to(root)}:{child.lineno}: sleep({seconds:g})")
            visit(child, inner)

    visit(ast.parse(source), ())
    return found


def test_no_test_waits_by_sleeping_a_fixed_time() -> None:
    offenders = [hit for path in sorted(TESTS.rglob("*.py")) for hit in fixed_sleeps(path)]
    assert offenders == [], "wait on an event, a condition or a polled state instead:\n" + "\n".join(
        offenders
    )


def test_the_check_catches_a_fixed_sleep_and_allows_polls_and_marked_waits(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import asyncio, time\n"
        "async def bad():\n"
        "    await asyncio.sleep(0.2)\n"
        "    for _ in range(5):\n"
        "        await asyncio.sleep(0.01)\n"
        "def also_bad():\n"
        "    time.sleep(1)\n"
        "async def fine(ready):\n"
        "    await asyncio.sleep(0)\n"
        "    while not ready():\n"
        "        await asyncio.sleep(0.01)\n"
        "    # timing: the signature must grow stale\n"
        "    await asyncio.sleep(0.3)\n",
        encoding="utf-8",
    )
    assert fixed_sleeps(sample, tmp_path) == [
        "sample.py:3: sleep(0.2)",
        "sample.py:5: sleep(0.01)",
        "sample.py:7: sleep(1)",
    ]
