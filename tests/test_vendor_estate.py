"""An estate made only of vendor-format exports (no generic `usages` CSV) loads and audits
end to end: every reader lands its rows, and the audit gets status, usage, vendor, number
type, E.164, the Usage tab and the exceptions right.

The files are written here in the vendors' shapes (field names and order taken from the
real samples in tests/fixtures/formats): an AXL executeSQLQuery response of
sources/cucm_numbers.sql and a listVoiceMailPilot response (cluster CL1), a BAT export
made from the captured one (cluster CL2), Get-CsPhoneNumberAssignment Format-List text and
a Get-CsOnlineUser CSV, a Webex numbers page, a single CUPI call handler, an AudioCodes
registered-users table, multi-vendor phones and E.164 associations.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from numaudit.auditing import AuditRequest, run_audit
from numaudit.estate import load_estate
from sources.teams import parse_format_list
from storage.lake import Warehouse

FORMATS = Path(__file__).parent / "fixtures" / "formats"
CUSTOMER = "sys.prov.Fabrikam"
LONDON, PARIS = f"{CUSTOMER}.London", f"{CUSTOMER}.Paris"
AS_OF = date(2026, 11, 22)
LONDON_LOCATION = "3a5c8f0e-7d41-4c7b-9a52-1f0e6b2d9c11"  # Teams emergency location of London

HIERARCHY = f"""path,kind,number_management,slc_dial_plan,hybrid
sys,provider,false,false,false
sys.prov,reseller,false,false,false
{CUSTOMER},customer,true,false,false
{LONDON},site,true,false,false
{PARIS},site,true,false,false
"""
INVENTORY = f"""number,hierarchy,status,usage,vendor,number_type,release_date,tag
+442071230001,{LONDON},Used,Device,,,,LON-USERS
+442071230002,{LONDON},Used,Device,,,,LON-USERS
+442071230003,{LONDON},Available,,,,,LON-USERS
+442071230010,{LONDON},Used-Utility,Hunt_Pilot,,,,LON-SERVICES
+442071230020,{LONDON},Available,,,,,LON-USERS
+442071230050,{LONDON},Used,Device,AudioCodes,,,LON-ANALOGUE
+442071230060,{LONDON},Available,,,,,LON-USERS
+33123450001,{PARIS},Used,Device,,,,PAR-USERS
+33123450100,{PARIS},Available,,,,,PAR-WEBEX
+442071239000,{CUSTOMER},Available,,,,,POOL
+442071239001,{CUSTOMER},Available,,,,,POOL
"""
ESTATE = f"""customer = "{CUSTOMER}"
hierarchy = "hierarchy.csv"
inventory = "inventory.csv"

[settings]
# Two of the five used numbers are freed: let the small estate past the SPEC 4.8 guard.
max_release_fraction = 1.0

[[sources]]
name = "cucm-cl1"
kind = "cucm_axl_sql"
path = "cl1-numplan.xml"
cluster = "CL1"
site_field = "routepartition"
[sources.site_map]
"PT_London" = "London"
"PT_Paris" = "Paris"

[[sources]]
name = "cucm-cl1-voicemail"
kind = "cucm_axl_list"
path = "cl1-listVoiceMailPilot.xml"
cluster = "CL1"

[[sources]]
name = "cucm-cl2"
kind = "cucm_bat_phones"
path = "cl2-export-phones-all-details.csv"
cluster = "CL2"
[sources.site_map]
"DP_Paris" = "Paris"

[[sources]]
name = "teams-numbers"
kind = "teams_number_assignment"
path = "teams-numbers.txt"
cluster = "M365"
[sources.site_map]
"{LONDON_LOCATION}" = "London"
[sources.options]
date_format = "%m/%d/%Y %I:%M:%S %p"

[[sources]]
name = "teams-users"
kind = "teams_online_users"
path = "teams-users.csv"
cluster = "M365"
site_field = "City"

