"""Multi-vendor phones (SPEC 6): a CSV with number, phoneVendor, device name and site.

Kind `multivendor_phones`. Headers match in any case, with the spellings administrators
use: `phoneVendor`/`phone_vendor`/`vendor`, `device name`/`deviceName`/`device_name`.
Each row is a usage `data/PRS_MultiVendorPhone_DAT` whose vendor is the row's phoneVendor,
which the inventory shows, so it must not be empty. The site key is the `site` column
(or the column the source's `site_field` names).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from sources.base import SourceConfig, SourceError, SourceFrames, require_path, usages_frame, with_lineage
from sources.csvfile import FIRST_DATA_ROW, read_text_csv
from sources.jsonfile import find_columns, first_bad_record, keyed_site

RAW_PHONES = "raw_multivendor_phones"
DEVICE_TYPE = "data/PRS_MultiVendorPhone_DAT"
DEFAULT_SITE_FIELD = "site"
COLUMNS = {
    "number": ["number"],
    "vendor": ["phoneVendor", "phone_vendor", "vendor"],
    "device_name": ["device name", "deviceName", "device_name"],
}


def read_phones(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    return parse_phones(read_text_csv(path), path, config)


def parse_phones(
    frame: pl.DataFrame,
    origin: Path | str,
    config: SourceConfig,
    *,
    first_row: int = FIRST_DATA_ROW,
    extracted_at: datetime | None = None,
) -> SourceFrames:
    """The CSV as text columns (`first_row`: the row number of its first record)."""
    columns = {
        field: str(column)
        for field, column in find_columns(
            frame.columns, {**COLUMNS, "site": [config.site_field or DEFAULT_SITE_FIELD]}, origin, row=first_row - 1
        ).items()
    }
    vendor = pl.col(columns["vendor"]).str.strip_chars()
    index = first_bad_record(frame, vendor == "")
    if index is not None:
        raise SourceError(
            origin,
            "phoneVendor is empty: the inventory shows it as the number's vendor",
            row=first_row + index,
            column=columns["vendor"],
        )
    site_key = pl.col(columns["site"]).str.strip_chars()
    usages = frame.with_row_index("source_row", offset=first_row).select(
        pl.col("source_row").cast(pl.Int64()),
        pl.col(columns["number"]).alias("number_raw"),
        pl.lit(DEVICE_TYPE).alias("device_type"),
        pl.col(columns["device_name"]).str.strip_chars().alias("device_name"),
        vendor.alias("vendor"),
        keyed_site(site_key, config).alias("site"),
        site_key.alias("site_key"),
    )
    raw = with_lineage(frame, config, extracted_at or datetime.now(UTC).replace(tzinfo=None), first_row)
    return SourceFrames(raw={RAW_PHONES: raw}, usages=usages_frame(usages, config))


READERS = {"multivendor_phones": read_phones}
