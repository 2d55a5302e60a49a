"""Checks over the rows of many files at once: a night reads hundreds of small exports, and a
vectorised check costs mostly per call, not per row, so the files' rows are checked together.
A refusal still names the first bad row's own file, row and column."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from sources.base import SourceError

TRUTHY, FALSY = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")


class FileRows:
    """`frame` holds the rows of `files`: `file_column` is the index of a row's file in
    `files`, `row_column` its row number as the file's reader shows it."""

    def __init__(self, files: Sequence[Path | str], frame: pl.DataFrame, *, file_column: str = "_file", row_column: str = "_row") -> None:
        self.files, self.frame = files, frame
        self.file_column, self.row_column = file_column, row_column

    def refuse(self, bad: pl.Expr, column: str, message: str) -> None:
        """Raise for the first row where `bad` holds. `message` is formatted with that row's
        fields, `value` being the `column`'s."""
        hit = self.frame.select(pl.arg_where(bad).first()).item()
        if hit is None:
            return
        row = self.frame.row(hit, named=True)
        text = message.format(**{**row, "value": row[column]})
        raise SourceError(self.files[row[self.file_column]], text, row=row[self.row_column], column=column)

    def refuse_unknown(self, column: str, allowed: Sequence[str]) -> None:
        listed = ", ".join(repr(a) for a in allowed if a)
        self.refuse(~pl.col(column).is_in(list(allowed)), column, "{value!r} is not one of " + listed)

    def boolean(self, column: str, *, default: bool) -> pl.Expr:
        """`true/false`, `t/f`, `yes/no`, `1/0` (any case); '' gives `default`; anything else is refused."""
        value = pl.col(column).str.strip_chars().str.to_lowercase()
        self.refuse(~(value.is_in(TRUTHY + FALSY) | (value == "")), column, "{value!r} is not true or false")
        return pl.when(value == "").then(default).otherwise(value.is_in(TRUTHY))

    def date(self, column: str) -> pl.Expr:
        """ISO dates (YYYY-MM-DD); '' is null; anything else is refused."""
        value = pl.col(column).str.strip_chars()
        parsed = value.str.to_date("%Y-%m-%d", strict=False)
        self.refuse((value != "") & parsed.is_null(), column, "{value!r} is not a date (expected YYYY-MM-DD)")
        return pl.when(value == "").then(None).otherwise(parsed)

    def refuse_repeats(self, keys: list[str]) -> None:
        """Refuse a row whose keys an earlier row of its file already has, naming both rows."""
        per_file = [self.file_column, *keys]
        hit = self.frame.select(pl.arg_where(~pl.struct(per_file).is_first_distinct()).first()).item()
        if hit is None:
            return
        repeat = self.frame.row(hit, named=True)
        first = self.frame.filter(pl.all_horizontal(pl.col(k) == repeat[k] for k in per_file))[self.row_column][0]
        value = " at ".join(repr(repeat[key]) for key in keys)
        raise SourceError(
            self.files[repeat[self.file_column]],
            f"{value} is listed twice (first at row {first})",
            row=repeat[self.row_column],
            column=keys[0],
        )
