"""Estate files: read and check everything a customer's estate names, then load it in one
transaction. Bad input is refused with the file, row and column, and nothing is written."""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl

from numaudit.ids import new_id, utc_now
from schemas.models import HierarchyModel, InventoryModel, SettingsModel, StagedUsageModel, violations
from schemas.tables import ADMIN_FIELDS, INVENTORY_IMPORTS, NUMBER_INVENTORY, SETTINGS, SOURCE_LOADS, TABLES, empty
from sources.base import SourceConfig, SourceError, SourceFrames, read_file_bytes
from sources.csvfile import FIRST_DATA_ROW, read_text_csv
from sources.live import LIVE_KINDS
from sources.registry import BATCH_READERS, READERS
from sources.rowchecks import FileRows
from storage.lake import Transaction, Warehouse, tree_nodes
from transforms.audit import change_log_for_import
from transforms.numbers import normalise_number

SETTING_DEFAULTS: dict[str, Any] = {
    "cooling_enabled": False,
    "cooling_days": 30,
    "audiocodes_cooling_days": 2,
    "max_release_fraction": 0.10,
    "hybrid_prefix": "+88800",
}
HIERARCHY_COLUMNS = ("path", "kind", "number_management", "slc_dial_plan", "hybrid")
INVENTORY_REQUIRED = ("number", "hierarchy", "status")
INVENTORY_OPTIONAL = (
    "usage", "vendor", "number_type", "e164", "release_date", "reserved_until", *ADMIN_FIELDS,
)
SOURCE_KEYS = {"name", "kind", "path", "cluster", "site_field", "site_map", "default_site", "options"}


@dataclass
class Estate:
    file: Path
    customer: str
    hierarchy: pl.DataFrame
    settings: pl.DataFrame
    inventory: pl.DataFrame | None
    inventory_file: Path | None
    sources: list[SourceConfig] = field(default_factory=list)
    nodes: frozenset[str] = frozenset()  # the hierarchy paths its rows may name
    inventory_digest: str | None = None  # sha256 of the inventory file as read

    def input_bytes(self) -> int:
        """Size of the files its inventory and sources are read from (a folder: its files)."""
        paths = [self.inventory_file, *(s.path for s in self.sources)]
        return sum(
            f.stat().st_size
            for p in paths
            if p is not None and p.exists()
            for f in ([p] if p.is_file() else [q for q in p.rglob("*") if q.is_file()])
        )


@dataclass
class LoadReport:
    load_id: str
    customer: str
    nodes: int
    entries_added: int
    entries_kept: int
    sources: dict[str, dict[str, int]]
    inventory_unchanged: bool = False  # the same inventory file as imported before: not re-read


class Checks:
    """Schema checks of what estate files hold, run now or, when many estates load at once,
    deferred and run once per model over all of them (a pandera call costs mostly per call).
    A deferred check that fails reruns each file's own check, which names file, row and
    column. Rows that several files hold alike (a provider node in every hierarchy) are
    checked once."""

    def __init__(self, deferred: bool = False) -> None:
        self.deferred = deferred
        self.pending: dict[type[pa.DataFrameModel], list[tuple[pl.DataFrame, Callable[[], None]]]] = defaultdict(list)
        self.shared: set[type[pa.DataFrameModel]] = set()

    def check(self, model: type[pa.DataFrameModel], frame: pl.DataFrame, refuse: Callable[[], None], *, shared: bool = False) -> None:
        """`refuse` checks `frame` alone against `model` and raises the file's SourceError;
        `shared`: files may hold the same rows, which count once."""
        if not self.deferred:
            refuse()
            return
        self.pending[model].append((frame, refuse))
        if shared:
            self.shared.add(model)

    def run(self) -> None:
        for model, parts in self.pending.items():
            combined = pl.concat([frame for frame, _ in parts])
            if model in self.shared:
                combined = combined.unique(maintain_order=True)
            if violations(model, combined):
                for _, refuse in parts:
                    refuse()
        self.pending.clear()


