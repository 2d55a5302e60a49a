"""Microsoft Teams: phone number assignments and online users.

Kinds:
- `teams_number_assignment`: `Get-CsPhoneNumberAssignment` output, either as Format-List
  text (records separated by blank lines, `Name : value` lines padded with spaces or TABs)
  or as its `Export-Csv` file (same property names in the header; Windows PowerShell's
  `#TYPE` first line and UTF-16 files written by `>` are accepted). The cmdlet returns 500
  records unless `-Top` says otherwise: export with `-Top` large enough for the tenant.
- `teams_graph_number_assignments`: Microsoft Graph
  `GET /admin/teams/telephoneNumberManagement/numberAssignments` response bodies, one file
  or a folder of page files (every page but the last carries `@odata.nextLink`). Graph does
  not report assignment blocks, so its unassigned numbers carry no blocked state.
- `teams_online_users`: `Get-CsOnlineUser | Export-Csv`. No real export of it was available:
  the reader uses only the documented column names (`UserPrincipalName`, `LineURI`,
  optional `OnPremLineURI`, `NumberType`, any column as site field), matched in any case.

Assigned numbers (any assignment status but `Unassigned`) are usages
`device/msteamsonline/CsOnlineUser` owned by the assignment target; every number is also a
vendor number (SPEC 4.4, 4.3 rule 7) with its assignment and block. An all-zero GUID means
"none". Dates in `AssignmentBlockedUntil` are ISO 8601 unless the source sets
`options.date_format` (a strptime format, e.g. `%m/%d/%Y %I:%M:%S %p` for en-US PowerShell):
a culture's date is never guessed, as 6/7 may be June or July.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from schemas.tables import STAGED_VENDOR_NUMBERS
from sources.base import (
    SourceConfig,
    SourceError,
    SourceFrames,
    read_file_bytes,
    require_path,
    usages_frame,
    with_lineage,
)
from sources.csvfile import parse_csv_text
from sources.jsonfile import (
    concat_pages,
    find_columns,
    first_bad_record,
    json_page_paths,
    keyed_site,
    object_list,
    read_json_file,
    records_frame,
)
from transforms.numbers import normalise_number

RAW_NUMBER_ASSIGNMENT = "raw_teams_number_assignment"
RAW_GRAPH_NUMBER_ASSIGNMENTS = "raw_teams_graph_number_assignments"
RAW_ONLINE_USERS = "raw_teams_online_users"

DEVICE_TYPE = "device/msteamsonline/CsOnlineUser"
VENDOR = "Microsoft"
NO_GUID = "00000000-0000-0000-0000-000000000000"
# PowerShell (`CallingPlan`) and Graph (`callingPlan`) spellings, compared in lower case.
NUMBER_TYPES = {"callingplan": "Calling Plan", "directrouting": "Direct Routing", "operatorconnect": "Operator Connect"}
BLOCKED_STATES = {
    "": "",
    "notblocked": "NotBlocked",
    "blockeduntil": "BlockedUntil",
    "blockedforever": "BlockedForever",
}
UNASSIGNED = "unassigned"

# A Format-List line: a property name, padding (spaces or TABs), a colon, the value.
_FIELD_LINE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?P<value>.*)$")
_ISO_DATE = r"^(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$"


@dataclass(frozen=True)
class AssignmentFields:
    """Where one spelling of the number assignment object keeps what the audit needs."""

    number: str
    number_type: str
    status: str
    target: str
    location: str
    blocked_state: str | None = None
    blocked_until: str | None = None


POWERSHELL_FIELDS = AssignmentFields(
    "TelephoneNumber",
    "NumberType",
    "PstnAssignmentStatus",
    "AssignedPstnTargetId",
    "LocationId",
    "AssignmentBlockedState",
    "AssignmentBlockedUntil",
)
GRAPH_FIELDS = AssignmentFields("telephoneNumber", "numberType", "assignmentStatus", "assignmentTargetId", "locationId")


# --- Get-CsPhoneNumberAssignment -------------------------------------------------------------


def read_number_assignment(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    return parse_number_assignment_text(read_powershell_text(path), path, config)


def parse_number_assignment_text(
    text: str, origin: Path | str, config: SourceConfig, extracted_at: datetime | None = None
) -> SourceFrames:
    """Format-List text or Export-Csv text, told apart by the first line."""
    first_line = next((line for line in _lines(text) if line.strip()), "")
    if _FIELD_LINE.match(first_line):
        records, first_lines = parse_format_list(text, origin)
        return assignment_frames(
            records_frame(records, origin),
            POWERSHELL_FIELDS,
            config,
            origin,
            RAW_NUMBER_ASSIGNMENT,
            record_lines=first_lines,
            extracted_at=extracted_at,
        )
    frame, first_row = parse_export_csv(text, origin)
    return assignment_frames(
        frame,
        POWERSHELL_FIELDS,
        config,
        origin,
        RAW_NUMBER_ASSIGNMENT,
        first_row=first_row,
        error_first_row=first_row,
        header_row=first_row - 1,
        extracted_at=extracted_at,
    )


def parse_format_list(text: str, origin: Path | str) -> tuple[list[dict[str, str]], list[int]]:
    """Records of `Name : value` lines separated by blank lines, and each record's first line.

    Values lose their padding and trailing spaces; an empty value is ''. A line that is
    neither blank nor `Name : value` (a value Format-List wrapped onto a second line, a
    prompt, a stray message) is refused: guessing what it belongs to could lose a number.
    """
    records: list[dict[str, str]] = []
    first_lines: list[int] = []
    current: dict[str, str] | None = None
    for line_number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            current = None
            continue
        if current is None:
            current = {}
            records.append(current)
            first_lines.append(line_number)
        match = _FIELD_LINE.match(line)
        if match is None:
            raise SourceError(
                origin,
                f"line {line_number}: {line.strip()[:80]!r} is not a 'Name : value' line (if Format-List "
                "wrapped a long value, write the output with `Out-String -Width 4096` or use Export-Csv)",
                row=len(records),
            )
        name = match["name"]
        if name in current:
            raise SourceError(
                origin,
                f"line {line_number}: {name} appears twice in one record (is the blank line between two "
                "records missing?)",
                row=len(records),
                column=name,
            )
        current[name] = match["value"].strip(" \t")
    if not records:
        raise SourceError(origin, "holds no records: expected Get-CsPhoneNumberAssignment output")
    return records, first_lines


# --- Graph numberAssignments -----------------------------------------------------------------


def read_graph_number_assignments(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    extracted_at = _now()
    paths = json_page_paths(path)
    documents = [read_json_file(page) for page in paths]
    for index, (page, document) in enumerate(zip(paths, documents, strict=True)):
        object_list(document, "value", page, single_object_allowed=True)
        has_next = graph_next_link(document) is not None
        if index == len(paths) - 1 and has_next:
            raise SourceError(
                page,
                "has '@odata.nextLink': it is one page of a longer list, and the numbers of the missing "
                "pages would look freed; save every page (a folder of page files)",
            )
        if index < len(paths) - 1 and not has_next:
            raise SourceError(
                page, f"has no '@odata.nextLink' but {len(paths) - 1 - index} more page file(s) follow it in name order"
            )
    pages = []
    next_row = 1
    for page, document in zip(paths, documents, strict=True):
        frames = parse_graph_page(document, page, config, first_row=next_row, extracted_at=extracted_at)
        next_row += frames.raw[RAW_GRAPH_NUMBER_ASSIGNMENTS].height
        pages.append(frames)
    return concat_pages(pages)


def parse_graph_page(
    document: Any, origin: Path | str, config: SourceConfig, *, first_row: int = 1, extracted_at: datetime | None = None
) -> SourceFrames:
    """One response body. `first_row` numbers its first record in the whole listing (lineage);
    errors name the record's position in this page."""
    records = object_list(document, "value", origin, single_object_allowed=True)
    return assignment_frames(
        records_frame(records, origin),
        GRAPH_FIELDS,
        config,
        origin,
        RAW_GRAPH_NUMBER_ASSIGNMENTS,
        first_row=first_row,
        extracted_at=extracted_at,
        header_row=None,
    )


