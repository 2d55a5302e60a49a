"""The demo estate's sources as the platforms write them (numaudit/demo.py tells the story).

Every function here renders records in one vendor's export or API shape, the shape of the
real samples in `../shared/formats` (summed up in its FORMATS.md) and read by `sources/`:
element and field names, their order, and the quirks the vendors really produce — CUCM's
`\\+` escape and `t`/`f` booleans, AXL NULLs as empty elements and foreign keys with a
`{UUID}`, PowerShell's Format-List padding and Export-Csv quoting, CUPI strings everywhere,
Webex's `""` phone number on extension-only rows. Nothing here is a friendlier format of
our own: the demo must exercise the readers exactly as a customer's exports would.

The two administrators' CSVs of SPEC 6 (multi-vendor phones, E.164 associations) and the
AudioCodes registered-users table have no captured vendor file; they follow the layouts
the readers document (the manual's two AudioCodes columns).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

# ---------------------------------------------------------------------------- CUCM AXL


def axl_namespace(version: str) -> str:
    return f"http://www.cisco.com/AXL/API/{version}"


def cucm_pattern(number: str) -> str:
    """A number as CUCM stores a pattern: `+` escaped as `\\+`."""
    return "\\" + number if number.startswith("+") else number


@dataclass(frozen=True)
class NumplanRow:
    """One row of `sources/cucm_numbers.sql`; '' is a NULL (an empty element)."""

    dnorpattern: str
    tkpatternusage: str
    routepartition: str = ""
    devicename: str = ""
    deviceclass: str = ""
    devicepool: str = ""
    owneruserid: str = ""
    e164mask: str = ""


NUMPLAN_COLUMNS = tuple(NumplanRow.__dataclass_fields__)


def axl_sql_response(rows: Sequence[NumplanRow], version: str) -> str:
    """An executeSQLQuery SOAP response, indented as the captured sample is."""
    body = []
    for row in rows:
        body.append("        <row>")
        for column in NUMPLAN_COLUMNS:
            value = getattr(row, column)
            body.append(f"          <{column}>{escape(value)}</{column}>" if value else f"          <{column}/>")
        body.append("        </row>")
    return _soap("executeSQLQueryResponse", version, body)


@dataclass(frozen=True)
class AxlField:
    """One element of an AXL item: a foreign key (`fk_uuid` set) holds the name of the row
    it points to and that row's `{UUID}`; an empty value is an empty element."""

    name: str
    value: str
    fk_uuid: str = ""


@dataclass(frozen=True)
class AxlItem:
    uuid: str
    fields: tuple[AxlField, ...]


def axl_list_response(operation: str, item: str, items: Sequence[AxlItem], version: str) -> str:
    """A `list<Thing>Response`: `return/<item uuid="{...}">` with the requested elements."""
    body = []
    for entry in items:
        body.append(f"        <{item} uuid={quoteattr(entry.uuid)}>")
        for field in entry.fields:
            attribute = f" uuid={quoteattr(field.fk_uuid)}" if field.fk_uuid else ""
            if field.value:
                body.append(f"          <{field.name}{attribute}>{escape(field.value)}</{field.name}>")
            else:
                body.append(f"          <{field.name}/>")
        body.append(f"        </{item}>")
    return _soap(f"{operation}Response", version, body)


def _soap(response: str, version: str, body: list[str]) -> str:
    inner = ["      <return>", *body, "      </return>"] if body else ["      <return/>"]
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">',
            "  <soapenv:Body>",
            f'    <ns:{response} xmlns:ns="{axl_namespace(version)}">',
            *inner,
            f"    </ns:{response}>",
            "  </soapenv:Body>",
            "</soapenv:Envelope>",
            "",
        ]
    )


# ---------------------------------------------------------------------------- CUCM BAT

