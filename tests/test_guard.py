"""SPEC 4.8 safety guard: the pure verdict, and the audit refusing a mass release."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from numaudit.auditing import AuditGuardRefused, AuditRefused, AuditRequest, run_audit
from numaudit.estate import load_estate
from schemas.tables import SOURCE_LOADS
from storage.lake import Warehouse
from tests.conftest import ESTATE, write_estate
from transforms.guard import judge, latest_and_baseline, source_drops

ACME = "sys.prov.Acme"
AS_OF = date(2026, 11, 22)
T0 = datetime(2026, 11, 1, 2, 0)

# --- the pure function -----------------------------------------------------------------------


def changes(*pairs: tuple[str | None, str]) -> pl.DataFrame:
    return pl.DataFrame({"old_status": [p[0] for p in pairs], "new_status": [p[1] for p in pairs]}, schema={"old_status": pl.String, "new_status": pl.String})


def loads(load_id: str, at: datetime, **rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"load_id": load_id, "customer": ACME, "source": name, "kind": "usages", "location": f"{name}.csv",
             "loaded_at": at, "raw_rows": n, "usage_rows": n, "vendor_number_rows": 0, "e164_rows": 0}
            for name, n in rows.items()
        ],
        schema=SOURCE_LOADS,
    )


NONE = loads("L0", T0)


def test_counts_only_used_entries_going_free() -> None:
    found = changes(
        ("Used", "Available"), ("Used-Utility", "Cooling"), ("Used", "Used-Utility"),
        ("Cooling", "Available"), (None, "Available"), ("Available", "Used"),
    )
    verdict = judge(found, 100, 0.10, NONE, NONE)
    assert (verdict.freed, verdict.used, verdict.fraction) == (2, 100, 0.02)
    assert not verdict.refused


@pytest.mark.parametrize(("freed", "refused"), [(0, False), (9, False), (10, False), (11, True), (100, True)])
def test_refuses_strictly_above_the_fraction(freed: int, refused: bool) -> None:
    verdict = judge(changes(*[("Used", "Available")] * freed), 100, 0.10, NONE, NONE)
    assert verdict.refused is refused
    assert verdict.above is refused


def test_force_overrides_and_default_fraction_applies() -> None:
    many = changes(*[("Used", "Available")] * 50)
    assert judge(many, 100, None, NONE, NONE).refused  # default 0.10
    forced = judge(many, 100, None, NONE, NONE, force=True)
    assert forced.above and not forced.refused
    assert forced.message().startswith("forced past the safety guard: this audit would free 50 of 100 used numbers (50.0%, above")


def test_nothing_freed_is_never_refused_even_with_nothing_used() -> None:
    assert not judge(changes(), 0, 0.0, NONE, NONE).refused
    assert not judge(changes(("Available", "Used")), 0, 0.0, NONE, NONE).refused


def test_names_empty_shrunk_and_gone_sources() -> None:
    before = loads("L1", T0, cucm=4210, small=3, teams=100, lost=50, steady=40)
    now = loads("L2", T0 + timedelta(days=1), cucm=0, small=1, teams=30, steady=39)
    empty, shrunk = source_drops(now, before)
    assert [(d.source, d.rows_now, d.rows_before) for d in empty] == [("cucm", 0, 4210), ("lost", None, 50)]
    assert [(d.source, d.rows_now) for d in shrunk] == [("teams", 30)]  # `small` is too small to judge
    verdict = judge(changes(*[("Used", "Available")] * 812), 1020, 0.10, now, before)
    assert verdict.message() == (
        "this audit would free 812 of 1,020 used numbers (79.6%, above max_release_fraction 10%); "
        "source 'cucm' has 0 usages (4,210 at the last audit); "
        "source 'lost' is no longer loaded (50 usages at the last audit); "
        "source 'teams' has 30 usages (100 at the last audit). "
        "Nothing was changed. Check the extract, or run again with --force."
    )


def test_baseline_is_the_load_in_force_at_the_last_audit() -> None:
    history = pl.concat([loads("L1", T0, cucm=10), loads("L2", T0 + timedelta(days=1), cucm=5), loads("L3", T0 + timedelta(days=2), cucm=0)])
    latest, baseline = latest_and_baseline(history, T0 + timedelta(hours=12))
    assert (latest["load_id"].unique().to_list(), baseline["load_id"].unique().to_list()) == (["L3"], ["L1"])
    _, baseline = latest_and_baseline(history, None)  # never audited: the load before the latest
    assert baseline["load_id"].unique().to_list() == ["L2"]
    latest, baseline = latest_and_baseline(history, T0 + timedelta(days=3))  # no load since the audit
    assert baseline["load_id"].unique().to_list() == ["L3"] and source_drops(latest, baseline) == ([], [])


# --- in the warehouse ------------------------------------------------------------------------

USAGE_HEADER = "hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n"
NUMBERS = [str(6000 + i) for i in range(20)]
GUARDED = ESTATE.replace("max_release_fraction = 1.0", "max_release_fraction = 0.10")
TABLES = ("number_inventory", "number_usage", "number_changes", "audit_exceptions", "source_loads", "staged_usages")


def estate_with(folder: Path, used: list[str]) -> Path:
    inventory = "number,hierarchy,status,usage,tag,release_date\n" + "".join(f"{n},{ACME}.London,Used,Device,r,\n" for n in NUMBERS)
    usages = USAGE_HEADER + "".join(f"{ACME}.London,device/cucm/Phone,SEP{n}AAAAAAAA,{n},PT,,,,,true\n" for n in used)
    teams = "hierarchy,number,vendor,number_type,assigned,blocked_state,blocked_until\n"
    return write_estate(folder, estate=GUARDED, inventory=inventory, usages=usages, teams=teams)


@pytest.fixture
def audited(lake: Warehouse, tmp_path: Path) -> Warehouse:
    """Twenty used numbers, all in use, audited once (nothing freed)."""
    load_estate(lake, estate_with(tmp_path / "full", NUMBERS))
    assert run_audit(lake, AuditRequest(ACME, as_of=AS_OF)).counts["released"] == 0
    return lake


def snapshot(lake: Warehouse) -> dict[str, pl.DataFrame]:
    return {t: lake.read(t).sort(pl.all()) for t in TABLES}


def test_an_empty_extract_is_refused_and_only_the_refused_run_is_written(audited: Warehouse, tmp_path: Path) -> None:
    load_estate(audited, estate_with(tmp_path / "empty", []))
    before, runs = snapshot(audited), audited.read("audit_runs")
    with pytest.raises(AuditGuardRefused) as caught:
        run_audit(audited, AuditRequest(ACME, as_of=AS_OF))
    assert isinstance(caught.value, AuditRefused)  # the CLI's exit 2
    message = str(caught.value)
    assert message == (
        "this audit would free 20 of 20 used numbers (100.0%, above max_release_fraction 10%); "
        "source 'cucm' has 0 usages (20 at the last audit). Nothing was changed. Check the extract, or run again with --force."
    )
    after = snapshot(audited)
    for table in TABLES:
        assert after[table].equals(before[table]), table
    new = audited.read("audit_runs").join(runs, on="audit_id", how="anti")
    assert new.height == 1
    row = new.row(0, named=True)
    assert (row["state"], row["forced"], row["message"], row["released"]) == ("refused", False, message, 0)
    assert set(audited.read("number_inventory")["status"]) == {"Used"}


def test_force_overrides_the_guard(audited: Warehouse, tmp_path: Path) -> None:
    load_estate(audited, estate_with(tmp_path / "empty", []))
    with pytest.raises(AuditGuardRefused):
        run_audit(audited, AuditRequest(ACME, as_of=AS_OF))
    summary = run_audit(audited, AuditRequest(ACME, as_of=AS_OF, force=True))
    assert summary.state == "completed" and summary.counts["released"] == 20
    row = audited.read("audit_runs").filter(pl.col("audit_id") == summary.audit_id).row(0, named=True)
    assert (row["state"], row["forced"]) == ("completed", True)
    assert row["message"].startswith("forced past the safety guard: this audit would free 20 of 20 used numbers")
    assert set(audited.read("number_inventory")["status"]) == {"Available"}
    # The forced audit is now the baseline: the next audit compares with its (empty) load.
    again = run_audit(audited, AuditRequest(ACME, as_of=AS_OF))
    assert again.state == "completed"


def test_below_the_threshold_completes(audited: Warehouse, tmp_path: Path) -> None:
    load_estate(audited, estate_with(tmp_path / "fewer", NUMBERS[2:]))  # 2 of 20 = 10%, not above
    summary = run_audit(audited, AuditRequest(ACME, as_of=AS_OF))
    assert (summary.state, summary.counts["released"]) == ("completed", 2)
    assert summary.message == "safety guard passed: this audit would free 2 of 20 used numbers (10.0%, within max_release_fraction 10%)."


def test_above_the_threshold_by_one_is_refused(audited: Warehouse, tmp_path: Path) -> None:
    load_estate(audited, estate_with(tmp_path / "fewer", NUMBERS[3:]))  # 3 of 20 = 15%
    with pytest.raises(AuditGuardRefused, match=r"would free 3 of 20 used numbers \(15.0%"):
        run_audit(audited, AuditRequest(ACME, as_of=AS_OF))


def test_a_dry_run_reports_the_verdict_but_is_not_refused(audited: Warehouse, tmp_path: Path) -> None:
    load_estate(audited, estate_with(tmp_path / "empty", []))
    before = snapshot(audited)
    summary = run_audit(audited, AuditRequest(ACME, as_of=AS_OF, dry_run=True))
    assert summary.state == "completed" and summary.counts["released"] == 20
    assert summary.message.startswith("dry run; would be refused: this audit would free 20 of 20 used numbers")
    assert "source 'cucm' has 0 usages (20 at the last audit)" in summary.message
    after = snapshot(audited)
    for table in TABLES:
        assert after[table].equals(before[table]), table
    row = audited.read("audit_runs").filter(pl.col("audit_id") == summary.audit_id).row(0, named=True)
    assert row["dry_run"] is True and row["message"] == summary.message


@pytest.mark.usefixtures("prefect_harness")
def test_cli_refuses_with_exit_2_and_force_overrides(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from numaudit.cli import app

    home = tmp_path / "warehouse"
    with Warehouse(home) as lake:
        load_estate(lake, estate_with(tmp_path / "full", NUMBERS))
        run_audit(lake, AuditRequest(ACME, as_of=AS_OF))
        load_estate(lake, estate_with(tmp_path / "empty", []))
    args = ["audit", "--customer", ACME, "--as-of", AS_OF.isoformat(), "--warehouse", str(home)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2, refused.output
    assert "would free 20 of 20 used numbers" in " ".join(refused.output.split())
    forced = CliRunner().invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    with Warehouse(home, read_only=True) as lake:
        states = lake.read("audit_runs").sort("started_at")[["state", "forced"]].rows()
    assert states == [("completed", False), ("refused", False), ("completed", True)]
