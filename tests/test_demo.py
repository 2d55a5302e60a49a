"""The demo estate (numaudit/demo.py): deterministic, made of the vendors' own export formats
(never a generic CSV), true to SPEC 2 and 3, and rich enough that a first audit shows every
kind of change and exception."""

from __future__ import annotations

import csv
import io
import json
import tomllib
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from numaudit.demo import generate_demo
from numaudit.estate import read_estate, read_sources
from sources.base import SourceFrames
from sources.teams import parse_format_list
from transforms.usage_types import DEVICE_TYPES, UTILITY_USAGES

TODAY = date(2026, 11, 22)
FORMATS = Path(__file__).parent / "fixtures" / "formats"

# SPEC 3's table, spelled out: the demo must use every one of them.
SPEC_DEVICE_TYPES = {
    "device/cucm/Phone", "device/cucm/DeviceProfile", "device/cucm/RemoteDestinationProfile",
    "device/cucm/HuntPilot", "device/cucm/CallPickupGroup", "device/cuc/Callhandler",
    "device/cucm/VoicemailPilot", "device/cucm/MeetMe", "device/cucm/CtiRoutePoint",
    "device/cucm/CallPark", "device/cucm/DirectedCallPark", "data/PRS_MultiVendorPhone_DAT",
    "device/msteamsonline/CsOnlineUser", "device/spark/Number", "device/audiocodes",
}
# Every vendor file kind of SPEC 6 (the live API kinds read the same shapes).
VENDOR_KINDS = {
    "cucm_axl_sql", "cucm_axl_list", "cucm_bat_phones", "unity_cupi_callhandlers", "teams_number_assignment",
    "teams_online_users", "webex_numbers", "audiocodes_registered_users", "multivendor_phones", "e164_associations",
}
HEADERS = {
    "hierarchy": ["path", "kind", "number_management", "slc_dial_plan", "hybrid"],
    "inventory": [
        "number", "hierarchy", "status", "usage", "vendor", "number_type", "e164", "release_date",
        "reserved_until", "tag", "description", "reservation_notes", *(f"extra{i}" for i in range(1, 10)),
    ],
}
NUMPLAN_COLUMNS = ["dnorpattern", "tkpatternusage", "routepartition", "devicename", "deviceclass", "devicepool", "owneruserid", "e164mask"]
ACME, GLOBEX, INITECH = "sys.demo-prov.Acme", "sys.demo-prov.Globex", "sys.demo-prov.Northwind.Initech"


@pytest.fixture(scope="module")
def estates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_demo(tmp_path_factory.mktemp("one") / "demo", today=TODAY)


@pytest.fixture(scope="module")
def frames(estates: list[Path]) -> dict[str, dict[str, SourceFrames]]:
    """customer -> source name -> what its reader made of the export."""
    return {document(e)["customer"]: read_sources(read_estate(e)) for e in estates}


def read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False, empty_string_is_null=False, truncate_ragged_lines=False)


def document(estate: Path) -> dict[str, Any]:
    with estate.open("rb") as handle:
        return tomllib.load(handle)


def sources_of(estates: list[Path], kind: str) -> list[tuple[Path, dict[str, Any]]]:
    """(export path, [[sources]] entry) of every source of one kind."""
    return [(e.parent / s["path"], s) for e in estates for s in document(e)["sources"] if s["kind"] == kind]


def inventory_of(estates: list[Path]) -> pl.DataFrame:
    return pl.concat([read(e.parent / document(e)["inventory"]).with_columns(customer=pl.lit(document(e)["customer"])) for e in estates])


def staged(frames: dict[str, dict[str, SourceFrames]], estates: list[Path], table: str = "usages") -> pl.DataFrame:
    """One staged table of every source, with the source's kind."""
    kinds = {(document(e)["customer"], s["name"]): s["kind"] for e in estates for s in document(e)["sources"]}
    return pl.concat(
        [
            getattr(f, table).with_columns(kind=pl.lit(kinds[(customer, name)]))
            for customer, by_name in frames.items()
            for name, f in by_name.items()
        ]
    )


def returned(response: ElementTree.Element) -> list[ElementTree.Element]:
    """The records under an AXL response's `return`."""
    found = response.find("return")
    return [] if found is None else list(found)


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


