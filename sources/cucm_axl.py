"""Cisco CUCM AXL SOAP responses: executeSQLQuery, getPhone and the list operations.

Kinds (a `path` is one response file or a folder of `*.xml` responses, read in sorted order):
- `cucm_axl_sql`: `executeSQLQueryResponse/return/row*` of a numplan query (see
  `sources/cucm_numbers.sql`, whose column names this reader expects). Raw table
  `raw_cucm_numplan`.
- `cucm_axl_getphone`: `getPhoneResponse/return/phone`, one usage per line. Raw tables
  `raw_cucm_phone` and `raw_cucm_phone_line` (the line's phone in `phone.name`, `phone.uuid`).
- `cucm_axl_list`: listLine, listHuntPilot, listCallPickupGroup, listCallPark,
  listDirectedCallPark, listMeetMe, listVoiceMailPilot. Raw table `raw_cucm_<item>`, e.g.
  `raw_cucm_huntpilot`. listLine does not say which device uses a line, nor whether any
  does: every `Device` line counts as a phone line with no device name (getPhone or the
  SQL export give the device, and leave out unassigned lines). Items map to sites by the
  source's `site_field` (e.g. `routePartitionName`); voicemail pilots have no partition and
  land at the source's default site.

`parse_axl_response` parses one response body, for files and for a live extractor's pages
alike; `concat_pages` (sources.jsonfile) joins the pages. Element names are matched on
their local names: the AXL namespace changes with the release (9.1, 10.5, 11.5, ...).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sources.base import SourceConfig, SourceError, SourceFrames, read_file_bytes, require_path
from sources.jsonfile import concat_pages
from sources.xmlfile import (
    Element,
    Origin,
    child,
    children,
    flatten_record,
    land_records,
    local_name,
    parse_xml,
    soap_response,
    source_files,
    staged_usages,
    text,
    usage_input,
)

PHONE = "device/cucm/Phone"
DEVICE_PROFILE = "device/cucm/DeviceProfile"
REMOTE_DESTINATION_PROFILE = "device/cucm/RemoteDestinationProfile"
CTI_ROUTE_POINT = "device/cucm/CtiRoutePoint"
HUNT_PILOT = "device/cucm/HuntPilot"
CALL_PICKUP_GROUP = "device/cucm/CallPickupGroup"
CALL_PARK = "device/cucm/CallPark"
DIRECTED_CALL_PARK = "device/cucm/DirectedCallPark"
MEET_ME = "device/cucm/MeetMe"
VOICEMAIL_PILOT = "device/cucm/VoicemailPilot"

SQL_RESPONSE = "executeSQLQueryResponse"
GET_PHONE_RESPONSE = "getPhoneResponse"

# Column names of the executeSQLQuery export (sources/cucm_numbers.sql; Informix returns
# them lower-case). Only the first two are required: the sample export has only those.
SQL_NUMBER = "dnorpattern"
SQL_USAGE = "tkpatternusage"
SQL_PARTITION = "routepartition"
SQL_DEVICE = "devicename"
SQL_DEVICE_CLASS = "deviceclass"
SQL_DEVICE_POOL = "devicepool"
SQL_OWNER = "owneruserid"
SQL_MASK = "e164mask"

# typepatternusage names in enum order (AXLEnums XPatternUsage): the position is the code
# that numplan.tkpatternusage holds. Codes 0-19 are confirmed by the CDR guide; 20-32 come
# from the enum order only, and none of them is a number in use either way.
PATTERN_USAGE_NAMES = (
    "CallPark", "Conference", "Device", "Translation", "Call Pick Up Group", "Route",
    "Message Waiting", "Hunt Pilot", "Voice Mail Port", "Domain Routing", "IPAddress Routing",
    "Device template", "Directed Call Park", "Device Intercom", "Translation Intercom",
    "Translation Calling Party Number", "Mobility Handoff", "Mobility Enterprise Feature Access",
    "Mobility IVR", "Device Intercom Template", "Called Party Number Transformation",
    "Call Control Discovery Learned Pattern", "Uri Routing", "ILS Learned Enterprise Number",
    "ILS Learned E164 Number", "ILS Learned Enterprise Numeric Pattern",
    "ILS Learned E164 Numeric Pattern", "Alternate Number", "ILS Learned URI",
    "ILS Learned PSTN Failover Rule", "ILS Imported E164 Number",
    "Centralized Conference Number", "Emergency Location ID Number",
)
# The CDR guide's name for code 17.
PATTERN_USAGE_ALIASES = {"Mobility DTMF": 17}
DEVICE_USAGE = "Device"  # the device type then comes from the device's class
NUMBER_USAGES = {
    "CallPark": CALL_PARK,
    "Conference": MEET_ME,
    "Device": DEVICE_USAGE,
    "Call Pick Up Group": CALL_PICKUP_GROUP,
    "Hunt Pilot": HUNT_PILOT,
    "Directed Call Park": DIRECTED_CALL_PARK,
}

DEVICE_CLASSES = {
    "Phone": PHONE,
    "Device Profile": DEVICE_PROFILE,
    "Remote Destination Profile": REMOTE_DESTINATION_PROFILE,
    "CTI Route Point": CTI_ROUTE_POINT,
}


def _key(value: str) -> str:
    """Names compared without case and spaces: `Call Pick Up Group` = `callpickupgroup`."""
    return "".join(value.split()).lower()


def _pattern_usages() -> dict[str, str | None]:
    """Name or code -> device type; None for a usage that is not a number in use."""
    codes = {name: code for code, name in enumerate(PATTERN_USAGE_NAMES)} | PATTERN_USAGE_ALIASES
    table: dict[str, str | None] = {}
    for name, code in codes.items():
        device_type = NUMBER_USAGES.get(PATTERN_USAGE_NAMES[code])
        table[_key(name)] = device_type
        table[str(code)] = device_type
    return table


PATTERN_USAGES = _pattern_usages()
_DEVICE_CLASS_TYPES = {_key(name): device_type for name, device_type in DEVICE_CLASSES.items()}


DEVICE_CLASS_TYPES = frozenset(DEVICE_CLASSES.values())


def device_type_of_class(device_class: str) -> str:
    """SPEC 3 device type of a device class name; anything else is a phone line."""
    return _DEVICE_CLASS_TYPES.get(_key(device_class), PHONE)


@dataclass(frozen=True)
class ListOperation:
    item: str  # the element of each item under `return`
    device_type: str
    number: str  # element holding the number
    device_name: str | None  # element naming the thing, when it has a name
    table: str
    # Items that never say where they are (no partition, no device pool): they land at the
    # source's default site, whatever site field the source names.
    placeless: bool = False


LIST_OPERATIONS = {
    "listLineResponse": ListOperation("line", PHONE, "pattern", None, "raw_cucm_line"),
    "listHuntPilotResponse": ListOperation("huntPilot", HUNT_PILOT, "pattern", None, "raw_cucm_huntpilot"),
    "listCallPickupGroupResponse": ListOperation(
        "callPickupGroup", CALL_PICKUP_GROUP, "pattern", "name", "raw_cucm_callpickupgroup"
    ),
    "listCallParkResponse": ListOperation("callPark", CALL_PARK, "pattern", None, "raw_cucm_callpark"),
    "listDirectedCallParkResponse": ListOperation(
        "directedCallPark", DIRECTED_CALL_PARK, "pattern", None, "raw_cucm_directedcallpark"
    ),
    "listMeetMeResponse": ListOperation("meetMe", MEET_ME, "pattern", None, "raw_cucm_meetme"),
    # Voicemail pilots carry their number in `dirn`, and have no partition.
    "listVoiceMailPilotResponse": ListOperation(
        "voiceMailPilot", VOICEMAIL_PILOT, "dirn", None, "raw_cucm_voicemailpilot", placeless=True
    ),
}

# getPhone elements that hold lists: kept as XML text in raw_cucm_phone (lines get a table).
PHONE_LISTS = frozenset(
    {"lines", "speeddials", "busyLampFields", "blfDirectedCallParks", "addOnModules", "services"}
)
LINE_LISTS = frozenset({"associatedEndusers"})
PHONE_SITE_FIELD = "devicePoolName"


# ----------------------------------------------------------------------------- readers


def read_cucm_axl_sql(config: SourceConfig) -> SourceFrames:
    return _read_responses(config, {SQL_RESPONSE})


def read_cucm_axl_getphone(config: SourceConfig) -> SourceFrames:
    return _read_responses(config, {GET_PHONE_RESPONSE})


def read_cucm_axl_list(config: SourceConfig) -> SourceFrames:
    return _read_responses(config, set(LIST_OPERATIONS))


def _read_responses(config: SourceConfig, accepted: Collection[str]) -> SourceFrames:
    """The responses of a file or a folder. Records are numbered across the files, as a live
    extraction numbers its pages: `source 'x' row 512` names one record of a paged export."""
    extracted_at = datetime.now(UTC).replace(tzinfo=None)
    pages = []
    first_record = 1
    for file in source_files(require_path(config), "*.xml"):
        page = parse_axl_response(
            read_file_bytes(file), file, config, extracted_at=extracted_at, first_record=first_record, accepted=accepted
        )
        # The first raw table holds one row per record (numplan row, phone, list item).
        first_record += next(iter(page.raw.values())).height
        pages.append(page)
    return concat_pages(pages)


def parse_axl_response(
    data: bytes,
    origin: Origin,
    config: SourceConfig,
    *,
    extracted_at: datetime | None = None,
    first_record: int = 1,
    accepted: Collection[str] | None = None,
) -> SourceFrames:
    """One AXL response body (a file, or one page of a live extraction).

    `first_record` numbers the response's first record (a later page starts after the
    earlier ones); `accepted` limits the response operations taken (all supported ones by
    default)."""
    at = extracted_at or datetime.now(UTC).replace(tzinfo=None)
    response = soap_response(parse_xml(data, origin), origin)
    operation = local_name(response.tag)
    supported = {SQL_RESPONSE, GET_PHONE_RESPONSE, *LIST_OPERATIONS}
    if operation not in (accepted or supported):
        expected = ", ".join(sorted(accepted or supported))
        raise SourceError(origin, f"is a {operation}; this source reads {expected}")
    if operation == SQL_RESPONSE:
        return parse_sql_response(response, origin, config, at, first_record)
    if operation == GET_PHONE_RESPONSE:
        return parse_getphone_response(response, origin, config, at, first_record)
    return parse_list_response(response, origin, config, at, first_record)


# ----------------------------------------------------------------------------- executeSQLQuery


def parse_sql_response(
    response: Element, origin: Origin, config: SourceConfig, extracted_at: datetime, first_record: int
) -> SourceFrames:
    """`return/row*`; a Device DN is a line in use unless the export has a `devicename`
    column and it is empty (the DN is configured but on no device)."""
    returned = child(response, "return")
    rows = [flatten_record(row) for row in children(returned, "row")] if returned is not None else []
    numbers = list(range(first_record, first_record + len(rows)))
    columns = {name for row in rows for name in row}
    site_field = config.site_field or (SQL_DEVICE_POOL if SQL_DEVICE_POOL in columns else None)
    if rows and site_field and site_field not in columns:
        raise SourceError(origin, "the export has no such column (the source's site_field)", column=site_field)
    usages: list[dict[str, Any]] = []
    for number, row in zip(numbers, rows, strict=True):
        for required in (SQL_NUMBER, SQL_USAGE):
            if required not in row:
                raise SourceError(origin, f"the row has no <{required}> element", row=number, column=required)
        device_type = _sql_device_type(row, origin, number)
        if device_type is None:
            continue
        # Only a device has a device pool: a hunt pilot, call park ... lands at the default
        # site, whether the source names `devicepool` or not. Another site field (the route
        # partition) applies to every row.
        has_site = site_field and (site_field != SQL_DEVICE_POOL or device_type in DEVICE_CLASS_TYPES)
        usages.append(
            {
                "source_row": number,
                "number_raw": row[SQL_NUMBER],
                "device_type": device_type,
                "device_name": row.get(SQL_DEVICE, ""),
                "partition": row.get(SQL_PARTITION, ""),
                "owner": row.get(SQL_OWNER, ""),
                "site_key": row.get(site_field, "") if site_field and has_site else None,
                "e164_mask": row.get(SQL_MASK, ""),
            }
        )
    return SourceFrames(
        raw={"raw_cucm_numplan": land_records(rows, numbers, config, extracted_at, origin)},
        usages=staged_usages(usage_input(usages), config),
    )


def _sql_device_type(row: dict[str, str], origin: Origin, number: int) -> str | None:
    usage = row[SQL_USAGE].strip()
    if not usage:
        raise SourceError(origin, "the pattern usage is empty", row=number, column=SQL_USAGE)
    key = usage if usage.isdigit() else _key(usage)
    if key not in PATTERN_USAGES:
        raise SourceError(
            origin,
            f"{usage!r} is not a CUCM pattern usage numaudit knows (a typepatternusage name "
            "such as 'Device' or 'Hunt Pilot', or its code 0-32)",
            row=number,
            column=SQL_USAGE,
        )
    device_type = PATTERN_USAGES[key]
    if device_type != DEVICE_USAGE:
        return device_type
    if SQL_DEVICE in row and not row[SQL_DEVICE].strip():
        return None
    return device_type_of_class(row.get(SQL_DEVICE_CLASS, ""))


# ----------------------------------------------------------------------------- getPhone


def parse_getphone_response(
    response: Element, origin: Origin, config: SourceConfig, extracted_at: datetime, first_record: int
) -> SourceFrames:
    """`return/phone`: one usage per `lines/line`, typed by the phone's `class`."""
    returned = child(response, "return")
    phones = children(returned, "phone") if returned is not None else []
    if not phones:
        raise SourceError(origin, "the getPhone response holds no <phone>")
    site_field = config.site_field or PHONE_SITE_FIELD
    phone_rows: list[dict[str, str]] = []
    line_rows: list[dict[str, str]] = []
    line_numbers: list[int] = []
    usages: list[dict[str, Any]] = []
    numbers = list(range(first_record, first_record + len(phones)))
    for number, phone in zip(numbers, phones, strict=True):
        fields = flatten_record(phone, PHONE_LISTS)
        fields.pop("lines", None)
        name = _required_text(phone, "name", origin, number)
        if site_field not in fields:
            raise SourceError(origin, "the phone has no such element (the site field)", row=number, column=site_field)
        lines = child(phone, "lines")
        if lines is None:
            # Absent (not empty) lines mean the request left them out: reading that as
            # "no lines" would report every number of the phone as free.
            raise SourceError(origin, "the phone has no <lines> element", row=number, column="lines")
        device_type = device_type_of_class(text(child(phone, "class")))
        for index, line in enumerate(lines, start=1):
            if local_name(line.tag) != "line":
                # Skipping an item we cannot read would free its number: refuse instead.
                raise SourceError(
                    origin, f"phone {name!r} has a <{local_name(line.tag)}> where a <line> was expected",
                    row=number, column=f"lines/{local_name(line.tag)}",
                )
            dirn = child(line, "dirn")
            pattern = child(dirn, "pattern") if dirn is not None else None
            if pattern is None:
                raise SourceError(
                    origin, f"line {index} of phone {name!r} has no number", row=number,
                    column=f"lines/line[{index}]/dirn/pattern",
                )
            line_rows.append(
                {"phone.name": name, "phone.uuid": phone.get("uuid", ""), **flatten_record(line, LINE_LISTS)}
            )
            line_numbers.append(number)
            usages.append(
                {
                    "source_row": number,
                    "number_raw": text(pattern),
                    "device_type": device_type,
                    "device_name": name,
                    "partition": text(child(dirn, "routePartitionName")) if dirn is not None else "",
                    "owner": fields.get("ownerUserName", ""),
                    "site_key": fields[site_field],
                    "e164_mask": text(child(line, "e164Mask")),
                }
            )
        phone_rows.append(fields)
    return SourceFrames(
        raw={
            "raw_cucm_phone": land_records(phone_rows, numbers, config, extracted_at, origin),
            "raw_cucm_phone_line": land_records(line_rows, line_numbers, config, extracted_at, origin),
        },
        usages=staged_usages(usage_input(usages), config),
    )


