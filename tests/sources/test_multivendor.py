"""Multi-vendor phones CSV (SPEC 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sources.base import SourceConfig, SourceError
from sources.multivendor import read_phones
from sources.registry import READERS

PHONES = Path(__file__).parents[1] / "fixtures" / "formats" / "misc" / "multivendor-phones.made-by-numaudit.csv"
CUSTOMER = "sys.prov.Acme"
LONDON = f"{CUSTOMER}.London"
PARIS = f"{CUSTOMER}.Paris"
USAGE_COLUMNS = [
    "source_row",
    "number_raw",
    "number",
    "device_type",
    "device_name",
    "vendor",
    "site",
    "site_key",
    "online",
    "number_type",
    "owner",
    "cluster",
]


def config(path: Path, **overrides: Any) -> SourceConfig:
    values: dict[str, Any] = {
        "name": "phones",
        "kind": "multivendor_phones",
        "customer": CUSTOMER,
        "path": path,
        "cluster": "",
        "known_nodes": frozenset({CUSTOMER, LONDON, PARIS}),
    }
    values.update(overrides)
    return SourceConfig(**values)


def usage(row: int, raw: str, number: str, name: str, vendor: str, site: str | None, key: str) -> dict[str, Any]:
    return {
        "source_row": row,
        "number_raw": raw,
        "number": number,
        "device_type": "data/PRS_MultiVendorPhone_DAT",
        "device_name": name,
        "vendor": vendor,
        "site": site,
        "site_key": key,
        "online": True,
        "number_type": "",
        "owner": "",
        "cluster": "",
    }


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "phones.csv"
    path.write_text(text)
    return path


def test_multivendor_kind_is_registered() -> None:
    assert READERS["multivendor_phones"] is read_phones


def test_phones_fixture() -> None:
    frames = read_phones(config(PHONES))
    # Without a site_map a site value names a site under the customer; Tokyo is no node
    # (unmapped: null), an empty site lands at the default site.
    assert frames.usages.select(USAGE_COLUMNS).to_dicts() == [
        usage(2, "+442071234500", "+442071234500", "YEA-805EC0A1B2C3", "Yealink", LONDON, "London"),
        usage(3, "2001", "2001", "POLY-0004F2AABBCC", "Poly", PARIS, "Paris"),
        usage(4, "(0800) 123-456", "0800123456", "SNOM-000413DDEEFF", "Snom", CUSTOMER, ""),
        usage(5, "4410", "4410", "GXP-000B82112233", "Grandstream", None, "Tokyo"),
    ]
    raw = frames.raw["raw_multivendor_phones"]
    assert raw.columns[5:] == ["number", "phoneVendor", "device name", "site"]
    assert raw["source_row"].to_list() == [2, 3, 4, 5]


def test_site_map_maps_site_values(tmp_path: Path) -> None:
    frames = read_phones(config(PHONES, site_map={"London": "London", "Tokyo": "Paris"}))
    assert frames.usages["site"].to_list() == [LONDON, None, CUSTOMER, PARIS]


@pytest.mark.parametrize(
    "header",
    ["number,phone_vendor,deviceName,site", "NUMBER,Vendor,Device_Name,Site", "Number,PHONEVENDOR,Device Name,SITE"],
)
def test_header_spellings(tmp_path: Path, header: str) -> None:
    frames = read_phones(config(write(tmp_path, f"{header}\n2001,Poly,POLY-1,Paris\n")))
    assert frames.usages.select("number", "vendor", "device_name", "site").rows() == [("2001", "Poly", "POLY-1", PARIS)]


def test_empty_phone_vendor_is_refused_with_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "number,phone_vendor,device name,site\n2001,Poly,P1,Paris\n2002, ,P2,Paris\n")
    with pytest.raises(SourceError) as error:
        read_phones(config(path))
    assert (error.value.file, error.value.row, error.value.column) == (str(path), 3, "phone_vendor")
    assert "phoneVendor is empty" in error.value.reason


def test_two_columns_for_one_field_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "number,vendor,phoneVendor,device name,site\n2001,Poly,Yealink,P1,Paris\n")
    with pytest.raises(SourceError) as error:
        read_phones(config(path))
    assert (error.value.row, error.value.column) == (1, "phoneVendor")
    assert "columns 'vendor', 'phoneVendor' all mean 'phoneVendor'" in error.value.reason


def test_missing_column_is_refused_at_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "number,phoneVendor,site\n2001,Poly,Paris\n")
    with pytest.raises(SourceError) as error:
        read_phones(config(path))
    assert (error.value.row, error.value.column) == (1, "device name")
    assert "(or 'deviceName', 'device_name')" in error.value.reason


def test_value_that_is_no_number_is_kept_for_the_audit_to_report(tmp_path: Path) -> None:
    frames = read_phones(config(write(tmp_path, "number,phoneVendor,device name,site\nreception,Poly,P1,Paris\n")))
    assert frames.usages.select("number_raw", "number").rows() == [("reception", None)]


def test_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "phones.csv"
    path.write_bytes(b"\xef\xbb\xbfnumber,phoneVendor,device name,site\r\n2001,Poly,P1,Paris\r\n")
    assert read_phones(config(path)).usages.select("number", "site").rows() == [("2001", PARIS)]
