"""E.164 associations (SPEC 4.5): a CSV of e164, internal number and primary flag.

Kind `e164_associations`. Headers match in any case: `e164`; `internal number`,
`internal_number` or `number`; optional `primary` or `is_primary` (`true/false`, `t/f`,
`yes/no`, `1/0`, empty = false). This is administrators' data, not a platform extract, so a
value that is not a number is refused with its row and column rather than reported later:
the E.164 must be `+` and digits after normalisation. An E.164 belongs to one internal
number (N E.164 to 1 number), and a number has at most one primary E.164.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from schemas.tables import STAGED_E164
from sources.base import SourceConfig, SourceError, SourceFrames, require_path, with_lineage
from sources.csvfile import FIRST_DATA_ROW, parse_bool_column, read_text_csv
from sources.jsonfile import find_columns, first_bad_record
from transforms.numbers import normalise_number

RAW_ASSOCIATIONS = "raw_e164_associations"
COLUMNS = {
    "e164": ["e164"],
    "number": ["internal number", "internal_number", "number"],
    "primary": ["primary", "is_primary"],
}


def read_associations(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    return parse_associations(read_text_csv(path), path, config)


def parse_associations(
    frame: pl.DataFrame,
    origin: Path,
    config: SourceConfig,
    *,
    first_row: int = FIRST_DATA_ROW,
    extracted_at: datetime | None = None,
) -> SourceFrames:
    """The CSV as text columns (`first_row`: the row number of its first record)."""
    columns = find_columns(frame.columns, COLUMNS, origin, optional=("primary",), row=first_row - 1)
    e164_column, number_column, primary_column = str(columns["e164"]), str(columns["number"]), columns["primary"]

    def refuse(index: int, message: str, column: str) -> SourceError:
        return SourceError(origin, message, row=first_row + index, column=column)

    e164 = normalise_number(pl.col(e164_column))
    index = first_bad_record(frame, e164.is_null() | ~e164.str.starts_with("+"))
    if index is not None:
        raise refuse(index, f"{frame[index, e164_column]!r} is not an E.164 number (+ and digits)", e164_column)
    number = normalise_number(pl.col(number_column))
    index = first_bad_record(frame, number.is_null())
    if index is not None:
        raise refuse(index, f"{frame[index, number_column]!r} is not an internal number", number_column)
    primary = (
        pl.lit(False) if primary_column is None else parse_bool_column(frame, primary_column, origin, default=False)
    )

    associations = frame.with_row_index("source_row", offset=first_row).select(
        pl.lit(config.customer).alias("customer"),
        pl.lit(config.name).alias("source"),
        pl.col("source_row").cast(pl.Int64()),
        e164.alias("e164"),
        number.alias("number"),
        primary.alias("is_primary"),
    )
    index = first_bad_record(associations, pl.col("number") != pl.col("number").first().over("e164"))
    if index is not None:
        e164_value = associations[index, "e164"]
        first_number = associations.filter(pl.col("e164") == e164_value)[0, "number"]
        raise refuse(
            index,
            f"E.164 {e164_value} is already associated with internal number {first_number}; an E.164 "
            f"belongs to one number",
            e164_column,
        )
    second_primary = pl.col("is_primary") & (pl.col("is_primary").cum_sum().over("number") > 1)
    index = first_bad_record(associations, second_primary)
    if index is not None and primary_column is not None:
        raise refuse(
            index, f"internal number {associations[index, 'number']} already has a primary E.164", primary_column
        )
    raw = with_lineage(frame, config, extracted_at or datetime.now(UTC).replace(tzinfo=None), first_row)
    return SourceFrames(raw={RAW_ASSOCIATIONS: raw}, e164=associations.select(list(STAGED_E164)))


READERS = {"e164_associations": read_associations}
