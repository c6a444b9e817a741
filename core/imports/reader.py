"""Reading a spreadsheet of rows: CSV or Excel, Chinese or English headers, as plain strings.

Excel files (``.xlsx``, ``.xls``, ``.ods``) are read with python-calamine (Rust, read-only, fast on
large sheets); CSV with the standard library, trying UTF-8 (with or without the BOM Excel writes)
and then GB18030, which covers GBK — what Excel on a Chinese Windows saves "CSV" as. Cells come
back as text exactly as a person would type them: an ID number Excel stored as a float
(1.10105e+17) is refused upstream by its checks rather than silently rounded here, and a whole
number stored as ``13800138000.0`` reads as ``13800138000``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

__all__ = ["SUFFIXES", "Sheet", "UnreadableFile", "read_sheet"]

SUFFIXES = (".csv", ".xlsx", ".xls", ".xlsm", ".ods")


class UnreadableFile(Exception):
    """The file is not a CSV or spreadsheet we can read; the message says why."""


@dataclass(frozen=True)
class Sheet:
    """The header row and the data rows (1-based row numbers as the spreadsheet shows them)."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the CSV is neither UTF-8 nor GB18030/GBK text")


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise UnreadableFile("the CSV holds NUL characters: is it really a text file?")
    yield from csv.reader(io.StringIO(text, newline=""))


def _excel_rows(data: bytes) -> Iterator[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        yield from sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        raise UnreadableFile(f"the spreadsheet cannot be read: {exc}") from None


def read_sheet(data: bytes, filename: str, *, max_rows: int = 100_000) -> Sheet:
    """The first sheet of ``data`` (its type known from ``filename``'s suffix)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile(f"{suffix or 'no suffix'}: use one of {', '.join(SUFFIXES)}")
    raw = _csv_rows(data) if suffix == ".csv" else _excel_rows(data)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, values in enumerate(raw, start=1):
        cells = [_cell(v) for v in values]
        if header is None:
            if not any(cells):
                continue  # blank lines above the header
            header = cells
            continue
        if not any(cells):
            continue
        if len(rows) >= max_rows:
            raise UnreadableFile(f"more than {max_rows:,} rows: split the file")
        rows.append((number, cells))
    if header is None:
        raise UnreadableFile("the file is empty")
    return Sheet(header=header, rows=rows)
