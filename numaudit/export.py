"""CSV exports of the warehouse's tables and views, safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a
formula, and `=cmd|' /C calc'!A0` starts a program (CSV injection). Tags, descriptions,
device names and every raw vendor field are text from outside numaudit, so an export writes
such a cell with a leading `'` (OWASP's advice), which makes it text. Also neutralised: a
cell starting with a tab or a carriage return (OWASP's list), and one whose first character
after leading spaces is a trigger (importers that trim spaces would otherwise run it).

Not neutralised: a cell that is a plain number, `+`/`-`, digits and at most one decimal
point (`+442071234567`, `-3`, `12.5`). Normalised numbers are the inventory's keys and must
not change; a plain number cannot call anything. The header row gets the same treatment:
raw tables keep the column names of the vendor's file.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from storage.lake import LAKE, Warehouse, quote

# The same two rules for one cell (Python `re`) and for a column (Polars' Rust regex): both
# read `\s` as any Unicode space, and Rust's `$` (no multi-line flag) is the text's end, as
# `fullmatch` is, so a trailing line break does not pass for a number.
FORMULA_START = r"^(?:[\t\r]|\s*[=+\-@])"
PLAIN_NUMBER = r"^[+-]?[0-9]+(?:\.[0-9]+)?$"
_FORMULA_START = re.compile(FORMULA_START)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER.removeprefix("^").removesuffix("$"))
NEUTRALISER = "'"


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class ExportReport:
    name: str
    rows: int
    neutralised: int  # cells (header included) written with a leading '
    output: Path


def neutralise_cell(value: str) -> str:
    """`value`, with a leading `'` when a spreadsheet would run it as a formula."""
    if _FORMULA_START.match(value) and not _PLAIN_NUMBER.fullmatch(value):
        return NEUTRALISER + value
    return value


def formula_like(column: pl.Expr) -> pl.Expr:
    """True where `neutralise_cell` adds its `'` (null cells stay null, never formulas)."""
    return column.str.contains(FORMULA_START) & ~column.str.contains(PLAIN_NUMBER)


def neutralise_frame(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The frame with every formula-like text cell and column name neutralised, and how many
    cells that changed. Columns of other types (counts, dates, flags) cannot hold a formula."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String()]
    changed = 0
    if text_columns and frame.height:
        counts = frame.select(formula_like(pl.col(name)).sum() for name in text_columns).row(0)
        changed = sum(int(count or 0) for count in counts)
    neutral = frame.with_columns(
        pl.when(formula_like(pl.col(name))).then(pl.lit(NEUTRALISER) + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name in text_columns
    )
    headers = {name: neutralise_cell(name) for name in frame.columns}
    changed += sum(name != header for name, header in headers.items())
    return neutral.rename(headers), changed


def exportable(warehouse: Warehouse) -> list[str]:
    """The tables and views of the lake, by name."""
    names = warehouse.query(
        "SELECT table_name AS name FROM duckdb_tables() WHERE database_name = ? "
        "UNION SELECT view_name FROM duckdb_views() WHERE database_name = ? ORDER BY name",
        [LAKE, LAKE],
    )
    return names["name"].to_list()


def read_for_export(warehouse: Warehouse, name: str, customer: str | None = None) -> pl.DataFrame:
    """Every row of a table or view, or only a customer's (its `customer` column, else the
    rows at or under it by `hierarchy`, or by `path` for the hierarchy itself)."""
    names = exportable(warehouse)
    if name not in names:
        raise ExportError(f"{name!r} is not a table or view of the warehouse; there are {', '.join(names)}")
    source = f"{LAKE}.{quote(name)}"
    if customer is None:
        return warehouse.query(f"SELECT * FROM {source} ORDER BY ALL")
    kind = warehouse.query("SELECT kind FROM hierarchy WHERE path = ?", [customer])
    if kind.is_empty() or kind.item() != "customer":
        found = f"it is a {kind.item()}" if not kind.is_empty() else "it is not in the hierarchy"
        raise ExportError(f"--customer {customer!r} must be a node of kind customer; {found}")
    columns = warehouse.query(f"SELECT * FROM {source} LIMIT 0").columns
    if "customer" in columns:
        where, params = "customer = ?", [customer]
    elif "hierarchy" in columns or "path" in columns:
        column = quote("hierarchy" if "hierarchy" in columns else "path")
        where, params = f"({column} = ? OR starts_with({column}, ?))", [customer, customer + "."]
    else:
        raise ExportError(f"{name!r} has no customer, hierarchy or path column: export it without --customer")
    return warehouse.query(f"SELECT * FROM {source} WHERE {where} ORDER BY ALL", params)


def write_export_csv(frame: pl.DataFrame, output: Path) -> int:
    """Write the frame as CSV, neutralised; returns how many cells were neutralised.

    UTF-8 with a byte order mark, so that Excel shows non-ASCII names right; CRLF line ends
    (RFC 4180); empty cells for nulls. The file appears whole or not at all: it is written
    beside `output` and renamed over it.
    """
    neutral, changed = neutralise_frame(frame)
    partial = output.with_name(output.name + ".part")
    try:
        neutral.write_csv(
            partial,
            include_bom=True,
            line_terminator="\r\n",
            null_value="",
            datetime_format="%Y-%m-%d %H:%M:%S",
        )
        os.replace(partial, output)
    except OSError as error:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {output}: {error.strerror or error}") from error
    return changed


def export_csv(warehouse: Warehouse, name: str, output: Path, customer: str | None = None) -> ExportReport:
    frame = read_for_export(warehouse, name, customer)
    neutralised = write_export_csv(frame, output)
    return ExportReport(name=name, rows=frame.height, neutralised=neutralised, output=output)
