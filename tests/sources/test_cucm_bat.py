"""CUCM BAT "Export Phones - All Details" CSV reader."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from sources.base import SourceConfig, SourceError, SourceFrames
from sources.cucm_bat import read_cucm_bat_phones
from sources.registry import READERS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats" / "cucm"
SAMPLE = FIXTURES / "bat_export_phones_all_details.sample.csv"
TWO_LINES = FIXTURES / "bat_export_phones_two_lines.variant.csv"
R15 = FIXTURES / "bat_export_phones_r15_layout.variant.csv"

CUSTOMER = "sys.prov.Acme"
LONDON = f"{CUSTOMER}.London"
PARIS = f"{CUSTOMER}.Paris"
NODES = frozenset({CUSTOMER, LONDON, PARIS})
SITE_MAP = {"CPTI": "Paris", "DP_London": "London"}
PHONE = "device/cucm/Phone"
USAGE_COLUMNS = ("source_row", "number_raw", "number", "device_type", "device_name", "partition", "site", "site_key", "owner", "e164")


def config(path: Path, **changes: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "bat",
        "kind": "cucm_bat_phones",
        "customer": CUSTOMER,
        "path": path,
        "cluster": "CL2",
        "site_map": SITE_MAP,
        "known_nodes": NODES,
    }
    return SourceConfig(**(values | changes))


def usages(frames: SourceFrames, *columns: str) -> list[tuple[Any, ...]]:
    return frames.usages.select(columns).rows()


def test_sample_phone_line_is_a_usage_at_its_device_pool_site() -> None:
    frames = read_cucm_bat_phones(config(SAMPLE))
    assert usages(frames, *USAGE_COLUMNS, "cluster") == [
        (2, "7070", "7070", PHONE, "SEP707070707070", "pt_Tochmash", PARIS, "CPTI", "", "", "CL2")
    ]


def test_sample_every_value_lands_raw_unchanged() -> None:
    """Each header's value, Cyrillic and `t`/`f` included, is in the device or the line table."""
    with SAMPLE.open(encoding="utf-8", newline="") as file:
        header, values = list(csv.reader(file))
    raw = read_cucm_bat_phones(config(SAMPLE)).raw
    device = raw["raw_cucm_bat_phone"].row(0, named=True)
    line = raw["raw_cucm_bat_phone_line"].row(0, named=True)
    for name, value in zip(header, values, strict=True):
        if name in device:
            assert device[name] == value, name
        else:
            base = " ".join(name.split()).removesuffix(" 1")
            assert line[base] == value, name
    assert (line["source_row"], line["Device Name"], line["line_index"]) == (2, "SEP707070707070", "1")
    assert line["Alerting Name"] == "Мамров Владимир Александро"
    assert (line["Caller Name"], line["Caller Number"]) == ("t", "f")
    assert line["Forward All Destination"] == "21471009"
    assert line["External Phone Number Mask"] == ""


def test_sample_line_columns_and_device_columns_are_split() -> None:
    raw = read_cucm_bat_phones(config(SAMPLE)).raw
    device, line = raw["raw_cucm_bat_phone"], raw["raw_cucm_bat_phone_line"]
    # device-level columns that end in a digit stay with the device
    assert {"User ID 1", "Module 1", "Module 1 Load Name", "Device Pool"} <= set(device.columns)
    # the double-spaced header is read as its single-spaced base name
    assert "Line Network Hold MOH Audio Source" in line.columns
    assert not any(column.endswith(" 1") and "Module" not in column and "User ID" not in column for column in device.columns)
    assert device.width == 5 + 116
    assert line.width == 5 + 2 + 84


def test_two_lines_case_and_spacing_of_headers_and_same_dn_in_two_partitions() -> None:
    frames = read_cucm_bat_phones(config(TWO_LINES))
    assert usages(frames, *USAGE_COLUMNS) == [
        (2, "1001", "1001", PHONE, "SEP0011AABBCC10", "pt_A", PARIS, "CPTI", "ivanov", "+74951231001"),
        (2, "1001", "1001", PHONE, "SEP0011AABBCC10", "pt_B", PARIS, "CPTI", "ivanov", ""),
        # CUCM's escaped plus; row 3 has no line 2, row 4 no line at all
        (3, "\\+74951231002", "+74951231002", PHONE, "SEP0011AABBCC11", "pt_A", PARIS, "CPTI", "petrov", ""),
        # a device pool the site map does not know: unmapped
        (5, "1003", "1003", PHONE, "SEP0011AABBCC13", "pt_A", None, "DP_Unknown", "", ""),
    ]
    line = read_cucm_bat_phones(config(TWO_LINES)).raw["raw_cucm_bat_phone_line"]
    assert line.select("source_row", "line_index", "Directory Number", "Alerting Name").rows() == [
        (2, "1", "1001", "Иванов"),
        (2, "2", "1001", "Иванов Б"),
        (3, "1", "\\+74951231002", "Петров"),
        (5, "1", "1003", ""),
    ]
    assert line["Line Network Hold MOH Audio Source"].to_list() == ["1", "", "", ""]


def test_r15_layout_without_line_index_is_line_one() -> None:
    frames = read_cucm_bat_phones(config(R15))
    assert usages(frames, *USAGE_COLUMNS) == [
        (2, "4001", "4001", PHONE, "SEP0011AABBCC01", "pt_Tochmash", PARIS, "CPTI", "reception", "+74951234001")
    ]
    line = frames.raw["raw_cucm_bat_phone_line"]
    assert line.columns[5:] == [
        "Device Name", "line_index", "Directory Number", "Partition", "Voice Mail Profile",
        "External Phone Number Mask", "Line Text Label",
    ]
    assert frames.raw["raw_cucm_bat_phone"].columns[5:] == [
        "Device Name", "Description", "Device Pool", "Phone Template", "CSS", "Owner User ID"
    ]


def test_configured_site_field() -> None:
    frames = read_cucm_bat_phones(config(SAMPLE, site_field="location", site_map={"Hub_None": "London"}))
    assert usages(frames, "site", "site_key") == [(LONDON, "Hub_None")]


@pytest.mark.parametrize(
    ("fixture", "column"),
    [
        # the BAT insert file format (MAC ADDRESS, ...), not an export
        ("bat_insert_format_not_export.variant.csv", "Device Name"),
        ("bat_export_phones_no_directory_number.variant.csv", "Directory Number 1"),
    ],
)
def test_wrong_header_is_refused_naming_file_row_and_column(fixture: str, column: str) -> None:
    path = FIXTURES / fixture
    with pytest.raises(SourceError) as error:
        read_cucm_bat_phones(config(path))
    assert (error.value.file, error.value.row, error.value.column) == (str(path), 1, column)
    assert str(error.value).startswith(f"{path}, row 1, column '{column}': missing column")


def test_missing_site_column_and_ambiguous_headers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        read_cucm_bat_phones(config(SAMPLE, site_field="Site"))
    assert (error.value.row, error.value.column) == (1, "Site")
    path = tmp_path / "export.csv"
    path.write_text("Device Name,Device Pool,Directory Number 1,Directory  Number 1\nSEP1,CPTI,1000,1001\n")
    with pytest.raises(SourceError) as error:
        read_cucm_bat_phones(config(path))
    assert (error.value.row, error.value.column) == (1, "Directory  Number 1")


def test_reader_is_registered() -> None:
    assert READERS["cucm_bat_phones"] is read_cucm_bat_phones
