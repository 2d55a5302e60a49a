"""AudioCodes SBC registered users.

Kind `audiocodes_registered_users`. No real CLI, REST or OVOC output of this table was
available (formats/audiocodes/PROVENANCE.md): the reader is modelled on the "SBC Registered
Users" table of the Mediant user's manuals, read as a CSV with the manual's two columns
`Address of Record` and `Contact`; it is not a captured vendor output. Further columns (the
SBC's name, say) are kept raw and may serve as the site field.

- Number: the user part of the AOR (`1000@10.8.5.71` -> `1000`); a user that is not a
  number (`Sue`) is kept and becomes a bad_number exception in the audit.
- Online (SPEC 4.3 rule 5): a user is online when any of its contacts is registered. Older
  firmware writes `Active status:1` (registered) or `Active status:0` (pending); newer
  firmware writes nothing when registered and `Not-Active` when pending. A cell may hold
  several contacts; each starts with its URI (`<sip:...>`) or with `Userinfo`.
- Site key: the IP group index of `IPG:<n>` in the contact (so `site_map` maps "1" to a
  site), unless the source's `site_field` names a column.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from sources.base import SourceConfig, SourceError, SourceFrames, require_path, usages_frame, with_lineage
from sources.csvfile import FIRST_DATA_ROW, read_text_csv
from sources.jsonfile import find_columns, keyed_site

RAW_REGISTERED_USERS = "raw_audiocodes_registered_users"
DEVICE_TYPE = "device/audiocodes"
VENDOR = "AudioCodes"
IP_GROUP_FIELD = "IPG"  # the default site field: the contact's IP group index
COLUMNS = {"aor": ["Address of Record"], "contact": ["Contact"]}

# A contact starts with its URI or with `Userinfo` (newer firmware's contacts from the User
# Information table); contacts are separated by whitespace, commas or line breaks.
_CONTACT_START = re.compile(r"(?:^|[\s,]+)(?=<|Userinfo\b)", re.IGNORECASE)
_NOT_ACTIVE = re.compile(r"\bNot-Active\b", re.IGNORECASE)
# The manual's own text wraps `Active status:1` over two lines: any whitespace may separate.
_ACTIVE_STATUS = re.compile(r"\bActive\s*status\s*:\s*([^\s;,]*)", re.IGNORECASE)
_IP_GROUP = re.compile(r"\bIPG\s*:\s*(\d+)", re.IGNORECASE)


def read_registered_users(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    return parse_registered_users(read_text_csv(path), path, config)


def parse_registered_users(
    frame: pl.DataFrame,
    origin: Path | str,
    config: SourceConfig,
    *,
    first_row: int = FIRST_DATA_ROW,
    extracted_at: datetime | None = None,
) -> SourceFrames:
    """The table as text columns (`first_row`: the row number of its first record)."""
    by_column = bool(config.site_field) and str(config.site_field).upper() != IP_GROUP_FIELD
    wanted = {**COLUMNS, "site": [str(config.site_field)]} if by_column else COLUMNS
    columns = find_columns(frame.columns, wanted, origin, row=first_row - 1)
    aor, contact = str(columns["aor"]), str(columns["contact"])

    online, ip_groups = [], []
    for index, cell in enumerate(frame[contact].to_list()):
        try:
            registered, ip_group = contact_state(cell or "")
        except ValueError as error:
            raise SourceError(origin, str(error), row=first_row + index, column=contact) from error
        online.append(registered)
        ip_groups.append(ip_group)

    site_key = pl.col(str(columns["site"])).str.strip_chars() if by_column else pl.col("_ip_group")
    usages = (
        frame.with_row_index("source_row", offset=first_row)
        .with_columns(
            pl.Series("_online", online, dtype=pl.Boolean()), pl.Series("_ip_group", ip_groups, dtype=pl.String())
        )
        .select(
            pl.col("source_row").cast(pl.Int64()),
            pl.col(aor).str.strip_chars().str.split("@").list.first().alias("number_raw"),
            pl.lit(DEVICE_TYPE).alias("device_type"),
            pl.col(aor).str.strip_chars().alias("device_name"),
            pl.lit(VENDOR).alias("vendor"),
            pl.col("_online").alias("online"),
            keyed_site(site_key, config).alias("site"),
            site_key.alias("site_key"),
        )
    )
    raw = with_lineage(frame, config, extracted_at or datetime.now(UTC).replace(tzinfo=None), first_row)
    return SourceFrames(raw={RAW_REGISTERED_USERS: raw}, usages=usages_frame(usages, config))


def contact_state(cell: str) -> tuple[bool, str]:
    """(registered, IP group index) of a Contact cell: registered when any contact is; the IP
    group of the first registered contact that names one, else of the first that does.
    An empty cell has no registered contact. Raises ValueError for an unknown status."""
    registered_groups: list[str] = []
    other_groups: list[str] = []
    registered = False
    for contact in (c.strip() for c in _CONTACT_START.split(cell)):
        if not contact:
            continue
        status = _ACTIVE_STATUS.search(contact)
        if _NOT_ACTIVE.search(contact):
            active = False
        elif status is None:
            active = True  # newer firmware shows no status for a registered contact
        elif status.group(1) in ("0", "1"):
            active = status.group(1) == "1"
        else:
            raise ValueError(f"{status.group(0)!r} is not a registration status (Active status:1 or :0)")
        registered = registered or active
        group = _IP_GROUP.search(contact)
        if group:
            (registered_groups if active else other_groups).append(group.group(1))
    return registered, next(iter(registered_groups + other_groups), "")


READERS = {"audiocodes_registered_users": read_registered_users}