[[sources]]
name = "webex"
kind = "webex_numbers"
path = "webex-numbers.json"
cluster = "WXC"

[[sources]]
name = "unity"
kind = "unity_cupi_callhandlers"
path = "unity-callhandlers.json"
cluster = "CUC"

[[sources]]
name = "sbc"
kind = "audiocodes_registered_users"
path = "sbc-registered-users.csv"
cluster = "SBC1"
[sources.site_map]
"1" = "London"

[[sources]]
name = "multivendor"
kind = "multivendor_phones"
path = "multivendor-phones.csv"

[[sources]]
name = "did"
kind = "e164_associations"
path = "did-e164.csv"
"""

# --- the exports, in their vendors' shapes ---------------------------------------------------

NUMPLAN_COLUMNS = (
    "dnorpattern",
    "tkpatternusage",
    "routepartition",
    "devicename",
    "deviceclass",
    "devicepool",
    "owneruserid",
    "e164mask",
)
NUMPLAN_ROWS = [
    # a shared line: two phones on one DN
    ("\\+442071230001", "Device", "PT_London", "SEP00AABBCC1001", "Phone", "DP_London", "alice", ""),
    ("\\+442071230001", "Device", "PT_London", "SEP00AABBCC1002", "Phone", "DP_London", "bob", ""),
    # the phone was deleted, the DN stays configured on no device: not in use
    ("\\+442071230002", "Device", "PT_London", "", "", "", "", ""),
    # an Extension Mobility profile (no device pool) with its line's external mask
    ("\\+442071230003", "Device", "PT_London", "UDP_carol", "Device Profile", "", "carol", "+442071230003"),
    ("\\+442071230010", "Hunt Pilot", "PT_London", "", "", "", "", ""),
    # the same phone and number as in CL2's BAT export
    ("\\+33123450001", "Device", "PT_Paris", "SEP00AABBCC0001", "Phone", "DP_Paris", "dave", ""),
    # a partition no site_map names
    ("\\+442071230099", "Device", "PT_Lab", "SEP00AABBCC9999", "Phone", "DP_Lab", "lab", ""),
    # CUCM takes the DTMF digit A in a DN: not a number
    ("12A4", "Device", "PT_London", "SEP00AABBCC1004", "Phone", "DP_London", "erin", ""),
    # a short number no inventory holds: added at the customer, its E.164 from the DID inventory
    ("2001", "Device", "PT_London", "SEP00AABBCC2001", "Phone", "DP_London", "frank", ""),
    ("3000", "Translation", "PT_London", "", "", "", "", ""),
]


def soap(response: str, body: str) -> str:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<ns:{response} xmlns:ns="http://www.cisco.com/AXL/API/14.0"><return>{body}</return></ns:{response}>'
        "</soapenv:Body></soapenv:Envelope>\n"
    )


def numplan() -> str:
    rows = "".join(
        "<row>"
        + "".join(f"<{c}>{v}</{c}>" if v else f"<{c}/>" for c, v in zip(NUMPLAN_COLUMNS, row, strict=True))
        + "</row>"
        for row in NUMPLAN_ROWS
    )
    return soap("executeSQLQueryResponse", rows)


VOICEMAIL_PILOTS = soap(
    "listVoiceMailPilotResponse",
    '<voiceMailPilot uuid="{A2B3C4D5-6F70-8192-A3B4-C5D6E7F8091A}"><dirn>\\+442071239998</dirn>'
    '<description>VM pilot</description><cssName uuid="{B3C4D5E6-7081-92A3-B4C5-D6E7F8091A2B}">CSS_VM</cssName>'
    "<isDefault>true</isDefault></voiceMailPilot>",
)


def bat_export() -> str:
    """The captured BAT export (200 columns, `t`/`f`, Cyrillic names) with our phone's values."""
    header, row = list(
        csv.reader(
            io.StringIO((FORMATS / "cucm" / "bat_export_phones_all_details.sample.csv").read_text(encoding="utf-8"))
        )
    )
    values = dict(zip(header, row, strict=True)) | {
        "Device Name": "SEP00AABBCC0001",
        "Device Pool": "DP_Paris",
        "Owner User ID": "dave",
        "Directory Number 1": "\\+33123450001",
        "Route Partition 1": "PT_Paris",
    }
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, [values[h] for h in header]])
    return buffer.getvalue()