def test_every_source_is_a_vendor_export(estates: list[Path]) -> None:
    assert [document(e)["customer"] for e in estates] == [ACME, GLOBEX, INITECH]
    kinds = set()
    for estate in estates:
        doc = document(estate)
        assert (estate.parent / doc["hierarchy"]).is_file()
        assert (estate.parent / doc["inventory"]).is_file()
        names = [s["name"] for s in doc["sources"]]
        assert len(names) == len(set(names))
        for source in doc["sources"]:
            assert source["kind"] in VENDOR_KINDS, "no generic usages / vendor_numbers CSV"
            assert (estate.parent / source["path"]).exists()
            kinds.add(source["kind"])
    assert kinds == VENDOR_KINDS
    # A platform is one cluster: a source's rows never override it.
    for path, source in sources_of(estates, "cucm_axl_sql") + sources_of(estates, "cucm_bat_phones"):
        assert source["cluster"].startswith("CL-"), path


def test_hierarchy_and_inventory_have_their_headers(estates: list[Path]) -> None:
    for estate in estates:
        for kind, header in HEADERS.items():
            path = estate.parent / document(estate)[kind]
            assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(header)
            assert read(path).height > 0


# ---------------------------------------------------------------------------- the vendors' shapes


def test_cucm_numplan_is_the_executesqlquery_response_of_the_shipped_query(estates: list[Path]) -> None:
    exports = sources_of(estates, "cucm_axl_sql")
    paged = [path for path, _ in exports if path.is_dir()]
    assert paged and all(len(list(p.glob("*.xml"))) > 1 for p in paged), "a large cluster is paged"
    for path, _ in exports:
        for page in sorted(path.glob("*.xml")) if path.is_dir() else [path]:
            root = ElementTree.parse(page).getroot()
            response = root[0][0]
            assert (root.tag.endswith("}Envelope"), response.tag) == (True, "{http://www.cisco.com/AXL/API/14.0}executeSQLQueryResponse")
            rows = returned(response)
            assert rows and all([c.tag for c in row] == NUMPLAN_COLUMNS for row in rows)
            patterns = [row.findtext("dnorpattern", "") for row in rows]
            assert patterns == sorted(patterns), "the query's order by"
    text = "".join(p.read_text() for path, _ in exports for p in (sorted(path.glob("*.xml")) if path.is_dir() else [path]))
    assert "<dnorpattern>\\+" in text and "<devicename/>" in text and "<devicepool/>" in text


def test_cucm_bat_export_has_the_captured_header_and_t_f_booleans(estates: list[Path]) -> None:
    (path, _), = sources_of(estates, "cucm_bat_phones")
    sample = next(csv.reader(io.StringIO((FORMATS / "cucm" / "bat_export_phones_all_details.sample.csv").read_text(encoding="utf-8"))))
    header, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert header[:200] == sample and len(header) == 200 + 84, "the export's columns, a second line block"
    assert [h.removesuffix(" 2") for h in header[200:]] == [h.removesuffix(" 1") for h in sample[116:]]
    column = {name: i for i, name in enumerate(header)}
    assert {row[column["Extension Mobility"]] for row in rows} == {"f"}
    assert {row[column["Retry Video Call as Audio"]] for row in rows} == {"t"}
    assert any(row[column["Directory Number 2"]] for row in rows), "a phone with a second line"
    assert all(row[column["Directory Number 1"]].startswith("\\+") for row in rows), "CUCM escapes the +"


def test_axl_list_responses_one_per_operation(estates: list[Path]) -> None:
    operations = set()
    for path, _ in sources_of(estates, "cucm_axl_list"):
        for file in sorted(path.glob("*.xml")) if path.is_dir() else [path]:
            response = ElementTree.parse(file).getroot()[0][0]
            operations.add(response.tag.rsplit("}", 1)[1])
            items = returned(response)
            assert items and all(item.get("uuid", "").startswith("{") for item in items)
    assert operations == {
        "listHuntPilotResponse", "listCallPickupGroupResponse", "listCallParkResponse",
        "listDirectedCallParkResponse", "listMeetMeResponse", "listVoiceMailPilotResponse",
    }


