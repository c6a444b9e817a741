"""What backs a ``done`` in ``quality.yaml``: each checkable rule against the code and the suite.

``quality.yaml`` is self-declared; a file can say ``done`` where nothing is. For the rules a
machine can check, a ``done`` must be backed: the conformance check that proves the rule is not
skipped, the class has what the rule asks for. The rest (``canonical-output`` beyond what the
suite runs, ``magic-subjects``, ``mapping-fixtures``, ``callbacks``) are judged in review, and
``RULE_EVIDENCE`` says so.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plugins.sdk.simulation import FaultInjector

__all__ = ["RULE_EVIDENCE", "unbacked_claims"]

RULE_EVIDENCE: dict[str, str] = {
    "metadata": "test_metadata_complete passes (the registration rules)",
    "typed-config": "Config is a pydantic model (test_metadata_complete)",
    "secret-config": "test_config_secrets_are_secretstr is not skipped",
    "canonical-output": "test_call_returns_canonical_model is not skipped",
    "simulator": "the class names an importable simulator",
    "conformance": "the suite runs; every skipped check has a reason",
    "readme": "README.md beside the connector",
    "error-mapping": "test_auth_failure_is_permanent, test_transient_errors_are_retried and "
    "test_malformed_body_is_contract_error are not skipped",
    "retry-after": "test_retry_after_is_honoured is not skipped",
    "mapping-fixtures": "judged in review: mapping tests read recorded vendor JSON",
    "magic-subjects": "judged in review: the simulator answers the SDK's sandbox subjects",
    "idempotent-writes": "test_writes_are_idempotent is not skipped",
    "pii-safe-call-log": "test_secrets_never_logged is not skipped",
    "fault-injection-tests": "the simulator's factory takes a fault (lendhub sandbox --fault)",
    "callbacks": "judged in review: the package registers a webhook source for the vendor's callbacks",
    "check-connection": "the class implements check_connection itself",
    "strict-typing": "py.typed beside the connector",
}
"""What each rule means, as the evidence that backs a ``done``."""

_BY_CHECK: dict[str, tuple[str, ...]] = {
    "secret-config": ("test_config_secrets_are_secretstr",),
    "canonical-output": ("test_call_returns_canonical_model",),
    "error-mapping": (
        "test_auth_failure_is_permanent",
        "test_transient_errors_are_retried",
        "test_malformed_body_is_contract_error",
    ),
    "retry-after": ("test_retry_after_is_honoured",),
    "idempotent-writes": ("test_writes_are_idempotent",),
    "pii-safe-call-log": ("test_secrets_never_logged",),
}


def _status(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        status = value.get("status")
        return status if isinstance(status, str) else None
    return None


def _simulator_takes_a_fault(target: str | None) -> bool:
    """Whether ``factory(fault="503")`` builds the SDK's fault-injecting wrapper."""
    if not target:
        return False
    module_name, _, factory_name = target.partition(":")
    try:
        module = __import__(module_name, fromlist=["_"])
        app = getattr(module, factory_name or "create_app")(fault="503")
    except Exception:  # an unimportable simulator is reported by test_metadata_complete
        return False
    return isinstance(app, FaultInjector)


def _implements_check(connector: type) -> bool:
    """Whether ``check_connection`` comes from the connector's own code, not the SDK's default."""
    for klass in connector.__mro__:
        if "check_connection" in vars(klass):
            return not klass.__module__.startswith(("core.", "plugins."))
    return False


def unbacked_claims(rules: Mapping[str, Any], connector: type, skipped: Mapping[str, str]) -> list[str]:
    """One problem per rule claimed ``done`` that the code or the suite contradicts.

    Args:
        rules: the ``rules`` mapping of ``quality.yaml``.
        connector: the connector class under test.
        skipped: the suite's ``skip_checks`` (check name → reason), plus HTTP checks a vendorless
            connector skips.
    """
    problems = []
    done = {rule for rule, value in rules.items() if _status(value) == "done"}
    for rule in sorted(done & set(_BY_CHECK)):
        missing = [check for check in _BY_CHECK[rule] if check in skipped]
        if missing:
            problems.append(f"rule {rule!r} is done but the suite skips {', '.join(missing)}")
    folder = Path(inspect.getfile(connector)).parent
    if "simulator" in done and not getattr(connector, "simulator", None):
        problems.append("rule 'simulator' is done but the class names no simulator")
    if "fault-injection-tests" in done and not _simulator_takes_a_fault(
        getattr(connector, "simulator", None)
    ):
        problems.append("rule 'fault-injection-tests' is done but the simulator's factory takes no fault")
    if "check-connection" in done and not _implements_check(connector):
        problems.append("rule 'check-connection' is done but the class does not implement check_connection")
    if (
        "strict-typing" in done
        and not (folder / "py.typed").exists()
        and not (folder.parent / "py.typed").exists()
    ):
        problems.append(f"rule 'strict-typing' is done but there is no py.typed in {folder}")
    if "readme" in done and not (folder / "README.md").is_file():
        problems.append("rule 'readme' is done but README.md is missing")
    return problems
