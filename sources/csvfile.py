"""Reading CSV exports as text, with errors that name the file, row and column."""

from __future__ import annotations

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
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            infer_schema=False,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.ComputeError as error:
        raise SourceError(path, f"is not a well-formed CSV file: {_first_line(error)}") from error
    frame = frame.rename({c: c.strip() for c in frame.columns})
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
