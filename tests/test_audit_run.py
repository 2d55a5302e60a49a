"""A whole audit against a real warehouse, without Prefect: SPEC 4.1 refusals, 4.9 writes,
dry runs, idempotence and the no-delete invariant."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from numaudit import auditing
from numaudit.auditing import AuditRefused, AuditRequest, run_audit
from numaudit.estate import load_estate
from schemas.models import InvariantError
from storage.lake import Warehouse
from tests.conftest import HIERARCHY, write_estate
from transforms.audit import AuditResult

ACME = "sys.prov.Acme"
AS_OF = date(2026, 11, 22)


@pytest.fixture
def loaded(lake: Warehouse, estate: Path) -> Warehouse:
    load_estate(lake, estate)
    return lake


def refusal(lake: Warehouse, request: AuditRequest) -> str:
    before = lake.latest_snapshot()
    with pytest.raises(AuditRefused) as caught:
        run_audit(lake, request)
    assert lake.latest_snapshot() == before, "a refused audit writes nothing"
    return str(caught.value)


def test_4_1_refuses_a_node_that_is_not_a_customer(loaded: Warehouse) -> None:
    message = refusal(loaded, AuditRequest(f"{ACME}.London"))
    assert message == f"{ACME}.London is a site, not a customer: choose a customer node (its customer is {ACME})"
    assert "is a reseller, not a customer" in refusal(loaded, AuditRequest("sys.prov"))
    assert "is not a node of the hierarchy" in refusal(loaded, AuditRequest("sys.prov.Nobody"))


def test_4_1_refuses_when_number_management_is_disabled(lake: Warehouse, tmp_path: Path) -> None:
    load_estate(lake, write_estate(tmp_path / "e", hierarchy=HIERARCHY.replace("sys.prov.Acme,customer,true", "sys.prov.Acme,customer,false")))
    assert refusal(lake, AuditRequest(ACME)) == f"number management is disabled for customer {ACME}"


def test_4_1_refuses_customer_mode_with_a_site_location_code_dial_plan(lake: Warehouse, tmp_path: Path) -> None:
    load_estate(lake, write_estate(tmp_path / "e", hierarchy=HIERARCHY.replace("Paris,site,true,false", "Paris,site,true,true")))
    message = refusal(lake, AuditRequest(ACME, "customer"))
    assert "Site-Location-Code dial plan at sys.prov.Acme.Paris: only site mode is possible" in message
    run_audit(lake, AuditRequest(ACME, "site", as_of=AS_OF))  # site mode is allowed


def test_4_1_refuses_more_than_200_sites(loaded: Warehouse) -> None:
    sites = tuple(f"{ACME}.S{i}" for i in range(201))
    assert "at most 200 specific sites" in refusal(loaded, AuditRequest(ACME, "site", sites))


def test_4_1_refuses_a_site_not_under_the_customer(loaded: Warehouse) -> None:
    message = refusal(loaded, AuditRequest(ACME, "site", ("sys.prov.Other.Rome",)))
    assert message == f"sys.prov.Other.Rome is not a site under customer {ACME}"


def test_4_1_refuses_when_no_source_was_ever_loaded(lake: Warehouse, tmp_path: Path) -> None:
    estate = write_estate(tmp_path / "e")
    text = estate.read_text()
    estate.write_text(text[: text.index("[[sources]]")])
    load_estate(lake, estate)
    assert "no source has been loaded for customer" in refusal(lake, AuditRequest(ACME))


def test_4_1_refuses_sites_in_customer_mode(loaded: Warehouse) -> None:
    assert "--site applies to site mode only" in refusal(loaded, AuditRequest(ACME, "customer", (f"{ACME}.London",)))


def inventory(lake: Warehouse) -> dict[tuple[str, str], dict[str, object]]:
    return {(r["number"], r["hierarchy"]): r for r in lake.read("number_inventory").to_dicts()}


def test_4_9_audit_writes_inventory_usage_changes_exceptions_and_run(loaded: Warehouse) -> None:
    summary = run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    entries = inventory(loaded)
    assert entries[("1001", f"{ACME}.London")]["usage"] == "Device,Hunt_Pilot"
    assert entries[("1002", f"{ACME}.London")]["status"] == "Available"
    assert entries[("1003", f"{ACME}.London")]["status"] == "Available"  # cooling date passed
    assert entries[("3000", ACME)]["status"] == "Used"
    assert entries[("2000", ACME)]["vendor"] == "Microsoft"
    assert entries[("5000", ACME)]["status"] == "Cooling"
    assert entries[("5000", ACME)]["release_date"] == date(2026, 12, 1)
    assert entries[("1001", f"{ACME}.London")]["tag"] == "range A"  # administrators' field untouched
    assert summary.counts == {"added": 2, "updated": 2, "released": 2, "cooled": 0, "unchanged": 0, "exceptions": 2}
    run = loaded.read("audit_runs").row(0, named=True)
    assert (run["state"], run["added"], run["released"], run["dry_run"]) == ("completed", 2, 2, False)
    assert loaded.snapshot_of(summary.audit_id) == loaded.latest_snapshot()
    changes = loaded.read("number_changes").filter(pl.col("audit_id") == summary.audit_id)
    assert changes.height == 6
    released = changes.filter(pl.col("number") == "1002").row(0, named=True)
    assert (released["change"], released["old_status"], released["new_status"], released["old_usage"]) == ("released", "Used", "Available", "Device")
    assert sorted(loaded.read("audit_exceptions")["kind"].to_list()) == ["bad_number", "unmapped_device"]
    usage = loaded.read("number_usage").sort("usage", "number")
    assert usage.select("number", "hierarchy", "usage", "device_name", "partition", "cluster").rows() == [
        ("1001", f"{ACME}.London", "Device", "SEP001122334455", "PT_INT", "CL1"),
        ("3000", ACME, "Device", "SEP001122334466", "PT_INT", "CL1"),
        ("1001", f"{ACME}.London", "Hunt_Pilot", "HP_Sales", "PT_INT", "CL1"),
    ]


def test_4_9_second_identical_audit_changes_nothing(loaded: Warehouse) -> None:
    run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    first = loaded.read("number_inventory").sort("number", "hierarchy")
    usage = loaded.read("number_usage").sort("number", "usage")
    second = run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    assert {k: v for k, v in second.counts.items() if k != "unchanged"} == {"added": 0, "updated": 0, "released": 0, "cooled": 0, "exceptions": 2}
    assert loaded.read("number_inventory").sort("number", "hierarchy").equals(first)
    assert loaded.read("number_usage").sort("number", "usage").equals(usage)


def test_4_9_dry_run_writes_only_its_audit_runs_row(loaded: Warehouse) -> None:
    tables = ("number_inventory", "number_usage", "number_changes", "audit_exceptions")
    before = {t: loaded.read(t) for t in tables}
    summary = run_audit(loaded, AuditRequest(ACME, as_of=AS_OF, dry_run=True))
    assert summary.counts["added"] == 2  # computed all the same
    for table in tables:
        assert loaded.read(table).equals(before[table]), table
    runs = loaded.read("audit_runs")
    assert runs.height == 1 and runs.row(0, named=True)["dry_run"] is True


def test_no_entry_is_ever_deleted(loaded: Warehouse, tmp_path: Path) -> None:
    run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    keys = set(inventory(loaded))
    # Every usage vanishes (an empty extract): entries are released, never removed.
    empty = write_estate(tmp_path / "empty", usages="hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n")
    load_estate(loaded, empty)
    run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    assert set(inventory(loaded)) == keys
    assert {r["status"] for r in inventory(loaded).values()} <= {"Available", "Cooling"}


def test_site_mode_leaves_other_scopes_usage_and_records_ancestor_entry(loaded: Warehouse) -> None:
    run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    before = loaded.read("number_usage").sort("number", "usage")
    summary = run_audit(loaded, AuditRequest(ACME, "site", ("Paris",), as_of=AS_OF))
    # 3000 is used at Paris but held at the customer: no second entry on that path.
    assert ("3000", f"{ACME}.Paris") not in inventory(loaded)
    exceptions = loaded.read("audit_exceptions").filter(pl.col("audit_id") == summary.audit_id)
    ancestor = exceptions.filter(pl.col("kind") == "ancestor_entry").row(0, named=True)
    assert (ancestor["number"], ancestor["hierarchy"]) == ("3000", f"{ACME}.Paris")
    assert ancestor["resolution"] == "move the entry or audit in customer mode"
    assert loaded.read("number_usage").sort("number", "usage").equals(before)


def test_an_invariant_break_writes_nothing_but_a_failed_run(loaded: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    real_compute = auditing.compute

    def broken(plan: auditing.AuditPlan) -> AuditResult:
        result = real_compute(plan)
        written = result.written.with_columns(status=pl.lit("Available"), usage=pl.lit("Device"))
        return dataclasses.replace(result, written=written)

    monkeypatch.setattr(auditing, "compute", broken)
    before = {t: loaded.read(t) for t in ("number_inventory", "number_usage", "number_changes")}
    with pytest.raises(InvariantError, match="Available entries have no usage"):
        run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    for table, frame in before.items():
        assert loaded.read(table).equals(frame), table
    run = loaded.read("audit_runs").row(0, named=True)
    assert run["state"] == "failed" and "nothing was written" in run["message"]


def test_an_unmapped_device_keeps_its_number_from_being_freed(loaded: Warehouse, tmp_path: Path) -> None:
    from tests.conftest import USAGES

    # 1002 is Used at London; today its phone's site cannot be resolved (empty hierarchy).
    unmapped = USAGES + ",device/cucm/Phone,SEPCCCC00000000,1002,,,,,,true\n"
    load_estate(loaded, write_estate(tmp_path / "e2", usages=unmapped))
    run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    entry = inventory(loaded)[("1002", f"{ACME}.London")]
    assert (entry["status"], entry["usage"]) == ("Used", "Device")
    kinds = loaded.read("audit_exceptions").filter(pl.col("number") == "1002")["kind"].to_list()
    assert kinds == ["unmapped_device"]