def graph_next_link(document: Any) -> str | None:
    link = document.get("@odata.nextLink") if isinstance(document, dict) else None
    return link if isinstance(link, str) and link else None


# --- shared by both assignment spellings ------------------------------------------------------


def assignment_frames(
    raw: pl.DataFrame,
    fields: AssignmentFields,
    config: SourceConfig,
    origin: Path | str,
    raw_table: str,
    *,
    first_row: int = 1,
    error_first_row: int = 1,
    header_row: int | None = 1,
    record_lines: Sequence[int] | None = None,
    extracted_at: datetime | None = None,
) -> SourceFrames:
    """Usages and vendor numbers of number assignment records held as text columns."""
    extracted_at = extracted_at or _now()
    frames = SourceFrames(raw={raw_table: with_lineage(raw, config, extracted_at, first_row)})
    if raw.is_empty() and header_row is None:
        return frames  # no record names a field; a CSV header is checked even without rows

    def refuse(index: int, message: str, column: str | None) -> SourceError:
        where = f" (the record starting at line {record_lines[index]})" if record_lines else ""
        return SourceError(origin, message + where, row=error_first_row + index, column=column)

    wanted = {
        "number": [fields.number],
        "status": [fields.status],
        "number_type": [fields.number_type],
        "target": [fields.target],
        "site": [config.site_field or fields.location],
    }
    if fields.blocked_state and fields.blocked_until:
        wanted |= {"blocked_state": [fields.blocked_state], "blocked_until": [fields.blocked_until]}
    # A CSV names its columns once, in the header; records of text or JSON name their own fields.
    per_record = ("number", "status") if header_row is None else ()
    columns = find_columns(
        raw.columns,
        wanted,
        origin,
        optional=(*per_record, "number_type", "target"),
        row=header_row,
        why={
            "blocked_state": "without it a number Teams blocks from assignment would look free; export every "
            "property, with a Teams module that reports assignment blocks",
            "blocked_until": "without it a number Teams blocks until a date would look free",
        },
    )

    def text(field: str) -> pl.Expr:
        column = columns.get(field)
        return pl.lit("") if column is None else pl.col(column).fill_null("").str.strip_chars()

    for field in ("number", "status"):
        index = first_bad_record(raw, text(field) == "")
        if index is not None:
            name = columns[field] or wanted[field][0]
            raise refuse(index, f"record has no {name}", name)

    blocked_key = text("blocked_state").str.to_lowercase()
    index = first_bad_record(raw, ~blocked_key.is_in(list(BLOCKED_STATES)))
    if index is not None:
        name = str(columns.get("blocked_state"))
        allowed = ", ".join(v for v in BLOCKED_STATES.values() if v)
        raise refuse(index, f"{raw[index, name]!r} is not an assignment block state ({allowed}, or empty)", name)
    blocked_state = blocked_key.replace_strict(BLOCKED_STATES, return_dtype=pl.String())
    blocked_until = _blocked_until(raw, text("blocked_until"), columns.get("blocked_until"), config, refuse)
    index = first_bad_record(raw, (blocked_state == "BlockedUntil") & blocked_until.is_null())
    if index is not None:
        raise refuse(
            index, "AssignmentBlockedState is BlockedUntil but no date says until when", columns.get("blocked_until")
        )

    target = _no_guid(text("target"))
    site_key = _no_guid(text("site"))
    numbers = raw.with_row_index("source_row", offset=first_row).select(
        pl.col("source_row").cast(pl.Int64()),
        pl.col(str(columns["number"])).alias("number_raw"),
        text("number_type")
        .str.to_lowercase()
        .str.replace_all(" ", "")
        .replace_strict(NUMBER_TYPES, default="", return_dtype=pl.String())
        .alias("number_type"),
        (text("status").str.to_lowercase() != UNASSIGNED).alias("assigned"),
        target.alias("target"),
        keyed_site(site_key, config).alias("site"),
        site_key.alias("site_key"),
        blocked_state.alias("blocked_state"),
        blocked_until.alias("blocked_until"),
    )
    frames.usages = usages_frame(
        numbers.filter("assigned").select(
            "source_row",
            "number_raw",
            pl.lit(DEVICE_TYPE).alias("device_type"),
            pl.col("target").alias("device_name"),
            pl.col("target").alias("owner"),
            pl.lit(VENDOR).alias("vendor"),
            "number_type",
            "site",
            "site_key",
        ),
        config,
    )
    frames.vendor_numbers = numbers.with_columns(
        customer=pl.lit(config.customer),
        source=pl.lit(config.name),
        number=normalise_number(pl.col("number_raw")),
        vendor=pl.lit(VENDOR),
    ).select([pl.col(c).cast(t) for c, t in STAGED_VENDOR_NUMBERS.items()])
    return frames


