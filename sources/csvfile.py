"""Reading CSV exports as text, with errors that name the file, row and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from sources.base import SourceError, read_file_bytes

# CSV rows are numbered as a spreadsheet shows them: the header is row 1.
FIRST_DATA_ROW = 2


def read_text_csv(path: Path, required: Iterable[str] = (), *, case_insensitive: bool = False) -> pl.DataFrame:
    """Every column as text ('' for an empty cell); refuses a missing file, bad encoding,
    ragged rows and missing required columns."""
    data = read_file_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise SourceError(path, "is not UTF-8 text (export it as UTF-8)", row=row) from error
    if not text.strip():
        raise SourceError(path, "is empty: expected a header row and data rows")
    frame = parse_csv_text(text, path)
    present = {c.lower() if case_insensitive else c: c for c in frame.columns}
    missing = [c for c in required if (c.lower() if case_insensitive else c) not in present]
    if missing:
        raise SourceError(
            path,
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the header has "
            f"{', '.join(repr(c) for c in frame.columns)}",
            row=1,
        )
    return frame


def parse_csv_text(text: str, origin: Path | str, *, header_row: int = 1) -> pl.DataFrame:
    """A CSV text as text columns ('' for an empty cell), header names stripped of spaces.

    Stricter than the parser: a header naming one column twice is refused (which of the two
    holds the data would be a guess), and so is a row whose number of fields differs from the
    header's, naming the row (`header_row` is the header's row number): a short row would
    otherwise read as empty cells, and a truncated extract as a complete one. Blank lines at
    the end are ignored, a blank line between rows is refused. Line ends may be LF, CRLF, or
    CR alone (Excel for Mac's "CSV (Macintosh)").
    """
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
    header, widths = _record_shape(text, origin, header_row)
    names = [name.strip() for name in header]
    if not any(names):
        raise SourceError(origin, "has no header row: the first row is blank", row=header_row)
    for index, name in enumerate(names):
        if name and name in names[:index]:
            raise SourceError(origin, f"the header names column {name!r} twice", row=header_row, column=name)
    records = len(widths)
    while records > 1 and widths[records - 1] == 0:
        records -= 1
    for index in range(1, records):
        if widths[index] != len(header):
            found = (
                "the row is blank (a blank line between rows)"
                if widths[index] == 0
                else f"the row has {widths[index]} field(s), the header {len(header)} "
                "(a value lost, or a separator in an unquoted value?)"
            )
            raise SourceError(origin, f"is not a well-formed CSV file: {found}", row=header_row + index)
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as error:
        raise SourceError(origin, f"is not a well-formed CSV file: {_first_line(error)}") from error
    # The parser reads each blank line at the end as a row of empty cells.
    return frame.head(records - 1).rename({c: c.strip() for c in frame.columns})


def _record_shape(text: str, origin: Path | str, header_row: int) -> tuple[list[str], list[int]]:
    """The header's fields, and the number of fields of every record (0 for a blank line)."""
    if '"' not in text:
        # Without quotes a record is a line: count separators vectorised (exports run to
        # millions of rows; the csv module below takes several times longer).
        lines = pl.Series(text.split("\n"), dtype=pl.String())
        blank = lines.str.strip_suffix("\r") == ""
        counts = pl.select(pl.when(blank).then(0).otherwise(lines.str.count_matches(",", literal=True) + 1)).to_series()
        return lines[0].removesuffix("\r").split(","), counts.to_list()
    # A quoted value may hold separators and line ends: let the csv module find the records.
    # Its default field size limit (128 KiB) would refuse a large but well-formed cell.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    widths: list[int] = []
    header: list[str] = []
    try:
        for record in reader:
            if not widths:
                header = record
            widths.append(len(record))
    except csv.Error as error:
        raise SourceError(origin, f"is not a well-formed CSV file: {error}", row=header_row + len(widths)) from error
    return header, widths


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def first_bad_row(frame: pl.DataFrame, bad: pl.Expr) -> int | None:
    """Spreadsheet row number of the first row where `bad` holds, or None."""
    hits = frame.with_row_index("_i").filter(bad).select("_i").head(1)
    return None if hits.is_empty() else int(hits.item()) + FIRST_DATA_ROW


def parse_bool_column(frame: pl.DataFrame, column: str, path: Path, *, default: bool) -> pl.Expr:
    """`true/false`, `t/f`, `yes/no`, `1/0` (any case); '' gives `default`; anything else is refused."""
    value = pl.col(column).str.strip_chars().str.to_lowercase()
    truthy, falsy = ["true", "t", "yes", "y", "1"], ["false", "f", "no", "n", "0"]
    row = first_bad_row(frame, ~(value.is_in(truthy + falsy) | (value == "")))
    if row is not None:
        bad = frame[row - FIRST_DATA_ROW, column]
        raise SourceError(path, f"{bad!r} is not true or false", row=row, column=column)
    return pl.when(value == "").then(default).otherwise(value.is_in(truthy))


def parse_date_column(frame: pl.DataFrame, column: str, path: Path) -> pl.Expr:
    """ISO dates (YYYY-MM-DD); '' is null; anything else is refused with its row."""
    value = pl.col(column).str.strip_chars()
    parsed = value.str.to_date("%Y-%m-%d", strict=False)
    row = first_bad_row(frame, (value != "") & parsed.is_null())
    if row is not None:
        bad = frame[row - FIRST_DATA_ROW, column]
        raise SourceError(path, f"{bad!r} is not a date (expected YYYY-MM-DD)", row=row, column=column)
    return pl.when(value == "").then(None).otherwise(parsed)
