"""Cisco CUCM BAT "Export Phones - All Details" CSV (kind `cucm_bat_phones`).

One row per phone: device columns (`Device Name`, `Device Pool`, `Owner User ID`, ...)
then, per line N, columns suffixed with N (`Directory Number 1`, `Route Partition 1`,
`External Phone Number Mask 1`, ..., `Directory Number 2`, ...). Headers are matched
without case and with runs of spaces read as one (one real header has a double space).
The R15 guide documents the line columns without index (`Directory Number`, `Partition`):
that layout is read as line 1, its line columns being those from `Directory Number` on.

Raw tables: `raw_cucm_bat_phone` (the device columns, headers as exported) and
`raw_cucm_bat_phone_line` (one row per line: `Device Name`, `line_index`, and the line
columns without their index suffix). Every value is kept as text (`t`/`f` included).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl

from sources.base import SourceConfig, SourceError, SourceFrames, require_path, with_lineage
from sources.csvfile import FIRST_DATA_ROW, read_text_csv
from sources.xmlfile import Origin, staged_usages

PHONE = "device/cucm/Phone"

DEVICE_NAME = "Device Name"
DEVICE_POOL = "Device Pool"
OWNER = "Owner User ID"
DIRECTORY_NUMBER = "Directory Number"
# Line fields as their base names (without index), lower-case: the export's names, then
# the R15 guide's.
PARTITION_NAMES = ("route partition", "partition")
MASK = "external phone number mask"
LINE_INDEX = "line_index"

_INDEXED = re.compile(r"^(.*\S) (\d+)$")


def read_cucm_bat_phones(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    return parse_bat_phones(read_text_csv(path), path, config)


def _normal(header: str) -> str:
    return " ".join(header.split()).lower()


def parse_bat_phones(
    frame: pl.DataFrame, origin: Origin, config: SourceConfig, *, extracted_at: datetime | None = None
) -> SourceFrames:
    """The phones of one export, read as text (`read_text_csv`): raw tables and one usage
    per line whose `Directory Number` is not empty."""
    at = extracted_at or datetime.now(UTC).replace(tzinfo=None)
    headers = _headers(frame, origin)
    device_name = _required(headers, DEVICE_NAME, origin)
    lines = _line_columns(frame.columns, headers, origin)
    site_field = config.site_field or DEVICE_POOL
    site_column = _required(headers, site_field, origin)
    owner = headers.get(_normal(OWNER))
    line_columns = {column for columns in lines.values() for column in columns.values()}

    rows = frame.with_row_index("source_row", offset=FIRST_DATA_ROW).with_columns(
        pl.col("source_row").cast(pl.Int64())
    )
    device = frame.select([c for c in frame.columns if c not in line_columns])
    line_tables = [
        rows.select(
            "source_row",
            pl.col(device_name).alias(DEVICE_NAME),
            pl.lit(str(index)).alias(LINE_INDEX),
            *[pl.col(column).alias(base) for base, column in columns.items()],
        ).filter(pl.any_horizontal([pl.col(base) != "" for base in columns]))
        for index, columns in lines.items()
    ]
    line_raw = pl.concat(line_tables, how="diagonal").sort("source_row", pl.col(LINE_INDEX).cast(pl.Int64()))

    usage_rows = pl.concat(
        [
            rows.select(
                "source_row",
                pl.col(columns[_base(columns, DIRECTORY_NUMBER.lower())]).alias("number_raw"),
                pl.lit(PHONE).alias("device_type"),
                pl.col(device_name).alias("device_name"),
                _optional(columns, PARTITION_NAMES).alias("partition"),
                (pl.col(owner) if owner else pl.lit("")).alias("owner"),
                pl.col(site_column).alias("site_key"),
                _optional(columns, (MASK,)).alias("e164_mask"),
                pl.lit(index).alias(LINE_INDEX),
            )
            for index, columns in lines.items()
        ]
    ).filter(pl.col("number_raw").str.strip_chars() != "")
    usage_rows = usage_rows.sort("source_row", LINE_INDEX).drop(LINE_INDEX)

    return SourceFrames(
        raw={
            "raw_cucm_bat_phone": _land(device, rows["source_row"], config, at, origin),
            "raw_cucm_bat_phone_line": _land(
                line_raw.drop("source_row"), line_raw["source_row"], config, at, origin
            ),
        },
        usages=staged_usages(usage_rows, config),
    )


def _headers(frame: pl.DataFrame, origin: Origin) -> dict[str, str]:
    """Normalised header -> header as exported; two headers that differ only in case or
    spacing would make a column ambiguous."""
    headers: dict[str, str] = {}
    for column in frame.columns:
        key = _normal(column)
        if key in headers:
            raise SourceError(
                origin, f"the headers {headers[key]!r} and {column!r} name the same column", row=1, column=column
            )
        headers[key] = column
    return headers


def _required(headers: dict[str, str], name: str, origin: Origin) -> str:
    column = headers.get(_normal(name))
    if column is None:
        raise SourceError(
            origin,
            f"missing column {name!r}: is this a BAT 'Export Phones - All Details' file?",
            row=1,
            column=name,
        )
    return column


def _line_columns(columns: list[str], headers: dict[str, str], origin: Origin) -> dict[int, dict[str, str]]:
    """Line index -> {base field name (lower-case, single spaces) -> column}.

    Indexed layout: a column is a field of line N when it ends in N, N is the index of a
    `Directory Number N` column, and it comes after the first such column (device columns
    such as `User ID 1` or `Module 1` come before the lines)."""
    indexed = {
        int(match.group(1)): column
        for key, column in headers.items()
        if (match := re.fullmatch(r"directory number (\d+)", key))
    }
    if indexed:
        first = min(columns.index(column) for column in indexed.values())
        lines: dict[int, dict[str, str]] = {index: {} for index in sorted(indexed)}
        for column in columns[first:]:
            match = _INDEXED.match(_normal(column))
            if match and int(match.group(2)) in lines:
                lines[int(match.group(2))].setdefault(_title(column, match.group(1)), column)
        return lines
    unindexed = headers.get(DIRECTORY_NUMBER.lower())
    if unindexed is not None:
        return {1: {" ".join(column.split()): column for column in columns[columns.index(unindexed):]}}
    raise SourceError(
        origin,
        f"missing column '{DIRECTORY_NUMBER} 1' (or '{DIRECTORY_NUMBER}'): "
        "is this a BAT 'Export Phones - All Details' file?",
        row=1,
        column=f"{DIRECTORY_NUMBER} 1",
    )


def _title(column: str, base_lower: str) -> str:
    """The base name as exported (case kept, single spaces), without the line index."""
    return " ".join(column.split())[: len(base_lower)]


def _base(columns: dict[str, str], base_lower: str) -> str:
    return next(base for base in columns if base.lower() == base_lower)


def _optional(columns: dict[str, str], bases_lower: tuple[str, ...]) -> pl.Expr:
    for base in columns:
        if base.lower() in bases_lower:
            return pl.col(columns[base])
    return pl.lit("")


def _land(
    table: pl.DataFrame, source_rows: pl.Series, config: SourceConfig, at: datetime, origin: Origin
) -> pl.DataFrame:
    return with_lineage(table, config, at).with_columns(
        source_file=pl.lit(str(origin)),
        source_row=source_rows,
    )


READERS = {"cucm_bat_phones": read_cucm_bat_phones}