def teams_numbers() -> str:
    """Format-List records with the property names, in order, of Microsoft's published output."""
    sample, _ = parse_format_list(
        (FORMATS / "teams" / "Get-CsPhoneNumberAssignment.output.txt").read_text(encoding="utf-8"), "sample"
    )
    properties = list(sample[0])

    def record(
        number: str, number_type: str, status: str, target: str, location: str, blocked: str = "", until: str = ""
    ) -> str:
        values = dict.fromkeys(properties, "") | {
            "TelephoneNumber": number,
            "NumberType": number_type,
            "ActivationState": "Activated",
            "AssignedPstnTargetId": target,
            "PstnAssignmentStatus": status,
            "LocationId": location,
            "Capability": "{UserAssignment}",
            "ReverseNumberLookup": "{}",
            "Tag": "{}",
            "AssignmentBlockedState": blocked,
            "AssignmentBlockedUntil": until,
            "SmsActivationState": "NotActivated",
        }
        return "\n".join(f"{name.ljust(23)} : {value}".rstrip() for name, value in values.items())

    records = [
        record(
            "+442071230020;ext=20",
            "DirectRouting",
            "UserAssigned",
            "2713551e-ed63-415d-9175-fc4ff825a0be",
            LONDON_LOCATION,
            "NotBlocked",
        ),
        record("+442071239000", "CallingPlan", "Unassigned", "", ""),
        record("+442071239001", "CallingPlan", "Unassigned", "", "", "BlockedUntil", "12/31/2026 12:00:00 AM"),
        record(
            "+442071239002",
            "OperatorConnect",
            "Unassigned",
            "",
            "00000000-0000-0000-0000-000000000000",
            "BlockedForever",
        ),
    ]
    return "\n\n" + "\n\n".join(records) + "\n\n"


TEAMS_USERS = (
    '"UserPrincipalName","DisplayName","EnterpriseVoiceEnabled","LineURI","OnPremLineURI","UsageLocation","City"\n'
    '"grace@fabrikam.example","Grace Hopper","True","tel:+442071230020;ext=20","","GB","London"\n'
    '"heidi@fabrikam.example","Heidi Lamar","False","","","GB","London"\n'
)


def webex_numbers() -> str:
    location = {"id": "Y2lzY29zcGFyazovL3VzL0xPQ0FUSU9OL3BhcmlzLTE", "name": "Paris"}

    def owner(first: str, last: str) -> dict[str, str]:
        return {
            "id": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9" + first.lower(),
            "type": "PEOPLE",
            "firstName": first,
            "lastName": last,
        }

    common = {
        "state": "ACTIVE",
        "phoneNumberType": "PRIMARY",
        "mainNumber": False,
        "includedTelephonyTypes": "PSTN_NUMBER",
        "tollFreeNumber": False,
        "isServiceNumber": False,
        "location": location,
    }
    numbers = [
        {
            "phoneNumber": "+33123450100",
            "extension": "100",
            "routingPrefix": "8001",
            "esn": "8001100",
            **common,
            "owner": owner("Ivan", "Petrov"),
        },
        # extension-only: no phone number, the extension is the number
        {
            "phoneNumber": "",
            "extension": "7001",
            "routingPrefix": "8001",
            "esn": "80017001",
            **common,
            "owner": owner("Judy", "Chen"),
        },
        # unassigned: no owner, no extension
        {"phoneNumber": "+33123450101", **common},
    ]
    return json.dumps({"phoneNumbers": numbers}, indent=2)