def _no_guid(value: pl.Expr) -> pl.Expr:
    return pl.when(value == NO_GUID).then(pl.lit("")).otherwise(value)


def _blocked_until(
    raw: pl.DataFrame,
    value: pl.Expr,
    column: str | None,
    config: SourceConfig,
    refuse: Callable[[int, str, str | None], SourceError],
) -> pl.Expr:
    date_format = config.options.get("date_format")
    parsed = value.str.extract(_ISO_DATE).str.to_date("%Y-%m-%d", strict=False)
    if date_format:
        parsed = pl.coalesce(parsed, value.str.to_datetime(str(date_format), strict=False).dt.date())
        expected = f"an ISO 8601 date nor a date in the source's date_format {date_format!r}"
    else:
        expected = (
            "an ISO 8601 date; for a date in the culture of the PowerShell session set the source's "
            "options.date_format, e.g. '%m/%d/%Y %I:%M:%S %p' for en-US"
        )
    index = first_bad_record(raw, (value != "") & parsed.is_null())
    if index is not None and column is not None:
        raise refuse(index, f"{raw[index, column]!r} is not {expected}", column)
    return pl.when(value == "").then(None).otherwise(parsed)


# --- Get-CsOnlineUser -------------------------------------------------------------------------


def read_online_users(config: SourceConfig) -> SourceFrames:
    path = require_path(config)
    return parse_online_users_text(read_powershell_text(path), path, config)


