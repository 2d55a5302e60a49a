"""AudioCodes registered users, read from a CSV modelled on the manuals' table (no real output exists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sources.audiocodes import contact_state, read_registered_users
from sources.base import SourceConfig, SourceError
from sources.registry import READERS

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats" / "audiocodes"
TABLE = FIXTURES / "sbc-registered-users.made-by-numaudit.csv"
MANUAL = FIXTURES / "sbc_registered_users.manual-excerpt.txt"

CUSTOMER = "sys.prov.Acme"
OMAHA = f"{CUSTOMER}.Omaha"
SEATTLE = f"{CUSTOMER}.Seattle"
USAGE_COLUMNS = [
    "source_row",
    "number_raw",
    "number",
    "device_type",
    "device_name",
    "vendor",
    "online",
    "site",
    "site_key",
    "number_type",
    "owner",
]


def config(path: Path, **overrides: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "sbc",
        "kind": "audiocodes_registered_users",
        "customer": CUSTOMER,
        "path": path,
        "site_map": {"1": "Omaha", "2": "Seattle"},
        "known_nodes": frozenset({CUSTOMER, OMAHA, SEATTLE}),
    }
    values.update(overrides)
    return SourceConfig(**values)


def usage(row: int, aor: str, number: str | None, online: bool, site: str | None, key: str) -> dict[str, Any]:
    return {
        "source_row": row,
        "number_raw": aor.split("@")[0],
        "number": number,
        "device_type": "device/audiocodes",
        "device_name": aor,
        "vendor": "AudioCodes",
        "online": online,
        "site": site,
        "site_key": key,
        "number_type": "",
        "owner": "",
    }


TABLE_USAGES = [
    usage(2, "1000@10.8.5.71", "1000", True, CUSTOMER, ""),  # older firmware: Active status:1
    usage(3, "1001@10.8.5.71", "1001", False, CUSTOMER, ""),  # Active status:0 = pending
    usage(4, "2000@10.8.5.72", "2000", True, OMAHA, "1"),  # newer firmware: no status text = registered
    usage(5, "2001@10.8.5.72", "2001", False, OMAHA, "1"),  # Not-Active = pending
    usage(6, "3000@10.8.5.73", "3000", True, SEATTLE, "2"),  # two contacts, the second registered
    usage(7, "Sue", None, True, None, "9"),  # a user that is no number; an IP group no site maps
]


def test_audiocodes_kind_is_registered() -> None:
    assert READERS["audiocodes_registered_users"] is read_registered_users


def test_table_usages() -> None:
    frames = read_registered_users(config(TABLE))
    assert frames.usages.select(USAGE_COLUMNS).to_dicts() == TABLE_USAGES


def test_older_firmware_contacts_are_the_manual_examples() -> None:
    manual = " ".join(MANUAL.read_text().split())  # the manual wraps "Active status:1" over two lines
    registered, pending = (line.split(",")[1] for line in TABLE.read_text().splitlines()[1:3])
    assert registered in manual
    assert pending == registered.replace("1000@", "1001@").replace("status:1", "status:0")


def test_raw_keeps_every_column() -> None:
    raw = read_registered_users(config(TABLE)).raw["raw_audiocodes_registered_users"]
    assert raw.columns[5:] == ["Address of Record", "Contact", "SBC"]
    assert raw["source_row"].to_list() == [2, 3, 4, 5, 6, 7]
    assert raw["Contact"][0] == "<sip:1000@10.8.5.71:5060>;expires=180; Active status:1"


def test_site_field_can_name_a_column() -> None:
    frames = read_registered_users(config(TABLE, site_field="SBC", site_map={"sbc-omaha": "Omaha"}))
    assert frames.usages.select("site", "site_key").rows() == [
        (OMAHA, "sbc-omaha"),
        (OMAHA, "sbc-omaha"),
        (OMAHA, "sbc-omaha"),
        (None, "sbc-seattle"),
        (None, "sbc-seattle"),
        (None, "sbc-seattle"),
    ]


@pytest.mark.parametrize(
    ("cell", "state"),
    [
        ("<sip:1000@10.8.5.71:5060>;expires=180; Active status:1", (True, "")),
        ("<sip:1000@10.8.5.71:5060>;expires=180; Active status:0", (False, "")),
        # the manual's own line wrap inside "Active status:1"
        ("<sip:1000@10.8.5.71:5060>;expires=180; Active\nstatus:1", (True, "")),
        ("<sip:1000@10.8.5.71:5060>;expires=180; active status: 1; IPG:4", (True, "4")),
        ("<sip:1000@10.8.5.71:5060>;expires=180", (True, "")),
        ("<sip:1000@10.8.5.71:5060>;expires=180; Not-Active; IPG:3", (False, "3")),
        ("<sip:1@a>;Not-Active;IPG:3\n<sip:1@b>;IPG:5", (True, "5")),
        ("<sip:1@a>;Active status:0;IPG:3, <sip:1@b>;Active status:0", (False, "3")),
        ("Userinfo; IPG:2", (True, "2")),
        ("", (False, "")),
    ],
)
def test_contact_state(cell: str, state: tuple[bool, str]) -> None:
    assert contact_state(cell) == state


def test_unknown_registration_status_is_refused_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(
        "Address of Record,Contact\n1000@10.8.5.71,<sip:1000@10.8.5.71>;Active status:1\n"
        "1001@10.8.5.71,<sip:1001@10.8.5.71>;Active status:2\n"
    )
    with pytest.raises(SourceError) as error:
        read_registered_users(config(path))
    assert (error.value.row, error.value.column) == (3, "Contact")
    assert "'Active status:2' is not a registration status" in error.value.reason


def test_headers_match_in_any_case_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(b"\xef\xbb\xbfADDRESS OF RECORD,contact\r\n1000@10.8.5.71,<sip:1000@10.8.5.71>;IPG:2\r\n")
    frames = read_registered_users(config(path))
    assert frames.usages.select("number", "online", "site").rows() == [("1000", True, SEATTLE)]


def test_missing_contact_column_is_refused_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("Address of Record,Status\n1000@10.8.5.71,Active\n")
    with pytest.raises(SourceError) as error:
        read_registered_users(config(path))
    assert (error.value.file, error.value.row, error.value.column) == (str(path), 1, "Contact")
