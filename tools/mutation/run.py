"""Mutation testing of the safety-critical modules, each against its own tests (``make mutation``).

Line coverage says a test ran the code; mutation testing says a test would notice if the code were
wrong. mutmut makes small changes (mutants) to one module at a time — ``<`` to ``<=``, ``and`` to
``or``, a constant plus one — and runs that module's own tests against each: a mutant the tests
still pass with marks behaviour nothing pins down.

Each module runs in its own scratch project ``mutants/<slug>/`` (symlinks to the packages and
tests, and a ``pyproject.toml`` with the module's ``[tool.mutmut]`` table), because mutmut reads one
configuration per directory and "its own tests" differ per module. A module's verdicts are reused
only while the module, its package, its tests and the test helpers are byte-for-byte what they
were when the verdicts were made (:func:`fingerprint`); any change re-runs the module from
scratch, so a figure never mixes old and new code. ``--fresh`` re-runs regardless.

Mutants that cannot change behaviour — most of them only change the text of an error or log
message — are listed in ``tools/mutation/equivalent.txt`` with a digest of the mutation and one
line of reason, so the figure can be audited: an entry whose mutation no longer matches its digest
is stale and counts for nothing until re-checked.

Usage::

    .venv/bin/python tools/mutation/run.py [--jobs 2] [--fresh | --survivors] [--show] [--audit] [SLUG ...]

Exits 1 when a module kills fewer than 90 % of its non-equivalent mutants or the list is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "mutants"
EQUIVALENT_FILE = Path(__file__).with_name("equivalent.txt")
PACKAGES = ("core", "hub", "plugins", "connectors", "schemas")
LINKED = (*PACKAGES, "tests")
THRESHOLD = 90.0
FINGERPRINT_NAME = "fingerprint.txt"

# The database and Redis variants of the tests would double every mutant's run and add a server
# to its verdict; the logic under test is the same on SQLite, which every test run covers.
DROPPED_ENV = ("LENDHUB_TEST_DATABASE_URL", "LENDHUB_TEST_REDIS_URL")


@dataclass(frozen=True)
class Target:
    """One module and the tests that are its own."""

    slug: str
    source: str
    tests: tuple[str, ...]


TARGETS: tuple[Target, ...] = (
    Target(
        "retry",
        "plugins/sdk/retry.py",
        (
            "tests/plugins/sdk/test_sdk_retry_pins.py",
            "tests/plugins/sdk/test_sdk_rate_limit_reset.py",
            "tests/plugins/sdk/test_sdk_http.py",
        ),
    ),
    Target("breaker", "plugins/sdk/breaker.py", ("tests/plugins/sdk/test_sdk_breaker.py",)),
    Target(
        "verifiers",
        "plugins/sdk/webhook_verifiers.py",
        (
            "tests/webhooks/test_webhooks_verifiers_standard.py",
            "tests/webhooks/test_webhooks_verifiers_docusign.py",
            "tests/webhooks/test_webhooks_verifiers_callback_crypto.py",
            "tests/webhooks/test_webhooks_verifiers_pins.py",
        ),
    ),
    Target("ssrf", "hub/outbound/ssrf.py", ("tests/webhooks/test_webhooks_outbound_rules.py",)),
    Target(
        "egress",
        "plugins/sdk/egress.py",
        ("tests/plugins/sdk/test_sdk_egress.py", "tests/plugins/sdk/test_sdk_insecure_http.py"),
    ),
    Target(
        "sdk-masking",
        "plugins/sdk/masking.py",
        (
            "tests/plugins/sdk/test_sdk_masking.py",
            "tests/plugins/sdk/test_sdk_masking_declared.py",
            "tests/plugins/sdk/test_sdk_masking_units.py",
        ),
    ),
    Target(
        "pii-masking",
        "core/pii/masking.py",
        ("tests/core/pii/test_pii_masking.py", "tests/core/pii/test_pii_keyring.py"),
    ),
    Target(
        "auth",
        "core/access/auth.py",
        ("tests/core/access/test_auth.py", "tests/hub/access/test_auth_api.py"),
    ),
    Target("scopes", "core/access/scopes.py", ("tests/core/access/test_scoped_records.py",)),
    Target(
        "keyring",
        "core/pii/keyring.py",
        ("tests/core/pii/test_pii_keyring.py", "tests/core/pii/test_pii_sealed_types.py"),
    ),
    Target(
        "pii-types",
        "core/pii/types.py",
        (
            "tests/core/pii/test_pii_keyring.py",
            "tests/core/pii/test_pii_sealed_types.py",
            "tests/core/pii/test_pii_masking.py",
        ),
    ),
    Target("audit-chain", "core/audit/chain.py", ("tests/core/audit/test_audit_chain.py",)),
    Target(
        "audit-service",
        "core/audit/service.py",
        ("tests/core/audit/test_audit_chain.py", "tests/core/audit/test_audit_service.py"),
    ),
)

# mutmut's exit-code verdicts (mutmut.stats.status_by_exit_code), folded into what the table shows.
# A timeout is a kill: the mutant made the tests hang, which they noticed. "No tests" (the module's
# tests never reach the function) is a survivor: nothing pins that code down.
KILLED_CODES = frozenset({1, 3, 36, -24, 24, 152, 255})
SURVIVED_CODES = frozenset({0, 5, 33})


@dataclass(frozen=True)
class Equivalent:
    """One audited mutant: its name, the digest of its mutation and why it cannot be killed."""

    mutant: str
    digest: str
    reason: str
    line: int


@dataclass
class Tally:
    """A module's verdicts after the equivalent list is applied."""

    target: Target
    killed: list[str] = field(default_factory=list)
    survived: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cached: bool = False

    @property
    def total(self) -> int:
        """Every mutant of the module."""
        return len(self.killed) + len(self.survived) + len(self.equivalent) + len(self.other)

    @property
    def score(self) -> float:
        """Killed as a percentage of the mutants that could be killed."""
        counted = self.total - len(self.equivalent)
        return 100.0 if counted == 0 else 100.0 * len(self.killed) / counted


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, Equivalent]:
    """Parse the equivalent list: ``<mutant> <digest> <reason>`` per line, ``#`` comments.

    Raises:
        SystemExit: a line without a reason or digest, or a mutant listed twice.
    """
    found: dict[str, Equivalent] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or len(parts[1]) != 12 or not _is_hex(parts[1]) or "__mutmut_" not in parts[0]:
            raise SystemExit(f"{path.name}:{number}: expected '<mutant> <12-hex digest> <reason>'")
        mutant, digest, reason = parts
        if mutant in found:
            raise SystemExit(f"{path.name}:{number}: {mutant} is listed twice")
        found[mutant] = Equivalent(mutant, digest, reason, number)
    return found


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def mutation_digest(diff: str) -> str:
    """A digest of what a mutant changes: its removed and added lines, whitespace-trimmed.

    Context lines are left out, so editing another part of the function keeps the entry valid as
    long as the mutant with that number still makes the same change.
    """
    changed = [
        line[0] + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return hashlib.sha256("\n".join(changed).encode("utf-8")).hexdigest()[:12]


def module_name(source: str) -> str:
    """``plugins/sdk/retry.py`` → ``plugins.sdk.retry``, the prefix of its mutant names."""
    return source.removesuffix(".py").replace("/", ".")


def fingerprint(target: Target) -> str:
    """Digest of what a module's verdicts depend on most: itself, its package, its tests, tools.

    That is the module and the other modules of its package (its closest collaborators), the
    module's own test files, every test helper and conftest (not other tests: they are not run),
    ``pyproject.toml``, this script and mutmut's version. A change elsewhere in the code base can
    still move a verdict in principle; ``--fresh`` re-runs regardless.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([target.source, target.tests, _mutmut_version()]).encode())
    source = ROOT / target.source
    files = [ROOT / "pyproject.toml", Path(__file__), *sorted(source.parent.glob("*.py"))]
    files += [ROOT / test for test in target.tests]
    files += sorted(p for p in (ROOT / "tests").rglob("*.py") if not p.name.startswith("test_"))
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def mutmut_config(target: Target, jobs: int) -> str:
    """The ``[tool.mutmut]`` table of one module's scratch project."""
    lines = [
        "",
        "[tool.mutmut]",
        f"source_paths = {json.dumps(list(PACKAGES))}",
        f"only_mutate = {json.dumps([target.source])}",
        f"pytest_add_cli_args_test_selection = {json.dumps(list(target.tests))}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]',
        "use_git_change_detection = false",
        'on_dependency_change = "ignore"',
        "",
    ]
    return "\n".join(lines)


def prepare(target: Target, jobs: int, *, fresh: bool) -> Path:
    """Create or refresh ``mutants/<slug>/``; wipe its verdicts when ``fresh``."""
    work = WORK / target.slug
    if fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = work / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name, target_is_directory=True)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if "[tool.mutmut]" in pyproject:
        raise SystemExit("pyproject.toml has a [tool.mutmut] table; tools/mutation/run.py writes its own")
    (work / "pyproject.toml").write_text(pyproject + mutmut_config(target, jobs), encoding="utf-8")
    return work


