"""Audits of several customers in one batch (the nightly job's way) give each customer exactly
what its audit alone gives, and one customer's failure does not stop the others."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numaudit import auditing
from numaudit.auditing import AuditRequest, run_audit, run_audits
from numaudit.estate import load_estate, load_estates
from numaudit.nightly import plan_night, run_night
from sources.base import SourceError
from storage.lake import Warehouse
from tests.conftest import ESTATE, HIERARCHY, write_estate
from tests.factories import CUSTOMER, inputs
from tests.test_audit_properties import SETTINGS, Estate, estates
from transforms.audit import AuditInputs, AuditResult, audit, audit_batch

GLOBEX = "sys.prov.Globex"
AS_OF = date(2026, 11, 22)


def renamed(frame: pl.DataFrame, columns: tuple[str, ...] = ("hierarchy", "site", "customer")) -> pl.DataFrame:
    """The same rows under customer Globex instead of Acme."""
    pattern = "^" + CUSTOMER.replace(".", r"\.")
    return frame.with_columns(pl.col(c).str.replace(pattern, GLOBEX) for c in columns if c in frame.columns)


def sorted_frames(result: AuditResult) -> list[pl.DataFrame]:
    frames = [result.written, result.changes, result.usage_links, result.exceptions, result.per_customer]
    return [f.sort(f.columns, nulls_last=True) for f in frames]


def concat_results(*results: AuditResult) -> list[pl.DataFrame]:
    parts = [sorted_frames(r) for r in results]
    return [pl.concat(frames).sort(frames[0].columns, nulls_last=True) for frames in zip(*parts, strict=True)]


def assert_same(left: list[pl.DataFrame], right: list[pl.DataFrame]) -> None:
    for a, b in zip(left, right, strict=True):
        assert a.equals(b), f"\n{a}\n!=\n{b}"


@SETTINGS
@given(estates("customer"), st.sampled_from(["customer", "site"]).flatmap(estates))
def test_a_batch_gives_each_customer_what_its_audit_alone_gives(acme: Estate, other: Estate) -> None:
    # Globex shares the reseller with Acme: only Acme's reseller entries are kept, so both
    # customers' audits see the same entries above them.
    globex_entries = renamed(other.entries).filter(pl.col("hierarchy") != "sys.prov")
    union = AuditInputs(
        entries=pl.concat([acme.entries, globex_entries]).lazy(),
        usages=pl.concat([acme.usages, renamed(other.usages)]).lazy(),
        vendor_numbers=pl.concat([acme.vendor_numbers, renamed(other.vendor_numbers)]).lazy(),
        e164=pl.concat([acme.e164, renamed(other.e164)]).lazy(),
    )
    acme_params = replace(acme.params, audit_id="A1")
    globex_params = replace(
        other.params, audit_id="G1", customer=GLOBEX, sites=tuple(s.replace(CUSTOMER, GLOBEX, 1) for s in other.params.sites)
    )

    batch = audit_batch(union, [acme_params, globex_params])
    acme_alone = audit(union, acme_params)
    globex_alone = audit(union, globex_params)

    assert_same(sorted_frames(batch), concat_results(acme_alone, globex_alone))
    # Another customer's entries and staged rows change nothing in a customer's audit.
    own = audit(inputs(acme.entries, acme.usages, acme.vendor_numbers, acme.e164), acme_params)
    assert_same(sorted_frames(acme_alone), sorted_frames(own))


def test_a_batch_refuses_audits_that_do_not_share_a_date() -> None:
    first = replace(estate_params(), audit_id="A1")
    with pytest.raises(ValueError, match="share as_of"):
        audit_batch(inputs(), [first, replace(first, audit_id="G1", customer=GLOBEX, as_of=date(2026, 1, 1))])
    with pytest.raises(ValueError, match="twice"):
        audit_batch(inputs(), [first, replace(first, audit_id="A2")])


def estate_params() -> auditing.AuditParams:
    from tests.factories import params

    return params()


# --- The nightly job on a warehouse ----------------------------------------------------------

GLOBEX_HIERARCHY = HIERARCHY + "sys.prov.Globex,customer,true,false,false\nsys.prov.Globex.Oslo,site,true,false,false\n"
GLOBEX_ESTATE = ESTATE.replace('customer = "sys.prov.Acme"', f'customer = "{GLOBEX}"')
GLOBEX_INVENTORY = "number,hierarchy,status,usage\n1001,sys.prov.Globex.Oslo,Used,Device\n1002,sys.prov.Globex.Oslo,Used,Device\n"
USAGE_HEADER = "hierarchy,device_type,device_name,number,partition,cluster,vendor,number_type,owner,online\n"
GLOBEX_USAGES = USAGE_HEADER + "Oslo,device/cucm/Phone,SEPOSLO00000001,1001,,,,,,true\n"


@pytest.fixture
def night(tmp_path: Path) -> Warehouse:
    """Acme (the conftest estate) and Globex, which uses the same internal numbers."""
    lake = Warehouse(tmp_path / "warehouse")
    load_estate(lake, write_estate(tmp_path / "acme"))
    load_estate(
        lake,
        write_estate(
            tmp_path / "globex",
            estate=GLOBEX_ESTATE,
            hierarchy=GLOBEX_HIERARCHY,
            inventory=GLOBEX_INVENTORY,
            usages=GLOBEX_USAGES,
            teams="hierarchy,number,vendor,number_type,assigned,blocked_state,blocked_until\n",
        ),
    )
    yield lake
    lake.close()


def test_the_night_audits_every_managed_customer_in_one_commit_with_its_own_runs_row(night: Warehouse) -> None:
    snapshots = night.latest_snapshot()

    summaries, skipped = run_night(night, AS_OF)

    assert [s.customer for s in summaries] == [CUSTOMER, GLOBEX] and skipped == {}
    assert {s.state for s in summaries} == {"completed"}
    assert night.latest_snapshot() == snapshots + 1
    for summary in summaries:
        assert night.snapshot_of(summary.audit_id) == snapshots + 1
    runs = night.read("audit_runs").sort("customer")
    # Acme: 1002 freed and 1003 released from cooling; Globex: 1002 freed.
    assert runs.select("customer", "state", "released").rows() == [(CUSTOMER, "completed", 2), (GLOBEX, "completed", 1)]
    inventory = night.read("number_inventory")
    # Globex's 1002 was freed by Globex's audit; Acme's 1001 stays Used by Acme's phone.
    assert inventory.filter((pl.col("number") == "1002") & (pl.col("hierarchy") == f"{GLOBEX}.Oslo"))["status"].to_list() == ["Available"]
    assert inventory.filter((pl.col("number") == "1001") & (pl.col("hierarchy") == f"{CUSTOMER}.London"))["status"].to_list() == ["Used"]
    changes = night.read("number_changes").join(runs.select("audit_id", "customer"), on="audit_id")
    assert changes.filter(pl.col("customer") == GLOBEX)["hierarchy"].str.starts_with(GLOBEX).all()

    again, _ = run_night(night, AS_OF)
    assert all(s.counts["added"] + s.counts["updated"] + s.counts["released"] + s.counts["cooled"] == 0 for s in again)


def test_the_night_skips_unmanaged_and_unloaded_customers_and_picks_site_mode(night: Warehouse, tmp_path: Path) -> None:
    slc = GLOBEX_HIERARCHY.replace("sys.prov.Globex.Oslo,site,true,false,false", "sys.prov.Globex.Oslo,site,true,true,false")
    load_estate(night, write_estate(tmp_path / "globex2", estate=GLOBEX_ESTATE, hierarchy=slc, inventory=GLOBEX_INVENTORY, usages=GLOBEX_USAGES))
    night.con.execute("INSERT INTO hierarchy VALUES ('sys.prov.Initech', 'customer', 'sys.prov', true, false, false)")

    plan = plan_night(night, AS_OF)

    requests = {r.customer: r.mode for batch in plan.batches for r in batch}
    assert requests == {CUSTOMER: "customer", GLOBEX: "site"}
    assert "no source has been loaded" in plan.skipped["sys.prov.Initech"]
    assert len(plan_night(night, AS_OF, batch_rows=1).batches) == 2


def test_one_customers_invariant_break_fails_only_that_customer(night: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    real_compute = auditing.compute

    def breaks_globex(plan: auditing.AuditPlan) -> AuditResult:
        result = real_compute(plan)
        globex_ids = [a.params.audit_id for a in plan.audits if a.params.customer == GLOBEX]
        bad = pl.col("last_audit_id").is_in(globex_ids)
        return replace(result, written=result.written.with_columns(usage=pl.when(bad).then(pl.lit("Device")).otherwise("usage"), status=pl.when(bad).then(pl.lit("Available")).otherwise("status")))

    monkeypatch.setattr(auditing, "compute", breaks_globex)
    before = night.read("number_inventory").filter(pl.col("hierarchy").str.starts_with(GLOBEX))

    summaries = run_audits(night, [AuditRequest(CUSTOMER, as_of=AS_OF), AuditRequest(GLOBEX, as_of=AS_OF)])

    states = {s.customer: s.state for s in summaries}
    assert states == {CUSTOMER: "completed", GLOBEX: "failed"}
    failed = next(s for s in summaries if s.customer == GLOBEX)
    assert "Available entries have no usage" in failed.message and "nothing was written" in failed.message
    assert night.read("number_inventory").filter(pl.col("hierarchy").str.starts_with(GLOBEX)).equals(before)
    assert night.read("number_changes").join(night.read("audit_runs").filter(pl.col("customer") == GLOBEX), on="audit_id").is_empty()
    assert night.read("number_usage").filter(pl.col("hierarchy").str.starts_with(CUSTOMER)).height > 0


def test_an_error_computing_a_batch_fails_only_the_customer_that_causes_it(night: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    real_compute = auditing.compute

    def chokes_on_globex(plan: auditing.AuditPlan) -> AuditResult:
        if any(a.params.customer == GLOBEX for a in plan.audits):
            raise RuntimeError("corrupt staged rows")
        return real_compute(plan)

    monkeypatch.setattr(auditing, "compute", chokes_on_globex)

    summaries = run_audits(night, [AuditRequest(CUSTOMER, as_of=AS_OF), AuditRequest(GLOBEX, as_of=AS_OF)])

    assert {s.customer: s.state for s in summaries} == {CUSTOMER: "completed", GLOBEX: "failed"}
    runs = night.read("audit_runs").filter(pl.col("customer") == GLOBEX).row(0, named=True)
    assert runs["state"] == "failed" and "corrupt staged rows" in runs["message"]
    with pytest.raises(RuntimeError, match="corrupt staged rows"):
        run_audit(night, AuditRequest(GLOBEX, as_of=AS_OF))


def test_the_guard_refuses_one_customer_of_a_batch_and_writes_the_others(night: Warehouse, tmp_path: Path) -> None:
    # Globex's export went empty: the guard (default fraction 0.10) refuses Globex only.
    run_night(night, AS_OF)
    strict = GLOBEX_ESTATE.replace("max_release_fraction = 1.0", "max_release_fraction = 0.10")
    load_estate(night, write_estate(tmp_path / "globex", estate=strict, hierarchy=GLOBEX_HIERARCHY, inventory=GLOBEX_INVENTORY, usages=USAGE_HEADER))

    summaries, _ = run_night(night, AS_OF)

    states = {s.customer: s.state for s in summaries}
    assert states == {CUSTOMER: "completed", GLOBEX: "refused"}
    refused = next(s for s in summaries if s.customer == GLOBEX)
    assert "would free 1 of 1 used numbers" in refused.message and "source 'cucm'" in refused.message
    oslo = night.read("number_inventory").filter(pl.col("hierarchy") == f"{GLOBEX}.Oslo", pl.col("number") == "1001")
    assert oslo["status"].to_list() == ["Used"]


# --- Loading many estates at once ------------------------------------------------------------


def globex_estate(folder: Path, **overrides: str) -> Path:
    files = dict(estate=GLOBEX_ESTATE, hierarchy=GLOBEX_HIERARCHY, inventory=GLOBEX_INVENTORY, usages=GLOBEX_USAGES)
    return write_estate(folder, **{**files, **overrides})


def test_many_estates_load_in_one_commit(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "warehouse") as lake:
        before = lake.latest_snapshot()
        reports = load_estates(lake, [write_estate(tmp_path / "acme"), globex_estate(tmp_path / "globex")])

        assert [r.customer for r in reports] == [CUSTOMER, GLOBEX]
        assert [r.entries_added for r in reports] == [4, 2]
        assert lake.latest_snapshot() == before + 1
        # The shared upper nodes are listed by both hierarchies and stored once.
        assert lake.read("hierarchy").filter(pl.col("path") == "sys.prov").height == 1
        assert sorted(lake.read("settings")["customer"].to_list()) == [CUSTOMER, GLOBEX]
        assert lake.read("staged_usages").group_by("customer").len().sort("customer").rows() == [(CUSTOMER, 5), (GLOBEX, 1)]


def test_estates_loaded_a_group_at_a_time_still_commit_once(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "warehouse") as lake:
        before = lake.latest_snapshot()
        # group_bytes=1: every estate is its own group, written before the next is read.
        reports = load_estates(lake, [write_estate(tmp_path / "acme"), globex_estate(tmp_path / "globex")], group_bytes=1)

        assert [r.entries_added for r in reports] == [4, 2]
        assert lake.latest_snapshot() == before + 1
        assert lake.read("staged_usages").group_by("customer").len().sort("customer").rows() == [(CUSTOMER, 5), (GLOBEX, 1)]


@pytest.mark.parametrize("group_bytes", [1, 1 << 30], ids=["a group per estate", "one group"])
def test_one_bad_estate_refuses_the_whole_load_naming_its_file_and_row(tmp_path: Path, group_bytes: int) -> None:
    bad = GLOBEX_INVENTORY + "1003,sys.prov.Globex.Oslo,Used,\n"  # Used without a usage
    with Warehouse(tmp_path / "warehouse") as lake:
        before = lake.latest_snapshot()
        with pytest.raises(SourceError) as refused:
            # With a group per estate, acme's rows are written before globex is read: the
            # refusal must still leave nothing behind.
            load_estates(lake, [write_estate(tmp_path / "acme"), globex_estate(tmp_path / "globex", inventory=bad)], group_bytes=group_bytes)

        assert str(tmp_path / "globex" / "inventory.csv") in str(refused.value)
        assert "row 4" in str(refused.value) and "Used entries have a Device or User usage" in str(refused.value)
        assert lake.latest_snapshot() == before
        assert lake.read("hierarchy").is_empty() and lake.read("number_inventory").is_empty()
        assert lake.read("staged_usages").is_empty() and lake.read("number_changes").is_empty()


@pytest.mark.parametrize(
    ("file", "overrides", "refused"),
    [
        ("inventory.csv", {"inventory": GLOBEX_INVENTORY + "10O3,sys.prov.Globex.Oslo,Available,\n"}, r"row 4, column 'number': '10O3' is not a number"),
        ("inventory.csv", {"inventory": GLOBEX_INVENTORY + "1001,sys.prov.Globex.Oslo,Used,Device\n"}, r"row 4, column 'number': '1001' at 'sys.prov.Globex.Oslo' is listed twice \(first at row 2\)"),
        ("inventory.csv", {"inventory": GLOBEX_INVENTORY + "1003,sys.prov.Acme.London,Available,\n"}, r"row 4, column 'hierarchy': 'sys.prov.Acme.London' is not a node of the hierarchy at or under sys.prov.Globex"),
        ("usages.csv", {"usages": GLOBEX_USAGES + "Oslo,device/cucm/Fax,F1,1002,,,,,,true\n"}, r"row 3, column 'device_type': 'device/cucm/Fax' is not one of"),
        ("usages.csv", {"usages": GLOBEX_USAGES + "Oslo,device/cucm/Phone,SEP1,1002,,,,,,maybe\n"}, r"row 3, column 'online': 'maybe' is not true or false"),
        ("usages.csv", {"usages": GLOBEX_USAGES + "London,device/cucm/Phone,SEP1,1002,,,,,,true\n"}, r"row 3, column 'hierarchy': 'London' is not a node of the hierarchy under sys.prov.Globex"),
        ("hierarchy.csv", {"hierarchy": GLOBEX_HIERARCHY + "sys.prov.Globex.Oslo.Lab,room,true,false,false\n"}, r"row \d+, column 'kind': fails the check"),
        ("hierarchy.csv", {"hierarchy": GLOBEX_HIERARCHY + "sys.prov.Globex.Rome.Lab,site,true,false,false\n"}, r"'sys.prov.Globex.Rome.Lab': its parent 'sys.prov.Globex.Rome' is not in the file"),
        ("hierarchy.csv", {"hierarchy": GLOBEX_HIERARCHY + "sys.prov.Globex.Oslo,site,maybe,false,false\n"}, r"column 'number_management': 'maybe' is not true or false"),
    ],
    ids=["bad number", "repeated entry", "node of another customer", "unknown device type", "bad boolean", "unknown site", "unknown node kind", "orphan node", "bad flag"],
)
def test_rows_checked_together_are_refused_in_their_own_file_and_row(tmp_path: Path, file: str, overrides: dict[str, str], refused: str) -> None:
    """Files of a load are checked in one pass; the refusal still names the bad file's own row."""
    with Warehouse(tmp_path / "warehouse") as lake:
        with pytest.raises(SourceError, match=refused) as error:
            load_estates(lake, [write_estate(tmp_path / "acme"), globex_estate(tmp_path / "globex", **overrides)])

        assert error.value.file == str(tmp_path / "globex" / file)
        assert lake.read("number_inventory").is_empty() and lake.read("staged_usages").is_empty()


def test_the_same_customer_twice_in_one_load_is_refused(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "warehouse") as lake, pytest.raises(SourceError, match="already loaded from another file"):
        load_estates(lake, [write_estate(tmp_path / "a"), write_estate(tmp_path / "b")])