def test_teams_exports_are_powershell_output(estates: list[Path]) -> None:
    sample, _ = parse_format_list((FORMATS / "teams" / "Get-CsPhoneNumberAssignment.output.txt").read_text(encoding="utf-8"), "sample")
    exports = {path.suffix: path for path, _ in sources_of(estates, "teams_number_assignment")}
    text = exports[".txt"].read_bytes().decode("utf-8")
    records, _ = parse_format_list(text, "demo")
    assert "\r\n" in text and all(list(r) == list(sample[0]) for r in records), "Format-List, the cmdlet's properties"
    assert any(";ext=" in r["TelephoneNumber"] for r in records)
    assert {r["AssignmentBlockedState"] for r in records} >= {"NotBlocked", "BlockedUntil", "BlockedForever"}
    csv_export = exports[".csv"].read_bytes()
    assert csv_export.startswith("\ufeff#TYPE ".encode()) and b"\r\n" in csv_export, "Windows PowerShell Export-Csv"
    (users, _), = sources_of(estates, "teams_online_users")
    line_uris = read(users)["LineURI"]
    assert line_uris.str.contains(r"^tel:\+[0-9]+;ext=[0-9]+$").any() and (line_uris == "").any()


def test_webex_unity_and_audiocodes_exports(estates: list[Path]) -> None:
    sample = json.loads((FORMATS / "webex" / "telephony-config-numbers.response.json").read_text())
    (folder, _), = sources_of(estates, "webex_numbers")
    pages = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    assert len(pages) > 1 and all(set(p) == {"count", "phoneNumbers"} and set(p["count"]) == set(sample["count"]) for p in pages)
    numbers = [n for p in pages for n in p["phoneNumbers"]]
    sample_keys = {k for n in sample["phoneNumbers"] for k in n}
    assert all(set(n) <= sample_keys for n in numbers), "only the API's fields"
    assert any(n["phoneNumber"] == "" and "owner" in n for n in numbers), "extension-only rows"
    assert any("owner" not in n and "extension" not in n for n in numbers), "unassigned numbers"

    unity = {path.parent.name: path for path, _ in sources_of(estates, "unity_cupi_callhandlers")}
    handlers = json.loads(unity["acme"].read_text())["Callhandler"]
    assert isinstance(handlers, list) and any("DtmfAccessId" not in h for h in handlers)
    assert all(isinstance(v, str) for h in handlers for v in h.values()), "CUPI sends strings"
    assert isinstance(json.loads(unity["initech"].read_text())["Callhandler"], dict), "one result is an object"
    assert ElementTree.parse(unity["globex"]).getroot().tag == "Callhandlers"

    (sbc, _), = sources_of(estates, "audiocodes_registered_users")
    table = read(sbc)
    assert table.columns == ["Address of Record", "Contact"]
    assert table["Contact"].str.contains("Not-Active").any() and table["Contact"].str.contains("IPG:1").all()


# ---------------------------------------------------------------------------- sizes and SPEC 2, 3


def test_sizes_customers_sites_and_numbers(estates: list[Path]) -> None:
    inventory = inventory_of(estates)
    assert 3000 <= inventory.height <= 6000
    for estate in estates:
        nodes = read(estate.parent / document(estate)["hierarchy"])
        sites = nodes.filter(pl.col("kind") == "site")
        assert 8 <= sites.height <= 15
        assert nodes.filter(pl.col("kind") == "customer")["path"].to_list() == [document(estate)["customer"]]
        assert not nodes["path"].str.split(".").list.eval(pl.element() == "").list.any().any()
    acme = read(estates[0].parent / "hierarchy.csv")
    assert "sys.demo-prov.Acme.EMEA.London" in acme.filter(pl.col("kind") == "site")["path"].to_list()


def test_inventory_satisfies_the_spec_2_invariants(estates: list[Path]) -> None:
    inventory = inventory_of(estates).with_columns(
        release_date=pl.col("release_date").replace("", None).str.to_date("%Y-%m-%d"),
        reserved_until=pl.col("reserved_until").replace("", None).str.to_date("%Y-%m-%d"),
    )
    assert inventory["number"].str.contains(r"^\+?[0-9]+$").all()
    assert set(inventory["status"].unique()) == {"Available", "Used", "Used-Utility", "Cooling", "Reserved"}
    assert not inventory.select("number", "hierarchy").is_duplicated().any()
    # At most once on any root-to-leaf path: no entry sits above another of the same number.
    pairs = inventory.select("number", "hierarchy").join(inventory.select("number", above="hierarchy"), on="number")
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