UNITY = json.dumps(
    {
        "@total": "1",
        "Callhandler": {
            "URI": "/vmrest/handlers/callhandlers/6702cce8-853f-4cbd-8579-35c595213898",
            "IsPrimary": "false",
            "IsTemplate": "false",
            "ObjectId": "6702cce8-853f-4cbd-8579-35c595213898",
            "DisplayName": "Main Menu",
            "DtmfAccessId": "+442071239999",
        },
    }
)
REGISTERED_USERS = (
    "Address of Record,Contact\n"
    "+442071230050@10.1.1.10,<sip:+442071230050@10.1.2.31:5060>;expires=180; Not-Active; IPG:1\n"
)
MULTIVENDOR = "number,phoneVendor,device name,site\n+44 20 7123 0060,Yealink,T54W-805EC0000001,London\n"
E164 = "e164,internal number,primary\n+442071232001,2001,TRUE\n+442071232999,2001,FALSE\n"


@pytest.fixture
def vendor_estate(tmp_path: Path) -> Path:
    files = {
        "estate.toml": ESTATE,
        "hierarchy.csv": HIERARCHY,
        "inventory.csv": INVENTORY,
        "cl1-numplan.xml": numplan(),
        "cl1-listVoiceMailPilot.xml": VOICEMAIL_PILOTS,
        "cl2-export-phones-all-details.csv": bat_export(),
        "teams-numbers.txt": teams_numbers(),
        "teams-users.csv": TEAMS_USERS,
        "webex-numbers.json": webex_numbers(),
        "unity-callhandlers.json": UNITY,
        "sbc-registered-users.csv": REGISTERED_USERS,
        "multivendor-phones.csv": MULTIVENDOR,
        "did-e164.csv": E164,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    kinds = {source["kind"] for source in tomllib.loads(ESTATE)["sources"]}
    assert not kinds & {"usages", "vendor_numbers"}, "vendor formats only"
    return tmp_path / "estate.toml"


@pytest.fixture
def audited(lake: Warehouse, vendor_estate: Path) -> tuple[Warehouse, str]:
    report = load_estate(lake, vendor_estate)
    assert report.sources["cucm-cl1"] == {"usages": 8, "vendor_numbers": 0, "e164": 0, "raw": 10}
    summary = run_audit(lake, AuditRequest(CUSTOMER, as_of=AS_OF))
    assert summary.state == "completed"
    return lake, summary.audit_id


def entry(lake: Warehouse, number: str, hierarchy: str) -> tuple[object, ...]:
    rows = lake.read("number_inventory", "number = ? AND hierarchy = ?", [number, hierarchy])
    assert rows.height == 1, (number, hierarchy)
    return rows.select("status", "usage", "vendor", "number_type", "e164", "release_date").row(0)


def test_every_vendor_reader_lands_raw_rows(audited: tuple[Warehouse, str]) -> None:
    lake, _ = audited
    counts = {
        table: lake.query(f"SELECT count(*) FROM {table}").item()
        for table in (
            "raw_cucm_numplan",
            "raw_cucm_voicemailpilot",
            "raw_cucm_bat_phone",
            "raw_cucm_bat_phone_line",
            "raw_teams_number_assignment",
            "raw_teams_online_users",
            "raw_webex_numbers",
            "raw_unity_callhandler",
            "raw_audiocodes_registered_users",
            "raw_multivendor_phones",
            "raw_e164_associations",
        )
    }
    assert counts == {
        "raw_cucm_numplan": 10,
        "raw_cucm_voicemailpilot": 1,
        "raw_cucm_bat_phone": 1,
        "raw_cucm_bat_phone_line": 1,
        "raw_teams_number_assignment": 4,
        "raw_teams_online_users": 2,
        "raw_webex_numbers": 3,
        "raw_unity_callhandler": 1,
        "raw_audiocodes_registered_users": 1,
        "raw_multivendor_phones": 1,
        "raw_e164_associations": 2,
    }
    # Vendor values are kept as written: the escape, the t/f booleans, the `;ext=`.
    assert lake.query("SELECT dnorpattern FROM raw_cucm_numplan WHERE source_row = 1").item() == "\\+442071230001"
    assert lake.query('SELECT "Extension Mobility" FROM raw_cucm_bat_phone').item() == "f"
    assert (
        lake.query("SELECT TelephoneNumber FROM raw_teams_number_assignment WHERE source_row = 1").item()
        == "+442071230020;ext=20"
    )


def test_status_usage_vendor_number_type_and_e164_of_each_platform(audited: tuple[Warehouse, str]) -> None:
    lake, _ = audited
    # CUCM: a shared line stays Used; the idle DN is released; a profile's line is used, its mask is the E.164
    assert entry(lake, "+442071230001", LONDON) == ("Used", "Device", "", "", "", None)
    assert entry(lake, "+442071230002", LONDON) == ("Available", "", "", "", "", None)
    assert entry(lake, "+442071230003", LONDON) == ("Used", "Device", "", "", "+442071230003", None)
    assert entry(lake, "+442071230010", LONDON) == ("Used-Utility", "Hunt_Pilot", "", "", "", None)
    assert entry(lake, "+33123450001", PARIS) == ("Used", "Device", "", "", "", None)
    # a new number lands at the customer (customer mode), its E.164 the primary association
    assert entry(lake, "2001", CUSTOMER) == ("Used", "Device", "", "", "+442071232001", None)
    assert entry(lake, "+442071239998", CUSTOMER) == ("Used-Utility", "Voicemail_Pilot", "", "", "", None)
    # Teams: a Direct Routing user; acquired numbers, free, blocked until a date, blocked for ever
    assert entry(lake, "+442071230020", LONDON) == ("Used", "User", "Microsoft", "Direct Routing", "", None)
    assert entry(lake, "+442071239000", CUSTOMER) == ("Available", "", "Microsoft", "Calling Plan", "", None)
    assert entry(lake, "+442071239001", CUSTOMER) == (
        "Cooling",
        "",
        "Microsoft",
        "Calling Plan",
        "",
        date(2026, 12, 31),
    )
    assert entry(lake, "+442071239002", CUSTOMER) == ("Reserved", "", "Microsoft", "Operator Connect", "", None)
    # Webex: a number and an extension-only number; an unassigned number is not added
    assert entry(lake, "+33123450100", PARIS) == ("Used", "User", "Webex Calling", "Phone Number", "", None)
    assert entry(lake, "7001", CUSTOMER) == ("Used", "User", "Webex Calling", "Extension", "", None)
    assert lake.read("number_inventory", "number = '+33123450101'").is_empty()
    # Unity, AudioCodes (not registered: 2-day cooling, vendor kept), multi-vendor phone
    assert entry(lake, "+442071239999", CUSTOMER) == ("Used-Utility", "Call_Handler_Pilot", "", "", "", None)
    assert entry(lake, "+442071230050", LONDON) == ("Cooling", "", "AudioCodes", "", "", date(2026, 11, 24))
    assert entry(lake, "+442071230060", LONDON) == ("Used-Utility", "VOSS_Phone", "Yealink", "", "", None)
    # unmapped and bad numbers add nothing
    assert lake.read("number_inventory", "number IN ('+442071230099', '12A4')").is_empty()


def test_usage_tab_has_partition_cluster_site_and_source(audited: tuple[Warehouse, str]) -> None:
    lake, _ = audited
    usage = lake.read("number_usage").sort("number", "source", "device_name")
    columns = ("hierarchy", "usage", "device_type", "device_name", "partition", "cluster", "site", "owner", "source")
    rows = {(r[0], r[4], r[9]): r[1:] for r in usage.select("number", *columns).rows()}
    assert rows[("+442071230001", "SEP00AABBCC1001", "cucm-cl1")] == (
        LONDON,
        "Device",
        "device/cucm/Phone",
        "SEP00AABBCC1001",
        "PT_London",
        "CL1",
        LONDON,
        "alice",
        "cucm-cl1",
    )
    assert rows[("+442071230001", "SEP00AABBCC1002", "cucm-cl1")][6:8] == (LONDON, "bob")
    assert rows[("+442071230003", "UDP_carol", "cucm-cl1")][1:5] == (
        "Device",
        "device/cucm/DeviceProfile",
        "UDP_carol",
        "PT_London",
    )
    # held at the customer, used at London
    assert rows[("2001", "SEP00AABBCC2001", "cucm-cl1")][0:1] + rows[("2001", "SEP00AABBCC2001", "cucm-cl1")][5:7] == (
        CUSTOMER,
        "CL1",
        LONDON,
    )
    # one number in two clusters: a link per cluster on one entry
    assert [(r[5], r[8]) for k, r in rows.items() if k[0] == "+33123450001"] == [
        ("CL1", "cucm-cl1"),
        ("CL2", "cucm-cl2"),
    ]
    # both Teams exports name the Direct Routing user: the assignment's target id, the user's UPN
    teams = [r[3] for k, r in rows.items() if k[0] == "+442071230020"]
    assert teams == ["2713551e-ed63-415d-9175-fc4ff825a0be", "grace@fabrikam.example"]
    assert rows[("7001", "Judy Chen", "webex")][2:] == (
        "device/spark/Number",
        "Judy Chen",
        "",
        "WXC",
        PARIS,
        "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9judy",
        "webex",
    )
    assert rows[("+442071230060", "T54W-805EC0000001", "multivendor")][5:7] == ("", LONDON)
    assert usage.filter(pl.col("number") == "+442071230050").is_empty()  # not registered: no usage


def test_exceptions_and_changes(audited: tuple[Warehouse, str]) -> None:
    lake, audit_id = audited
    exceptions = lake.read("audit_exceptions").filter(pl.col("audit_id") == audit_id).sort("kind")
    assert exceptions.select("kind", "number", "hierarchy").rows() == [
        ("bad_number", "12A4", LONDON),
        ("duplicate_phone", "+33123450001", PARIS),
        ("number_in_clusters", "+33123450001", PARIS),
        ("unmapped_device", "+442071230099", CUSTOMER),
    ]
    assert "has no site for 'PT_Lab'" in exceptions.filter(pl.col("kind") == "unmapped_device")["detail"].item()
    assert "clusters CL1, CL2" in exceptions.filter(pl.col("kind") == "number_in_clusters")["detail"].item()
    changes = lake.read("number_changes").filter(pl.col("audit_id") == audit_id)
    by_number = dict(changes.select("number", "change").iter_rows())
    assert by_number == {
        "+442071230002": "released",
        "+442071230003": "updated",
        "+442071230020": "updated",
        "+442071230050": "cooled",
        "+442071230060": "updated",
        "+33123450100": "updated",
        "+442071239000": "updated",
        "+442071239001": "cooled",
        "+442071239002": "added",
        "+442071239998": "added",
        "+442071239999": "added",
        "2001": "added",
        "7001": "added",
    }


def test_a_second_audit_of_the_same_exports_changes_nothing(audited: tuple[Warehouse, str]) -> None:
    lake, _ = audited
    before = lake.read("number_inventory").sort("number", "hierarchy")
    second = run_audit(lake, AuditRequest(CUSTOMER, as_of=AS_OF))
    assert {k: second.counts[k] for k in ("added", "updated", "released", "cooled")} == dict.fromkeys(
        ("added", "updated", "released", "cooled"), 0
    )
    assert lake.read("number_inventory").sort("number", "hierarchy").equals(before)
