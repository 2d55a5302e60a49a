"""`numaudit export`: CSV files that a spreadsheet opens without running anything in them
(OWASP CSV injection), with the inventory's `+` E.164 numbers left as they are."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from numaudit.cli import app
from numaudit.estate import load_estate
from numaudit.export import ExportError, export_csv, neutralise_cell, neutralise_frame, write_export_csv
from storage.lake import Warehouse
from tests.conftest import ESTATE, write_estate

HOSTILE = Path(__file__).resolve().parent / "hostile"
ACME = "sys.prov.Acme"
DDE = "=cmd|' /C calc'!A0"

NEUTRALISED = [
    DDE,
    '=HYPERLINK("http://evil.example/","x")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\tPT_TAB",  # OWASP: a leading tab or carriage return, whatever follows
    "\r=1+1",
    "  =1+1",  # importers that trim spaces would run it
    "\u00a0@SUM(1)",
    "+44 20 7123 4567",  # not a plain number: spaces
    "+1001\n",  # not a plain number: the line break
    "+１００１",  # full-width digits are no number a spreadsheet reads
    "+1.2.3",
    "+",
    "-",
    "@",
    "=",
]
KEPT = [
    "+442071234567",  # the inventory's normalised E.164 numbers
    "+1001",
    "1001",
    "0800123",
    "-3",
    "-0.5",
    "12.5",
    "",
    "Used",
    "sys.prov.Acme.London",
    "a=b",
    "'=already text",
    "1+1",
    "x\n=1",  # a formula only at a cell's start
]


@pytest.mark.parametrize("value", NEUTRALISED)
def test_formula_like_cells_get_a_leading_quote(value: str) -> None:
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", KEPT)
def test_plain_numbers_and_ordinary_text_are_kept(value: str) -> None:
    assert neutralise_cell(value) == value


def test_the_column_rule_is_the_cell_rule() -> None:
    values = [*NEUTRALISED, *KEPT]
    frame = pl.DataFrame(
        {"value": values, "nothing": [None] * len(values)}, schema={"value": pl.String(), "nothing": pl.String()}
    )
    neutral, changed = neutralise_frame(frame)
    assert neutral["value"].to_list() == [neutralise_cell(v) for v in values]
    assert neutral["nothing"].to_list() == [None] * len(values)
    assert changed == len(NEUTRALISED)


def test_headers_are_neutralised_and_typed_columns_left_alone() -> None:
    frame = pl.DataFrame({DDE: ["x"], "days_left": [-3], "release_date": [date(2026, 11, 1)], "used_percent": [-0.5]})
    neutral, changed = neutralise_frame(frame)
    assert neutral.columns == ["'" + DDE, "days_left", "release_date", "used_percent"]
    assert neutral.row(0) == ("x", -3, date(2026, 11, 1), -0.5)
    assert changed == 1


def read_back(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_written_file_quotes_separators_quotes_and_line_breaks(tmp_path: Path) -> None:
    cells = ["a,b", 'say "hi"', "two\r\nlines", "\r=1+1", "Café", None, ""]
    frame = pl.DataFrame({"cell": cells, "n": range(len(cells))}, schema={"cell": pl.String(), "n": pl.Int64()})
    assert write_export_csv(frame, tmp_path / "out.csv") == 1
    rows = read_back(tmp_path / "out.csv")
    assert [row[0] for row in rows] == ["cell", "a,b", 'say "hi"', "two\r\nlines", "'\r=1+1", "Café", "", ""]
    assert (tmp_path / "out.csv").read_bytes().endswith(b"6\r\n")  # CRLF line ends
    assert not (tmp_path / "out.csv.part").exists()


def test_a_file_that_cannot_be_written_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    frame = pl.DataFrame({"cell": ["x"]})
    with pytest.raises(ExportError, match="cannot write"):
        write_export_csv(frame, tmp_path / "no-such-folder" / "out.csv")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def hostile_home(tmp_path: Path) -> Path:
    """A warehouse whose inventory has formula-looking tags and descriptions and whose raw
    usages have a formula-looking column name (tests/hostile/csv/)."""
    folder = tmp_path / "estate"
    estate = write_estate(folder)
    (folder / "inventory.csv").write_bytes((HOSTILE / "csv" / "inventory-formula-cells.csv").read_bytes())
    (folder / "usages.csv").write_bytes((HOSTILE / "csv" / "usages-formula-header.csv").read_bytes())
    estate.write_text(ESTATE.split('[[sources]]\nname = "teams"')[0], encoding="utf-8")  # the usages source only
    home = tmp_path / "warehouse"
    with Warehouse(home) as lake:
        load_estate(lake, estate)
    return home


def test_cli_exports_the_inventory_with_hostile_cells_neutralised(hostile_home: Path, tmp_path: Path) -> None:
    output = tmp_path / "acme.csv"
    args = ["export", "number_inventory", "--customer", ACME, "--output", str(output), "--warehouse", str(hostile_home)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "exported 4 row(s) of number_inventory" in result.output and "6 cell(s)" in " ".join(result.output.split())
    header, *rows = read_back(output)
    entries = {row[header.index("number")]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(entries) == {"+442071234567", "1002", "1003", "2000"}  # the + kept: a plain number
    assert entries["+442071234567"]["tag"] == "'" + DDE
    assert entries["+442071234567"]["description"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert entries["1002"]["tag"] == '\'+HYPERLINK("http://evil.example/","x")'
    assert entries["1002"]["description"] == "'-2+3"
    assert entries["1003"]["tag"] == "'\t=1+1" and entries["1003"]["description"] == "' =1+1"
    assert entries["2000"]["tag"] == "-1" and entries["2000"]["description"] == "+1001"  # plain numbers
    assert entries["1003"]["release_date"] == "2026-11-01"
    for row in rows:  # whatever the table holds, no cell starts a formula
        for cell in row:
            assert neutralise_cell(cell) == cell, cell


def test_cli_exports_a_raw_table_with_a_hostile_column_name(hostile_home: Path, tmp_path: Path) -> None:
    output = tmp_path / "raw.csv"
    result = CliRunner().invoke(app, ["export", "raw_usages", "-o", str(output), "--warehouse", str(hostile_home)])
    assert result.exit_code == 0, result.output
    header, row = read_back(output)
    assert "'" + DDE in header and DDE not in header
    assert row[header.index("'" + DDE)] == "'=1+1"


def test_export_refuses_unknown_names_and_nodes_that_are_not_customers(hostile_home: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    with Warehouse(hostile_home, read_only=True) as lake:
        with pytest.raises(
            ExportError, match=r"'numbers' is not a table or view of the warehouse; there are .*number_inventory"
        ):
            export_csv(lake, "numbers", output)
        with pytest.raises(ExportError, match="must be a node of kind customer; it is a site"):
            export_csv(lake, "number_inventory", output, customer=f"{ACME}.London")
        with pytest.raises(ExportError, match="it is not in the hierarchy"):
            export_csv(lake, "number_inventory", output, customer="sys.prov.Initech")
        report = export_csv(lake, "free_numbers", output, customer=ACME)  # a view, filtered by hierarchy
        assert report.rows == 3
    assert not output.with_name("out.csv.part").exists()
    result = CliRunner().invoke(app, ["export", "numbers", "-o", str(output), "--warehouse", str(hostile_home)])
    assert result.exit_code == 1 and "is not a table or view" in result.output