def test_every_device_type_of_spec_3_is_used(estates: list[Path], frames: dict[str, dict[str, SourceFrames]]) -> None:
    assert set(DEVICE_TYPES) == SPEC_DEVICE_TYPES
    assert set(staged(frames, estates)["device_type"]) == SPEC_DEVICE_TYPES


def test_every_path_named_exists_in_the_estate_hierarchy(estates: list[Path]) -> None:
    for estate in estates:
        customer = document(estate)["customer"]
        nodes = set(read(estate.parent / "hierarchy.csv")["path"])
        named = set(read(estate.parent / "inventory.csv")["hierarchy"])
        named |= {v if v.startswith(customer) else f"{customer}.{v}" for s in document(estate)["sources"] for v in s.get("site_map", {}).values()}
        assert named <= nodes, named - nodes
        assert all(p == customer or p.startswith(customer + ".") for p in named)
        parents = {p.rsplit(".", 1)[0] for p in nodes if "." in p}
        assert parents <= nodes, "every node's parent is listed"


def test_exactly_one_customer_has_a_site_location_code_dial_plan(estates: list[Path]) -> None:
    slc = []
    for estate in estates:
        customer = document(estate)["customer"]
        nodes = read(estate.parent / "hierarchy.csv").filter(under(pl.col("path"), pl.lit(customer)))
        assert (nodes["number_management"] == "true").all()
        if (nodes["slc_dial_plan"] == "true").any():
            slc.append(customer)
            sites = nodes.filter(pl.col("kind") == "site")
            assert (sites["slc_dial_plan"] == "true").all()
            assert "site mode" in estate.read_text(encoding="utf-8")
    assert slc == [INITECH]


# ---------------------------------------------------------------------------- what the readers make of it


def test_the_special_cases_are_in_the_sources(estates: list[Path], frames: dict[str, dict[str, SourceFrames]]) -> None:
    usages = staged(frames, estates)
    numbers = usages.filter(pl.col("number").is_not_null())
    phones = numbers.filter(pl.col("device_type") == "device/cucm/Phone")
    shared = phones.group_by("customer", "site", "number", "partition").agg(pl.col("device_name").n_unique())
    assert shared.filter(pl.col("device_name") > 1).height >= 1, "shared lines"
    two_partitions = numbers.filter(pl.col("partition") != "").group_by("customer", "cluster", "site", "number").agg(pl.col("partition").n_unique())
    assert two_partitions.filter(pl.col("partition") > 1).height >= 1, "one number in two partitions"
    for device_type in ("device/cucm/Phone", "device/cucm/DeviceProfile"):
        same_name = usages.filter(pl.col("device_type") == device_type).group_by("customer", "device_name").agg(pl.col("cluster").n_unique())
        assert same_name.filter(pl.col("cluster") > 1).height >= 1, f"{device_type} in two clusters"
    assert numbers.filter(pl.col("site").is_null()).height >= 3, "unmapped devices"
    assert usages.filter(pl.col("number").is_null()).height >= 3, "bad numbers"
    # Numbers as the platforms write them.
    raw = usages["number_raw"]
    assert raw.str.starts_with("\\+").any()
    assert raw.str.contains(r"^tel:\+[0-9]+;ext=[0-9]+$").any() and raw.str.contains(r"^\+[0-9]+;ext=[0-9]+$").any()
    assert raw.str.contains(r"^\+1 \(\d{3}\) \d{3}-\d{4}$").any(), "multi-vendor numbers typed in a spreadsheet"
    audiocodes = usages.filter(pl.col("device_type") == "device/audiocodes")
    assert set(audiocodes["online"]) == {True, False}
    assert set(usages["vendor"]) >= {"", "Microsoft", "Webex Calling", "AudioCodes", "Yealink", "Polycom"}
    assert set(usages["number_type"]) >= {"Direct Routing", "Calling Plan", "Operator Connect", "Phone Number", "Extension"}
    extension_only = usages.filter((pl.col("kind") == "webex_numbers") & (pl.col("number_type") == "Extension"))
    assert extension_only["number"].str.contains(r"^[0-9]{4}$").all() and extension_only.height > 0
    # E.164: full CUCM line masks are taken, wildcard masks are not; the DID inventory's associations.
    initech = usages.filter(pl.col("customer") == INITECH)
    assert initech.filter(pl.col("e164") != "")["e164"].str.starts_with("+1512555").any()
    assert staged(frames, estates, "e164").height > 0
    # Devices at a site on a number held at the customer (Acme: updated there; Initech: ancestor_entry).
    inventory = inventory_of(estates)
    held_above = numbers.filter(pl.col("site").is_not_null() & (pl.col("site") != pl.col("customer"))).join(
        inventory.filter(pl.col("hierarchy") == pl.col("customer")).select("customer", "number"), on=["customer", "number"]
    )
    assert set(held_above["customer"]) >= {ACME, INITECH}
    # Teams numbers: acquired and mostly unassigned, blocked until a date or for ever, held by the tenant.
    teams = staged(frames, estates, "vendor_numbers")
    assert (~teams["assigned"]).sum() > teams.height / 2
    blocked = teams.filter(pl.col("blocked_state") == "BlockedUntil")["blocked_until"]
    assert blocked.len() >= 1 and (blocked > TODAY).all()
    assert (teams["blocked_state"] == "BlockedForever").sum() >= 1
    assert (teams["site"] == teams["customer"]).any(), "numbers held at the customer (tenant) level"


