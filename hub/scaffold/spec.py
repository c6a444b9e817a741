"""The shape of what the scaffold writes for one capability, and the README rows they share.

Each :class:`CapabilitySpec` holds code fragments inserted into the templates. They implement the
port completely against the stub wire protocol of ``client.py.tmpl`` so that a freshly scaffolded
package passes the conformance suite before its author has written a line. The fragments are
written to ruff's default layout (88 columns) at the indentation their placeholder sits at.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COMPANY_TABLE", "PEOPLE_TABLE", "WRITES_TABLE", "CapabilitySpec"]


@dataclass(frozen=True)
class CapabilitySpec:
    """Code fragments for one capability.

    Attributes:
        port: the port class name in ``plugins.sdk``.
        connector_models: canonical names the connector module imports.
        mapping_models: canonical names the mapping module imports.
        methods: the port methods (class-body indentation).
        mappers: the mapping functions (module level).
        handlers: the simulator's ``op_<operation>`` methods (class-body indentation).
        call_body: the conformance ``call`` body (method-body indentation).
        write_method: the conformance ``write`` method, or ``""`` for read-only ports.
        test_models: canonical names the conformance test imports.
        sandbox_imports: sandbox subjects the conformance test imports.
        subjects_table: README rows: what the simulator answers per sandbox subject.
        fixture_op: the operation whose recorded answer the mapping test uses.
        fixture_data: that answer's ``data`` object, as JSON text.
        fixture_expr: the mapping test's lines that set ``result`` from ``data`` (the
            recorded answer's ``data``), at function-body indentation.
        connector_imports: extra import lines of the connector module.
        test_imports: extra import lines of the conformance test.
    """

    port: str
    connector_models: str
    mapping_models: str
    methods: str
    mappers: str
    handlers: str
    call_body: str
    write_method: str
    test_models: str
    sandbox_imports: str
    subjects_table: str
    fixture_op: str
    fixture_data: str
    fixture_expr: str
    connector_imports: str = ""
    test_imports: str = ""


PEOPLE_TABLE = """| `CLEAN_BORROWER` | a clean answer |
| `DELINQUENT_BORROWER` | an answer with overdue or high-risk data |
| `DISHONEST_DEBTOR` | an answer with 失信 / 限高 records where the capability has them |
| `UNKNOWN_PERSON` | the vendor's not-found (code 40401 → `NotFound`) or an empty result |"""

COMPANY_TABLE = """| `ACTIVE_COMPANY` | 存续, no changes |
| `REVOKED_COMPANY` | 吊销 |
| `UNKNOWN_COMPANY` | code 40401 → `NotFound` |"""

WRITES_TABLE = """| any write | the same idempotency key returns the same object |
| `CLEAN_BORROWER` as signer or initiator | a normal flow |"""
