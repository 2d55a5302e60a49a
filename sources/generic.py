"""The two generic CSV kinds: the way to feed any platform numaudit does not read natively.

`usages`:         hierarchy, device_type, device_name, number, partition, cluster, vendor,
                  number_type, owner, online
`vendor_numbers`: hierarchy, number, vendor, number_type, assigned, blocked_state, blocked_until
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from schemas.tables import STAGED_VENDOR_NUMBERS
from sources.base import SourceConfig, SourceError, SourceFrames, require_path, usages_frame, with_lineage
from sources.csvfile import FIRST_DATA_ROW, first_bad_row, parse_bool_column, parse_date_column, read_text_csv
from transforms.numbers import normalise_number
from transforms.usage_types import DEVICE_TYPES

USAGE_COLUMNS = (
    "hierarchy", "device_type", "device_name", "number", "partition", "cluster",
    "vendor", "number_type", "owner", "online",
)
VENDOR_NUMBER_COLUMNS = (
    "hierarchy", "number", "vendor", "number_type", "assigned", "blocked_state", "blocked_until",
)
BLOCKED_STATES = ("", "NotBlocked", "BlockedUntil", "BlockedForever")


def read_usages(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    frame = read_text_csv(path, USAGE_COLUMNS)
    _refuse_unknown(frame, "device_type", DEVICE_TYPES, config)
    online = parse_bool_column(frame, "online", path, default=True)
    site = _checked_hierarchy(frame, config)
    usages = frame.with_row_index("source_row", offset=FIRST_DATA_ROW).select(
        pl.col("source_row").cast(pl.Int64()),
        pl.col("number").alias("number_raw"),
        "device_type",
        "device_name",
        "partition",
        pl.when(pl.col("cluster") == "").then(pl.lit(config.cluster)).otherwise(pl.col("cluster")).alias("cluster"),
        "vendor",
        "number_type",
        "owner",
        online.alias("online"),
        site.alias("site"),
        pl.col("hierarchy").alias("site_key"),
    )
    raw = with_lineage(frame, config, datetime.now(UTC).replace(tzinfo=None), FIRST_DATA_ROW)
    return SourceFrames(raw={"raw_usages": raw}, usages=usages_frame(usages, config))


def read_vendor_numbers(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    frame = read_text_csv(path, VENDOR_NUMBER_COLUMNS)
    _refuse_unknown(frame, "blocked_state", BLOCKED_STATES, config)
    assigned = parse_bool_column(frame, "assigned", path, default=False)
    blocked_until = parse_date_column(frame, "blocked_until", path)
    site = _checked_hierarchy(frame, config)
    numbers = frame.with_row_index("source_row", offset=FIRST_DATA_ROW).select(
        pl.col("source_row").cast(pl.Int64()),
        pl.lit(config.customer).alias("customer"),
        pl.lit(config.name).alias("source"),
        pl.col("number").alias("number_raw"),
        normalise_number(pl.col("number")).alias("number"),
        site.alias("site"),
        pl.col("hierarchy").alias("site_key"),
        pl.when(pl.col("vendor") == "").then(pl.lit("Microsoft")).otherwise(pl.col("vendor")).alias("vendor"),
        "number_type",
        assigned.alias("assigned"),
        "blocked_state",
        blocked_until.alias("blocked_until"),
    ).select([pl.col(c).cast(t) for c, t in STAGED_VENDOR_NUMBERS.items()])
    raw = with_lineage(frame, config, datetime.now(UTC).replace(tzinfo=None), FIRST_DATA_ROW)
    return SourceFrames(raw={"raw_vendor_numbers": raw}, vendor_numbers=numbers)


def _refuse_unknown(frame: pl.DataFrame, column: str, allowed: tuple[str, ...], config: SourceConfig) -> None:
    row = first_bad_row(frame, ~pl.col(column).is_in(list(allowed)))
    if row is not None:
        bad = frame[row - FIRST_DATA_ROW, column]
        raise SourceError(
            config.path or config.name,
            f"{bad!r} is not one of {', '.join(repr(a) for a in allowed if a)}",
            row=row,
            column=column,
        )


def _checked_hierarchy(frame: pl.DataFrame, config: SourceConfig) -> pl.Expr:
    """The row's node as a full path; '' is unmapped (null). A named node must exist under
    the customer: an unknown one is bad input, not an unmapped device."""
    value = pl.col("hierarchy").str.strip_chars()
    absolute = (
        pl.when((value == config.customer) | value.str.starts_with(config.customer + "."))
        .then(value)
        .otherwise(pl.lit(config.customer + ".") + value)
    )
    row = first_bad_row(frame, (value != "") & ~absolute.is_in(list(config.known_nodes)))
    if row is not None:
        bad = frame[row - FIRST_DATA_ROW, "hierarchy"]
        raise SourceError(
            config.path or config.name,
            f"{bad!r} is not a node of the hierarchy under {config.customer}",
            row=row,
            column="hierarchy",
        )
    return pl.when(value == "").then(None).otherwise(absolute)


READERS = {"usages": read_usages, "vendor_numbers": read_vendor_numbers}
