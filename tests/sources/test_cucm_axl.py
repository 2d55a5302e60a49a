"""CUCM AXL readers: executeSQLQuery, getPhone, list* responses, and hostile XML."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sources.base import SourceConfig, SourceError, SourceFrames
from sources.cucm_axl import (
    SQL_DEVICE,
    SQL_DEVICE_CLASS,
    SQL_DEVICE_POOL,
    SQL_MASK,
    SQL_NUMBER,
    SQL_OWNER,
    SQL_PARTITION,
    SQL_USAGE,
    concat_pages,
    parse_axl_response,
    read_cucm_axl_getphone,
    read_cucm_axl_list,
    read_cucm_axl_sql,
)
from sources.registry import READERS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats" / "cucm"
SQL_SAMPLE = FIXTURES / "axl_executeSQLQuery_numplan_dnorpattern_tkpatternusage.response.xml"
SQL_EXPORT = FIXTURES / "axl_executeSQLQuery_cucm_numbers.variant.response.xml"
GETPHONE_SAMPLE = FIXTURES / "axl_getPhone_10.5.response.xml"
LISTLINE_SAMPLE = FIXTURES / "axl_listLine.response.xml"
NUMBERS_SQL = Path(__file__).parents[2] / "sources" / "cucm_numbers.sql"

CUSTOMER = "sys.prov.Acme"
LONDON = f"{CUSTOMER}.London"
PARIS = f"{CUSTOMER}.Paris"
NODES = frozenset({CUSTOMER, LONDON, PARIS})
# DP_Unmapped is in no map; DP_Rome maps to a node that does not exist: both unmapped.
SITE_MAP = {"DP_London": "London", "AZ01_21_DP": "London", "DP_Paris": PARIS, "DP_Rome": "Rome"}

PHONE = "device/cucm/Phone"
DEVICE_PROFILE = "device/cucm/DeviceProfile"
RDP = "device/cucm/RemoteDestinationProfile"
CTI_ROUTE_POINT = "device/cucm/CtiRoutePoint"
HUNT_PILOT = "device/cucm/HuntPilot"
PICKUP = "device/cucm/CallPickupGroup"
CALL_PARK = "device/cucm/CallPark"
DIRECTED_CALL_PARK = "device/cucm/DirectedCallPark"
MEET_ME = "device/cucm/MeetMe"
VOICEMAIL_PILOT = "device/cucm/VoicemailPilot"


def config(path: Path | None, **changes: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "cucm-cl1",
        "kind": "cucm_axl_sql",
        "customer": CUSTOMER,
        "path": path,
        "cluster": "CL1",
        "site_map": SITE_MAP,
        "known_nodes": NODES,
    }
    return SourceConfig(**(values | changes))


def usages(frames: SourceFrames, *columns: str) -> list[tuple[Any, ...]]:
    return frames.usages.select(columns).rows()


def sql_response(rows: list[dict[str, str]], version: str = "11.5") -> bytes:
    body = "".join(
        "<row>" + "".join(f"<{k}>{v}</{k}>" if v else f"<{k}/>" for k, v in row.items()) + "</row>"
        for row in rows
    )
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<ns:executeSQLQueryResponse xmlns:ns="http://www.cisco.com/AXL/API/{version}">'
        f"<return>{body}</return></ns:executeSQLQueryResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


# ----------------------------------------------------------------------------- executeSQLQuery


SAMPLE_DNS = [f"\\+1919555{n}" for n in range(1000, 1012)] + ["\\+19195551011"]


def test_sql_sample_every_device_dn_is_a_phone_line_at_the_default_site() -> None:
    frames = read_cucm_axl_sql(config(SQL_SAMPLE))
    assert usages(frames, "source_row", "number_raw", "number") == [
        (row, raw, raw.replace("\\+", "+")) for row, raw in enumerate(SAMPLE_DNS, start=1)
    ]
    assert set(usages(frames, "device_type", "device_name", "partition", "cluster", "site", "site_key", "e164")) == {
        (PHONE, "", "", "CL1", CUSTOMER, "", "")
    }
    assert set(usages(frames, "customer", "source", "vendor", "online")) == {(CUSTOMER, "cucm-cl1", "", True)}


def test_sql_sample_keeps_duplicate_rows_of_one_dn() -> None:
    frames = read_cucm_axl_sql(config(SQL_SAMPLE))
    assert frames.usages.filter(pl.col("number") == "+19195551011")["source_row"].to_list() == [12, 13]


def test_sql_sample_lands_every_row_raw_as_written() -> None:
    raw = read_cucm_axl_sql(config(SQL_SAMPLE)).raw["raw_cucm_numplan"]
    assert raw.columns == ["customer", "source", "source_file", "extracted_at", "source_row", "dnorpattern", "tkpatternusage"]
    assert raw["dnorpattern"].to_list() == SAMPLE_DNS
    assert set(raw["tkpatternusage"]) == {"2"}
    assert raw["source_row"].to_list() == list(range(1, 14))
    assert set(raw["source_file"]) == {str(SQL_SAMPLE)}


def test_sql_rows_without_a_device_pool_land_at_the_configured_default_site() -> None:
    frames = read_cucm_axl_sql(config(SQL_SAMPLE, default_site="London"))
    assert set(frames.usages["site"]) == {LONDON}


def test_sql_export_of_the_numbers_query() -> None:
    frames = read_cucm_axl_sql(config(SQL_EXPORT))
    columns = ("source_row", "number_raw", "number", "device_type", "device_name", "partition", "site", "site_key", "owner", "e164")
    assert usages(frames, *columns) == [
        # the same DN on two phones (shared line) and in a second partition
        (1, "\\+19195551000", "+19195551000", PHONE, "SEP001122334455", "PT_Internal", LONDON, "DP_London", "jsmith", "+19195551000"),
        (2, "\\+19195551000", "+19195551000", PHONE, "SEP001122334466", "PT_Internal", LONDON, "DP_London", "", ""),
        (3, "\\+19195551000", "+19195551000", PHONE, "SEP001122334477", "PT_Lobby", PARIS, "DP_Paris", "", ""),
        # a device profile has no device pool: unmapped; a national mask is not E.164
        (4, "2001", "2001", DEVICE_PROFILE, "UDP_jdoe", "", None, "", "jdoe", ""),
        # a mask with wildcards is not an E.164
        (5, "2002", "2002", RDP, "RDP_jdoe", "PT_Internal", LONDON, "DP_London", "jdoe", ""),
        (6, "2003", "2003", CTI_ROUTE_POINT, "CTIRP_IVR", "PT_Internal", None, "DP_Unmapped", "", ""),
        # row 7: a Device DN on no device is configured, not used
        (8, "2100", "2100", HUNT_PILOT, "", "PT_Internal", CUSTOMER, "", "", ""),
        (9, "2200", "2200", PICKUP, "", "PT_Internal", CUSTOMER, "", "", ""),
        (10, "2300", "2300", CALL_PARK, "", "PT_Internal", CUSTOMER, "", "", ""),
        (11, "2400", "2400", DIRECTED_CALL_PARK, "", "PT_Internal", CUSTOMER, "", "", ""),
        (12, "2500", "2500", MEET_ME, "", "PT_Internal", CUSTOMER, "", "", ""),
        # rows 13-15: translation, route, voice mail port are not numbers in use
        # a device of another class (an analog gateway port) is a phone line
        (16, "2700", "2700", PHONE, "AN_FXS_PORT", "PT_Internal", LONDON, "DP_London", "", ""),
        # not a number (letter O): kept, the audit reports it as bad_number
        (17, "27O1", None, PHONE, "SEP0011223344AA", "PT_Internal", LONDON, "DP_London", "", ""),
    ]
    assert frames.raw["raw_cucm_numplan"].height == 17


@pytest.mark.parametrize(
    ("usage", "device_type"),
    [
        ("0", CALL_PARK), ("CallPark", CALL_PARK),
        ("1", MEET_ME), ("Conference", MEET_ME),
        ("2", PHONE), ("Device", PHONE),
        ("4", PICKUP), ("Call Pick Up Group", PICKUP),
        ("7", HUNT_PILOT), ("Hunt Pilot", HUNT_PILOT), ("hunt pilot", HUNT_PILOT),
        ("12", DIRECTED_CALL_PARK), ("Directed Call Park", DIRECTED_CALL_PARK),
        ("3", None), ("Translation", None), ("5", None), ("Route", None), ("6", None),
        ("Message Waiting", None), ("8", None), ("13", None), ("Device Intercom", None),
        ("Mobility DTMF", None), ("17", None), ("ILS Learned E164 Number", None), ("32", None),
    ],
)
def test_sql_pattern_usage_by_name_or_code(usage: str, device_type: str | None) -> None:
    data = sql_response([{SQL_NUMBER: "1000", SQL_USAGE: usage}])
    frames = parse_axl_response(data, "page", config(None))
    assert frames.usages["device_type"].to_list() == ([device_type] if device_type else [])
    assert frames.raw["raw_cucm_numplan"]["tkpatternusage"].to_list() == [usage]


def test_sql_device_class_gives_the_device_type() -> None:
    rows = [
        {SQL_NUMBER: "1", SQL_USAGE: "Device", SQL_DEVICE: "A", SQL_DEVICE_CLASS: "Device Profile"},
        {SQL_NUMBER: "2", SQL_USAGE: "Device", SQL_DEVICE: "B", SQL_DEVICE_CLASS: "remote destination profile"},
        {SQL_NUMBER: "3", SQL_USAGE: "Device", SQL_DEVICE: "C", SQL_DEVICE_CLASS: "CTI Route Point"},
        {SQL_NUMBER: "4", SQL_USAGE: "Device", SQL_DEVICE: "D", SQL_DEVICE_CLASS: ""},
    ]
    frames = parse_axl_response(sql_response(rows), "page", config(None))
    assert frames.usages["device_type"].to_list() == [DEVICE_PROFILE, RDP, CTI_ROUTE_POINT, PHONE]


def test_sql_configured_site_field_applies_to_every_row() -> None:
    rows = [
        {SQL_NUMBER: "2100", SQL_USAGE: "Hunt Pilot", SQL_PARTITION: "PT_London", SQL_DEVICE: ""},
        {SQL_NUMBER: "2101", SQL_USAGE: "Device", SQL_PARTITION: "PT_Nowhere", SQL_DEVICE: "SEP1"},
    ]
    site_map = {"PT_London": "London"}
    frames = parse_axl_response(sql_response(rows), "page", config(None, site_field="routepartition", site_map=site_map))
    assert usages(frames, "device_type", "site", "site_key") == [(HUNT_PILOT, LONDON, "PT_London"), (PHONE, None, "PT_Nowhere")]


def test_sql_column_named_like_a_lineage_column_is_kept_under_another_name() -> None:
    data = sql_response([{SQL_NUMBER: "1000", SQL_USAGE: "2", "source": "lab"}])
    raw = parse_axl_response(data, "page", config(None)).raw["raw_cucm_numplan"]
    assert (raw["source"].item(), raw["vendor.source"].item()) == ("cucm-cl1", "lab")


def test_sql_unknown_pattern_usage_is_refused_with_its_row() -> None:
    data = sql_response([{SQL_NUMBER: "1000", SQL_USAGE: "2"}, {SQL_NUMBER: "1001", SQL_USAGE: "99"}])
    with pytest.raises(SourceError) as error:
        parse_axl_response(data, "https://cucm/axl page 1", config(None))
    assert (error.value.file, error.value.row, error.value.column) == ("https://cucm/axl page 1", 2, "tkpatternusage")
    assert "'99'" in str(error.value)


def test_sql_missing_required_column_is_refused_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "numplan.xml"
    path.write_bytes(sql_response([{SQL_NUMBER: "1000", SQL_USAGE: "2"}, {SQL_NUMBER: "1001"}]))
    with pytest.raises(SourceError) as error:
        read_cucm_axl_sql(config(path))
    assert (error.value.file, error.value.row, error.value.column) == (str(path), 2, "tkpatternusage")


def test_sql_device_pool_named_as_site_field_still_applies_to_devices_only() -> None:
    # The README's example names `site_field = "devicepool"`: patterns have no device, hence no
    # device pool, and land at the default site as they do when the field is found by itself.
    rows = [
        {SQL_NUMBER: "2100", SQL_USAGE: "Hunt Pilot", SQL_PARTITION: "PT_London", SQL_DEVICE: "", SQL_DEVICE_POOL: ""},
        {SQL_NUMBER: "2101", SQL_USAGE: "Device", SQL_PARTITION: "PT_London", SQL_DEVICE: "SEP1", SQL_DEVICE_POOL: "DP_London"},
    ]
    for site_field in (None, "devicepool"):
        frames = parse_axl_response(sql_response(rows), "page", config(None, site_field=site_field, default_site="Paris"))
        assert usages(frames, "device_type", "site") == [(HUNT_PILOT, PARIS), (PHONE, LONDON)]


def test_sql_configured_site_field_missing_from_the_export_is_refused() -> None:
    with pytest.raises(SourceError) as error:
        read_cucm_axl_sql(config(SQL_SAMPLE, site_field="devicepool"))
    assert error.value.column == "devicepool"


@pytest.mark.parametrize("returned", ["<return/>", ""])
def test_sql_empty_or_absent_return_is_no_rows(returned: str) -> None:
    data = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        f'<ns:executeSQLQueryResponse xmlns:ns="http://www.cisco.com/AXL/API/9.1">{returned}'
        "</ns:executeSQLQueryResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()
    frames = parse_axl_response(data, "page", config(None))
    assert frames.usages.is_empty()
    assert frames.raw["raw_cucm_numplan"].is_empty()
    assert read_cucm_axl_sql(config(FIXTURES / "axl_executeSQLQuery_no_rows.variant.response.xml")).usages.is_empty()


def test_sql_reader_reads_the_columns_the_numbers_query_returns() -> None:
    query = "\n".join(line for line in NUMBERS_SQL.read_text().splitlines() if not line.startswith("--"))
    select_list = re.search(r"select(.*?)\bfrom\b", query, re.S | re.I)
    assert select_list is not None
    returned = [re.split(r"\s+as\s+|\.", item.strip())[-1] for item in select_list.group(1).split(",")]
    assert returned == [SQL_NUMBER, SQL_USAGE, SQL_PARTITION, SQL_DEVICE, SQL_DEVICE_CLASS, SQL_DEVICE_POOL, SQL_OWNER, SQL_MASK]
    assert "tpu.name as tkpatternusage" in query
    assert "typepatternusage tpu on np.tkpatternusage = tpu.enum" in query


def test_sql_pages_concatenate_with_their_record_numbers() -> None:
    data = SQL_SAMPLE.read_bytes()
    pages = [
        parse_axl_response(data, "https://cucm:8443/axl/ page 1", config(None), first_record=1),
        parse_axl_response(data, "https://cucm:8443/axl/ page 2", config(None), first_record=14),
    ]
    frames = concat_pages(pages)
    assert frames.usages["source_row"].to_list() == list(range(1, 27))
    raw = frames.raw["raw_cucm_numplan"]
    assert raw["source_row"].to_list() == list(range(1, 27))
    assert raw["source_file"].unique(maintain_order=True).to_list() == [
        "https://cucm:8443/axl/ page 1", "https://cucm:8443/axl/ page 2"
    ]


def test_sql_folder_of_responses_is_read_in_sorted_order(tmp_path: Path) -> None:
    shutil.copy(SQL_SAMPLE, tmp_path / "page-2.xml")
    (tmp_path / "page-1.xml").write_bytes(sql_response([{SQL_NUMBER: "1000", SQL_USAGE: "Hunt Pilot"}]))
    (tmp_path / "notes.txt").write_text("not a response")
    frames = read_cucm_axl_sql(config(tmp_path))
    assert frames.usages.height == 14
    assert frames.usages["number"].head(2).to_list() == ["1000", "+19195551000"]
    assert frames.raw["raw_cucm_numplan"]["source_file"].unique(maintain_order=True).to_list() == [
        str(tmp_path / "page-1.xml"), str(tmp_path / "page-2.xml")
    ]
    # Records are numbered across the pages, as a live extraction numbers them.
    assert frames.raw["raw_cucm_numplan"]["source_row"].to_list() == list(range(1, 15))
    assert frames.usages["source_row"].to_list() == list(range(1, 15))


def test_readers_are_registered() -> None:
    assert READERS["cucm_axl_sql"] is read_cucm_axl_sql
    assert READERS["cucm_axl_getphone"] is read_cucm_axl_getphone
    assert READERS["cucm_axl_list"] is read_cucm_axl_list


# ----------------------------------------------------------------------------- getPhone


def getphone_variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = GETPHONE_SAMPLE.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "getPhone.xml"
    path.write_text(text)
    return path


LINE_START = '<line uuid="{F1BD95EC-BC7F-825C-4486-1617A0FE1297}">'
LINES = re.search(r"<lines>.*</lines>", GETPHONE_SAMPLE.read_text())
assert LINES is not None
SAMPLE_LINES = LINES.group(0)
SAMPLE_LINE = SAMPLE_LINES.removeprefix("<lines>").removesuffix("</lines>")


def test_getphone_sample_line_is_a_phone_usage_at_its_device_pool_site() -> None:
    frames = read_cucm_axl_getphone(config(GETPHONE_SAMPLE))
    columns = ("source_row", "number_raw", "number", "device_type", "device_name", "partition", "cluster", "site", "site_key", "owner", "e164")
    assert usages(frames, *columns) == [
        # e164Mask 6024641171 is a national number, not an E.164
        (1, "6024641171", "6024641171", PHONE, "SEP000000000028", "IPTWTE1_Global_Phones_PT", "CL1", LONDON, "AZ01_21_DP", "", "")
    ]


def test_getphone_sample_lands_the_phone_and_its_line_raw() -> None:
    raw = read_cucm_axl_getphone(config(GETPHONE_SAMPLE)).raw
    phone = raw["raw_cucm_phone"].row(0, named=True)
    assert phone["name"] == "SEP000000000028"
    assert phone["uuid"] == "{0B149639-2E49-0A08-5437-A3E858022FF1}"
    assert phone["class"] == "Phone"
    assert (phone["devicePoolName"], phone["devicePoolName.uuid"]) == ("AZ01_21_DP", "{ED8F55F5-6B23-4364-9224-703AAE0CDAE3}")
    # an empty FK element: no name, no uuid
    assert phone["callingSearchSpaceName"] == ""
    assert "callingSearchSpaceName.uuid" not in phone
    assert phone["vendorConfig.garp"] == "1"
    assert phone["speeddials"].startswith("<speeddial><dirn>1</dirn><label>test1</label>")
    assert "lines" not in phone
    line = raw["raw_cucm_phone_line"].row(0, named=True)
    assert (line["source_row"], line["phone.name"], line["index"]) == (1, "SEP000000000028", "1")
    assert (line["dirn.pattern"], line["dirn.routePartitionName"]) == ("6024641171", "IPTWTE1_Global_Phones_PT")
    assert line["dirn.routePartitionName.uuid"] == "{B8B08116-6611-E789-91DF-088C6E3F8EF9}"
    assert line["e164Mask"] == "6024641171"


def test_getphone_with_no_lines_uses_no_number(tmp_path: Path) -> None:
    frames = read_cucm_axl_getphone(config(getphone_variant(tmp_path, (SAMPLE_LINES, "<lines/>"))))
    assert frames.usages.is_empty()
    assert frames.raw["raw_cucm_phone"].height == 1
    assert frames.raw["raw_cucm_phone_line"].is_empty()


def test_getphone_same_dn_in_two_partitions_is_two_usages(tmp_path: Path) -> None:
    second = (
        SAMPLE_LINE.replace("<index>1</index>", "<index>2</index>")
        .replace("IPTWTE1_Global_Phones_PT", "PT_Lobby")
        .replace("<e164Mask>6024641171</e164Mask>", "<e164Mask>+16024641171</e164Mask>")
    )
    path = getphone_variant(tmp_path, (SAMPLE_LINES, f"<lines>{SAMPLE_LINE}{second}</lines>"))
    frames = read_cucm_axl_getphone(config(path))
    assert usages(frames, "number", "partition", "e164") == [
        ("6024641171", "IPTWTE1_Global_Phones_PT", ""),
        ("6024641171", "PT_Lobby", "+16024641171"),
    ]
    assert frames.raw["raw_cucm_phone_line"]["index"].to_list() == ["1", "2"]


@pytest.mark.parametrize(
    ("device_class", "device_type"),
    [("Device Profile", DEVICE_PROFILE), ("Remote Destination Profile", RDP), ("CTI Route Point", CTI_ROUTE_POINT)],
)
def test_getphone_device_type_follows_the_class(tmp_path: Path, device_class: str, device_type: str) -> None:
    path = getphone_variant(tmp_path, ("<class>Phone</class>", f"<class>{device_class}</class>"))
    assert read_cucm_axl_getphone(config(path)).usages["device_type"].to_list() == [device_type]


def test_getphone_owner_and_unmapped_device_pool(tmp_path: Path) -> None:
    path = getphone_variant(
        tmp_path,
        ("<ownerUserName/>", '<ownerUserName uuid="{11111111-2222-3333-4444-555555555555}">jsmith</ownerUserName>'),
        (">AZ01_21_DP<", ">DP_Unmapped<"),
    )
    assert usages(read_cucm_axl_getphone(config(path)), "owner", "site", "site_key") == [("jsmith", None, "DP_Unmapped")]


def test_getphone_escaped_plus_in_a_line_pattern_is_normalised(tmp_path: Path) -> None:
    path = getphone_variant(tmp_path, ("<pattern>6024641171</pattern>", "<pattern>\\+16024641171</pattern>"))
    assert usages(read_cucm_axl_getphone(config(path)), "number_raw", "number") == [("\\+16024641171", "+16024641171")]


def test_getphone_without_lines_element_is_refused(tmp_path: Path) -> None:
    path = getphone_variant(tmp_path, (SAMPLE_LINES, ""))
    with pytest.raises(SourceError) as error:
        read_cucm_axl_getphone(config(path))
    assert (error.value.file, error.value.row, error.value.column) == (str(path), 1, "lines")


def test_getphone_lines_item_that_is_not_a_line_is_refused(tmp_path: Path) -> None:
    identifier = "<lineIdentifier><directoryNumber>6024641172</directoryNumber></lineIdentifier>"
    path = getphone_variant(tmp_path, ("</lines>", f"{identifier}</lines>"))
    with pytest.raises(SourceError) as error:
        read_cucm_axl_getphone(config(path))
    assert (error.value.row, error.value.column) == (1, "lines/lineIdentifier")


def test_getphone_pretty_printed_empty_lines_is_no_line(tmp_path: Path) -> None:
    frames = read_cucm_axl_getphone(config(getphone_variant(tmp_path, (SAMPLE_LINES, "<lines>\n    </lines>"))))
    assert frames.usages.is_empty()


def test_getphone_line_without_a_pattern_is_refused(tmp_path: Path) -> None:
    path = getphone_variant(tmp_path, ("<pattern>6024641171</pattern>", ""))
    with pytest.raises(SourceError) as error:
        read_cucm_axl_getphone(config(path))
    assert (error.value.row, error.value.column) == (1, "lines/line[1]/dirn/pattern")
    assert "SEP000000000028" in str(error.value)


def test_getphone_without_device_pool_is_refused(tmp_path: Path) -> None:
    path = getphone_variant(
        tmp_path, ('<devicePoolName uuid="{ED8F55F5-6B23-4364-9224-703AAE0CDAE3}">AZ01_21_DP</devicePoolName>', "")
    )
    with pytest.raises(SourceError) as error:
        read_cucm_axl_getphone(config(path))
    assert (error.value.row, error.value.column) == (1, "devicePoolName")


def test_getphone_folder_reads_every_response(tmp_path: Path) -> None:
    shutil.copy(GETPHONE_SAMPLE, tmp_path / "SEP000000000028.xml")
    text = GETPHONE_SAMPLE.read_text().replace("SEP000000000028", "SEP000000000029").replace(">6024641171<", ">6024641172<")
    (tmp_path / "SEP000000000029.xml").write_text(text)
    frames = read_cucm_axl_getphone(config(tmp_path))
    assert usages(frames, "device_name", "number") == [("SEP000000000028", "6024641171"), ("SEP000000000029", "6024641172")]
    assert usages(frames, "source_row") == [(1,), (2,)]
    assert frames.raw["raw_cucm_phone_line"]["source_row"].to_list() == [1, 2]
    assert frames.raw["raw_cucm_phone"]["source_file"].to_list() == [
        str(tmp_path / "SEP000000000028.xml"), str(tmp_path / "SEP000000000029.xml")
    ]


def test_soap_fault_is_refused_quoting_its_faultstring() -> None:
    path = FIXTURES / "axl_soap_fault.variant.response.xml"
    with pytest.raises(SourceError) as error:
        read_cucm_axl_getphone(config(path))
    assert str(error.value).startswith(str(path))
    assert "'Item not valid: The specified Phone was not found'" in str(error.value)
    assert "axlcode 5007" in str(error.value)


def test_a_response_of_another_operation_is_refused() -> None:
    with pytest.raises(SourceError, match="is a listLineResponse; this source reads getPhoneResponse"):
        read_cucm_axl_getphone(config(LISTLINE_SAMPLE))
    with pytest.raises(SourceError, match="is a getPhoneResponse"):
        read_cucm_axl_sql(config(GETPHONE_SAMPLE))


# ----------------------------------------------------------------------------- list*


def test_listline_sample_is_a_phone_line_without_a_device() -> None:
    frames = read_cucm_axl_list(config(LISTLINE_SAMPLE))
    columns = ("source_row", "number_raw", "number", "device_type", "device_name", "partition", "site", "site_key")
    assert usages(frames, *columns) == [(1, "1234", "1234", PHONE, "", "P_IP_Telephony", CUSTOMER, "")]
    raw = frames.raw["raw_cucm_line"].row(0, named=True)
    assert (raw["pattern"], raw["usage"], raw["description"]) == ("1234", "Device", "Luciano Ortega")
    assert raw["uuid"] == "{472FB464-0A35-E918-6007-264BDC119C8D}"
    assert raw["routePartitionName.uuid"] == "{B06D3111-977A-8F46-1BCA-8936C8377070}"


def test_listline_same_dn_two_partitions_and_intercom_line() -> None:
    frames = read_cucm_axl_list(config(FIXTURES / "axl_listLine_usages.variant.response.xml"))
    assert usages(frames, "source_row", "number", "partition") == [(1, "1234", "P_IP_Telephony"), (2, "1234", "P_Lobby")]
    assert frames.raw["raw_cucm_line"]["usage"].to_list() == ["Device", "Device", "Device Intercom"]


@pytest.mark.parametrize(
    ("fixture", "table", "expected"),
    [
        (
            "axl_listHuntPilot.variant.response.xml",
            "raw_cucm_huntpilot",
            [("\\+14085551000", "+14085551000", HUNT_PILOT, "", "PT_Internal"), ("5100", "5100", HUNT_PILOT, "", "")],
        ),
        (
            "axl_listCallPickupGroup.variant.response.xml",
            "raw_cucm_callpickupgroup",
            [("6001", "6001", PICKUP, "CPG_Reception", "PT_Internal")],
        ),
        # a park range is not one number: kept, reported as bad_number by the audit
        ("axl_listCallPark.variant.response.xml", "raw_cucm_callpark", [("70X", None, CALL_PARK, "", "PT_Internal")]),
        (
            "axl_listDirectedCallPark.variant.response.xml",
            "raw_cucm_directedcallpark",
            [("7100", "7100", DIRECTED_CALL_PARK, "", "PT_Internal")],
        ),
        ("axl_listMeetMe.variant.response.xml", "raw_cucm_meetme", [("8000", "8000", MEET_ME, "", "PT_Internal")]),
        # voicemail pilots carry their number in `dirn` and have no partition
        (
            "axl_listVoiceMailPilot.variant.response.xml",
            "raw_cucm_voicemailpilot",
            [("\\+14085559000", "+14085559000", VOICEMAIL_PILOT, "", "")],
        ),
    ],
)
def test_list_operations(fixture: str, table: str, expected: list[tuple[Any, ...]]) -> None:
    frames = read_cucm_axl_list(config(FIXTURES / fixture, default_site="London"))
    assert usages(frames, "number_raw", "number", "device_type", "device_name", "partition") == expected
    assert set(usages(frames, "site", "site_key", "cluster")) == {(LONDON, "", "CL1")}
    assert list(frames.raw) == [table]
    assert frames.raw[table].height == len(expected)


def test_list_site_field_maps_items_and_voicemail_pilots_land_at_the_default_site(tmp_path: Path) -> None:
    # A folder of list responses with a site field: the pilots' partitions map to sites; a
    # voicemail pilot has no partition and lands at the default site instead of being refused.
    for fixture in ("axl_listHuntPilot.variant.response.xml", "axl_listVoiceMailPilot.variant.response.xml"):
        shutil.copy(FIXTURES / fixture, tmp_path / fixture)
    source = config(tmp_path, site_field="routePartitionName", site_map={"PT_Internal": "Paris"}, default_site="London")
    frames = read_cucm_axl_list(source)
    assert usages(frames, "number", "device_type", "site", "site_key") == [
        ("+14085551000", HUNT_PILOT, PARIS, "PT_Internal"),
        ("5100", HUNT_PILOT, None, ""),  # no partition: an unmapped pilot
        ("+14085559000", VOICEMAIL_PILOT, LONDON, ""),
    ]


def test_list_site_field_no_item_has_is_refused() -> None:
    with pytest.raises(SourceError) as error:
        read_cucm_axl_list(config(FIXTURES / "axl_listHuntPilot.variant.response.xml", site_field="devicePoolName"))
    assert (error.value.column, error.value.reason) == ("devicePoolName", "the items have no such element (the site field)")


def test_listline_without_usage_element_counts_as_a_device_line() -> None:
    data = LISTLINE_SAMPLE.read_bytes().replace(b"<usage>Device</usage>", b"")
    frames = parse_axl_response(data, "page", config(None))
    assert usages(frames, "number", "device_type") == [("1234", PHONE)]


def test_list_nested_fields_are_flattened_in_the_raw_table() -> None:
    raw = read_cucm_axl_list(config(FIXTURES / "axl_listHuntPilot.variant.response.xml")).raw["raw_cucm_huntpilot"]
    first = raw.row(0, named=True)
    assert first["huntListName"] == "HL_Sales"
    assert first["forwardHuntNoAnswer.destination"] == "5000"
    assert first["forwardHuntNoAnswer.callingSearchSpaceName"] == ""
    # the second pilot lacks huntListName: null, not an empty value
    assert raw["huntListName"].to_list() == ["HL_Sales", None]


def test_list_item_without_its_number_element_is_refused() -> None:
    text = (FIXTURES / "axl_listVoiceMailPilot.variant.response.xml").read_text()
    data = text.replace("<dirn>", "<pattern>").replace("</dirn>", "</pattern>").encode()
    with pytest.raises(SourceError) as error:
        parse_axl_response(data, "vm.xml", config(None))
    assert (error.value.file, error.value.row, error.value.column) == ("vm.xml", 1, "dirn")


def test_list_without_items_is_no_usage() -> None:
    data = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        b'<ns:listHuntPilotResponse xmlns:ns="http://www.cisco.com/AXL/API/14.0"><return/></ns:listHuntPilotResponse>'
        b"</soapenv:Body></soapenv:Envelope>"
    )
    frames = parse_axl_response(data, "page", config(None))
    assert frames.usages.is_empty()
    assert frames.raw["raw_cucm_huntpilot"].is_empty()


def test_unsupported_list_operation_is_refused() -> None:
    data = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        b'<ns:listPhoneResponse xmlns:ns="http://www.cisco.com/AXL/API/14.0"><return><phone><name>SEP1</name></phone>'
        b"</return></ns:listPhoneResponse></soapenv:Body></soapenv:Envelope>"
    )
    with pytest.raises(SourceError, match="is a listPhoneResponse; this source reads listCallParkResponse"):
        parse_axl_response(data, "page", config(None), accepted={"listCallParkResponse"})
    with pytest.raises(SourceError, match="is a listPhoneResponse"):
        parse_axl_response(data, "page", config(None))


# ----------------------------------------------------------------------------- hostile and broken XML


@pytest.mark.parametrize(
    "fixture", ["axl_executeSQLQuery_xxe.hostile.response.xml", "axl_executeSQLQuery_entity_bomb.hostile.response.xml"]
)
def test_doctype_and_entities_are_refused_never_resolved(fixture: str) -> None:
    path = FIXTURES / fixture
    with pytest.raises(SourceError) as error:
        read_cucm_axl_sql(config(path))
    assert error.value.file == str(path)
    assert "DOCTYPE" in str(error.value)
    assert "root:" not in str(error.value)


def test_truncated_xml_is_refused_with_line_and_column() -> None:
    path = FIXTURES / "axl_executeSQLQuery.truncated.response.xml"
    with pytest.raises(SourceError) as error:
        read_cucm_axl_sql(config(path))
    assert str(error.value) == f"{path}: is not well-formed XML at line 21, column 14: no element found"


def test_deeply_nested_xml_is_refused() -> None:
    data = ("<a>" * 5000 + "</a>" * 5000).encode()
    with pytest.raises(SourceError, match="nests elements more than 64 deep"):
        parse_axl_response(data, "deep.xml", config(None))


def test_empty_and_missing_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.xml").write_bytes(b"  \n")
    with pytest.raises(SourceError, match=r"empty\.xml: is empty"):
        read_cucm_axl_sql(config(tmp_path / "empty.xml"))
    with pytest.raises(SourceError, match=r"missing\.xml: file not found"):
        read_cucm_axl_sql(config(tmp_path / "missing.xml"))
    (tmp_path / "pages").mkdir()
    with pytest.raises(SourceError, match="the folder holds no"):
        read_cucm_axl_sql(config(tmp_path / "pages"))
    with pytest.raises(SourceError, match="needs a `path`"):
        read_cucm_axl_sql(config(None))