def read_estate(
    file: Path, known_nodes: frozenset[str] = frozenset(), checks: Checks | None = None, *, with_inventory: bool = True
) -> Estate:
    """Parse and check an estate file and the hierarchy, settings and (unless told not to: the
    loader reads it later, a group of estates at a time) the inventory it names."""
    (estate,) = read_estates([file], known_nodes, checks, with_inventory=with_inventory)
    return estate


def read_estates(
    files: Sequence[Path], known_nodes: frozenset[str] = frozenset(), checks: Checks | None = None, *, with_inventory: bool = True
) -> list[Estate]:
    """Several estate files, their hierarchies checked in one pass. A file's sources may name
    the nodes the warehouse knows, its own, and those of the files before it."""
    checks = checks or Checks()
    documents = [(file, _read_toml(file)) for file in files]
    customers: dict[str, Path] = {}
    for file, document in documents:
        customer = _required_text(document, "customer", file)
        if customer in customers:
            raise SourceError(file, f"customer {customer} is already loaded from another file of this load ({customers[customer]})")
        customers[customer] = file
        unknown = set(document) - {"customer", "hierarchy", "inventory", "settings", "sources"}
        if unknown:
            raise SourceError(file, f"unknown key(s) {', '.join(sorted(unknown))}")
    hierarchy_files = [_inside(file.resolve().parent, _required_text(d, "hierarchy", file), file, "hierarchy") for file, d in documents]
    hierarchies = read_hierarchies(list(zip(hierarchy_files, customers, strict=True)), checks)
    estates = []
    known = known_nodes
    for (file, document), customer, hierarchy in zip(documents, customers, hierarchies, strict=True):
        folder = file.resolve().parent
        nodes = known | frozenset(hierarchy["path"].to_list())
        settings = read_settings(document.get("settings", {}), customer, file, checks)
        inventory, inventory_file = None, None
        if "inventory" in document:
            inventory_file = _inside(folder, _required_text(document, "inventory", file), file, "inventory")
            if with_inventory:
                inventory = read_inventory(inventory_file, customer, nodes, checks)
        sources = [_source_config(entry, i, folder, file, customer, nodes) for i, entry in enumerate(document.get("sources", []), 1)]
        names = [s.name for s in sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise SourceError(file, f"source name(s) used twice: {', '.join(duplicated)}")
        estates.append(Estate(file, customer, hierarchy, settings, inventory, inventory_file, sources, nodes))
        known = nodes
    return estates


def read_hierarchy(file: Path, customer: str, checks: Checks | None = None) -> pl.DataFrame:
    (hierarchy,) = read_hierarchies([(file, customer)], checks)
    return hierarchy


def read_hierarchies(files: Sequence[tuple[Path, str]], checks: Checks | None = None) -> list[pl.DataFrame]:
    """Hierarchy files, each with the customer its estate names, checked in one pass."""
    parts = [
        read_text_csv(file, HIERARCHY_COLUMNS).with_row_index("_row", offset=FIRST_DATA_ROW).with_columns(_file=pl.lit(i, pl.UInt32()))
        for i, (file, _) in enumerate(files)
    ]
    frame = pl.concat(parts, how="diagonal")
    rows = FileRows([file for file, _ in files], frame)
    flags = {c: rows.boolean(c, default=False) for c in ("number_management", "slc_dial_plan", "hybrid")}
    hierarchy = frame.select(
        pl.col("path").str.strip_chars(),
        pl.col("kind").str.strip_chars().str.to_lowercase(),
        parent=pl.when(pl.col("path").str.contains(r"\.")).then(pl.col("path").str.strip_chars().str.replace(r"\.[^.]+$", "")),
        **flags,
        _file="_file",
        _row="_row",
    )
    checked = FileRows(rows.files, hierarchy)
    checked.refuse_repeats(["path"])

    def refuse() -> None:  # file by file: files share their upper nodes, which count once
        for index, (file, _) in enumerate(files):
            _refuse_violations(HierarchyModel, hierarchy.filter(pl.col("_file") == index).drop("_file", "_row"), file)

    (checks or Checks()).check(HierarchyModel, hierarchy.drop("_file", "_row").unique(maintain_order=True), refuse, shared=True)
    paths = hierarchy.select("_file", parent="path", _has_parent=pl.lit(True))
    with_parents = hierarchy.join(paths, on=["_file", "parent"], how="left", maintain_order="left")
    FileRows(rows.files, with_parents).refuse(
        pl.col("parent").is_not_null() & pl.col("_has_parent").is_null(), "path", "{value!r}: its parent {parent!r} is not in the file"
    )
    customers = pl.DataFrame({"_file": range(len(files)), "path": [c for _, c in files]}, schema={"_file": pl.UInt32(), "path": pl.String()})
    kinds = customers.join(hierarchy.select("_file", "path", "kind"), on=["_file", "path"], how="left", maintain_order="left")
    for (file, customer), kind in zip(files, kinds["kind"], strict=True):
        if kind != "customer":
            found = f"it is a {kind}" if kind is not None else "it is not in the file"
            raise SourceError(file, f"the estate's customer {customer!r} must be a node of kind customer; {found}", column="path")
    split = hierarchy.partition_by("_file", as_dict=True)
    return [split.get((i,), hierarchy.clear()).drop("_file", "_row") for i in range(len(files))]


def read_settings(values: dict[str, Any], customer: str, file: Path, checks: Checks | None = None) -> pl.DataFrame:
    if not isinstance(values, dict):
        raise SourceError(file, "[settings] must be a table")
    unknown = set(values) - set(SETTING_DEFAULTS)
    if unknown:
        raise SourceError(file, f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(SETTING_DEFAULTS)}")
    merged = {**SETTING_DEFAULTS, **values}
    for key, default in SETTING_DEFAULTS.items():
        value = merged[key]
        if type(value) is not type(default) and not (isinstance(default, float) and type(value) is int):
            raise SourceError(file, f"setting {key} = {value!r} must be a {type(default).__name__}")
        # TOML integers are unbounded; the column holds 32 bits (the checks below say the range).
        if type(value) is int and SETTINGS[key] == pl.Int32() and not -(2**31) <= value < 2**31:
            raise SourceError(file, f"setting {key} = {value!r} is out of range")
    settings = pl.DataFrame([{"customer": customer, **merged}], schema=SETTINGS)

    def refuse() -> None:
        found = violations(SettingsModel, settings)
        if found:
            raise SourceError(file, f"setting {found[0].column} = {found[0].value!r} fails {found[0].check}")

    (checks or Checks()).check(SettingsModel, settings, refuse)
    return settings


def read_inventory(file: Path, customer: str, nodes: frozenset[str], checks: Checks | None = None) -> pl.DataFrame:
    """The existing inventory to import (SPEC 2 columns), checked against every invariant."""
    (inventory,) = read_inventories([(file, customer, nodes)], checks)
    return inventory


def read_inventories(files: Sequence[tuple[Path, str, frozenset[str]]], checks: Checks | None = None) -> list[pl.DataFrame]:
    """Inventories to import, each (file, its customer, the nodes its rows may name): every
    file is parsed on its own, then all rows are checked in one pass (see sources.rowchecks)."""
    parts = []
    for index, (file, _, _) in enumerate(files):
        frame = read_text_csv(file, INVENTORY_REQUIRED)
        unknown = [c for c in frame.columns if c not in INVENTORY_REQUIRED + INVENTORY_OPTIONAL]
        if unknown:
            raise SourceError(file, f"unknown column(s) {', '.join(repr(c) for c in unknown)}", row=1, column=unknown[0])
        parts.append(frame.with_row_index("_row", offset=FIRST_DATA_ROW).with_columns(_file=pl.lit(index, pl.UInt32())))
    owners = pl.DataFrame({"_file": range(len(files)), "_customer": [c for _, c, _ in files]}, schema={"_file": pl.UInt32(), "_customer": pl.String()})
    # An optional column a file leaves out is empty in all its rows.
    present = {c for part in parts for c in part.columns}
    frame = (
        pl.concat(parts, how="diagonal")
        .with_columns([pl.col(c).fill_null("") if c in present else pl.lit("").alias(c) for c in INVENTORY_OPTIONAL])
        .join(owners, on="_file", how="left", maintain_order="left")
    )
    rows = FileRows([file for file, _, _ in files], frame)
    number = normalise_number(pl.col("number"))
    rows.refuse(number.is_null(), "number", "{value!r} is not a number")
    # A node the load itself defines counts for every file of the load.
    nodes = sorted(set().union(*{id(n): n for _, _, n in files}.values()))
    rows.refuse(
        ~pl.col("hierarchy").is_in(nodes) | ~_under(pl.col("hierarchy"), pl.col("_customer")),
        "hierarchy",
        "{value!r} is not a node of the hierarchy at or under {_customer}",
    )
    dates = {c: rows.date(c) for c in ("release_date", "reserved_until")}
    inventory = frame.select(
        number.alias("number"),
        "hierarchy",
        "status",
        *INVENTORY_OPTIONAL[:4],
        **dates,
        **{c: pl.col(c) for c in ADMIN_FIELDS},
        created_at=pl.lit(None, pl.Datetime("us")),
        updated_at=pl.lit(None, pl.Datetime("us")),
        last_audit_id=pl.lit(""),
        _file="_file",
        _row="_row",
    )
    FileRows(rows.files, inventory).refuse_repeats(["number", "hierarchy"])
    stamped = inventory.select(list(NUMBER_INVENTORY)).with_columns(
        created_at=pl.lit(datetime(2000, 1, 1)), updated_at=pl.lit(datetime(2000, 1, 1))
    )

    def refuse() -> None:
        found = violations(InventoryModel, stamped)
        if found:
            first = found[0]
            column = first.column if first.column and first.column in stamped.columns else None
            at = inventory.row(first.row, named=True) if first.row is not None else None
            raise SourceError(
                files[at["_file"] if at else 0][0],
                f"fails the check: {first.check}" + (f" (value {first.value!r})" if column else ""),
                row=at["_row"] if at else None,
                column=column,
            )

    (checks or Checks()).check(InventoryModel, stamped, refuse)
    split = inventory.partition_by("_file", as_dict=True)
    return [split.get((i,), inventory.clear()).select(list(NUMBER_INVENTORY)) for i in range(len(files))]


def read_sources(estate: Estate, checks: Checks | None = None) -> dict[str, SourceFrames]:
    """Each source's frames, by source name."""
    return {
        config.name: _of_source(frames, config.name)
        for configs, frames in read_group_sources([estate], checks)
        for config in configs
    }


def read_group_sources(estates: Sequence[Estate], checks: Checks | None = None) -> list[tuple[list[SourceConfig], SourceFrames]]:
    """The sources of a group of estates: the sources of a kind whose reader reads a batch
    are read together, as one set of frames; the others one by one."""
    read: list[tuple[list[SourceConfig], SourceFrames]] = []
    batched: dict[str, list[SourceConfig]] = defaultdict(list)
    for config in (c for estate in estates for c in estate.sources):
        if config.kind in BATCH_READERS:
            batched[config.kind].append(config)
        else:
            read.append(([config], READERS[config.kind](config)))
    read += [(configs, BATCH_READERS[kind](configs)) for kind, configs in batched.items()]
    for configs, frames in read:
        (checks or Checks()).check(StagedUsageModel, frames.usages, partial(_refuse_usage_violations, frames.usages, configs))
    return read


def _of_source(frames: SourceFrames, source: str) -> SourceFrames:
    def mine(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("source") == source) if "source" in frame.columns else frame

    return SourceFrames(
        raw={table: mine(frame) for table, frame in frames.raw.items()},
        usages=mine(frames.usages),
        vendor_numbers=mine(frames.vendor_numbers),
        e164=mine(frames.e164),
    )


def _refuse_usage_violations(usages: pl.DataFrame, configs: list[SourceConfig]) -> None:
    found = violations(StagedUsageModel, usages)
    if found:
        first = found[0]
        row = None if first.row is None else usages.row(first.row, named=True)
        config = next((c for c in configs if row and c.name == row["source"] and c.customer == row["customer"]), configs[0])
        where = None if row is None else int(row["source_row"])
        raise SourceError(config.path or config.name, f"{first.column} {first.value!r} fails {first.check}", row=where, column=first.column)


def load_estate(warehouse: Warehouse, file: Path) -> LoadReport:
    """Read everything, check everything, then write it all in one transaction."""
    (report,) = load_estates(warehouse, [file])
    return report


# Input read and checked before its rows are written: bounds the load's memory to one group
# of estates (about 10 bytes of memory per byte of CSV), whatever the number of estates.
DEFAULT_GROUP_BYTES = 256 * 1024 * 1024


def load_estates(warehouse: Warehouse, files: Sequence[Path], group_bytes: int = DEFAULT_GROUP_BYTES) -> list[LoadReport]:
    """Load many customers' estates in one transaction: all or nothing. Every estate file and
    hierarchy is read and checked first; then the inventories and sources are read, checked
    and written a group of estates at a time. A bad file anywhere refuses the whole load,
    naming file, row and column, and nothing is written."""
    checks = Checks(deferred=len(files) > 1)
    known = frozenset(warehouse.read("hierarchy")["path"].to_list())
    estates = read_estates(files, known, checks, with_inventory=False)
    known = known.union(*(e.nodes for e in estates))
    checks.run()
    load_id = new_id("L")
    now = utc_now()
    customers = [e.customer for e in estates]
    # Estates share their upper nodes; as with loads one after another, the last file wins.
    hierarchy = pl.concat([e.hierarchy for e in estates]).unique("path", keep="last", maintain_order=True)
    reports: dict[str, LoadReport] = {}
    imports = {
        customer: (digest, rows)
        for customer, digest, rows in warehouse.query(
            "SELECT customer, arg_max(sha256, imported_at), arg_max(rows, imported_at) FROM inventory_imports GROUP BY customer"
        ).iter_rows()
    }
    extra = {"load_id": load_id, "customers": customers}
    with warehouse.transaction(f"load {customers[0] if len(customers) == 1 else f'{len(customers)} customers'}", extra) as tx:
        tx.delete_in("hierarchy", "path", hierarchy["path"].to_list())
        tx.append("hierarchy", hierarchy)
        tx.delete_in("settings", "customer", customers)
        tx.append("settings", pl.concat([e.settings for e in estates]))
        for group in _groups(estates, group_bytes):
            reports |= _load_group(tx, warehouse, group, sorted(known), checks, imports, load_id, now)
    return [reports[c] for c in customers]


def _groups(estates: list[Estate], group_bytes: int) -> Iterator[list[Estate]]:
    group: list[Estate] = []
    size = 0
    for estate in estates:
        if group and size + estate.input_bytes() > group_bytes:
            yield group
            group, size = [], 0
        group.append(estate)
        size += estate.input_bytes()
    if group:
        yield group


def _load_group(
    tx: Transaction,
    warehouse: Warehouse,
    estates: list[Estate],
    known: list[str],
    checks: Checks,
    imports: dict[str, tuple[str, int]],
    load_id: str,
    now: datetime,
) -> dict[str, LoadReport]:
    """Read, check and write the inventories and sources of a group of estates. `imports`:
    per customer, the digest and row count of the inventory file it imported last."""
    # An inventory file is imported once: the same content again is not re-read.
    unchanged = {}
    for estate in estates:
        if estate.inventory_file is not None:
            estate.inventory_digest = _digest(estate.inventory_file)
            if estate.inventory_digest == imports.get(estate.customer, ("", 0))[0]:
                unchanged[estate.customer] = imports[estate.customer][1]
    with_files = [e for e in estates if e.inventory_file is not None and e.customer not in unchanged]
    if with_files:
        read = read_inventories([(e.inventory_file, e.customer, e.nodes) for e in with_files if e.inventory_file], checks)
        for estate, inventory in zip(with_files, read, strict=True):
            estate.inventory = inventory
    sources = read_group_sources(estates, checks)
    checks.run()
    customers = [e.customer for e in estates]
    imported = _new_entries(warehouse, estates, tree_nodes(known, customers), now, load_id)
    loads = [_load_row(load_id, config, counts, now) for configs, frames in sources for config, counts in _counts(configs, frames)]
    added = pl.concat(imported.values())
    tx.append("number_inventory", added)
    tx.append("number_changes", change_log_for_import(added, load_id, now))
    # An estate lists all of its customer's sources: a source dropped from it must not
    # keep numbers in use, so the customers' staged rows are replaced as a whole.
    for table, part in (("staged_usages", "usages"), ("staged_vendor_numbers", "vendor_numbers"), ("staged_e164", "e164")):
        tx.delete_in(table, "customer", customers)
        tx.append(table, pl.concat([empty(TABLES[table]), *(getattr(frames, part) for _, frames in sources)]))
    raw: dict[str, list[pl.DataFrame]] = defaultdict(list)
    raw_sources: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for configs, frames in sources:
        for table, frame in frames.raw.items():
            raw[table].append(frame)
            raw_sources[table] += [(c.customer, c.name) for c in configs]
    for table, parts in raw.items():
        replaced = pl.DataFrame(raw_sources[table], schema={"customer": pl.String(), "source": pl.String()}, orient="row")
        tx.replace_raw(table, pl.concat(parts, how="diagonal"), replaced)
    tx.append("source_loads", pl.DataFrame(loads, schema=SOURCE_LOADS))
    tx.append(
        "inventory_imports",
        pl.DataFrame(
            [
                (load_id, e.customer, str(e.inventory_file), e.inventory_digest, e.inventory.height, imported[e.customer].height, now)
                for e in estates
                if e.inventory is not None
            ],
            schema=INVENTORY_IMPORTS,
            orient="row",
        ),
    )
    reports = {
        estate.customer: LoadReport(
            load_id=load_id,
            customer=estate.customer,
            nodes=estate.hierarchy.height,
            entries_added=imported[estate.customer].height,
            entries_kept=unchanged.get(estate.customer, 0) if estate.inventory is None else estate.inventory.height - imported[estate.customer].height,
            inventory_unchanged=estate.customer in unchanged,
            sources={
                row["source"]: {"usages": row["usage_rows"], "vendor_numbers": row["vendor_number_rows"], "e164": row["e164_rows"], "raw": row["raw_rows"]}
                for row in loads
                if row["customer"] == estate.customer
            },
        )
        for estate in estates
    }
    for estate in estates:
        estate.inventory = None  # written: free the group's memory before the next one
    return reports


def _new_entries(warehouse: Warehouse, estates: list[Estate], tree: list[str], now: datetime, load_id: str) -> dict[str, pl.DataFrame]:
    """Per customer, the entries of its imported inventory that the warehouse does not hold
    yet; existing ones are kept as they are (the audit, not a re-import, keeps them true)."""
    if all(e.inventory is None for e in estates):
        return {e.customer: empty(NUMBER_INVENTORY) for e in estates}
    # Every file's rows at once, each tagged with its estate and spreadsheet row.
    imported = pl.concat(
        [
            e.inventory.with_columns(_estate=pl.lit(i, pl.UInt32())).with_row_index("_row", offset=FIRST_DATA_ROW)
            for i, e in enumerate(estates)
            if e.inventory is not None
        ]
    )
    held = warehouse.read_in("number_inventory", "hierarchy", tree, columns=["number", "hierarchy"])
    new = imported.join(held, on=["number", "hierarchy"], how="anti").with_columns(
        created_at=pl.lit(now), updated_at=pl.lit(now), last_audit_id=pl.lit(load_id)
    )
    # The files' own rows were checked when read: a new entry can clash only with existing
    # entries of its number (a second entry on one path), so only those are checked again.
    clashing = held.join(new.select("number"), on="number", how="semi")
    if not clashing.is_empty():
        around = warehouse.read_in("number_inventory", "hierarchy", clashing["hierarchy"].unique().to_list()).join(
            clashing.select("number").unique(), on="number", how="semi"
        )
        suspects = new.join(around.select("number").unique(), on="number", how="semi")
        checked = pl.concat([around, suspects.select(list(NUMBER_INVENTORY))])
        found = violations(InventoryModel, checked)
        if found:
            first = found[0]
            # The check may flag the existing entry or the new one: name the new one's row.
            number = checked["number"][first.row] if first.row is not None else suspects["number"][0]
            offending = suspects.filter(pl.col("number") == number).row(0, named=True)
            estate = estates[offending["_estate"]]
            raise SourceError(
                estate.inventory_file or estate.file,
                f"conflicts with the warehouse's inventory: {first.check}",
                row=offending["_row"],
                column="number",
            )
    by_estate = new.partition_by("_estate", as_dict=True, include_key=False)
    return {
        e.customer: by_estate.get((i,), new.clear()).select(list(NUMBER_INVENTORY)) for i, e in enumerate(estates)
    }


def _counts(configs: list[SourceConfig], frames: SourceFrames) -> list[tuple[SourceConfig, dict[str, int]]]:
    """Rows read per source (frames read together hold several sources)."""

    def per_source(*parts: pl.DataFrame) -> Counter[tuple[str, str]]:
        tally: Counter[tuple[str, str]] = Counter()
        for part in parts:
            tally.update({(c, s): n for c, s, n in part.group_by("customer", "source").len().iter_rows()})
        return tally

    tallies = {
        "raw_rows": per_source(*frames.raw.values()),
        "usage_rows": per_source(frames.usages),
        "vendor_number_rows": per_source(frames.vendor_numbers),
        "e164_rows": per_source(frames.e164),
    }
    return [(c, {name: tally[(c.customer, c.name)] for name, tally in tallies.items()}) for c in configs]


def _load_row(load_id: str, config: SourceConfig, counts: dict[str, int], now: datetime) -> dict[str, Any]:
    return {
        "load_id": load_id,
        "customer": config.customer,
        "source": config.name,
        "kind": config.kind,
        "location": str(config.path) if config.path else str(config.options.get("url", "")),
        "loaded_at": now,
        **counts,
    }


def _refuse_violations(model: type[pa.DataFrameModel], frame: pl.DataFrame, file: Path) -> None:
    found = violations(model, frame)
    if found:
        first = found[0]
        column = first.column if first.column and first.column in frame.columns else None
        row = None if first.row is None else first.row + FIRST_DATA_ROW
        raise SourceError(file, f"fails the check: {first.check}" + (f" (value {first.value!r})" if column else ""), row=row, column=column)


def _digest(file: Path) -> str:
    return hashlib.sha256(read_file_bytes(file)).hexdigest()


def _under(path: pl.Expr, node: str | pl.Expr) -> pl.Expr:
    return (path == node) | path.str.starts_with(node + ".")


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        # utf-8-sig: Windows editors put a byte order mark before UTF-8 text, as in the CSVs.
        text = file.read_bytes().decode("utf-8-sig")
        return tomllib.loads(text)
    except FileNotFoundError as error:
        raise SourceError(file, "estate file not found") from error
    except IsADirectoryError as error:
        raise SourceError(file, "is a folder, not an estate file") from error
    except tomllib.TOMLDecodeError as error:
        raise SourceError(file, f"is not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        raise SourceError(file, "is not UTF-8 text") from error
    except RecursionError as error:  # tomllib recurses into nested arrays and inline tables
        raise SourceError(file, "is not a usable estate file: it nests arrays or tables too deeply") from error


def _required_text(document: dict[str, Any], key: str, file: Path) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SourceError(file, f"`{key}` is required (a text value)")
    return value.strip()


def _inside(folder: Path, relative: str, file: Path, key: str) -> Path:
    """Files an estate names must sit in its folder: an estate cannot make numaudit read
    arbitrary files elsewhere on the machine."""
    try:
        resolved = (folder / relative).resolve()
    except (ValueError, OSError) as error:  # a NUL character, a name longer than the system allows
        raise SourceError(file, f"`{key}` = {relative!r} is not a usable path: {error}") from error
    if not resolved.is_relative_to(folder):
        raise SourceError(file, f"`{key}` = {relative!r} is outside the estate folder {folder}")
    return resolved


def _source_config(entry: Any, index: int, folder: Path, file: Path, customer: str, nodes: frozenset[str]) -> SourceConfig:
    where = f"[[sources]] #{index}"
    if not isinstance(entry, dict):
        raise SourceError(file, f"{where} must be a table")
    unknown = set(entry) - SOURCE_KEYS
    if unknown:
        raise SourceError(file, f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise SourceError(file, f"{where}: `name` is required")
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in READERS:
        raise SourceError(file, f"source {name!r}: kind {kind!r} is not one of {', '.join(sorted(READERS))}")
    # Readers take these as text; a number or a list would fail deep inside one of them.
    for text_key in ("cluster", "site_field", "default_site"):
        if text_key in entry and not isinstance(entry[text_key], str):
            raise SourceError(file, f"source {name!r}: `{text_key}` must be a text value, not {entry[text_key]!r}")
    path = entry.get("path")
    options = entry.get("options", {})
    if not isinstance(options, dict):
        raise SourceError(file, f"source {name!r}: `options` must be a table")
    if kind in LIVE_KINDS:
        if path is not None:
            raise SourceError(file, f"source {name!r}: kind {kind!r} reads an API: give `options.url`, not `path`")
        url = options.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise SourceError(file, f"source {name!r}: kind {kind!r} needs `options.url`, the API's http(s) address")
        resolved_path = None
    elif not isinstance(path, str) or not path:
        raise SourceError(file, f"source {name!r}: `path` is required")
    else:
        resolved_path = _inside(folder, path, file, f"sources.{name}.path")
    site_map = entry.get("site_map", {})
    if not isinstance(site_map, dict) or not all(isinstance(v, str) for v in site_map.values()):
        raise SourceError(file, f"source {name!r}: `site_map` must map vendor values to site paths")
    for key, site in site_map.items():
        if _absolute(site, customer) not in nodes:
            raise SourceError(file, f"source {name!r}: site_map {key!r} = {site!r} is not a node under {customer}")
    default = entry.get("default_site")
    # Rows without a site field land there: a node that does not exist would hold them nowhere.
    if default and _absolute(default, customer) not in nodes:
        raise SourceError(file, f"source {name!r}: default_site {default!r} is not a node under {customer}")
    return SourceConfig(
        name=name,
        kind=kind,
        customer=customer,
        path=resolved_path,
        cluster=entry.get("cluster", ""),
        site_field=entry.get("site_field"),
        site_map={str(k): v for k, v in site_map.items()},
        default_site=default,
        options=options,
        known_nodes=nodes,
    )


def _absolute(site: str, customer: str) -> str:
    """A site named relative to the customer, or by its full path, as a full path."""
    return site if site == customer or site.startswith(customer + ".") else f"{customer}.{site}"
