"""Webex Calling: `GET /v1/telephony/config/numbers` response bodies.

Kind `webex_numbers`: one response body per file, or a folder of page files (`max`/`start`
paging; Webex pages through `Link` headers, so a body cannot tell whether more follow).
Only the real body shape is read (`{"count": {...}, "phoneNumbers": [...]}`, `count` only
with `details=true`), not the API-documentation wrapper around the published example.

A number with an `owner` is used: usage `device/spark/Number` whose number is `phoneNumber`
(number type `Phone Number`) or, on extension-only rows where `phoneNumber` is `""`, the
`extension` (number type `Extension`). Webex leaves `owner` out of unassigned numbers: they
land raw only. Nested objects are kept raw as dotted columns (`location.name`, `owner.type`);
the site key is `location.name` unless the source names another field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from sources.base import SourceConfig, SourceError, SourceFrames, require_path, usages_frame, with_lineage
from sources.jsonfile import (
    concat_pages,
    find_columns,
    json_page_paths,
    keyed_site,
    object_list,
    read_json_file,
    records_frame,
)

RAW_NUMBERS = "raw_webex_numbers"
DEVICE_TYPE = "device/spark/Number"
VENDOR = "Webex Calling"
DEFAULT_SITE_FIELD = "location.name"


def read_numbers(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    extracted_at = datetime.now(UTC).replace(tzinfo=None)
    pages = []
    next_row = 1
    for page in json_page_paths(path):
        frames = parse_numbers_page(read_json_file(page), page, config, first_row=next_row, extracted_at=extracted_at)
        next_row += frames.raw[RAW_NUMBERS].height
        pages.append(frames)
    return concat_pages(pages)


def parse_numbers_page(
    document: Any, origin: Path | str, config: SourceConfig, *, first_row: int = 1, extracted_at: datetime | None = None
) -> SourceFrames:
    """One response body. `first_row` numbers its first record in the whole listing (lineage);
    errors name the record's position in this page."""
    records = object_list(document, "phoneNumbers", origin)
    raw = records_frame(records, origin, what="phone number")
    owned = []
    for index, record in enumerate(records):
        owner = record.get("owner")
        if owner is not None and not isinstance(owner, dict):
            raise SourceError(origin, f"'owner' must be an object, found {owner!r}", row=index + 1, column="owner")
        owned.append(owner is not None)
    frames = SourceFrames(
        raw={RAW_NUMBERS: with_lineage(raw, config, extracted_at or datetime.now(UTC).replace(tzinfo=None), first_row)}
    )
    if raw.is_empty():
        return frames

    site_field = config.site_field or DEFAULT_SITE_FIELD
    site_column = find_columns(raw.columns, {"site": [site_field]}, origin, row=None)["site"]

    def text(name: str | None) -> pl.Expr:
        return pl.col(name).fill_null("").str.strip_chars() if name is not None and name in raw.columns else pl.lit("")

    phone_number = text("phoneNumber")
    owner_name = pl.concat_str([text("owner.firstName"), text("owner.lastName")], separator=" ").str.strip_chars()
    site_key = text(site_column)
    usages = (
        raw.with_row_index("source_row", offset=first_row)
        .with_columns(pl.Series("_owned", owned, dtype=pl.Boolean()))
        .filter("_owned")
        .select(
            pl.col("source_row").cast(pl.Int64()),
            pl.when(phone_number != "").then(phone_number).otherwise(text("extension")).alias("number_raw"),
            pl.lit(DEVICE_TYPE).alias("device_type"),
            pl.when(owner_name != "").then(owner_name).otherwise(text("owner.id")).alias("device_name"),
            text("owner.id").alias("owner"),
            pl.lit(VENDOR).alias("vendor"),
            pl.when(phone_number != "")
            .then(pl.lit("Phone Number"))
            .otherwise(pl.lit("Extension"))
            .alias("number_type"),
            keyed_site(site_key, config).alias("site"),
            site_key.alias("site_key"),
        )
    )
    frames.usages = usages_frame(usages, config)
    return frames


READERS = {"webex_numbers": read_numbers}