# "Export Phones - All Details": the device columns, then one block of line columns per
# line index (`Directory Number 1` ... `Log Missed Calls 1`, then `... 2`), as in the
# captured export (including the double space of `Line Network Hold MOH Audio Source  1`).
BAT_DEVICE_COLUMNS = tuple(
    """Device Name,Description,Device Pool,Phone Button Template,CSS,AAR CSS,Location,Extension Mobility,
Network Locale,Media Resource Group List,User Hold MOH Audio Source,Network Hold MOH Audio Source,
Device User Locale,Packet Capture Mode,Packet Capture Duration,Built in Bridge,Privacy,
Retry Video Call as Audio,Ignore Presentation Indicators,Softkey Template,Module 1,Module 2,
Phone Load Name,Module 1 Load Name,Module 2 Load Name,Information,Directory,Messages,Services,
Authentication Server,Proxy Server,Idle,Idle Timer,MLPP Indication,MLPP Preemption,MLPP Domain,
Device Type,User ID 1,Common Phone Profile,Owner User ID,Allow CTI Control Flag,Device Presence Group,
Device Security Profile,Device Subscribe CSS,Unattended Port,Require DTMF Reception,RFC2833 Disabled,
Certificate Operation,Authentication String,Operation Completes By,Device Protocol,Secure Shell User,
Secure Shell Password,XML,Dial Rules,CSS Reroute,Rerouting Calling Search Space,DTMF Signalling,
Default DTMF Capability,SIP Profile,MTP Preferred Originating Codec,Logout Profile,MTP Required,
Digest User,Signaling Port,Outgoing Caller ID Pattern,Calling Party Selection,
Calling Party Presentation,Display IE Delivery,Redirecting Number IE Delivery Outbound,
Redirecting Number IE Delivery Inbound,Gatekeeper Name,E.164,Technology Prefix,Zone,
Motorola WSM Connection,Subscriber Cellular Number,Follow me only when caller has dialed cellular num,
Disable Application Dial Rules,AAR Group,Logged Into Hunt Group,Remote Device,Device Mobility Mode,
Common Device Configuration,Mobility User ID,DND Option,DND Incoming Call Alert,Do Not Disturb,
Join Across Lines,Single Button Barge,BLF Audible Alert Setting (Phone Idle),
BLF Audible Alert Setting (Phone Busy),Calling Party Transformation CSS,Use Trusted Relay Point,
Services Provisioning,Mobile Smart Client Profile,Outbound Call Rollover,Phone Personalization,
Protected Device,Primary Phone,Geo Location,Always Use Prime Line,
Always Use Prime Line for Voice Message,SRTP Allowed,Feature Control Policy,Module 3,
Module 3 Load Name,Mobility Identity Name,Mobility Identity Destination Number,
Mobility Identity Answer Too Soon Timer,Mobility Identity Answer Too Late Timer,
Mobility Identity Delay Before Ringing Cell,Mobility Identity Time of Day Access,
Mobility Identity Time Zone,Mobility Identity Is Mobile Phone,Mobility Identity Enable Mobile Connect""".replace(
        "\n", ""
    ).split(",")
)
BAT_LINE_COLUMNS = tuple(
    """Directory Number,Route Partition,Voice Mail Profile,Line CSS,AAR Group(Line),
Line User Hold MOH Audio Source,Line Network Hold MOH Audio Source ,Auto Answer,Forward All Voice Mail,
Forward All Destination,Forward All CSS,Forward Busy Internal Voice Mail,Forward Busy Internal Destination,
Forward Busy Internal CSS,Forward Busy External Voice Mail,Forward Busy External Destination,
Forward Busy External CSS,Forward No Answer Internal Voice Mail,Forward No Answer Internal Destination,
Forward No Answer Internal CSS,Forward No Answer External Voice Mail,Forward No Answer External Destination,
Forward No Answer External CSS,Forward No Coverage Internal Voice Mail,Forward No Coverage Internal Destination,
Forward No Coverage Internal CSS,Forward No Coverage External Voice Mail,Forward No Coverage External Destination,
Forward No Coverage External CSS,Forward No Answer Ring Duration,Call Pickup Group,MLPP Target,MLPP CSS,
MLPP No Answer Ring Duration,Line Text Label,External Phone Number Mask,Maximum Number of Calls,Busy Trigger,
Visual Message Waiting Indicator Policy,Ring setting (Phone Idle),Ring Setting (Phone Active),Caller Name,
Caller Number,Redirected Number,Dialed Number,Line Description,Alerting Name,ASCII Alerting Name,
Line Presence Group,Secondary CSS for Forward All,Forward on CTI Failure Voice Mail,
Forward on CTI Failure Destination,Forward on CTI Failure CSS,Display,ASCII Display,ASCII Line Text Label,
AAR Destination Mask,AAR Voice Mail,Forward Unregistered Internal Voice Mail,
Forward Unregistered Internal Destination,Forward Unregistered Internal CSS,
Forward Unregistered External Voice Mail,Forward Unregistered External Destination,
Forward Unregistered External CSS,Hold Reversion Ring Duration,Hold Reversion Notification Interval,
Retain this destination in call forwarding history,Audible Message Waiting Indicator Policy,
Call Recording Option,Recording Profile,Monitoring Calling Search Space,
Calling Search Space Activation Policy,Allow Control of Device from CTI,
CPG Audio Alert Setting(Phone Idle),CPG Audio Alert Setting(Phone Active),
Park Monitor Forward No Retrieve Ext Voice Mail,Park Monitor Forward No Retrieve Ext CSS,
Park Monitor Forward No Retrieve Int CSS,Park Monitoring Reversion Timer,
Park Monitor Forward No Retrieve Ext Destination,Park Monitor Forward No Retrieve Int Destination,
Park Monitor Forward No Retrieve Int Voice Mail,Party Entrance Tone,Log Missed Calls""".replace("\n", "").split(",")
)
# Values every phone of the captured export carries unless the phone says otherwise.
BAT_DEVICE_DEFAULTS = {
    "Extension Mobility": "f",
    "Packet Capture Mode": "None",
    "Packet Capture Duration": "0",
    "Built in Bridge": "Default",
    "Privacy": "Default",
    "Retry Video Call as Audio": "t",
    "Ignore Presentation Indicators": "f",
    "MLPP Indication": "Off",
    "MLPP Preemption": "Disabled",
    "Common Phone Profile": "Standard Common Phone Profile",
    "Allow CTI Control Flag": "t",
    "Device Presence Group": "Standard Presence group",
    "Unattended Port": "f",
    "Require DTMF Reception": "f",
    "RFC2833 Disabled": "f",
    "Certificate Operation": "No Pending Operation",
    "Device Protocol": "SIP",
    "DTMF Signalling": "No Preference",
    "Default DTMF Capability": "0",
    "SIP Profile": "Standard SIP Profile",
    "MTP Preferred Originating Codec": "711ulaw",
    "MTP Required": "f",
    "Logged Into Hunt Group": "t",
    "Remote Device": "f",
    "Device Mobility Mode": "Default",
    "DND Option": "Ringer Off",
    "Do Not Disturb": "f",
    "Join Across Lines": "Off",
    "Single Button Barge": "Off",
    "BLF Audible Alert Setting (Phone Idle)": "Default",
    "BLF Audible Alert Setting (Phone Busy)": "Default",
    "Use Trusted Relay Point": "Default",
    "Services Provisioning": "Default",
    "Outbound Call Rollover": "No Rollover",
    "Phone Personalization": "Default",
    "Protected Device": "f",
    "Always Use Prime Line": "Default",
    "Always Use Prime Line for Voice Message": "Default",
    "SRTP Allowed": "f",
}
BAT_LINE_DEFAULTS = {
    "Auto Answer": "Auto Answer Off",
    "Forward All Voice Mail": "f",
    "Forward Busy Internal Voice Mail": "t",
    "Forward Busy External Voice Mail": "t",
    "Forward No Answer Internal Voice Mail": "t",
    "Forward No Answer External Voice Mail": "t",
    "Forward No Coverage Internal Voice Mail": "f",
    "Forward No Coverage External Voice Mail": "f",
    "Maximum Number of Calls": "4",
    "Busy Trigger": "2",
    "Visual Message Waiting Indicator Policy": "Use System Policy",
    "Ring setting (Phone Idle)": "Use System Default",
    "Ring Setting (Phone Active)": "Use System Default",
    "Caller Name": "t",
    "Caller Number": "f",
    "Redirected Number": "f",
    "Dialed Number": "t",
    "Line Presence Group": "Standard Presence group",
    "Forward on CTI Failure Voice Mail": "f",
    "AAR Voice Mail": "f",
    "Forward Unregistered Internal Voice Mail": "f",
    "Forward Unregistered External Voice Mail": "f",
    "Hold Reversion Ring Duration": "0",
    "Hold Reversion Notification Interval": "0",
    "Retain this destination in call forwarding history": "t",
    "Audible Message Waiting Indicator Policy": "Default",
    "Call Recording Option": "Call Recording Disabled",
    "Calling Search Space Activation Policy": "Use System Default",
    "Allow Control of Device from CTI": "t",
    "Park Monitor Forward No Retrieve Ext Voice Mail": "f",
    "Park Monitoring Reversion Timer": "0",
    "Park Monitor Forward No Retrieve Int Voice Mail": "f",
    "Party Entrance Tone": "Default",
    "Log Missed Calls": "t",
}
# The forwarding calling search spaces, set to the phone's CSS as in the captured export.
BAT_LINE_CSS_COLUMNS = tuple(
    c
    for c in BAT_LINE_COLUMNS
    if (c.startswith("Forward") and c.endswith("CSS")) or c == "Secondary CSS for Forward All"
)


