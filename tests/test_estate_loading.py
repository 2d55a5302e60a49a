"""`numaudit load`: an estate loads whole, or bad input is refused naming file, row and
column with the warehouse left exactly as it was."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from numaudit.estate import load_estate
from sources.base import SourceError
from storage.lake import Warehouse
from tests.conftest import ESTATE, HIERARCHY, INVENTORY, USAGES, VENDOR_NUMBERS, write_estate


def test_estate_loads_hierarchy_settings_inventory_and_sources(lake: Warehouse, estate: Path) -> None:
    report = load_estate(lake, estate)
    assert report.customer == "sys.prov.Acme"
    assert report.nodes == 5
    assert report.entries_added == 4
    assert report.sources["cucm"]["usages"] == 5
    assert report.sources["teams"]["vendor_numbers"] == 2
    assert lake.read("settings").row(0, named=True)["cooling_days"] == 30
    usages = lake.read("staged_usages").sort("source_row")
    assert usages["number"].to_list() == ["1001", "1001", "3000", "4000", None]
    assert usages["site"].to_list()[:3] == ["sys.prov.Acme.London", "sys.prov.Acme.London", "sys.prov.Acme.Paris"]
    assert usages["site"][3] is None  # unmapped: an exception at audit time, not a load error
    assert usages["cluster"].unique().to_list() == ["CL1"]
    raw = lake.query("SELECT * FROM raw_usages ORDER BY source_row")
    assert raw["number"].to_list()[-1] == "12a4" and raw["source_row"].to_list()[0] == 2
    changes = lake.read("number_changes")
    assert set(changes["change"]) == {"added"} and changes.height == 4


def test_reload_keeps_existing_entries_as_they_are(lake: Warehouse, estate: Path) -> None:
    load_estate(lake, estate)
    lake.con.execute("UPDATE number_inventory SET tag = 'edited by admin' WHERE number = '1001'")
    report = load_estate(lake, estate)
    assert report.entries_added == 0 and report.entries_kept == 4
    assert lake.query("SELECT tag FROM number_inventory WHERE number = '1001'").item() == "edited by admin"
    assert lake.read("number_inventory").height == 4


def test_an_unchanged_inventory_file_is_not_imported_again(lake: Warehouse, estate: Path) -> None:
    """The nightly load names the same inventory every night: it is imported once, and an
    entry removed since (SPEC 8 range deletion) does not come back."""
    first = load_estate(lake, estate)
    lake.con.execute("DELETE FROM number_inventory WHERE number = '1001'")
    again = load_estate(lake, estate)

    assert not first.inventory_unchanged and again.inventory_unchanged
    assert again.entries_added == 0 and again.entries_kept == 4
    assert lake.read("number_inventory").filter(pl.col("number") == "1001").is_empty()
    assert lake.read("inventory_imports")["rows"].to_list() == [4]


def test_a_changed_inventory_file_is_imported_again(lake: Warehouse, estate: Path) -> None:
    load_estate(lake, estate)
    inventory = estate.parent / "inventory.csv"
    inventory.write_text(inventory.read_text() + "1999,sys.prov.Acme.London,Available,,,\n")
    report = load_estate(lake, estate)

    assert not report.inventory_unchanged and report.entries_added == 1 and report.entries_kept == 4
    assert lake.read("inventory_imports").sort("imported_at")["added"].to_list() == [4, 1]


def refused(lake: Warehouse, estate: Path) -> SourceError:
    before = lake.latest_snapshot()
    with pytest.raises(SourceError) as caught:
        load_estate(lake, estate)
    assert lake.latest_snapshot() == before, "a refused load must write nothing"
    return caught.value


def test_missing_source_file_is_named(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e")
    (tmp_path / "e" / "usages.csv").unlink()
    error = refused(lake, estate)
    assert error.file.endswith("usages.csv") and "not found" in str(error)


def test_wrong_columns_name_file_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", usages=USAGES.replace("device_type", "devicetype", 1))
    error = refused(lake, estate)
    assert (error.row, error.column) == (1, None) or error.row == 1
    assert "'device_type'" in str(error) and "usages.csv" in str(error)


def test_bad_date_names_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", teams=VENDOR_NUMBERS.replace("2026-12-01", "01/12/2026"))
    error = refused(lake, estate)
    assert (error.row, error.column) == (3, "blocked_until")
    assert "'01/12/2026' is not a date" in str(error)


def test_unknown_hierarchy_names_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", usages=USAGES.replace("sys.prov.Acme.Paris,", "sys.prov.Acme.Berlin,", 1))
    error = refused(lake, estate)
    assert (error.row, error.column) == (4, "hierarchy")
    assert "'sys.prov.Acme.Berlin' is not a node" in str(error)


def test_unknown_device_type_names_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", usages=USAGES.replace("device/cucm/HuntPilot", "device/cucm/Fax", 1))
    error = refused(lake, estate)
    assert (error.row, error.column) == (3, "device_type")


def test_bad_boolean_names_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", usages=USAGES.replace("jdoe,true", "jdoe,maybe", 1))
    error = refused(lake, estate)
    assert (error.row, error.column) == (2, "online")


def test_inventory_bad_number_names_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", inventory=INVENTORY.replace("1002,", "10O2,", 1))
    error = refused(lake, estate)
    assert (error.row, error.column) == (3, "number")


def test_inventory_bad_status_names_row_and_column(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", inventory=INVENTORY.replace("Cooling", "Frozen", 1))
    error = refused(lake, estate)
    assert (error.row, error.column) == (4, "status")


def test_inventory_cooling_without_release_date_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", inventory=INVENTORY.replace("2026-11-01", "", 1))
    error = refused(lake, estate)
    assert error.row == 4 and "release date" in str(error)


def test_inventory_same_number_twice_on_one_path_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", inventory=INVENTORY + "1001,sys.prov.Acme,Available,,pool,\n")
    error = refused(lake, estate)
    assert "at most once on any root-to-leaf path" in str(error)


def test_hierarchy_without_the_customer_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", hierarchy=HIERARCHY.replace("sys.prov.Acme,customer", "sys.prov.Acme,intermediate"))
    error = refused(lake, estate)
    assert "must be a node of kind customer; it is a intermediate" in str(error)


def test_unknown_setting_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", estate=ESTATE.replace("cooling_enabled = false", "cooling_day = 3"))
    error = refused(lake, estate)
    assert "unknown setting(s) cooling_day" in str(error)


def test_unknown_source_kind_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", estate=ESTATE.replace('kind = "vendor_numbers"', 'kind = "fax_machines"'))
    error = refused(lake, estate)
    assert "kind 'fax_machines' is not one of" in str(error)


def test_path_outside_the_estate_folder_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", estate=ESTATE.replace('path = "usages.csv"', 'path = "../../etc/passwd"'))
    error = refused(lake, estate)
    assert "outside the estate folder" in str(error)


def test_invalid_toml_is_refused(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e", estate=ESTATE + "\n[[sources]\n")
    error = refused(lake, estate)
    assert "is not valid TOML" in str(error)


def test_live_source_needs_an_api_url_not_a_path(lake: Warehouse, tmp_path: Path) -> None:
    live = ESTATE.replace('kind = "vendor_numbers"\npath = "teams.csv"', 'kind = "teams_graph_live"\npath = "teams.csv"')
    error = refused(lake, write_estate(tmp_path / "e", estate=live))
    assert "reads an API: give `options.url`, not `path`" in str(error)
    no_url = ESTATE.replace('kind = "vendor_numbers"\npath = "teams.csv"', 'kind = "teams_graph_live"')
    error = refused(lake, write_estate(tmp_path / "f", estate=no_url))
    assert "needs `options.url`" in str(error)
