"""The two generic CSV kinds: the way to feed any platform numaudit does not read natively.

`usages`:         hierarchy, device_type, device_name, number, partition, cluster, vendor,
                  number_type, owner, online
`vendor_numbers`: hierarchy, number, vendor, number_type, assigned, blocked_state, blocked_until

A night loads hundreds of these files, so each kind reads a batch of sources at once: every
file is parsed on its own, then all rows are checked and shaped in one vectorised pass (the
cost of a pass is mostly per call, not per row). Reading one source is a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl

from schemas.tables import RAW_LINEAGE, STAGED_USAGES, STAGED_VENDOR_NUMBERS
from sources.base import SourceConfig, SourceError, SourceFrames, require_path
from sources.csvfile import FIRST_DATA_ROW, read_text_csv
from sources.rowchecks import FileRows
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


def read_usages_batch(configs: Sequence[SourceConfig]) -> SourceFrames:
    """Generic usage exports of several sources, as one set of frames."""
    frame = _read_all(configs, USAGE_COLUMNS)
    batch = _rows(configs, frame)
    batch.refuse_unknown("device_type", DEVICE_TYPES)
    online = batch.boolean("online", default=True)
    site = _site(batch, configs)
    usages = frame.select(
        "customer",
        "source",
        "source_row",
        pl.col("number").alias("number_raw"),
        normalise_number(pl.col("number")).alias("number"),
        "device_type",
        "device_name",
        pl.when(pl.col("cluster") == "").then(pl.col("_cluster")).otherwise(pl.col("cluster")).alias("cluster"),
        "partition",
        site.alias("site"),
        pl.col("hierarchy").alias("site_key"),
        "vendor",
        "number_type",
        "owner",
        online.alias("online"),
        pl.lit("").alias("e164"),
    ).select([pl.col(c).cast(t) for c, t in STAGED_USAGES.items()])
    return SourceFrames(raw={"raw_usages": _raw(frame)}, usages=usages)


def read_vendor_numbers_batch(configs: Sequence[SourceConfig]) -> SourceFrames:
    """Generic platform-number exports of several sources, as one set of frames."""
    frame = _read_all(configs, VENDOR_NUMBER_COLUMNS)
    batch = _rows(configs, frame)
    batch.refuse_unknown("blocked_state", BLOCKED_STATES)
    assigned = batch.boolean("assigned", default=False)
    blocked_until = batch.date("blocked_until")
    site = _site(batch, configs)
    numbers = frame.select(
        "source_row",
        "customer",
        "source",
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
    return SourceFrames(raw={"raw_vendor_numbers": _raw(frame)}, vendor_numbers=numbers)


def read_usages(config: SourceConfig) -> SourceFrames:
    return read_usages_batch([config])


def read_vendor_numbers(config: SourceConfig) -> SourceFrames:
    return read_vendor_numbers_batch([config])


def _read_all(configs: Sequence[SourceConfig], required: tuple[str, ...]) -> pl.DataFrame:
    """Every file's rows, each with its source's lineage (customer, source, source_file,
    source_row as the spreadsheet numbers it) and `_file`, the index of its config."""
    parts = []
    for config in configs:
        part = read_text_csv(require_path(config), required)
        reserved = [c for c in part.columns if c in RAW_LINEAGE or c.startswith("_")]
        if reserved:
            raise SourceError(require_path(config), f"column {reserved[0]!r} is a name numaudit keeps for lineage; rename it", row=1, column=reserved[0])
        parts.append(part.with_row_index("source_row", offset=FIRST_DATA_ROW))
    lineage = pl.DataFrame(
        {
            "_file": range(len(configs)),
            "customer": [c.customer for c in configs],
            "source": [c.name for c in configs],
            "source_file": [str(c.path) for c in configs],
            "_cluster": [c.cluster for c in configs],
        },
        schema={"_file": pl.UInt32(), "customer": pl.String(), "source": pl.String(), "source_file": pl.String(), "_cluster": pl.String()},
    )
    rows = pl.concat(
        [part.with_columns(_file=pl.lit(i, pl.UInt32())) for i, part in enumerate(parts)], how="diagonal_relaxed"
    )
    return rows.join(lineage, on="_file", how="left", maintain_order="left").with_columns(pl.col("source_row").cast(pl.Int64()))


def _rows(configs: Sequence[SourceConfig], frame: pl.DataFrame) -> FileRows:
    return FileRows([c.path or c.name for c in configs], frame, row_column="source_row")


def _raw(frame: pl.DataFrame) -> pl.DataFrame:
    """The files' fields as text, after the lineage columns."""
    fields = [c for c in frame.columns if c not in RAW_LINEAGE and not c.startswith("_")]
    return frame.select(
        "customer", "source", "source_file", extracted_at=pl.lit(datetime.now(UTC).replace(tzinfo=None), pl.Datetime("us")),
        source_row="source_row", **{c: pl.col(c).cast(pl.String()) for c in fields},
    )


def _site(batch: FileRows, configs: Sequence[SourceConfig]) -> pl.Expr:
    """The row's node as a full path; '' is unmapped (null). A named node must exist under
    the customer: an unknown one is bad input, not an unmapped device."""
    value = pl.col("hierarchy").str.strip_chars()
    customer = pl.col("customer")
    absolute = pl.when((value == customer) | value.str.starts_with(customer + ".")).then(value).otherwise(customer + "." + value)
    # A node the load itself defines counts for every source of the load.
    nodes = sorted(set().union(*{id(c.known_nodes): c.known_nodes for c in configs}.values()))
    batch.refuse((value != "") & ~absolute.is_in(nodes), "hierarchy", "{value!r} is not a node of the hierarchy under {customer}")
    return pl.when(value == "").then(None).otherwise(absolute)


READERS = {"usages": read_usages, "vendor_numbers": read_vendor_numbers}
BATCH_READERS = {"usages": read_usages_batch, "vendor_numbers": read_vendor_numbers_batch}