def _required_text(element: Element, name: str, origin: Origin, number: int) -> str:
    value = text(child(element, name)).strip()
    if not value:
        raise SourceError(origin, f"the {local_name(element.tag)} has no {name}", row=number, column=name)
    return value


# ----------------------------------------------------------------------------- list*


def parse_list_response(
    response: Element, origin: Origin, config: SourceConfig, extracted_at: datetime, first_record: int
) -> SourceFrames:
    """`return/<item>*` of a supported list operation; no `return` (or an empty one) is no items."""
    operation = LIST_OPERATIONS[local_name(response.tag)]
    returned = child(response, "return")
    items = children(returned, operation.item) if returned is not None else []
    rows = [flatten_record(item) for item in items]
    numbers = list(range(first_record, first_record + len(rows)))
    site_field = config.site_field
    # A misspelt site field would leave every item unmapped: refused, except in a response
    # whose items cannot have one (the voicemail pilots of a folder of list responses).
    if rows and site_field and not operation.placeless and not any(site_field in row for row in rows):
        raise SourceError(origin, "the items have no such element (the site field)", column=site_field)
    usages: list[dict[str, Any]] = []
    for number, row in zip(numbers, rows, strict=True):
        if operation.number not in row:
            raise SourceError(
                origin, f"the {operation.item} has no <{operation.number}> element", row=number,
                column=operation.number,
            )
        # A listLine item whose usage names anything but a device line (an intercom DN,
        # say) is not a number in use; an absent usage cannot tell, so it counts.
        if operation.item == "line" and row.get("usage", "").strip() not in ("", DEVICE_USAGE):
            continue
        usages.append(
            {
                "source_row": number,
                "number_raw": row[operation.number],
                "device_type": operation.device_type,
                "device_name": row.get(operation.device_name, "") if operation.device_name else "",
                "partition": row.get("routePartitionName", ""),
                "site_key": row.get(site_field) if site_field else None,
            }
        )
    return SourceFrames(
        raw={operation.table: land_records(rows, numbers, config, extracted_at, origin)},
        usages=staged_usages(usage_input(usages), config),
    )


READERS = {
    "cucm_axl_sql": read_cucm_axl_sql,
    "cucm_axl_getphone": read_cucm_axl_getphone,
    "cucm_axl_list": read_cucm_axl_list,
}
