"""Partner webhook bodies and payloads, and call-log bodies, sealed at rest with the PII key ring.

Revision ID: 0006_sealed_bodies
Revises: 0005_connector_owner
Create Date: 2026-11-30

``webhook_requests.body`` (bytes) and ``webhook_inbox.payload`` (JSON) become text columns
holding ``pii1:<kid>:…`` values; ``call_log.request_body`` and ``response_body`` stay text. Rows
already stored are sealed here, in the same transaction, rather than read in both forms until
``lendhub keys rotate`` re-seals them: the clear body is then never in the database once this
revision is applied, and no read path has to guess whether a value is sealed. The key ring is the
process's (``core.pii.current()``) or, as ``lendhub db upgrade`` has none, the one the hub would
load from its settings (``LENDHUB_PII_KEYS`` or ``var/pii.keys``, made on first use); it is only
looked for when there is a row to seal, so a fresh database needs no key. Run the upgrade where
the hub runs, or with its key settings: rows sealed with a key the hub does not have cannot be
read by it.

A changed column is added next to the old one, filled, and swapped in (drop, rename) rather than
altered, because SQLite cannot alter a column's type in place, and the batch mode's table
rebuild would drop ``webhook_requests`` with foreign keys on (they cannot be switched off inside
the migration's transaction), cascading the delete to the whole inbox. On SQLite the new
``NOT NULL`` column therefore has to carry a default (``''``, never written by the hub, and no
sealed value: reading it would fail loudly).

This revision imports the key ring from ``core.pii``: sealing is its job, and the ``pii1`` format
is versioned by its prefix. Column types are spelled out, as in the earlier revisions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.pii import KeyRing, KeyRingError, current

revision: str = "0006_sealed_bodies"
down_revision: str | None = "0005_connector_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELD_CLASS = "payload"
_BATCH = 500

Convert = Callable[[Any], Any]


class _LazyRing:
    """The key ring, looked up when the first row needs it (an empty database needs no key)."""

    def __init__(self) -> None:
        self._ring: KeyRing | None = None

    def __call__(self) -> KeyRing:
        if self._ring is None:
            try:
                self._ring = current()
            except KeyRingError:
                from hub.secrets import load_key_ring
                from hub.settings import load_settings

                self._ring = load_key_ring(load_settings())
        return self._ring


def _batches(table: str, key: str, columns: Sequence[str]) -> Iterator[list[sa.Row[Any]]]:
    """The rows of ``table`` in key order, ``_BATCH`` at a time (keyset pages, not one big fetch)."""
    bind = op.get_bind()
    selected = ", ".join([key, *columns])
    last: Any = None
    while True:
        where = "" if last is None else f" WHERE {key} > :last"
        rows = list(
            bind.execute(
                sa.text(f"SELECT {selected} FROM {table}{where} ORDER BY {key} LIMIT {_BATCH}"),
                {"last": last},
            )
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _convert_column(table: str, column: str, new_type: str, sqlite_default: str, convert: Convert) -> None:
    """Replace ``column`` by one of ``new_type`` holding ``convert(value)`` for every row."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    staged = f"{column}_converted"
    not_null = f" NOT NULL DEFAULT {sqlite_default}" if sqlite else ""  # see the module docstring
    op.execute(f"ALTER TABLE {table} ADD COLUMN {staged} {new_type}{not_null}")
    update = sa.text(f"UPDATE {table} SET {staged} = :value WHERE id = :id")
    for rows in _batches(table, "id", [column]):
        bind.execute(update, [{"id": row[0], "value": convert(row[1])} for row in rows])
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {staged} TO {column}")
    if not sqlite:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")


def _convert_in_place(table: str, columns: Sequence[str], convert: Convert) -> None:
    """Rewrite ``columns`` of every row with ``convert`` (``None`` stays ``None``)."""
    bind = op.get_bind()
    sets = ", ".join(f"{column} = :{column}" for column in columns)
    update = sa.text(f"UPDATE {table} SET {sets} WHERE id = :id")
    for rows in _batches(table, "id", columns):
        params = [
            {
                "id": row[0],
                **{c: None if v is None else convert(v) for c, v in zip(columns, row[1:], strict=True)},
            }
            for row in rows
        ]
        bind.execute(update, params)


def _json_value(value: Any) -> Any:
    """A JSON column's value as the driver returns it (SQLite: text; asyncpg's JSONB: text too)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def upgrade() -> None:
    ring = _LazyRing()

    def seal_bytes(value: Any) -> str:
        return ring().seal(bytes(value), FIELD_CLASS)

    def seal_json(value: Any) -> str:
        encoded = json.dumps(_json_value(value), ensure_ascii=False, separators=(",", ":"))
        return ring().seal(encoded.encode("utf-8"), FIELD_CLASS)

    def seal_text(value: Any) -> str:
        return ring().seal(str(value).encode("utf-8"), FIELD_CLASS)

    _convert_column("webhook_requests", "body", "TEXT", "''", seal_bytes)  # was BLOB / BYTEA
    _convert_column("webhook_inbox", "payload", "TEXT", "''", seal_json)  # was JSON / JSONB
    _convert_in_place("call_log", ["request_body", "response_body"], seal_text)


def downgrade() -> None:
    ring = _LazyRing()
    sqlite = op.get_bind().dialect.name == "sqlite"

    def open_(value: Any) -> bytes:
        return ring().open(str(value), FIELD_CLASS)

    def open_json(value: Any) -> str:
        return open_(value).decode("utf-8")

    def open_text(value: Any) -> str:
        return open_(value).decode("utf-8")

    _convert_column("webhook_requests", "body", "BLOB" if sqlite else "BYTEA", "x''", open_)
    _convert_column("webhook_inbox", "payload", "JSON" if sqlite else "JSONB", "'{}'", open_json)
    _convert_in_place("call_log", ["request_body", "response_body"], open_text)
