"""The contract every source reader fulfils, and what readers share.

A reader turns one vendor export (or API response) into:
- raw tables `raw_<vendor>_<object>`: every vendor field as text, plus lineage columns;
- normalised usages (schemas.tables.STAGED_USAGES), vendor numbers and E.164 associations.
It reads only; the loader validates and writes everything in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from schemas.tables import (
    RAW_LINEAGE,
    STAGED_E164,
    STAGED_USAGES,
    STAGED_VENDOR_NUMBERS,
    empty,
)
from transforms.numbers import normalise_number

# A reason longer than this is cut in its middle: a multi-MB cell quoted in a message would
# flood the terminal and the logs, while the value's start and the sentence's end say enough.
MAX_REASON = 500


class SourceError(ValueError):
    """Bad input: names the file, and the row and column when known. Nothing gets written."""

    def __init__(self, file: Path | str, message: str, *, row: int | None = None, column: str | None = None) -> None:
        message = shortened(message)
        self.file, self.row, self.column, self.reason = str(file), row, column, message
        where = str(file)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


def shortened(text: str, limit: int = MAX_REASON) -> str:
    """`text`, or its start and end with the count of characters left out between them."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail
    return f"{text[:head]}…[{len(text) - head - tail} characters left out]…{text[-tail:]}"


@dataclass(frozen=True)
class SourceConfig:
    """One `[[sources]]` entry of an estate file, with its paths resolved."""

    name: str
    kind: str
    customer: str  # hierarchy path of the customer the source belongs to
    path: Path | None = None  # a file export; None for live API sources
    cluster: str = ""
    # How a vendor field maps to a site: `site_field` names the field (device pool, location,
    # IP group, a column); `site_map` maps its values to hierarchy paths. Without a map, the
    # field's value is taken as a site name under the customer or a full path.
    site_field: str | None = None
    site_map: Mapping[str, str] = field(default_factory=dict)
    default_site: str | None = None  # where rows without a site field land (None: customer)
    options: Mapping[str, Any] = field(default_factory=dict)
    known_nodes: frozenset[str] = frozenset()  # hierarchy paths, for site resolution


@dataclass
class SourceFrames:
    raw: dict[str, pl.DataFrame] = field(default_factory=dict)
    usages: pl.DataFrame = field(default_factory=lambda: empty(STAGED_USAGES))
    vendor_numbers: pl.DataFrame = field(default_factory=lambda: empty(STAGED_VENDOR_NUMBERS))
    e164: pl.DataFrame = field(default_factory=lambda: empty(STAGED_E164))


Reader = Callable[[SourceConfig], SourceFrames]


def require_path(config: SourceConfig) -> Path:
    """The export file a file-based source reads."""
    if config.path is None:
        raise SourceError(f"source {config.name!r}", f"kind {config.kind!r} needs a `path` to an export file")
    return config.path


def files_inside(folder: Path, files: list[Path]) -> list[Path]:
    """`files` of `folder`, refusing one that is a link to a file outside it: the estate's
    check that its files sit in its folder looks at the folder, not at what lies in it."""
    root = folder.resolve()
    for file in files:
        if not file.resolve().is_relative_to(root):
            raise SourceError(file, f"is a link to {file.resolve()}, outside the folder {folder}; refused")
    return files


def read_file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except IsADirectoryError as error:
        raise SourceError(path, "is a folder, not a file") from error
    except PermissionError as error:
        raise SourceError(path, "cannot be read (permission denied)") from error


def with_lineage(raw: pl.DataFrame, config: SourceConfig, extracted_at: datetime, first_row: int = 1) -> pl.DataFrame:
    """Vendor fields as text, with customer, source, file, extract time and row.

    `first_row` is the row number of the first record as a user would find it: 2 for a CSV
    (the header is row 1, as in a spreadsheet), 1 for the first record of a JSON or XML list.
    """
    location = str(config.path) if config.path else str(config.options.get("url", ""))
    lineage = pl.DataFrame(
        {
            "customer": [config.customer] * raw.height,
            "source": [config.name] * raw.height,
            "source_file": [location] * raw.height,
            "extracted_at": [extracted_at] * raw.height,
            "source_row": list(range(first_row, first_row + raw.height)),
        },
        schema=RAW_LINEAGE,
    )
    return pl.concat([lineage, raw.cast(pl.String())], how="horizontal")


def resolve_site(key: pl.Expr, config: SourceConfig) -> pl.Expr:
    """Hierarchy path of the site a vendor value names, or null when it cannot be resolved."""
    if config.site_map:
        mapped = key.replace_strict(
            {k: _absolute(v, config.customer) for k, v in config.site_map.items()},
            default=None,
            return_dtype=pl.String(),
        )
    else:
        absolute = (
            pl.when(key.str.starts_with(config.customer + ".")).then(key).otherwise(pl.lit(config.customer + ".") + key)
        )
        mapped = pl.when(key.is_null() | (key == "")).then(None).otherwise(absolute)
    return pl.when(mapped.is_in(list(config.known_nodes))).then(mapped).otherwise(None)


def default_site(config: SourceConfig) -> str:
    return _absolute(config.default_site, config.customer) if config.default_site else config.customer


def _absolute(path: str, customer: str) -> str:
    return path if path == customer or path.startswith(customer + ".") else f"{customer}.{path}"


_TEXT_DEFAULTED = ["device_name", "cluster", "partition", "vendor", "number_type", "owner", "e164", "site_key"]


def usages_frame(frame: pl.DataFrame, config: SourceConfig) -> pl.DataFrame:
    """Complete a reader's usage columns into STAGED_USAGES: lineage, normalised number, defaults.

    `frame` must hold at least `source_row`, `number_raw`, `device_type`, `site`, `site_key`;
    missing optional columns get their neutral value ('' / online true).
    """
    defaults: dict[str, pl.Expr] = {
        "device_name": pl.lit(""),
        "cluster": pl.lit(config.cluster),
        "partition": pl.lit(""),
        "vendor": pl.lit(""),
        "number_type": pl.lit(""),
        "owner": pl.lit(""),
        "online": pl.lit(True),
        "e164": pl.lit(""),
    }
    return (
        frame.with_columns([expr.alias(name) for name, expr in defaults.items() if name not in frame.columns])
        .with_columns(
            pl.col(_TEXT_DEFAULTED).cast(pl.String()).fill_null(""),
            customer=pl.lit(config.customer),
            source=pl.lit(config.name),
            number=normalise_number(pl.col("number_raw")),
        )
        .select([pl.col(name).cast(dtype) for name, dtype in STAGED_USAGES.items()])
    )
