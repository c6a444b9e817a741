"""`make mutation`'s driver: its module table, its equivalent list and how it counts.

mutmut itself is not installed by the test extra; nothing here runs it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_driver():
    spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "tools" / "mutation" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run = _load_driver()

DIFF = """--- plugins/sdk/retry.py
+++ plugins/sdk/retry.py
@@ -1,4 +1,4 @@
 def f(x):
-    return x + 1
+    return x + 2
     # context
"""


def test_every_module_and_test_file_named_exists_and_slugs_are_unique() -> None:
    slugs = [t.slug for t in run.TARGETS]
    assert len(slugs) == len(set(slugs))
    for target in run.TARGETS:
        assert (ROOT / target.source).is_file(), target.source
        assert target.tests, target.slug
        for test in target.tests:
            assert (ROOT / test).is_file(), test


def test_the_checked_in_equivalent_list_parses_and_names_only_listed_modules() -> None:
    entries = run.load_equivalents()
    modules = {run.module_name(t.source) + "." for t in run.TARGETS}
    for entry in entries.values():
        assert any(entry.mutant.startswith(m) for m in modules), entry.mutant
        assert len(entry.reason) > 10, entry.mutant


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("plugins.sdk.retry.x_f__mutmut_1 abcdefabcdef", "expected"),  # no reason
        ("plugins.sdk.retry.x_f__mutmut_1 abcdef message only", "expected"),  # short digest
        ("plugins.sdk.retry.x_f__mutmut_1 ABCDEFABCDEF message only", "expected"),  # not lower-case hex
        ("plugins.sdk.retry.x_f abcdefabcdef message only", "expected"),  # not a mutant name
    ],
)
def test_malformed_equivalent_lines_are_refused_with_their_line_number(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "equivalent.txt"
    path.write_text(f"# comment\n\n{line}\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=f"equivalent.txt:3: {problem}"):
        run.load_equivalents(path)


def test_a_mutant_listed_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "equivalent.txt"
    line = "plugins.sdk.retry.x_f__mutmut_1 abcdefabcdef message only\n"
    path.write_text(line + line, encoding="utf-8")
    with pytest.raises(SystemExit, match="listed twice"):
        run.load_equivalents(path)


def test_the_digest_covers_the_changed_lines_only() -> None:
    digest = run.mutation_digest(DIFF)
    assert len(digest) == 12
    assert run.mutation_digest(DIFF.replace("# context", "# other context")) == digest
    assert run.mutation_digest(DIFF.replace("@@ -1,4 +1,4 @@", "@@ -9,4 +9,4 @@")) == digest
    assert run.mutation_digest(DIFF.replace("x + 2", "x + 3")) != digest
    assert run.mutation_digest(DIFF.replace("    return x + 2", "  return x + 2")) == digest


def _meta(tmp_path: Path, source: str, verdicts: dict[str, int | None]) -> Path:
    path = tmp_path / "mutants" / (source + ".meta")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"exit_code_by_key": verdicts}), encoding="utf-8")
    return tmp_path


def test_tally_counts_timeouts_as_kills_untested_code_as_survivors_and_checks_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = run.Target("demo", "plugins/sdk/demo.py", ("tests/x.py",))
    name = "plugins.sdk.demo.x_f__mutmut_"
    work = _meta(
        tmp_path,
        target.source,
        {f"{name}1": 1, f"{name}2": 36, f"{name}3": 0, f"{name}4": 33, f"{name}5": 0, f"{name}6": 0,
         f"{name}7": 1, f"{name}8": -11},
    )  # fmt: skip
    monkeypatch.setattr(run, "diff_of", lambda work, target, mutant: DIFF)
    good = run.mutation_digest(DIFF)
    equivalents = {
        f"{name}5": run.Equivalent(f"{name}5", good, "message only", 1),
        f"{name}6": run.Equivalent(f"{name}6", "000000000000", "message only", 2),  # the code moved on
        f"{name}7": run.Equivalent(f"{name}7", good, "message only", 3),  # a test kills it now
        f"{name}9": run.Equivalent(f"{name}9", good, "message only", 4),  # no such mutant
    }
    result = run.tally(work, target, equivalents)
    assert result.killed == [f"{name}1", f"{name}2", f"{name}7"]
    assert result.survived == [f"{name}3", f"{name}4", f"{name}6"]
    assert result.equivalent == [f"{name}5"]
    assert result.other == [f"{name}8"]
    assert result.total == 8
    assert result.score == pytest.approx(100 * 3 / 7)
    assert sorted(p.split(":")[1].split()[0] for p in result.problems) == ["2", "3", "4"]


def test_a_module_without_mutants_scores_full_marks() -> None:
    assert run.Tally(run.Target("x", "x.py", ())).score == 100.0


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_mutation_runs_the_driver_and_make_test_and_ci_do_not() -> None:
    def planned(goal: str) -> str:
        return subprocess.run(
            ["make", "-n", "-o", ".venv/.installed-stamp", "-o", ".venv/.mutation-stamp", goal],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "tools/mutation/run.py --jobs 2" in planned("mutation")
    assert "mutation" not in planned("test") and "mutmut" not in planned("test")
    assert "mutation" not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