def test_numplan_dns_on_no_device_are_configured_not_used(estates: list[Path], frames: dict[str, dict[str, SourceFrames]]) -> None:
    raw = pl.concat([frames[ACME]["cucm-emea"].raw["raw_cucm_numplan"], frames[ACME]["cucm-amer"].raw["raw_cucm_numplan"]], how="diagonal")
    idle = raw.filter((pl.col("tkpatternusage") == "Device") & (pl.col("devicename") == ""))
    assert idle.height > 0
    used = {f"{row['source']}:{row['source_row']}" for row in staged(frames, estates).filter(pl.col("customer") == ACME).iter_rows(named=True)}
    assert not any(f"{row['source']}:{row['source_row']}" in used for row in idle.iter_rows(named=True))


# ---------------------------------------------------------------------------- with the engine


def test_every_estate_is_accepted_by_the_loader(estates: list[Path], frames: dict[str, dict[str, SourceFrames]]) -> None:
    for estate in estates:
        loaded = read_estate(estate)
        assert loaded.customer == document(estate)["customer"]
        assert loaded.inventory is not None and loaded.inventory.height == read(estate.parent / "inventory.csv").height
        assert set(frames[loaded.customer]) == {s["name"] for s in document(estate)["sources"]}


def first_audit(estate: Path, mode: str) -> Any:
    """The pure audit transform on the estate as the loader reads it (no warehouse)."""
    audit_module = pytest.importorskip("transforms.audit")
    loaded = read_estate(estate)
    frames = read_sources(loaded).values()
    settings = loaded.settings.row(0, named=True)
    now = datetime(2026, 11, 22, 3, 0)
    assert loaded.inventory is not None
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


def test_first_audit_of_acme_places_each_platform_s_numbers(estates: list[Path]) -> None:
    """Concrete outcomes: each platform's usages land on the entries the story says."""
    result, entries, _ = first_audit(estates[0], "customer")
    after = entries.join(result.written, on=["number", "hierarchy"], how="anti").select(result.written.columns)
    after = pl.concat([after, result.written]).select("number", "hierarchy", "status", "usage", "vendor", "number_type")
    by_vendor = after.filter(pl.col("status") == "Used").group_by("vendor").agg(pl.col("number_type").unique().sort())
    number_types = dict(by_vendor.iter_rows())
    assert number_types["AudioCodes"] == [""]
    assert number_types["Microsoft"] == ["Calling Plan", "Direct Routing", "Operator Connect"]
    links = result.usage_links
    assert set(links.filter(pl.col("usage") == "Voicemail_Pilot")["hierarchy"]) == {ACME}
    assert set(links.filter(pl.col("usage") == "Call_Handler_Pilot")["cluster"]) == {"CUC-ACME"}
    assert set(links["cluster"]) == {"CL-EMEA", "CL-AMER", "M365-ACME", "CUC-ACME", "SBC-LON01", ""}
    london = links.filter(pl.col("site") == f"{ACME}.EMEA.London")
    assert {"PT_LON_DN", "PT_LON_Services", "PT_LON_Park"} <= set(london["partition"])
