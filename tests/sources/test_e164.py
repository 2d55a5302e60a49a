"""E.164 associations CSV (SPEC 4.5): administrators' data, refused row by row when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.base import SourceConfig, SourceError
from sources.e164 import read_associations
from sources.registry import READERS

ASSOCIATIONS = Path(__file__).parents[1] / "fixtures" / "formats" / "misc" / "e164-associations.made-by-numaudit.csv"
CUSTOMER = "sys.prov.Acme"


def config(path: Path) -> SourceConfig:
    return SourceConfig(name="e164", kind="e164_associations", customer=CUSTOMER, path=path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "e164.csv"
    path.write_text(text)
    return path


def refusal(tmp_path: Path, text: str) -> SourceError:
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as error:
        read_associations(config(path))
    assert error.value.file == str(path)
    return error.value


def test_e164_kind_is_registered() -> None:
    assert READERS["e164_associations"] is read_associations


def test_associations_fixture() -> None:
    frames = read_associations(config(ASSOCIATIONS))
    assert frames.e164.to_dicts() == [
        {
            "customer": CUSTOMER,
            "source": "e164",
            "source_row": 2,
            "e164": "+442071234500",
            "number": "4500",
            "is_primary": True,
        },
        {
            "customer": CUSTOMER,
            "source": "e164",
            "source_row": 3,
            "e164": "+442071234599",
            "number": "4500",
            "is_primary": False,
        },
        {
            "customer": CUSTOMER,
            "source": "e164",
            "source_row": 4,
            "e164": "+33123456701",
            "number": "2001",
            "is_primary": False,
        },
        {
            "customer": CUSTOMER,
            "source": "e164",
            "source_row": 5,
            "e164": "+14025551234",
            "number": "+14025551234",
            "is_primary": True,
        },
    ]
    raw = frames.raw["raw_e164_associations"]
    assert raw.columns[5:] == ["e164", "internal number", "primary"]
    assert raw["e164"][0] == "+44 20 7123 4500"
    assert frames.usages.is_empty() and frames.vendor_numbers.is_empty()


def test_header_spellings_and_optional_primary(tmp_path: Path) -> None:
    frames = read_associations(config(write(tmp_path, "E164,Internal_Number,IS_PRIMARY\n+4420,4500,1\n")))
    assert frames.e164.select("e164", "number", "is_primary").rows() == [("+4420", "4500", True)]
    frames = read_associations(config(write(tmp_path, "e164,number\n+4420,4500\n")))
    assert frames.e164.select("e164", "number", "is_primary").rows() == [("+4420", "4500", False)]


@pytest.mark.parametrize(
    ("text", "row", "column", "message"),
    [
        ("e164,number\n+4420,4500\n02071234500,4501\n", 3, "e164", "'02071234500' is not an E.164 number"),
        ("e164,number\n+44 20 ext,4500\n", 2, "e164", "'+44 20 ext' is not an E.164 number"),
        ("e164,number\n,4500\n", 2, "e164", "'' is not an E.164 number"),
        ("e164,internal number\n+4420,45 00a\n", 2, "internal number", "'45 00a' is not an internal number"),
        ("e164,number,primary\n+4420,4500,maybe\n", 2, "primary", "'maybe' is not true or false"),
        (
            "e164,number,primary\n+4420,4500,true\n+4421,4501,true\n+4422,4500,yes\n",
            4,
            "primary",
            "internal number 4500 already has a primary E.164",
        ),
        (
            "e164,number\n+4420,4500\n+44 20,4501\n",
            3,
            "e164",
            "E.164 +4420 is already associated with internal number 4500",
        ),
    ],
)
def test_bad_rows_are_refused_with_row_and_column(
    tmp_path: Path, text: str, row: int, column: str, message: str
) -> None:
    error = refusal(tmp_path, text)
    assert (error.row, error.column) == (row, column)
    assert message in error.reason


def test_missing_column_is_refused_at_the_header(tmp_path: Path) -> None:
    error = refusal(tmp_path, "e164,primary\n+4420,true\n")
    assert (error.row, error.column) == (1, "internal number")