def parse_online_users_text(
    text: str, origin: Path | str, config: SourceConfig, extracted_at: datetime | None = None
) -> SourceFrames:
    """A user with a LineURI (else an OnPremLineURI) uses that number; others use none."""
    frame, first_row = parse_export_csv(text, origin)
    wanted = {
        "user": ["UserPrincipalName"],
        "line_uri": ["LineURI"],
        "on_prem_line_uri": ["OnPremLineURI"],
        "number_type": ["NumberType"],
    }
    if config.site_field:
        wanted["site"] = [config.site_field]
    columns = find_columns(
        frame.columns, wanted, origin, optional=("on_prem_line_uri", "number_type"), row=first_row - 1
    )

    def text_of(field: str) -> pl.Expr:
        column = columns.get(field)
        return pl.lit("") if column is None else pl.col(column).str.strip_chars()

    line_uri = pl.when(text_of("line_uri") != "").then(text_of("line_uri")).otherwise(text_of("on_prem_line_uri"))
    site_key = text_of("site")
    usages = (
        frame.with_row_index("source_row", offset=first_row)
        .select(
            pl.col("source_row").cast(pl.Int64()),
            line_uri.alias("number_raw"),
            pl.lit(DEVICE_TYPE).alias("device_type"),
            text_of("user").alias("device_name"),
            text_of("user").alias("owner"),
            pl.lit(VENDOR).alias("vendor"),
            text_of("number_type")
            .str.to_lowercase()
            .str.replace_all(" ", "")
            .replace_strict(NUMBER_TYPES, default="", return_dtype=pl.String())
            .alias("number_type"),
            keyed_site(site_key, config).alias("site"),
            site_key.alias("site_key"),
        )
        .filter(pl.col("number_raw") != "")
    )
    raw = with_lineage(frame, config, extracted_at or _now(), first_row)
    return SourceFrames(raw={RAW_ONLINE_USERS: raw}, usages=usages_frame(usages, config))


# --- PowerShell files -------------------------------------------------------------------------


def read_powershell_text(path: Path) -> str:
    """A file PowerShell wrote: UTF-8 (with or without BOM), or UTF-16 with its BOM (what
    Windows PowerShell's `>` and `Out-File` write by default)."""
    data = read_file_bytes(path)
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # its BOM begins like UTF-16's
        raise SourceError(path, "is UTF-32 text: write it as UTF-8 or UTF-16 (Out-File -Encoding utf8)")
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(path, f"line {line}: is not UTF-8 or UTF-16 text") from error
    if not text.strip():
        raise SourceError(path, "is empty")
    return text


def parse_export_csv(text: str, origin: Path | str) -> tuple[pl.DataFrame, int]:
    """An `Export-Csv` file as text columns, and the spreadsheet row of its first record.

    Windows PowerShell writes `#TYPE <class>` above the header unless told
    `-NoTypeInformation`; that line is skipped (so the header is row 2)."""
    first_row = 2
    if text.startswith("#TYPE"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        first_row = 3
    if not text.strip():
        raise SourceError(origin, "has no CSV header row", row=first_row - 1)
    return parse_csv_text(text, origin, header_row=first_row - 1), first_row


def _lines(text: str) -> list[str]:
    # Not str.splitlines: it also splits at form feeds and Unicode separators inside values.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


READERS = {
    "teams_number_assignment": read_number_assignment,
    "teams_graph_number_assignments": read_graph_number_assignments,
    "teams_online_users": read_online_users,
}
