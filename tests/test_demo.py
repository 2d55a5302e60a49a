"""The demo estate (numaudit/demo.py): deterministic, well-formed, true to SPEC 2 and 3, and
rich enough that a first audit shows every kind of change and exception."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from numaudit.demo import generate_demo
from transforms.numbers import normalise_number
from transforms.usage_types import DEVICE_TYPES, UTILITY_USAGES

TODAY = date(2026, 11, 22)

# SPEC 3's table, spelled out: the demo must use every one of them.
SPEC_DEVICE_TYPES = {
    "device/cucm/Phone", "device/cucm/DeviceProfile", "device/cucm/RemoteDestinationProfile",
    "device/cucm/HuntPilot", "device/cucm/CallPickupGroup", "device/cuc/Callhandler",
    "device/cucm/VoicemailPilot", "device/cucm/MeetMe", "device/cucm/CtiRoutePoint",
    "device/cucm/CallPark", "device/cucm/DirectedCallPark", "data/PRS_MultiVendorPhone_DAT",
    "device/msteamsonline/CsOnlineUser", "device/spark/Number", "device/audiocodes",
}
HEADERS = {
    "hierarchy": ["path", "kind", "number_management", "slc_dial_plan", "hybrid"],
    "inventory": [
        "number", "hierarchy", "status", "usage", "vendor", "number_type", "e164", "release_date",
        "reserved_until", "tag", "description", "reservation_notes", *(f"extra{i}" for i in range(1, 10)),
    ],
    "usages": ["hierarchy", "device_type", "device_name", "number", "partition", "cluster", "vendor", "number_type", "owner", "online"],
    "vendor_numbers": ["hierarchy", "number", "vendor", "number_type", "assigned", "blocked_state", "blocked_until"],
}
ACME, GLOBEX, INITECH = "sys.demo-prov.Acme", "sys.demo-prov.Globex", "sys.demo-prov.Northwind.Initech"


@pytest.fixture(scope="module")
def estates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_demo(tmp_path_factory.mktemp("one") / "demo", today=TODAY)


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False, empty_string_is_null=False, truncate_ragged_lines=False)


def document(estate: Path) -> dict[str, Any]:
    with estate.open("rb") as handle:
        return tomllib.load(handle)


def files_of(estate: Path, kind: str) -> list[Path]:
    """The estate's files of one kind: hierarchy, inventory, usages or vendor_numbers."""
    doc = document(estate)
    if kind in ("hierarchy", "inventory"):
        return [estate.parent / doc[kind]]
    return [estate.parent / s["path"] for s in doc["sources"] if s["kind"] == kind]


def frame_of(estates: list[Path], kind: str) -> pl.DataFrame:
    """Every file of one kind, with the customer and source file each row came from."""
    return pl.concat(
        [
            read(path).with_columns(customer=pl.lit(document(e)["customer"]), file=pl.lit(path.name))
            for e in estates
            for path in files_of(e, kind)
        ]
    )


def under(path: pl.Expr, node: pl.Expr) -> pl.Expr:
    return (path == node) | path.str.starts_with(node + ".")