@dataclass(frozen=True)
class BatLine:
    directory_number: str  # as CUCM stores it (`\\+` escaped)
    partition: str
    description: str  # the line's owner as shown on phones
    ascii_description: str
    mask: str = ""


@dataclass(frozen=True)
class BatPhone:
    device_name: str
    description: str
    device_pool: str
    location: str
    css: str
    model: str  # e.g. "Cisco 8845"
    owner: str
    lines: tuple[BatLine, ...]


def bat_export_phones(phones: Sequence[BatPhone]) -> str:
    """The CSV of BAT "Export Phones - All Details": one row per phone, as many line blocks
    as the phone with most lines has; booleans `t`/`f`, unset values empty."""
    lines = max((len(p.lines) for p in phones), default=1)
    header = [
        *BAT_DEVICE_COLUMNS,
        *(f"{column} {index}" for index in range(1, lines + 1) for column in BAT_LINE_COLUMNS),
    ]
    rows = []
    for phone in phones:
        device = {
            **BAT_DEVICE_DEFAULTS,
            "Device Name": phone.device_name,
            "Description": phone.description,
            "Device Pool": phone.device_pool,
            "Phone Button Template": f"Standard {phone.model.removeprefix('Cisco ')} SIP",
            "CSS": phone.css,
            "Location": phone.location,
            "Device Type": phone.model,
            "User ID 1": phone.owner,
            "Owner User ID": phone.owner,
            "Device Security Profile": f"{phone.model} - Standard SIP Non-Secure Profile",
            "Digest User": phone.owner,
            "Common Device Configuration": "Default CDC",
        }
        row = [device.get(column, "") for column in BAT_DEVICE_COLUMNS]
        for index in range(lines):
            line = phone.lines[index] if index < len(phone.lines) else None
            values: dict[str, str] = {}
            if line is not None:
                values = {
                    **BAT_LINE_DEFAULTS,
                    **dict.fromkeys(BAT_LINE_CSS_COLUMNS, phone.css),
                    "Directory Number": line.directory_number,
                    "Route Partition": line.partition,
                    "Line Text Label": line.description,
                    "ASCII Line Text Label": line.ascii_description,
                    "External Phone Number Mask": line.mask,
                    "Line Description": line.description,
                    "Alerting Name": line.description,
                    "ASCII Alerting Name": line.ascii_description,
                    "Display": line.description,
                    "ASCII Display": line.ascii_description,
                }
            row += [values.get(column, "") for column in BAT_LINE_COLUMNS]
        rows.append(row)
    return _csv_text(header, rows)