def meta_path(work: Path, target: Target) -> Path:
    """Where mutmut keeps the module's verdicts (``exit_code_by_key``)."""
    return work / "mutants" / (target.source + ".meta")


def read_verdicts(work: Path, target: Target) -> dict[str, int | None]:
    """Mutant name → mutmut exit code (``None`` when not yet checked)."""
    path = meta_path(work, target)
    if not path.exists():
        return {}
    verdicts: dict[str, int | None] = json.loads(path.read_text(encoding="utf-8"))["exit_code_by_key"]
    return verdicts


def forget_survivors(work: Path, target: Target) -> int:
    """Mark surviving mutants unchecked so the next run tests them again; the number reset."""
    path = meta_path(work, target)
    if not path.exists():
        return 0
    meta = json.loads(path.read_text(encoding="utf-8"))
    reset = 0
    for name, code in meta["exit_code_by_key"].items():
        if code is not None and code not in KILLED_CODES:
            meta["exit_code_by_key"][name] = None
            reset += 1
    path.write_text(json.dumps(meta, indent=4), encoding="utf-8")
    return reset


def run_mutmut(work: Path, target: Target, jobs: int) -> None:
    """``mutmut run`` in the module's scratch project; its output goes to ``mutmut.log``."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    mutmut = Path(sys.executable).with_name("mutmut")
    log = work / "mutmut.log"
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(
            [str(mutmut), "run", "--max-children", str(jobs)],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    output = log.read_text(encoding="utf-8", errors="replace")
    if done.returncode != 0 and "could not find any test case for any mutant" in output:
        # Not one of the module's tests reaches it: every mutant survives, which is the verdict.
        path = meta_path(work, target)
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta["exit_code_by_key"] = dict.fromkeys(meta["exit_code_by_key"], 33)
        path.write_text(json.dumps(meta, indent=4), encoding="utf-8")
        return
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed for {target.source} (exit {done.returncode}); end of {log}:\n{tail}")


@contextmanager
def inside(path: Path) -> Iterator[None]:
    """Run a block with ``path`` as the working directory (mutmut resolves ``mutants/`` from it)."""
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def diff_of(work: Path, target: Target, mutant: str) -> str:
    """The unified diff of one mutant against the original function."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    with inside(work):
        return get_diff_for_mutant(mutant, path=target.source)


