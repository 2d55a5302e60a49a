"""Microsoft Teams readers on the published samples (formats/teams) and on variants of them."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sources.base import SourceConfig, SourceError
from sources.registry import READERS
from sources.teams import (
    parse_graph_page,
    read_graph_number_assignments,
    read_number_assignment,
    read_online_users,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats" / "teams"
FORMAT_LIST = FIXTURES / "Get-CsPhoneNumberAssignment.output.txt"
EXPORT_CSV = FIXTURES / "get-csphonenumberassignment.export-csv.made-by-numaudit.csv"
GRAPH = FIXTURES / "graph-numberAssignments-list.response.json"
GRAPH_PAGES = FIXTURES / "graph-pages.made-by-numaudit"
ONLINE_USERS = FIXTURES / "get-csonlineuser.made-by-numaudit.csv"

CUSTOMER = "sys.prov.Acme"
OMAHA = f"{CUSTOMER}.Omaha"
OMAHA_LOCATION = "407c17ae-8c41-431e-894a-38787c682f68"
UNMAPPED_LOCATION = "4040949c-2424-469c-a9bc-563a5e5964f3"
NO_GUID = "00000000-0000-0000-0000-000000000000"
USER = "device/msteamsonline/CsOnlineUser"


def config(path: Path | None, kind: str = "teams_number_assignment", **overrides: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "teams",
        "kind": kind,
        "customer": CUSTOMER,
        "path": path,
        "site_map": {OMAHA_LOCATION: "Omaha"},
        "known_nodes": frozenset({CUSTOMER, OMAHA, f"{CUSTOMER}.Redmond", f"{CUSTOMER}.London"}),
    }
    values.update(overrides)
    return SourceConfig(**values)


USAGE_COLUMNS = [
    "source_row",
    "number_raw",
    "number",
    "device_type",
    "device_name",
    "owner",
    "vendor",
    "number_type",
    "site",
    "site_key",
    "online",
]
VENDOR_COLUMNS = [
    "source_row",
    "number_raw",
    "number",
    "vendor",
    "number_type",
    "assigned",
    "blocked_state",
    "blocked_until",
    "site",
    "site_key",
]


def rows(frame: pl.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return frame.select(columns).to_dicts()


def usage(
    row: int, raw: str, number: str | None, target: str, number_type: str, site: str | None, key: str
) -> dict[str, Any]:
    return {
        "source_row": row,
        "number_raw": raw,
        "number": number,
        "device_type": USER,
        "device_name": target,
        "owner": target,
        "vendor": "Microsoft",
        "number_type": number_type,
        "site": site,
        "site_key": key,
        "online": True,
    }


def vendor_number(
    row: int,
    raw: str,
    number: str,
    number_type: str,
    assigned: bool,
    blocked: str,
    until: date | None,
    site: str | None,
    key: str,
) -> dict[str, Any]:
    return {
        "source_row": row,
        "number_raw": raw,
        "number": number,
        "vendor": "Microsoft",
        "number_type": number_type,
        "assigned": assigned,
        "blocked_state": blocked,
        "blocked_until": until,
        "site": site,
        "site_key": key,
    }


# The four documented records: assigned Calling Plan at a mapped location; Direct Routing with
# ;ext= and all-zero GUIDs; unassigned and BlockedForever; the doc's too-short number at a
# location no site maps (unmapped: site null).
SAMPLE_USAGES = [
    usage(
        1, "+14025551234", "+14025551234", "dc13d97b-7897-494e-bc28-6b469bf7a70e", "Calling Plan", OMAHA, OMAHA_LOCATION
    ),
    usage(
        2,
        "+12065551000;ext=524",
        "+12065551000",
        "2713551e-ed63-415d-9175-fc4ff825a0be",
        "Direct Routing",
        CUSTOMER,
        "",
    ),
    usage(
        4, "+1555555555", "+1555555555", "2d43c5da-649b-406b-9d32-d130d2c53018", "Calling Plan", None, UNMAPPED_LOCATION
    ),
]
SAMPLE_VENDOR_NUMBERS = [
    vendor_number(1, "+14025551234", "+14025551234", "Calling Plan", True, "", None, OMAHA, OMAHA_LOCATION),
    vendor_number(2, "+12065551000;ext=524", "+12065551000", "Direct Routing", True, "", None, CUSTOMER, ""),
    vendor_number(3, "+14025551234", "+14025551234", "Calling Plan", False, "BlockedForever", None, CUSTOMER, ""),
    vendor_number(4, "+1555555555", "+1555555555", "Calling Plan", True, "NotBlocked", None, None, UNMAPPED_LOCATION),
]


def shifted(expected: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    return [{**row, "source_row": row["source_row"] + offset} for row in expected]


def write(tmp_path: Path, text: str, name: str = "numbers.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_all_teams_kinds_are_registered() -> None:
    assert READERS["teams_number_assignment"] is read_number_assignment
    assert READERS["teams_graph_number_assignments"] is read_graph_number_assignments
    assert READERS["teams_online_users"] is read_online_users


# --- Get-CsPhoneNumberAssignment, Format-List ----------------------------------------------------


def test_format_list_sample_usages() -> None:
    frames = read_number_assignment(config(FORMAT_LIST))
    assert rows(frames.usages, USAGE_COLUMNS) == SAMPLE_USAGES
    assert frames.usages["customer"].unique().to_list() == [CUSTOMER]
    assert frames.usages["source"].unique().to_list() == ["teams"]


def test_format_list_sample_vendor_numbers() -> None:
    frames = read_number_assignment(config(FORMAT_LIST))
    assert rows(frames.vendor_numbers, VENDOR_COLUMNS) == SAMPLE_VENDOR_NUMBERS


def test_format_list_raw_keeps_every_field_as_written() -> None:
    raw = read_number_assignment(config(FORMAT_LIST)).raw["raw_teams_number_assignment"]
    assert raw.columns[5:] == [
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
    ]
    assert raw["source_row"].to_list() == [1, 2, 3, 4]
    assert raw["source_file"].unique().to_list() == [str(FORMAT_LIST)]
    # TAB-padded names (`ReverseNumberLookup\t\t:`) and trailing spaces (`AssignedPstnTargetId    : `)
    assert raw["Tag"].to_list() == ["{}"] * 4
    assert raw["AssignedPstnTargetId"][2] == ""
    assert raw["LocationId"][1] == NO_GUID
    assert raw["Capability"][1] == "{ConferenceAssignment, VoiceApplicationAssignment, UserAssignment}"
    assert raw["SmsActivationState"].to_list() == ["NotActivated", "NotActivated", "NotActivated", ""]


def test_format_list_utf16_file_as_windows_powershell_redirection_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    path.write_bytes(FORMAT_LIST.read_text().replace("\n", "\r\n").encode("utf-16"))
    frames = read_number_assignment(config(path))
    assert rows(frames.usages, USAGE_COLUMNS) == SAMPLE_USAGES


def test_format_list_leading_and_repeated_blank_lines_are_separators(tmp_path: Path) -> None:
    path = write(tmp_path, "\n\n" + FORMAT_LIST.read_text().replace("\n\n", "\n \n\t\n") + "\n\n")
    assert rows(read_number_assignment(config(path)).vendor_numbers, VENDOR_COLUMNS) == SAMPLE_VENDOR_NUMBERS


def test_wrapped_value_line_is_refused_with_its_line() -> None:
    path = FIXTURES / "Get-CsPhoneNumberAssignment.wrapped-line.made-by-numaudit.txt"
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert error.value.row == 2
    assert "line 33" in error.value.reason
    assert "'UserAssignment}' is not a 'Name : value' line" in error.value.reason
    assert str(path) in str(error.value)


def test_record_without_telephone_number_is_refused_with_record_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, FORMAT_LIST.read_text().replace("TelephoneNumber         : +12065551000;ext=524\n", ""))
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (2, "TelephoneNumber")
    assert error.value.reason == "record has no TelephoneNumber (the record starting at line 26)"


def test_record_with_empty_telephone_number_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, FORMAT_LIST.read_text().replace("+1555555555", ""))
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (4, "TelephoneNumber")


def test_missing_blank_line_between_records_is_refused(tmp_path: Path) -> None:
    text = FORMAT_LIST.read_text()
    path = write(
        tmp_path,
        text.replace(
            "SmsActivationState      : NotActivated\n\nTelephoneNumber         : +12065551000",
            "SmsActivationState      : NotActivated\nTelephoneNumber         : +12065551000",
            1,
        ),
    )
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (1, "TelephoneNumber")
    assert "line 25: TelephoneNumber appears twice in one record" in error.value.reason


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="is empty"):
        read_number_assignment(config(write(tmp_path, "\n  \n")))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        read_number_assignment(config(tmp_path / "absent.txt"))


def test_blocked_until_date_needs_iso_or_the_source_date_format(tmp_path: Path) -> None:
    text = FORMAT_LIST.read_text().replace(
        "AssignmentBlockedState  : BlockedForever\nAssignmentBlockedUntil  :",
        "AssignmentBlockedState  : BlockedUntil\nAssignmentBlockedUntil  : 6/7/2027 12:00:00 AM",
    )
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (3, "AssignmentBlockedUntil")
    assert "'6/7/2027 12:00:00 AM' is not an ISO 8601 date" in error.value.reason
    assert "options.date_format" in error.value.reason

    en_us = config(path, options={"date_format": "%m/%d/%Y %I:%M:%S %p"})
    blocked = read_number_assignment(en_us).vendor_numbers.row(2, named=True)
    assert (blocked["blocked_state"], blocked["blocked_until"]) == ("BlockedUntil", date(2027, 6, 7))

    en_gb = config(path, options={"date_format": "%d/%m/%Y %H:%M:%S"})
    with pytest.raises(SourceError, match="nor a date in the source's date_format '%d/%m/%Y %H:%M:%S'"):
        read_number_assignment(en_gb)
    iso = write(tmp_path, text.replace("6/7/2027 12:00:00 AM", "2027-06-07T00:00:00Z"), "iso.txt")
    iso_numbers = read_number_assignment(config(iso, options={"date_format": "%d/%m/%Y %H:%M:%S"})).vendor_numbers
    assert iso_numbers["blocked_until"][2] == date(2027, 6, 7)


def test_blocked_until_without_a_date_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, FORMAT_LIST.read_text().replace(": BlockedForever", ": BlockedUntil"))
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert error.value.row == 3
    assert (error.value.row, error.value.column) == (3, "AssignmentBlockedUntil")
    assert "AssignmentBlockedState is BlockedUntil but no date says until when" in error.value.reason


def test_unknown_block_state_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, FORMAT_LIST.read_text().replace(": BlockedForever", ": Blocked"))
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (3, "AssignmentBlockedState")
    assert "'Blocked' is not an assignment block state" in error.value.reason


def test_any_assignment_status_but_unassigned_is_a_usage(tmp_path: Path) -> None:
    text = FORMAT_LIST.read_text().replace(": UserAssigned", ": VoiceApplicationAssigned", 1)
    frames = read_number_assignment(config(write(tmp_path, text)))
    assert frames.usages["source_row"].to_list() == [1, 2, 4]
    assert frames.vendor_numbers["assigned"].to_list() == [True, True, False, True]


def test_all_zero_guid_target_means_no_owner(tmp_path: Path) -> None:
    text = FORMAT_LIST.read_text().replace("2713551e-ed63-415d-9175-fc4ff825a0be", NO_GUID)
    frames = read_number_assignment(config(write(tmp_path, text)))
    assert frames.usages.filter(pl.col("source_row") == 2).select("device_name", "owner").row(0) == ("", "")
    assert frames.raw["raw_teams_number_assignment"]["AssignedPstnTargetId"][1] == NO_GUID


def test_empty_assignment_status_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, FORMAT_LIST.read_text().replace(": Unassigned", ":"))
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (3, "PstnAssignmentStatus")


def test_site_field_can_name_another_field(tmp_path: Path) -> None:
    frames = read_number_assignment(config(FORMAT_LIST, site_field="City", site_map={"Omaha": "Omaha"}))
    assert frames.vendor_numbers.select("site", "site_key").rows() == [
        (OMAHA, "Omaha"),
        (CUSTOMER, ""),
        (OMAHA, "Omaha"),
        (None, "Marysville"),
    ]


def test_records_without_location_land_at_the_default_site() -> None:
    frames = read_number_assignment(config(FORMAT_LIST, default_site="Omaha"))
    assert frames.vendor_numbers["site"].to_list() == [OMAHA, OMAHA, OMAHA, None]


def test_site_field_that_is_no_field_is_refused() -> None:
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(FORMAT_LIST, site_field="Building"))
    assert error.value.column == "Building"


# --- Get-CsPhoneNumberAssignment, Export-Csv -----------------------------------------------------


def test_export_csv_yields_what_the_format_list_yields() -> None:
    frames = read_number_assignment(config(EXPORT_CSV))
    # `#TYPE` is row 1 and the header row 2: the first record is row 3, as a spreadsheet shows it.
    assert rows(frames.usages, USAGE_COLUMNS) == shifted(SAMPLE_USAGES, 2)
    assert rows(frames.vendor_numbers, VENDOR_COLUMNS) == [
        *shifted(SAMPLE_VENDOR_NUMBERS, 2),
        vendor_number(
            7,
            "+14025559876",
            "+14025559876",
            "Operator Connect",
            False,
            "BlockedUntil",
            date(2026, 12, 31),
            OMAHA,
            OMAHA_LOCATION,
        ),
    ]
    raw = frames.raw["raw_teams_number_assignment"]
    assert raw.columns[5] == "TelephoneNumber"
    assert raw["source_row"].to_list() == [3, 4, 5, 6, 7]


def test_export_csv_without_type_line(tmp_path: Path) -> None:
    text = EXPORT_CSV.read_text(encoding="utf-8-sig").split("\n", 1)[1]
    frames = read_number_assignment(config(write(tmp_path, text, "numbers.csv")))
    assert rows(frames.usages, USAGE_COLUMNS) == shifted(SAMPLE_USAGES, 1)


def test_export_csv_missing_column_is_refused_at_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, '"Number","PstnAssignmentStatus"\n"+14025551234","Unassigned"\n', "numbers.csv")
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (1, "TelephoneNumber")
    assert str(path) in str(error.value)


SMALL_HEADER = "TelephoneNumber,PstnAssignmentStatus,LocationId,AssignmentBlockedState,AssignmentBlockedUntil\n"


def test_export_csv_empty_telephone_number_is_refused_with_its_row(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_HEADER + "+14025551234,Unassigned,,,\n,UserAssigned,,,\n")
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (3, "TelephoneNumber")


def test_export_csv_without_block_columns_is_refused(tmp_path: Path) -> None:
    # A `Select-Object` that dropped the block would make blocked numbers look free.
    path = write(tmp_path, "TelephoneNumber,PstnAssignmentStatus,LocationId\n+14025551234,Unassigned,\n")
    with pytest.raises(SourceError) as error:
        read_number_assignment(config(path))
    assert (error.value.row, error.value.column) == (1, "AssignmentBlockedState")
    assert "would look free" in error.value.reason


def test_export_csv_ragged_row_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_HEADER + "+14025551234,Unassigned,,,,extra\n")
    with pytest.raises(SourceError, match="not a well-formed CSV"):
        read_number_assignment(config(path))


# --- Graph numberAssignments -------------------------------------------------------------------


def test_graph_sample_yields_exactly_the_record_python_json_keeps() -> None:
    kept = json.loads(GRAPH.read_text())["value"]
    assert kept["telephoneNumber"] == "+12052582895"  # the duplicated "value" key: the last wins
    frames = read_graph_number_assignments(config(GRAPH, "teams_graph_number_assignments"))
    assert rows(frames.usages, USAGE_COLUMNS) == [
        usage(1, "+12052582895", "+12052582895", kept["assignmentTargetId"], "Calling Plan", CUSTOMER, "")
    ]
    assert rows(frames.vendor_numbers, VENDOR_COLUMNS) == [
        vendor_number(1, "+12052582895", "+12052582895", "Calling Plan", True, "", None, CUSTOMER, "")
    ]
    raw = frames.raw["raw_teams_graph_number_assignments"]
    assert raw.height == 1
    assert raw.row(0, named=True) | {"extracted_at": None} == {
        "customer": CUSTOMER,
        "source": "teams",
        "source_file": str(GRAPH),
        "extracted_at": None,
        "source_row": 1,
        "@odata.type": "#microsoft.graph.teamsAdministration.numberAssignment",
        "id": kept["id"],
        "telephoneNumber": "+12052582895",
        "operatorId": "0019adbc-b82a-47b4-a799-4e993a9982f1",
        "numberType": "callingPlan",
        "activationState": "activated",
        "capabilities": '["conferenceAssignment"]',
        "locationId": None,
        "civicAddressId": None,
        "networkSiteId": None,
        "assignmentTargetId": "207a6836-d031-4764-a9d8-c1193f455f21",
        "assignmentCategory": "primary",
        "portInStatus": None,
        "assignmentStatus": "conferenceAssigned",
        "isoCountryCode": "US",
        "city": "Clanton",
        "numberSource": "online",
        "supportedCustomerActions": '["locationUpdate","release"]',
        "reverseNumberLookupOptions": "[]",
    }


def test_graph_pages_in_a_folder_are_one_listing() -> None:
    frames = read_graph_number_assignments(config(GRAPH_PAGES, "teams_graph_number_assignments"))
    assert rows(frames.usages, USAGE_COLUMNS) == [
        usage(
            1,
            "+14025550101",
            "+14025550101",
            "dc13d97b-7897-494e-bc28-6b469bf7a70e",
            "Calling Plan",
            OMAHA,
            OMAHA_LOCATION,
        ),
        usage(
            3,
            "+12065551000;ext=524",
            "+12065551000",
            "2713551e-ed63-415d-9175-fc4ff825a0be",
            "Direct Routing",
            CUSTOMER,
            "",
        ),
    ]
    assert rows(frames.vendor_numbers, VENDOR_COLUMNS) == [
        vendor_number(1, "+14025550101", "+14025550101", "Calling Plan", True, "", None, OMAHA, OMAHA_LOCATION),
        vendor_number(2, "+14025550102", "+14025550102", "Operator Connect", False, "", None, OMAHA, OMAHA_LOCATION),
        vendor_number(3, "+12065551000;ext=524", "+12065551000", "Direct Routing", True, "", None, CUSTOMER, ""),
    ]
    assert frames.raw["raw_teams_graph_number_assignments"]["source_row"].to_list() == [1, 2, 3]


def test_graph_page_with_next_link_alone_is_refused_as_incomplete() -> None:
    page = GRAPH_PAGES / "page-1.json"
    with pytest.raises(SourceError) as error:
        read_graph_number_assignments(config(page, "teams_graph_number_assignments"))
    assert error.value.file == str(page)
    assert "'@odata.nextLink'" in error.value.reason
    assert "would look freed" in error.value.reason


def test_graph_pages_are_taken_in_natural_name_order(tmp_path: Path) -> None:
    shutil.copy(GRAPH_PAGES / "page-1.json", tmp_path / "page-9.json")
    shutil.copy(GRAPH_PAGES / "page-2.json", tmp_path / "page-10.json")
    frames = read_graph_number_assignments(config(tmp_path, "teams_graph_number_assignments"))
    assert frames.vendor_numbers["number"].to_list() == ["+14025550101", "+14025550102", "+12065551000"]


def test_graph_page_without_next_link_before_another_page_is_refused(tmp_path: Path) -> None:
    shutil.copy(GRAPH_PAGES / "page-2.json", tmp_path / "page-1.json")
    shutil.copy(GRAPH_PAGES / "page-2.json", tmp_path / "page-2.json")
    with pytest.raises(SourceError, match=r"has no '@odata\.nextLink' but 1 more page"):
        read_graph_number_assignments(config(tmp_path, "teams_graph_number_assignments"))


def test_graph_folder_without_pages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"without any \.json page file"):
        read_graph_number_assignments(config(tmp_path, "teams_graph_number_assignments"))


def test_graph_page_parses_a_response_body_for_the_live_extractor() -> None:
    body = json.loads((GRAPH_PAGES / "page-2.json").read_text())
    url = "https://graph.microsoft.com/v1.0/admin/teams/telephoneNumberManagement/numberAssignments?$skiptoken=x"
    frames = parse_graph_page(body, url, config(None, "teams_graph_number_assignments"), first_row=101)
    assert frames.usages["source_row"].to_list() == [101]
    assert frames.raw["raw_teams_graph_number_assignments"]["source_row"].to_list() == [101]
    body["value"][0]["telephoneNumber"] = None
    with pytest.raises(SourceError) as error:
        parse_graph_page(body, url, config(None, "teams_graph_number_assignments"), first_row=101)
    assert (error.value.file, error.value.row, error.value.column) == (url, 1, "telephoneNumber")


def test_graph_empty_page_yields_nothing_and_is_no_error() -> None:
    frames = parse_graph_page({"value": []}, "body", config(None, "teams_graph_number_assignments"))
    assert frames.usages.is_empty() and frames.vendor_numbers.is_empty()
    assert frames.raw["raw_teams_graph_number_assignments"].is_empty()


def test_graph_unknown_status_counts_as_assigned() -> None:
    # `internalError`/`unknownFutureValue`: not known to be free, so the number stays used.
    body = json.loads((GRAPH_PAGES / "page-1.json").read_text())
    body["value"][1]["assignmentStatus"] = "internalError"
    frames = parse_graph_page(body, "body", config(None, "teams_graph_number_assignments"))
    assert frames.usages["number"].to_list() == ["+14025550101", "+14025550102"]
    assert frames.usages["owner"].to_list() == ["dc13d97b-7897-494e-bc28-6b469bf7a70e", ""]


@pytest.mark.parametrize(
    ("document", "message", "row"),
    [
        ([], "expected a JSON object with 'value', found a list", None),
        ({"values": []}, "has no 'value' list (its top-level keys: 'values')", None),
        ({"value": "+12052582895"}, "'value' must be a list, found a string", None),
        (
            {"value": [{"telephoneNumber": "+1", "assignmentStatus": "unassigned", "locationId": None}, 5]},
            "record is a number, not an object",
            2,
        ),
        ({"value": [{"telephoneNumber": "+1", "locationId": None}]}, "record has no assignmentStatus", 1),
        ({"value": [{"telephoneNumber": "+1", "assignmentStatus": "unassigned"}]}, "missing column 'locationId'", None),
    ],
)
def test_graph_wrong_shapes_are_refused(document: Any, message: str, row: int | None) -> None:
    with pytest.raises(SourceError) as error:
        parse_graph_page(document, "body", config(None, "teams_graph_number_assignments"))
    assert message in error.value.reason
    assert error.value.row == row


def test_graph_invalid_and_hostile_json_is_refused(tmp_path: Path) -> None:
    broken = write(tmp_path, '{"value": [\n  {"telephoneNumber": "+1",}\n]}', "broken.json")
    with pytest.raises(SourceError, match=r"is not valid JSON: line 2, column 28"):
        read_graph_number_assignments(config(broken, "teams_graph_number_assignments"))
    deep = write(tmp_path, '{"value": ' + "[" * 100_000 + "]" * 100_000 + "}", "deep.json")
    with pytest.raises(SourceError, match="nested too deeply"):
        read_graph_number_assignments(config(deep, "teams_graph_number_assignments"))


# --- Get-CsOnlineUser --------------------------------------------------------------------------


def online_user(row: int, raw: str, number: str, upn: str, site: str | None, key: str) -> dict[str, Any]:
    return {
        "source_row": row,
        "number_raw": raw,
        "number": number,
        "device_type": USER,
        "device_name": upn,
        "owner": upn,
        "vendor": "Microsoft",
        "number_type": "",
        "site": site,
        "site_key": key,
        "online": True,
    }


def test_online_users_with_a_line_uri_use_it() -> None:
    frames = read_online_users(config(ONLINE_USERS, "teams_online_users", site_field="City", site_map={}))
    # No site_map: a City names a site under the customer; Seattle and Berlin are no node (unmapped).
    assert rows(frames.usages, USAGE_COLUMNS) == [
        online_user(
            2, "tel:+14255551297;ext=51297", "+14255551297", "adele@contoso.example", f"{CUSTOMER}.Redmond", "Redmond"
        ),
        online_user(3, "tel:+14255550712", "+14255550712", "alex@contoso.example", None, "Seattle"),
        online_user(4, "tel:+442071234567", "+442071234567", "diego@contoso.example", f"{CUSTOMER}.London", "London"),
        online_user(6, "tel:+4930123456", "+4930123456", "henrietta@contoso.example", None, "Berlin"),
    ]
    raw = frames.raw["raw_teams_online_users"]
    assert raw["source_row"].to_list() == [2, 3, 4, 5, 6]
    assert raw["EnterpriseVoiceEnabled"].to_list() == ["True", "True", "False", "False", "True"]


def test_online_users_without_site_field_land_at_the_default_site() -> None:
    frames = read_online_users(config(ONLINE_USERS, "teams_online_users"))
    assert frames.usages.select("site", "site_key").unique().rows() == [(CUSTOMER, "")]


def test_online_users_columns_match_in_any_case_and_number_type_is_optional(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "userprincipalname,LINEURI,numbertype\r\nx@contoso.example,tel:+14255550100,DirectRouting\r\n",
        "users.csv",
    )
    frames = read_online_users(config(path, "teams_online_users"))
    assert rows(frames.usages, ["number", "owner", "number_type"]) == [
        {"number": "+14255550100", "owner": "x@contoso.example", "number_type": "Direct Routing"}
    ]


def test_online_users_missing_line_uri_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "UserPrincipalName,DisplayName\nx@contoso.example,X\n", "users.csv")
    with pytest.raises(SourceError) as error:
        read_online_users(config(path, "teams_online_users"))
    assert (error.value.row, error.value.column) == (1, "LineURI")