# ---------------------------------------------------------------------------- Unity Connection (CUPI)

# A call handler's fields in the order CUPI writes them; a handler without an extension has
# no `DtmfAccessId` key at all.
CUPI_CALLHANDLER_FIELDS = (
    "URI",
    "CreationTime",
    "Language",
    "Undeletable",
    "LocationObjectId",
    "LocationURI",
    "EditMsg",
    "IsPrimary",
    "OneKeyDelay",
    "ScheduleSetObjectId",
    "ScheduleSetURI",
    "SendUrgentMsg",
    "MaxMsgLen",
    "IsTemplate",
    "ObjectId",
    "DisplayName",
    "AfterMessageAction",
    "DtmfAccessId",
    "TimeZone",
    "UseDefaultLanguage",
    "UseDefaultTimeZone",
    "MediaSwitchObjectId",
    "PhoneSystemURI",
    "PartitionObjectId",
    "PartitionURI",
    "GreetingsURI",
    "TransferOptionsURI",
    "MenuEntriesURI",
)


def cupi_callhandlers_json(handlers: Sequence[Mapping[str, str]]) -> str:
    """`GET /vmrest/handlers/callhandlers` as JSON: every value a string; a single result is
    an object, not a one-element list."""
    items = [_cupi_ordered(h) for h in handlers]
    document: dict[str, object] = {"@total": str(len(items))}
    if items:
        document["Callhandler"] = items[0] if len(items) == 1 else items
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def cupi_callhandlers_xml(handlers: Sequence[Mapping[str, str]]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', f'<Callhandlers total="{len(handlers)}">']
    for handler in handlers:
        lines.append("  <Callhandler>")
        lines += [f"    <{key}>{escape(value)}</{key}>" for key, value in _cupi_ordered(handler).items()]
        lines.append("  </Callhandler>")
    lines.append("</Callhandlers>")
    return "\n".join(lines) + "\n"


def _cupi_ordered(handler: Mapping[str, str]) -> dict[str, str]:
    unknown = set(handler) - set(CUPI_CALLHANDLER_FIELDS)
    if unknown:
        raise ValueError(f"not CUPI call handler fields: {sorted(unknown)}")
    return {key: handler[key] for key in CUPI_CALLHANDLER_FIELDS if key in handler}


# ---------------------------------------------------------------------------- Microsoft Teams (PowerShell)

# Get-CsPhoneNumberAssignment's properties in output order; collections are tuples.
TEAMS_ASSIGNMENT_PROPERTIES = (
    "TelephoneNumber",
    "OperatorId",
    "NumberType",
    "ActivationState",
    "AssignedPstnTargetId",
    "AssignmentCategory",
    "Capability",
    "City",
    "CivicAddressId",
    "IsoCountryCode",
    "IsoSubdivision",
    "LocationId",
    "LocationUpdateSupported",
    "NetworkSiteId",
    "PortInOrderStatus",
    "PstnAssignmentStatus",
    "PstnPartnerId",
    "PstnPartnerName",
    "NumberSource",
    "ReverseNumberLookup",
    "Tag",
    "AssignmentBlockedState",
    "AssignmentBlockedUntil",
    "SmsActivationState",
)
TEAMS_ASSIGNMENT_TYPE = (
    "Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Models.SkypeTelephoneNumberMgmtCmdletAcquiredTelephoneNumber"
)
# Export-Csv writes a collection property as its .NET type name, not its items.
POWERSHELL_LIST = "System.Collections.Generic.List`1[System.String]"
ONLINE_USER_PROPERTIES = (
    "UserPrincipalName",
    "DisplayName",
    "EnterpriseVoiceEnabled",
    "LineURI",
    "OnPremLineURI",
    "UsageLocation",
    "City",
)

PowerShellValue = str | tuple[str, ...]


def format_list(records: Sequence[Mapping[str, PowerShellValue]], properties: Sequence[str]) -> str:
    """`... | Format-List` as PowerShell 7 writes it to a file: a blank line before the
    first record and between records, names padded to the longest, collections as `{a, b}`,
    CRLF line ends."""
    width = max(len(p) for p in properties)
    blocks = []
    for record in records:
        lines = []
        for name in properties:
            value = record[name]
            text = "{" + ", ".join(value) + "}" if isinstance(value, tuple) else value
            lines.append(f"{name.ljust(width)} : {text}".rstrip())
        blocks.append("\r\n".join(lines))
    return "\r\n\r\n" + "\r\n\r\n".join(blocks) + "\r\n\r\n\r\n"


def windows_powershell_export_csv(
    records: Sequence[Mapping[str, PowerShellValue]], properties: Sequence[str], type_name: str
) -> bytes:
    """`Export-Csv` of Windows PowerShell 5.1 without -NoTypeInformation: UTF-8 with BOM, a
    `#TYPE` line, every field quoted, CRLF, collections as their type name."""
    lines = [f"#TYPE {type_name}", _quoted_csv_line(properties)]
    lines += [_quoted_csv_line([_csv_value(r[p]) for p in properties]) for r in records]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def powershell_export_csv(records: Sequence[Mapping[str, PowerShellValue]], properties: Sequence[str]) -> str:
    """`Export-Csv -NoTypeInformation` of PowerShell 7: every field quoted, CRLF (on Windows)."""
    lines = [_quoted_csv_line(properties)] + [_quoted_csv_line([_csv_value(r[p]) for p in properties]) for r in records]
    return "\r\n".join(lines) + "\r\n"


def _csv_value(value: PowerShellValue) -> str:
    return POWERSHELL_LIST if isinstance(value, tuple) else value


def _quoted_csv_line(values: Sequence[str]) -> str:
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


# ---------------------------------------------------------------------------- Webex Calling

WEBEX_COUNT_KEYS = (
    "assigned",
    "unAssigned",
    "inActive",
    "extensionOnly",
    "tollFreeNumbers",
    "total",
    "mobileNumber",
    "serviceNumber",
)


def webex_numbers_pages(numbers: Sequence[Mapping[str, object]], page_size: int) -> list[str]:
    """`GET /v1/telephony/config/numbers?details=true&max=<page_size>&start=...` bodies: each
    page carries the organisation's `count` and its slice of `phoneNumbers`."""
    count = {
        "assigned": sum(1 for n in numbers if "owner" in n and n["phoneNumber"]),
        "unAssigned": sum(1 for n in numbers if "owner" not in n),
        "inActive": sum(1 for n in numbers if n["state"] == "INACTIVE"),
        "extensionOnly": sum(1 for n in numbers if not n["phoneNumber"]),
        "tollFreeNumbers": sum(1 for n in numbers if n["tollFreeNumber"]),
        "total": len(numbers),
        "mobileNumber": sum(1 for n in numbers if n["includedTelephonyTypes"] == "MOBILE_NUMBER"),
        "serviceNumber": sum(1 for n in numbers if n["isServiceNumber"]),
    }
    pages = [numbers[start : start + page_size] for start in range(0, len(numbers), page_size)] or [[]]
    return [
        json.dumps({"count": count, "phoneNumbers": list(page)}, indent=2, ensure_ascii=False) + "\n" for page in pages
    ]


# ---------------------------------------------------------------------------- plain CSV


def plain_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A CSV as a spreadsheet or an SBC's web table export writes it (quotes only where needed)."""
    return _csv_text(header, rows)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