def tally(work: Path, target: Target, equivalents: dict[str, Equivalent]) -> Tally:
    """Sort a module's verdicts into killed, survived, equivalent and other; check its list entries."""
    result = Tally(target)
    verdicts = read_verdicts(work, target)
    prefix = module_name(target.source) + "."
    for entry in equivalents.values():
        if entry.mutant.startswith(prefix) and entry.mutant not in verdicts:
            result.problems.append(f"equivalent.txt:{entry.line}: {entry.mutant} is not a mutant (any more)")
    for name, code in sorted(verdicts.items()):
        entry = equivalents.get(name)
        if code in KILLED_CODES:
            result.killed.append(name)
            if entry is not None:
                result.problems.append(f"equivalent.txt:{entry.line}: {name} is killed; drop the entry")
        elif entry is not None and code in SURVIVED_CODES:
            digest = mutation_digest(diff_of(work, target, name))
            if digest == entry.digest:
                result.equivalent.append(name)
            else:
                result.survived.append(name)
                problem = f"{name} now makes another change (digest {digest}); re-audit"
                result.problems.append(f"equivalent.txt:{entry.line}: {problem}")
        elif code in SURVIVED_CODES:
            result.survived.append(name)
        else:
            result.other.append(name)
    return result


def print_table(tallies: list[Tally]) -> None:
    """One row per module, and the total."""
    header = (
        f"{'module':<34} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>7} {'other':>6} {'score':>7}"
    )
    print(header)
    print("-" * len(header))
    for t in tallies:
        flag = "" if t.score >= THRESHOLD else "  < 90 %"
        cached = " (cached)" if t.cached else ""
        print(
            f"{t.target.source:<34} {t.total:>7} {len(t.killed):>7} {len(t.survived):>8} "
            f"{len(t.equivalent):>7} {len(t.other):>6} {t.score:>6.1f}%{flag}{cached}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the selected modules (all by default), print the table, exit 1 below the threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "slugs", nargs="*", help="modules to run (default: all): " + ", ".join(t.slug for t in TARGETS)
    )
    parser.add_argument("--jobs", type=int, default=2, help="parallel mutmut children (default 2)")
    parser.add_argument("--fresh", action="store_true", help="re-run even when nothing changed")
    parser.add_argument(
        "--survivors", action="store_true", help="keep kills, re-test only survivors (quick loop)"
    )
    parser.add_argument("--show", action="store_true", help="print the diff of every survivor")
    parser.add_argument(
        "--audit", action="store_true", help="print the diff of every equivalent, with its reason"
    )
    args = parser.parse_args(argv)

    by_slug = {t.slug: t for t in TARGETS}
    unknown = [s for s in args.slugs if s not in by_slug]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; known: {', '.join(by_slug)}")
    targets = [by_slug[s] for s in args.slugs] if args.slugs else list(TARGETS)
    missing = [test for t in targets for test in t.tests if not (ROOT / test).exists()]
    if missing:
        raise SystemExit(f"tests listed in tools/mutation/run.py are missing: {', '.join(missing)}")
    equivalents = load_equivalents()

    tallies: list[Tally] = []
    for target in targets:
        print_flush(f"== {target.source}: mutants/{target.slug}/")
        stamp = fingerprint(target)
        work = WORK / target.slug
        stamp_file = work / FINGERPRINT_NAME
        verdicts = read_verdicts(work, target)
        up_to_date = (
            stamp_file.exists()
            and stamp_file.read_text(encoding="utf-8") == stamp
            and bool(verdicts)
            and None not in verdicts.values()
        )
        if up_to_date and not (args.survivors or args.fresh):
            result = tally(work, target, equivalents)
            result.cached = True
        else:
            work = prepare(target, args.jobs, fresh=not args.survivors)
            if args.survivors:
                print_flush(f"   re-testing {forget_survivors(work, target)} survivors")
            run_mutmut(work, target, args.jobs)
            if not args.survivors:
                stamp_file.write_text(stamp, encoding="utf-8")
            result = tally(work, target, equivalents)
        tallies.append(result)
        if args.show:
            for name in result.survived + result.other:
                diff = diff_of(work, target, name)
                print(f"\n# {name} {mutation_digest(diff)}\n{diff}")
        if args.audit:
            for name in result.equivalent:
                print(f"\n# {name}: {equivalents[name].reason}\n{diff_of(work, target, name)}")
    print()
    print_table(tallies)
    problems = [p for t in tallies for p in t.problems]
    for problem in problems:
        print(f"stale: {problem}")
    below = [t.target.source for t in tallies if t.score < THRESHOLD]
    if below:
        print(f"\nbelow {THRESHOLD:.0f} %: {', '.join(below)}")
    return 1 if below or problems else 0


def print_flush(text: str) -> None:
    """Progress lines, flushed at once (a module can take minutes)."""
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