# ---------------------------------------------------------------------------- generation


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, estates: list[Path]) -> None:
    def snapshot(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    first = estates[0].parent.parent
    again = generate_demo(tmp_path / "two" / "demo", today=TODAY)
    generate_demo(tmp_path / "three" / "demo", seed=8, today=TODAY)
    assert [p.relative_to(tmp_path / "two") for p in again] == [p.relative_to(first.parent) for p in estates]
    assert snapshot(tmp_path / "two" / "demo") == snapshot(first)
    assert snapshot(tmp_path / "three" / "demo") != snapshot(first)


def test_returns_one_estate_file_per_customer_naming_existing_files(estates: list[Path]) -> None:
    assert [document(e)["customer"] for e in estates] == [ACME, GLOBEX, INITECH]
    for estate in estates:
        doc = document(estate)
        assert (estate.parent / doc["hierarchy"]).is_file()
        assert (estate.parent / doc["inventory"]).is_file()
        names = [s["name"] for s in doc["sources"]]
        assert len(names) == len(set(names))
        assert 2 <= sum(s["kind"] == "usages" for s in doc["sources"]) <= 4
        for source in doc["sources"]:
            assert source["kind"] in ("usages", "vendor_numbers")
            assert source["cluster"], "every source has its own cluster"
            assert (estate.parent / source["path"]).is_file()


def test_every_csv_has_its_header_and_parses(estates: list[Path]) -> None:
    for estate in estates:
        for kind, header in HEADERS.items():
            for path in files_of(estate, kind):
                first_line = path.read_text(encoding="utf-8").splitlines()[0]
                assert first_line == ",".join(header), path
                frame = read(path)
                assert frame.columns == header
                assert frame.height > 0, path


def test_sizes_customers_sites_and_numbers(estates: list[Path]) -> None:
    inventory = frame_of(estates, "inventory")
    assert 3000 <= inventory.height <= 6000
    for estate in estates:
        nodes = read(files_of(estate, "hierarchy")[0])
        sites = nodes.filter(pl.col("kind") == "site")
        assert 8 <= sites.height <= 15
        assert nodes.filter(pl.col("kind") == "customer")["path"].to_list() == [document(estate)["customer"]]
        assert not nodes["path"].str.split(".").list.eval(pl.element() == "").list.any().any()
    acme = read(files_of(estates[0], "hierarchy")[0])
    assert "sys.demo-prov.Acme.EMEA.London" in acme.filter(pl.col("kind") == "site")["path"].to_list()


# ---------------------------------------------------------------------------- SPEC 2 and 3


def test_inventory_satisfies_the_spec_2_invariants(estates: list[Path]) -> None:
    inventory = frame_of(estates, "inventory").with_columns(
        release_date=pl.col("release_date").replace("", None).str.to_date("%Y-%m-%d"),
        reserved_until=pl.col("reserved_until").replace("", None).str.to_date("%Y-%m-%d"),
    )
    assert inventory["number"].str.contains(r"^\+?[0-9]+$").all()
    assert set(inventory["status"].unique()) == {"Available", "Used", "Used-Utility", "Cooling", "Reserved"}
    assert not inventory.select("number", "hierarchy").is_duplicated().any()
    # At most once on any root-to-leaf path: no entry sits above another of the same number.
    pairs = inventory.select("number", "hierarchy").join(
        inventory.select("number", above="hierarchy"), on="number"
    )
    assert pairs.filter(pl.col("hierarchy").str.starts_with(pl.col("above") + ".")).is_empty()
    status, usage = pl.col("status"), pl.col("usage")
    utility = "|".join(sorted(UTILITY_USAGES))
    assert inventory.filter((status == "Available") & (usage != "")).is_empty()
    assert inventory.filter((status == "Used") & ~usage.str.contains(r"(^|,)(Device|User)(,|$)")).is_empty()
    assert inventory.filter((status == "Used-Utility") & ~usage.str.contains(rf"^({utility})(,({utility}))*$")).is_empty()
    assert inventory.filter((status == "Cooling") != pl.col("release_date").is_not_null()).is_empty()
    cooling = inventory.filter(status == "Cooling")["release_date"]
    assert (cooling <= TODAY).any() and (cooling > TODAY).any(), "some cooling numbers are due, some are not"
    reserved = inventory.filter(status == "Reserved")
    assert reserved.height > 0 and (reserved["reservation_notes"] != "").all()
    assert (inventory.filter(status == "Available")["tag"] != "").all(), "numbers come in named ranges"
    assert inventory.filter(status == "Used").height > inventory.height // 3
    at_customer = inventory.filter(pl.col("hierarchy") == pl.col("customer"))
    assert set(at_customer["customer"]) == {ACME, GLOBEX, INITECH}, "every customer has a shared pool"


def test_every_device_type_of_spec_3_is_used(estates: list[Path]) -> None:
    assert set(DEVICE_TYPES) == SPEC_DEVICE_TYPES
    assert set(frame_of(estates, "usages")["device_type"]) == SPEC_DEVICE_TYPES


def test_every_path_named_exists_in_the_estate_hierarchy(estates: list[Path]) -> None:
    for estate in estates:
        customer = document(estate)["customer"]
        nodes = set(read(files_of(estate, "hierarchy")[0])["path"])
        named = [read(p)["hierarchy"] for kind in ("inventory", "usages", "vendor_numbers") for p in files_of(estate, kind)]
        paths = set(pl.concat(named).unique()) - {""}
        assert paths <= nodes, paths - nodes
        assert all(p == customer or p.startswith(customer + ".") for p in paths)
        parents = {p.rsplit(".", 1)[0] for p in nodes if "." in p}
        assert parents <= nodes, "every node's parent is listed"


def test_exactly_one_customer_has_a_site_location_code_dial_plan(estates: list[Path]) -> None:
    slc = []
    for estate in estates:
        customer = document(estate)["customer"]
        nodes = read(files_of(estate, "hierarchy")[0]).filter(under(pl.col("path"), pl.lit(customer)))
        assert (nodes["number_management"] == "true").all()
        if (nodes["slc_dial_plan"] == "true").any():
            slc.append(customer)
            sites = nodes.filter(pl.col("kind") == "site")
            assert (sites["slc_dial_plan"] == "true").all()
            assert "site mode" in estate.read_text(encoding="utf-8")
    assert slc == [INITECH]


def test_the_special_cases_are_in_the_sources(estates: list[Path]) -> None:
    # Each source is one cluster (its file); rows here never override the source's cluster.
    usages = frame_of(estates, "usages").with_columns(normalised=normalise_number(pl.col("number")))
    assert (usages["cluster"] == "").all()
    numbers = usages.filter(pl.col("normalised").is_not_null())
    phones = numbers.filter(pl.col("device_type") == "device/cucm/Phone")
    shared = phones.group_by("customer", "hierarchy", "normalised", "partition").agg(pl.col("device_name").n_unique())
    assert shared.filter(pl.col("device_name") > 1).height >= 1, "shared lines"
    two_partitions = numbers.filter(pl.col("partition") != "").group_by("customer", "file", "hierarchy", "normalised").agg(pl.col("partition").n_unique())
    assert two_partitions.filter(pl.col("partition") > 1).height >= 1, "one number in two partitions"
    for device_type in ("device/cucm/Phone", "device/cucm/DeviceProfile"):
        same_name = usages.filter(pl.col("device_type") == device_type).group_by("customer", "device_name").agg(pl.col("file").n_unique())
        assert same_name.filter(pl.col("file") > 1).height >= 1, f"{device_type} in two clusters"
    assert usages.filter((pl.col("hierarchy") == "") & pl.col("normalised").is_not_null()).height >= 3, "unmapped devices"
    assert usages.filter(pl.col("normalised").is_null()).height >= 2, "bad numbers"
    assert usages["number"].str.starts_with("\\+").any()
    assert usages["number"].str.contains(r"^tel:\+[0-9]+;ext=[0-9]+$").any()
    audiocodes = usages.filter(pl.col("device_type") == "device/audiocodes")
    assert set(audiocodes["online"]) == {"true", "false"}
    assert set(usages["vendor"]) >= {"", "Microsoft", "Webex Calling", "AudioCodes", "Yealink", "Polycom"}
    assert set(usages["number_type"]) >= {"Direct Routing", "Calling Plan", "Operator Connect", "Phone Number", "Extension"}
    # Devices at a site on a number held at the customer (Acme: updated there; Initech: ancestor_entry).
    inventory = frame_of(estates, "inventory")
    held_above = numbers.filter((pl.col("hierarchy") != "") & (pl.col("hierarchy") != pl.col("customer"))).join(
        inventory.filter(pl.col("hierarchy") == pl.col("customer")).select("customer", normalised="number"),
        on=["customer", "normalised"],
    )
    assert set(held_above["customer"]) >= {ACME, INITECH}
    teams = frame_of(estates, "vendor_numbers")
    assert (teams["assigned"] == "false").sum() > teams.height / 2, "mostly acquired and unassigned"
    blocked = teams.filter(pl.col("blocked_state") == "BlockedUntil")["blocked_until"].str.to_date("%Y-%m-%d")
    assert blocked.len() >= 1 and (blocked > TODAY).all()
    assert (teams["blocked_state"] == "BlockedForever").sum() >= 1
    assert (teams["hierarchy"] == "").any(), "numbers held at the customer (tenant) level"


# ---------------------------------------------------------------------------- with the engine


def test_every_estate_is_accepted_by_the_loader(estates: list[Path]) -> None:
    estate_module = pytest.importorskip("numaudit.estate")
    for estate in estates:
        loaded = estate_module.read_estate(estate)
        frames = estate_module.read_sources(loaded)
        assert loaded.customer == document(estate)["customer"]
        assert loaded.inventory is not None and loaded.inventory.height == read(files_of(estate, "inventory")[0]).height
        assert set(frames) == {s["name"] for s in document(estate)["sources"]}


def first_audit(estate: Path, mode: str) -> Any:
    """The pure audit transform on the estate as the loader reads it (no warehouse)."""
    estate_module = pytest.importorskip("numaudit.estate")
    audit_module = pytest.importorskip("transforms.audit")
    loaded = estate_module.read_estate(estate)
    frames = estate_module.read_sources(loaded).values()
    settings = loaded.settings.row(0, named=True)
    now = datetime(2026, 11, 22, 3, 0)
    entries = loaded.inventory.with_columns(created_at=pl.lit(now), updated_at=pl.lit(now))
    sites = tuple(sorted(loaded.hierarchy.filter(pl.col("kind") == "site")["path"]))
    # Rechunked as a warehouse read returns them: Polars 2.1 panics in `pl.format` on the
    # readers' frames concatenated as they are (their columns' chunks do not line up).
    inputs = audit_module.AuditInputs(
        entries=entries.lazy(),
        usages=pl.concat([f.usages for f in frames]).rechunk().lazy(),
        vendor_numbers=pl.concat([f.vendor_numbers for f in frames]).rechunk().lazy(),
        e164=pl.concat([f.e164 for f in frames]).rechunk().lazy(),
    )
    params = audit_module.AuditParams(
        audit_id="DEMO", customer=loaded.customer, mode=mode, sites=sites, as_of=TODAY, now=now,
        cooling_enabled=settings["cooling_enabled"], cooling_days=settings["cooling_days"],
        audiocodes_cooling_days=settings["audiocodes_cooling_days"],
    )
    return audit_module.audit(inputs, params), entries, settings


@pytest.mark.parametrize(
    ("index", "mode", "changes", "kinds"),
    [
        (0, "customer", {"added", "updated", "released", "cooled"},
         {"duplicate_device_profile", "duplicate_phone", "number_in_clusters", "unmapped_device", "bad_number"}),
        (1, "customer", {"added", "updated", "released", "cooled"}, {"entry_at_other_site", "unmapped_device", "bad_number"}),
        (2, "site", {"added", "updated", "released"}, {"ancestor_entry", "unmapped_device", "bad_number"}),
    ],
)
def test_first_audit_shows_changes_and_exceptions(estates: list[Path], index: int, mode: str, changes: set[str], kinds: set[str]) -> None:
    result, entries, settings = first_audit(estates[index], mode)
    assert set(result.changes["change"]) >= changes
    assert set(result.exceptions["kind"]) == kinds
    # The safety guard (SPEC 4.8) must not refuse the demo: few used numbers are freed.
    used = entries.filter(pl.col("status").is_in(["Used", "Used-Utility"])).height
    freed = result.changes.filter(
        pl.col("old_status").is_in(["Used", "Used-Utility"]) & pl.col("new_status").is_in(["Available", "Cooling"])
    ).height
    assert 0 < freed <= settings["max_release_fraction"] * used
