"""A large synthetic estate on disk, in the estate-file format (one estate file per customer).

Vectorised with Polars: no Python loop runs per number, only per customer (to write its
files). Randomness is a hash of the number's index and a salt (`_rand`), so a run is
reproducible for a given seed and Polars version, and needs no NumPy. For every customer the folder `C0001/` holds:

- `hierarchy.csv`: provider `sys` > reseller `sys.bench` > customer > `sites` sites;
- `inventory.csv`: the existing inventory (most numbers at their site, a pool at the
  customer; Used, Available, Cooling (due and not yet due), Reserved, a few stale Used);
- `usages.csv` (generic `usages` source): phones (with shared lines), device profiles,
  remote destination profiles, hunt pilots and other utilities, Teams users, Webex users,
  AudioCodes users (some offline), multi-vendor phones, a few unmapped devices, and numbers
  missing from the inventory (the audit adds them);
- `teams.csv` (generic `vendor_numbers` source): Teams numbers, assigned and unassigned
  (some blocked);
- `usages.night2.csv`: the second night, where about 10% of the usages changed (a third of
  the used numbers' usages removed, a third moved to another site, a third of new usages);
- `estate.toml` (night 1) and `estate.night2.toml` (night 2: the same estate, the new usages).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

PROVIDER = "sys"
RESELLER = "sys.bench"

# device type -> share of the used numbers, vendor written in the source, number type.
DEVICE_MIX: tuple[tuple[str, float, str, str], ...] = (
    ("device/cucm/Phone", 0.640, "", ""),
    ("device/cucm/DeviceProfile", 0.070, "", ""),
    ("device/cucm/RemoteDestinationProfile", 0.010, "", ""),
    ("device/cucm/HuntPilot", 0.030, "", ""),
    ("device/cucm/CallPickupGroup", 0.010, "", ""),
    ("device/cuc/Callhandler", 0.004, "", ""),
    ("device/cucm/VoicemailPilot", 0.002, "", ""),
    ("device/cucm/MeetMe", 0.005, "", ""),
    ("device/cucm/CtiRoutePoint", 0.010, "", ""),
    ("device/cucm/CallPark", 0.008, "", ""),
    ("device/cucm/DirectedCallPark", 0.005, "", ""),
    ("data/PRS_MultiVendorPhone_DAT", 0.016, "Yealink", ""),
    ("device/msteamsonline/CsOnlineUser", 0.100, "", "Direct Routing"),
    ("device/spark/Number", 0.050, "", "Phone Number"),
    ("device/audiocodes", 0.040, "", ""),
)
# usage and status the inventory already shows for a number in use with that device type.
USAGE_OF = {
    "device/cucm/Phone": ("Device", "Used", ""),
    "device/cucm/DeviceProfile": ("Device", "Used", ""),
    "device/cucm/RemoteDestinationProfile": ("Device", "Used", ""),
    "device/cucm/HuntPilot": ("Hunt_Pilot", "Used-Utility", ""),
    "device/cucm/CallPickupGroup": ("Pickup_Group_Pilot", "Used-Utility", ""),
    "device/cuc/Callhandler": ("Call_Handler_Pilot", "Used-Utility", ""),
    "device/cucm/VoicemailPilot": ("Voicemail_Pilot", "Used-Utility", ""),
    "device/cucm/MeetMe": ("Meet_Me", "Used-Utility", ""),
    "device/cucm/CtiRoutePoint": ("CTI_RoutePoint", "Used-Utility", ""),
    "device/cucm/CallPark": ("Call_Park", "Used-Utility", ""),
    "device/cucm/DirectedCallPark": ("Directed_Call_Park", "Used-Utility", ""),
    "data/PRS_MultiVendorPhone_DAT": ("VOSS_Phone", "Used-Utility", "Yealink"),
    "device/msteamsonline/CsOnlineUser": ("User", "Used", "Microsoft"),
    "device/spark/Number": ("User", "Used", "Webex Calling"),
    "device/audiocodes": ("Device", "Used", "AudioCodes"),
}
NAME_PREFIX = {
    "device/cucm/Phone": "SEP",
    "device/cucm/DeviceProfile": "UDP_",
    "device/cucm/RemoteDestinationProfile": "RDP_",
    "device/cucm/HuntPilot": "HP_",
    "device/cucm/CallPickupGroup": "PG_",
    "device/cuc/Callhandler": "CH_",
    "device/cucm/VoicemailPilot": "VM_",
    "device/cucm/MeetMe": "MM_",
    "device/cucm/CtiRoutePoint": "CTI_",
    "device/cucm/CallPark": "CP_",
    "device/cucm/DirectedCallPark": "DCP_",
    "data/PRS_MultiVendorPhone_DAT": "MVP_",
    "device/msteamsonline/CsOnlineUser": "teams-user-",
    "device/spark/Number": "webex-user-",
    "device/audiocodes": "ac-user-",
}
USAGE_COLUMNS = [
    "hierarchy",
    "device_type",
    "device_name",
    "number",
    "partition",
    "cluster",
    "vendor",
    "number_type",
    "owner",
    "online",
]
VENDOR_NUMBER_COLUMNS = ["hierarchy", "number", "vendor", "number_type", "assigned", "blocked_state", "blocked_until"]
INVENTORY_COLUMNS = [
    "number",
    "hierarchy",
    "status",
    "usage",
    "vendor",
    "number_type",
    "release_date",
    "reserved_until",
    "tag",
    "description",
]


@dataclass
class Estate:
    """What was generated, and what a correct audit must therefore produce."""

    folder: Path
    as_of: date
    customers: list[str]
    files: dict[str, Path]  # customer -> night-1 estate file
    night2_files: dict[str, Path]  # customer -> night-2 estate file
    inventory_rows: int
    usage_rows: dict[int, int]  # night -> rows in the usages sources
    landing_usages: dict[int, int]  # night -> usage rows that use their number (online, mapped)
    vendor_number_rows: int
    expected_added: dict[int, int]  # night -> entries the audit must add
    changes: dict[str, int] = field(default_factory=dict)  # night 2: numbers removed, moved, added


def customer_paths(customers: int) -> list[str]:
    width = max(4, len(str(customers)))
    return [f"{RESELLER}.C{i + 1:0{width}d}" for i in range(customers)]


def generate(
    folder: Path, numbers: int, customers: int, sites: int = 20, seed: int = 7, as_of: date | None = None
) -> Estate:
    """Write the estate under `folder`; return what was written and the expected outcome."""
    if numbers < customers or customers < 1 or sites < 1:
        raise ValueError("need at least one number per customer, one customer and one site")
    as_of = as_of or date.today()
    rng = Rand(seed)
    paths = customer_paths(customers)
    site_width = max(2, len(str(sites)))
    total = sum(t[1] for t in DEVICE_MIX)
    bounds, names, running = [], [], 0.0
    for name, share, _, _ in DEVICE_MIX:
        running += share / total
        bounds.append(running)
        names.append(name)
    draw = rng(pl.col("i"), 1)
    base = (
        pl.DataFrame({"i": pl.int_range(0, numbers, dtype=pl.Int64, eager=True)})
        .with_columns(
            cust=((pl.col("i") * customers) // numbers).cast(pl.Int32),  # contiguous blocks per customer
            site_i=(rng(pl.col("i"), 2) * sites).floor().cast(pl.Int32),
            # Where the number sits in the inventory: 88% at its site, 4% in the customer's
            # pool, 8% nowhere (platform numbers the inventory never heard of).
            placement=pl.when(draw < 0.88).then(0).when(draw < 0.92).then(1).otherwise(2).cast(pl.Int8),
            used=rng(pl.col("i"), 3) < 0.70,
            device_type=_pick(rng(pl.col("i"), 4), bounds, names),
            aux=rng(pl.col("i"), 5),  # one more draw for the small populations below
        )
        .with_columns(
            number=pl.lit("+4420") + pl.col("i").cast(pl.String).str.zfill(9),
            site=pl.lit("S") + (pl.col("site_i") + 1).cast(pl.String).str.zfill(site_width),
        )
    )

    inventory = _inventory(base, paths, as_of, rng)
    usages1 = _usages(base, rng)
    usages2, changes = _night2(base, usages1, sites, site_width, rng)
    vendor_numbers = _vendor_numbers(base, as_of, rng)

    folder.mkdir(parents=True, exist_ok=True)
    files, night2_files = {}, {}
    frames = {
        "inventory.csv": _by_customer(inventory),
        "usages.csv": _by_customer(usages1),
        "usages.night2.csv": _by_customer(usages2),
        "teams.csv": _by_customer(vendor_numbers),
    }
    empty = {
        "inventory.csv": pl.DataFrame(schema=dict.fromkeys(INVENTORY_COLUMNS, pl.String)),
        "usages.csv": pl.DataFrame(schema=dict.fromkeys(USAGE_COLUMNS, pl.String)),
        "usages.night2.csv": pl.DataFrame(schema=dict.fromkeys(USAGE_COLUMNS, pl.String)),
        "teams.csv": pl.DataFrame(schema=dict.fromkeys(VENDOR_NUMBER_COLUMNS, pl.String)),
    }
    for c, customer in enumerate(paths):
        home = folder / customer.rsplit(".", 1)[1]
        home.mkdir(exist_ok=True)
        (home / "hierarchy.csv").write_text(_hierarchy_csv(customer, sites, site_width), encoding="utf-8")
        for name, parts in frames.items():
            parts.get(c, empty[name]).write_csv(home / name)
        files[customer] = home / "estate.toml"
        night2_files[customer] = home / "estate.night2.toml"
        files[customer].write_text(_estate_toml(customer, "usages.csv"), encoding="utf-8")
        night2_files[customer].write_text(_estate_toml(customer, "usages.night2.csv"), encoding="utf-8")

    landing = {n: _landing(u) for n, u in ((1, usages1), (2, usages2))}
    unassigned = vendor_numbers.filter(pl.col("assigned") == "false")
    missing = base.filter(pl.col("placement") == 2).select("number")
    added1 = (
        pl.concat([_usable(usages1).select("number"), unassigned.select("number")]).unique().join(missing, on="number")
    )
    added2 = _usable(usages2).select("number").unique().join(missing, on="number").join(added1, on="number", how="anti")
    return Estate(
        folder=folder,
        as_of=as_of,
        customers=paths,
        files=files,
        night2_files=night2_files,
        inventory_rows=inventory.height,
        usage_rows={1: usages1.height, 2: usages2.height},
        landing_usages=landing,
        vendor_number_rows=vendor_numbers.height,
        expected_added={1: added1.height, 2: added2.height},
        changes=changes,
    )


def _inventory(base: pl.DataFrame, paths: list[str], as_of: date, rng: Rand) -> pl.DataFrame:
    """Entries for placements 0 (site) and 1 (customer pool), mostly true to the usages."""
    inv = base.filter(pl.col("placement") < 2)
    customer = pl.col("cust").replace_strict(list(range(len(paths))), paths, return_dtype=pl.String)
    usage_status = pl.col("device_type").replace_strict({k: v[1] for k, v in USAGE_OF.items()}, return_dtype=pl.String)
    usage_text = pl.col("device_type").replace_strict({k: v[0] for k, v in USAGE_OF.items()}, return_dtype=pl.String)
    usage_vendor = pl.col("device_type").replace_strict({k: v[2] for k, v in USAGE_OF.items()}, return_dtype=pl.String)
    # Unused numbers: 72% Available, 6% Cooling due, 6% Cooling later, 10% Reserved, 6% stale
    # Used (freed by the first audit). Used numbers: 97% right, 3% shown Available (stale).
    unused_status = (
        pl.when(pl.col("_s") < 0.72)
        .then(pl.lit("Available"))
        .when(pl.col("_s") < 0.78)
        .then(pl.lit("Cooling-due"))
        .when(pl.col("_s") < 0.84)
        .then(pl.lit("Cooling"))
        .when(pl.col("_s") < 0.94)
        .then(pl.lit("Reserved"))
        .otherwise(pl.lit("Used"))
    )
    frame = inv.with_columns(
        _s=rng(pl.col("i"), 10), _o=1 + (rng(pl.col("i"), 11) * 59).floor().cast(pl.Int64)
    ).with_columns(
        _status=pl.when(pl.col("used") & (pl.col("_s") < 0.97))
        .then(usage_status)
        .when(pl.col("used"))
        .then(pl.lit("Available"))
        .otherwise(unused_status),
    )
    is_used = pl.col("_status").is_in(["Used", "Used-Utility"])
    return frame.select(
        "number",
        hierarchy=pl.when(pl.col("placement") == 0).then(customer + "." + pl.col("site")).otherwise(customer),
        status=pl.col("_status").replace("Cooling-due", "Cooling"),
        usage=pl.when(is_used & pl.col("used"))
        .then(usage_text)
        .when(is_used)
        .then(pl.lit("Device"))
        .otherwise(pl.lit("")),
        vendor=pl.when(is_used & pl.col("used")).then(usage_vendor).otherwise(pl.lit("")),
        number_type=pl.lit(""),
        release_date=pl.when(pl.col("_status") == "Cooling-due")
        .then(pl.lit(as_of) - pl.duration(days=pl.col("_o")))
        .when(pl.col("_status") == "Cooling")
        .then(pl.lit(as_of) + pl.duration(days=pl.col("_o")))
        .cast(pl.Date)
        .cast(pl.String)
        .fill_null(""),
        reserved_until=pl.lit(""),
        tag=pl.when(pl.col("placement") == 1).then(pl.lit("pool")).otherwise(pl.lit("range ") + pl.col("site")),
        description=pl.when(pl.col("_status") == "Reserved").then(pl.lit("reserved for project")).otherwise(pl.lit("")),
        cust="cust",
    )


def _usages(base: pl.DataFrame, rng: Rand) -> pl.DataFrame:
    """Night-1 usages: one per used number, plus shared lines and a device profile on 1%."""
    used = base.filter(pl.col("used"))
    primary = _usage_rows(used, pl.col("device_type"), "")
    phones = used.filter(pl.col("device_type") == "device/cucm/Phone")
    shared = phones.filter(rng(pl.col("i"), 20) < 0.08)  # shared lines
    profiles = phones.filter(rng(pl.col("i"), 21) < 0.01)  # extension mobility
    extra = [
        _usage_rows(shared, pl.lit("device/cucm/Phone"), "S"),
        _usage_rows(profiles, pl.lit("device/cucm/DeviceProfile"), "P"),
    ]
    return pl.concat([primary, *extra])


def _usage_rows(frame: pl.DataFrame, device_type: pl.Expr, tag: str) -> pl.DataFrame:
    dt = pl.col("device_type")
    prefix = dt.replace_strict(NAME_PREFIX, return_dtype=pl.String)
    cisco = dt.str.starts_with("device/cucm") | dt.str.starts_with("device/cuc/")
    hexname = pl.col("i").cast(pl.String).str.zfill(12 - len(tag))
    return frame.with_columns(device_type=device_type).select(
        # 0.2% of devices sit in a device pool nobody mapped: unmapped_device.
        hierarchy=pl.when(pl.col("aux") < 0.002).then(pl.lit("")).otherwise(pl.col("site")),
        device_type="device_type",
        device_name=prefix + pl.lit(tag) + hexname,
        number=pl.when(cisco).then(pl.col("number").str.replace(r"^\+", "\\+")).otherwise(pl.col("number")),
        partition=pl.when(cisco).then(pl.lit("PT_INTERNAL")).otherwise(pl.lit("")),
        cluster=pl.lit(""),
        vendor=dt.replace_strict({t[0]: t[2] for t in DEVICE_MIX}, return_dtype=pl.String),
        number_type=dt.replace_strict({t[0]: t[3] for t in DEVICE_MIX}, return_dtype=pl.String),
        owner=pl.when(
            dt.is_in(
                ["device/cucm/Phone", "device/msteamsonline/CsOnlineUser", "device/spark/Number", "device/audiocodes"]
            )
        )
        .then(pl.lit("user") + pl.col("i").cast(pl.String))
        .otherwise(pl.lit("")),
        # 8% of AudioCodes users are not registered (offline): their numbers cool.
        online=pl.when((dt == "device/audiocodes") & (pl.col("aux") > 0.92))
        .then(pl.lit("false"))
        .otherwise(pl.lit("true")),
        cust="cust",
        _number="number",
        _i="i",
    )


def _night2(
    base: pl.DataFrame, usages1: pl.DataFrame, sites: int, site_width: int, rng: Rand
) -> tuple[pl.DataFrame, dict[str, int]]:
    """About 10% of the usage rows change: a third removed, a third moved, a third added."""
    used_numbers = (
        usages1.select("_number", "_i").unique("_number", maintain_order=True).with_columns(_d=rng(pl.col("_i"), 30))
    )
    removed = used_numbers.filter(pl.col("_d") < 0.034).select("_number")
    moved = used_numbers.filter((pl.col("_d") >= 0.034) & (pl.col("_d") < 0.067)).select(
        "_number",
        _new_site=pl.lit("S")
        + (1 + (rng(pl.col("_i"), 31) * sites).floor().cast(pl.Int64)).cast(pl.String).str.zfill(site_width),
    )
    kept = (
        usages1.join(removed, on="_number", how="anti")
        .join(moved, on="_number", how="left")
        .with_columns(
            hierarchy=pl.when(pl.col("_new_site").is_not_null() & (pl.col("hierarchy") != ""))
            .then(pl.col("_new_site"))
            .otherwise(pl.col("hierarchy"))
        )
        .drop("_new_site")
    )
    unused = base.filter(~pl.col("used"))
    wanted = min(unused.height, round(usages1.height * 0.033))
    fresh = unused.sort(rng(pl.col("i"), 32)).head(wanted)
    added = _usage_rows(fresh, pl.col("device_type"), "N")
    changes = {"removed_numbers": removed.height, "moved_numbers": moved.height, "added_numbers": fresh.height}
    return pl.concat([kept, added]), changes


def _vendor_numbers(base: pl.DataFrame, as_of: date, rng: Rand) -> pl.DataFrame:
    """Teams numbers: every Teams user's number (assigned) and unassigned numbers (3% of the
    unused numbers, some blocked from assignment)."""
    teams_users = base.filter(pl.col("used") & (pl.col("device_type") == "device/msteamsonline/CsOnlineUser"))
    unused = base.filter(~pl.col("used"))
    spare = unused.filter(rng(pl.col("i"), 40) < 0.03)
    assigned = teams_users.select(
        "cust",
        hierarchy=pl.col("site"),
        number="number",
        vendor=pl.lit("Microsoft"),
        number_type=pl.lit("Direct Routing"),
        assigned=pl.lit("true"),
        blocked_state=pl.lit("NotBlocked"),
        blocked_until=pl.lit(""),
    )
    state = (
        pl.when(pl.col("_b") < 0.05)
        .then(pl.lit("BlockedUntil"))
        .when(pl.col("_b") < 0.07)
        .then(pl.lit("BlockedForever"))
        .otherwise(pl.lit("NotBlocked"))
    )
    unassigned = spare.with_columns(
        _b=rng(pl.col("i"), 41), _d=1 + (rng(pl.col("i"), 42) * 29).floor().cast(pl.Int64)
    ).select(
        "cust",
        # Calling Plan numbers have no site in Teams: they land at the customer.
        hierarchy=pl.when(pl.col("aux") < 0.5).then(pl.lit("")).otherwise(pl.col("site")),
        number="number",
        vendor=pl.lit("Microsoft"),
        number_type=pl.when(pl.col("aux") < 0.5).then(pl.lit("Calling Plan")).otherwise(pl.lit("Operator Connect")),
        assigned=pl.lit("false"),
        blocked_state=state,
        blocked_until=pl.when(pl.col("_b") < 0.05)
        .then((pl.lit(as_of) + pl.duration(days=pl.col("_d"))).cast(pl.Date).cast(pl.String))
        .otherwise(pl.lit("")),
    )
    return pl.concat([assigned, unassigned])


class Rand:
    """Uniform draws in [0, 1) from a hash of an index column: reproducible and vectorised."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, index: pl.Expr, salt: int) -> pl.Expr:
        return (index.hash(seed=self.seed * 1000 + salt) // 2048).cast(pl.Float64) / float(2**53)


def _pick(draw: pl.Expr, bounds: list[float], labels: list[str]) -> pl.Expr:
    """The label of the first cumulative bound above the draw (a weighted choice)."""
    chain = pl.when(draw < bounds[0]).then(pl.lit(labels[0]))
    for bound, label in zip(bounds[1:-1], labels[1:-1], strict=True):
        chain = chain.when(draw < bound).then(pl.lit(label))
    return chain.otherwise(pl.lit(labels[-1]))


def _usable(usages: pl.DataFrame) -> pl.DataFrame:
    return usages.filter((pl.col("online") == "true") & (pl.col("hierarchy") != "")).with_columns(
        number=pl.col("_number")
    )


def _landing(usages: pl.DataFrame) -> int:
    return _usable(usages).height


def _by_customer(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    columns = [c for c in frame.columns if c != "cust" and not c.startswith("_")]
    parts = frame.partition_by("cust", as_dict=True, maintain_order=True)
    return {int(key[0]): part.select(columns) for key, part in parts.items()}


def _hierarchy_csv(customer: str, sites: int, site_width: int) -> str:
    lines = [
        "path,kind,number_management,slc_dial_plan,hybrid",
        f"{PROVIDER},provider,false,false,false",
        f"{RESELLER},reseller,false,false,false",
        f"{customer},customer,true,false,false",
    ]
    lines += [f"{customer}.S{s:0{site_width}d},site,true,false,false" for s in range(1, sites + 1)]
    return "\n".join(lines) + "\n"


def _estate_toml(customer: str, usages_file: str) -> str:
    return f"""customer = "{customer}"
hierarchy = "hierarchy.csv"
inventory = "inventory.csv"

[settings]
cooling_enabled = false
audiocodes_cooling_days = 2

[[sources]]
name = "cucm"
kind = "usages"
path = "{usages_file}"
cluster = "CL1"

[[sources]]
name = "teams"
kind = "vendor_numbers"
path = "teams.csv"
"""


def night_dates(as_of: date) -> tuple[date, date]:
    return as_of, as_of + timedelta(days=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate a synthetic estate (one estate file per customer).")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    estate = generate(args.folder, args.numbers, args.customers, args.sites, args.seed)
    print(
        f"wrote {len(estate.customers)} estates to {estate.folder}: {estate.inventory_rows} entries, {estate.usage_rows[1]} usages"
    )


if __name__ == "__main__":
    main()
