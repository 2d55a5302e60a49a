"""The audit rules of SPEC 4.2–4.6 and 4.9 as pure, lazy, vectorised Polars transforms.

Nothing here reads or writes storage. `audit` takes the customer's entries, staged usages,
Teams numbers and E.164 links as LazyFrames and returns the new state of every entry in
scope, the change log, the Usage tab and the exceptions.

Hierarchy paths are dotted (`sys.prov.Acme.London`), so "S is below H" is a string-prefix
test; no tree walk is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import polars as pl

from schemas.tables import (
    ADMIN_FIELDS,
    NUMBER_CHANGES,
    NUMBER_INVENTORY,
    NUMBER_USAGE,
)
from transforms.usage_types import DEVICE_PROFILE, PHONE, usage_types_frame

USED = ("Used", "Used-Utility")
MANAGED = ("status", "usage", "vendor", "number_type", "e164", "release_date")

RESOLUTIONS = {
    "duplicate_device_profile": "ensure device profiles are not duplicated across the sites",
    "duplicate_phone": "ensure phones are not duplicated across the clusters",
    "number_in_clusters": (
        "ensure internal numbers (even in different partitions) are not duplicated across clusters"
    ),
    "ancestor_entry": "move the entry or audit in customer mode",
    "entry_at_other_site": "move the entry to the device's site or to the customer",
    "unmapped_device": "map the device's site (source configuration)",
    "bad_number": "fix the source record",
}


@dataclass(frozen=True)
class AuditParams:
    audit_id: str
    customer: str
    mode: Literal["customer", "site"]
    sites: tuple[str, ...]  # site mode: the sites in scope
    as_of: date
    now: datetime
    cooling_enabled: bool = False
    cooling_days: int = 30
    audiocodes_cooling_days: int = 2


@dataclass(frozen=True)
class AuditInputs:
    entries: pl.LazyFrame  # NUMBER_INVENTORY rows on the customer's path and below it
    usages: pl.LazyFrame  # STAGED_USAGES of the customer
    vendor_numbers: pl.LazyFrame  # STAGED_VENDOR_NUMBERS of the customer
    e164: pl.LazyFrame  # STAGED_E164 of the customer


@dataclass(frozen=True)
class AuditResult:
    written: pl.DataFrame  # NUMBER_INVENTORY rows added or changed (never fewer rows)
    changes: pl.DataFrame  # NUMBER_CHANGES
    usage_links: pl.DataFrame  # NUMBER_USAGE for the scope
    exceptions: pl.DataFrame  # AUDIT_EXCEPTIONS
    in_scope: int  # entries the rules looked at, before additions
    unchanged: int


def audit(inputs: AuditInputs, params: AuditParams) -> AuditResult:
    entries = inputs.entries
    usages = usable_usages(inputs.usages, params)
    teams = teams_numbers(inputs.vendor_numbers, params)
    landing = land(pl.concat([usages.select("number", "site"), teams.select("number", "site")]).unique(), entries, params)
    landed_usages = usages.join(landing.filter(pl.col("target").is_not_null()), on=["number", "site"])
    landed_teams = teams.join(landing.filter(pl.col("target").is_not_null()), on=["number", "site"])
    facts = entry_facts(landed_usages, landed_teams, inputs.e164)
    scope = entries_in_scope(entries, params)
    computed = apply_status_rules(scope, facts, unmapped_numbers(inputs.usages), params).collect()
    changed = computed.filter(pl.col("_change").is_not_null())
    exceptions = pl.concat(
        [
            usage_exceptions(inputs.usages, params),
            landing_exceptions(landing, params),
            device_exceptions(usages, params),
            cluster_exceptions(landed_usages, params),
        ]
    ).unique(maintain_order=True).collect()
    return AuditResult(
        written=changed.select(list(NUMBER_INVENTORY)),
        changes=change_log(changed, params),
        usage_links=usage_links(landed_usages).collect(),
        exceptions=exceptions,
        in_scope=computed.filter(pl.col("_existing")).height,
        unchanged=computed.height - changed.height,
    )


def under(path: pl.Expr, node: str | pl.Expr) -> pl.Expr:
    """`path` is `node` or below it."""
    node_expr = pl.lit(node) if isinstance(node, str) else node
    return (path == node_expr) | path.str.starts_with(node_expr + ".")


def usable_usages(usages: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """Usages that use their number (valid number, mapped site, online), in scope, typed."""
    return (
        usages.filter(pl.col("number").is_not_null() & pl.col("site").is_not_null() & pl.col("online"))
        .filter(_in_site_scope(pl.col("site"), params))
        .join(usage_types_frame().lazy(), on="device_type", how="inner")
        .with_columns(vendor=pl.when(pl.col("vendor") == "").then(pl.col("default_vendor")).otherwise(pl.col("vendor")))
    )


def teams_numbers(vendor_numbers: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """Acquired but unassigned platform numbers (SPEC 4.4); no site means the customer."""
    return (
        vendor_numbers.filter(pl.col("number").is_not_null() & ~pl.col("assigned"))
        .with_columns(site=pl.col("site").fill_null(pl.lit(params.customer)))
        .filter(_in_site_scope(pl.col("site"), params))
        .sort("source", "source_row")
        .unique(["number", "site"], keep="first", maintain_order=True)
    )


def _in_site_scope(site: pl.Expr, params: AuditParams) -> pl.Expr:
    return site.is_in(list(params.sites)) if params.mode == "site" else pl.lit(True)


def land(keys: pl.LazyFrame, entries: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """Where each (number, site) lands (SPEC 4.2): one row per target entry, or one row with
    a null target and the exception that stopped it.

    Columns: number, site, target, exists, outcome (`update`, `add`, `other_site`,
    `ancestor_entry`), holder (the entry that blocked or redirected it).
    """
    candidates = (
        keys.join(entries.select("number", pl.col("hierarchy").alias("holder")), on="number", how="left")
        .with_columns(
            on_path=pl.col("holder").is_not_null() & under(pl.col("site"), pl.col("holder")),
            in_customer=pl.col("holder").is_not_null() & under(pl.col("holder"), params.customer),
        )
    )
    if params.mode == "site":
        at_site = candidates.filter(pl.col("holder") == pl.col("site"))
        above = candidates.filter(pl.col("on_path") & (pl.col("holder") != pl.col("site")))
        blocked = above.join(at_site, on=["number", "site"], how="anti")
        free = keys.join(at_site, on=["number", "site"], how="anti").join(blocked, on=["number", "site"], how="anti")
        return pl.concat(
            [
                at_site.select("number", "site", pl.col("holder").alias("target"), exists=True, outcome=pl.lit("update"), holder=pl.lit(None, pl.String())),
                _first_holder(blocked).select("number", "site", target=pl.lit(None, pl.String()), exists=False, outcome=pl.lit("ancestor_entry"), holder="holder"),
                free.select("number", "site", pl.col("site").alias("target"), exists=False, outcome=pl.lit("add"), holder=pl.lit(None, pl.String())),
            ],
            how="vertical",
        )
    # Customer mode: the nearest entry between the site and the customer; else entries held
    # elsewhere in the customer (never free them while the number is in use); else above the
    # customer (would break the one-entry-per-path rule); else a new entry at the customer.
    on_path = candidates.filter(pl.col("on_path") & pl.col("in_customer"))
    nearest = on_path.sort(pl.col("holder").str.len_chars(), descending=True).unique(["number", "site"], keep="first")
    elsewhere = candidates.filter(pl.col("in_customer") & ~pl.col("on_path")).join(nearest, on=["number", "site"], how="anti")
    above = candidates.filter(pl.col("on_path") & ~pl.col("in_customer"))
    settled = pl.concat([nearest.select("number", "site"), elsewhere.select("number", "site")]).unique()
    blocked = above.join(settled, on=["number", "site"], how="anti")
    free = keys.join(settled, on=["number", "site"], how="anti").join(blocked, on=["number", "site"], how="anti")
    return pl.concat(
        [
            nearest.select("number", "site", pl.col("holder").alias("target"), exists=True, outcome=pl.lit("update"), holder=pl.lit(None, pl.String())),
            elsewhere.select("number", "site", pl.col("holder").alias("target"), exists=True, outcome=pl.lit("other_site"), holder="holder"),
            _first_holder(blocked).select("number", "site", target=pl.lit(None, pl.String()), exists=False, outcome=pl.lit("ancestor_entry"), holder="holder"),
            free.select("number", "site", target=pl.lit(params.customer), exists=False, outcome=pl.lit("add"), holder=pl.lit(None, pl.String())),
        ],
        how="vertical",
    )


def _first_holder(blocked: pl.LazyFrame) -> pl.LazyFrame:
    return blocked.sort("holder").unique(["number", "site"], keep="first")


def entry_facts(landed_usages: pl.LazyFrame, landed_teams: pl.LazyFrame, e164: pl.LazyFrame) -> pl.LazyFrame:
    """Per target entry: what the landed usages and Teams numbers say about it."""
    by_usage = (
        landed_usages.sort("usage_rank", "source", "source_row")
        .group_by("number", "target")
        .agg(
            usage_list=pl.col("usage").unique(maintain_order=True),
            vendor_list=pl.col("vendor").unique(maintain_order=True),
            has_used=(pl.col("implied_status") == "Used").any(),
            has_utility=(pl.col("implied_status") == "Used-Utility").any(),
            usage_number_type=pl.col("number_type").filter(pl.col("number_type") != "").first(),
            usage_e164=pl.col("e164").filter(pl.col("e164") != "").first(),
            exists=pl.col("exists").first(),
        )
    )
    by_teams = landed_teams.group_by("number", "target").agg(
        teams_vendor=pl.col("vendor").first(),
        teams_number_type=pl.col("number_type").first(),
        blocked_state=pl.col("blocked_state").first(),
        blocked_until=pl.col("blocked_until").first(),
        teams_exists=pl.col("exists").first(),
    )
    primary_e164 = (
        e164.filter(pl.col("number").is_not_null())
        .sort(pl.col("is_primary"), "e164", descending=[True, False])
        .unique("number", keep="first")
        .select("number", assoc_e164="e164")
    )
    return (
        by_usage.join(by_teams, on=["number", "target"], how="full", coalesce=True)
        .with_columns(exists=pl.coalesce("exists", "teams_exists"), has_usage=pl.col("usage_list").is_not_null())
        .join(primary_e164, on="number", how="left")
        .rename({"target": "hierarchy"})
    )


def unmapped_numbers(usages: pl.LazyFrame) -> pl.LazyFrame:
    """Numbers that an online device uses although its site could not be resolved."""
    return (
        usages.filter(pl.col("number").is_not_null() & pl.col("site").is_null() & pl.col("online"))
        .select("number")
        .unique()
        .with_columns(used_unmapped=pl.lit(True))
    )


def entries_in_scope(entries: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    if params.mode == "site":
        return entries.filter(pl.col("hierarchy").is_in(list(params.sites)))
    return entries.filter(under(pl.col("hierarchy"), params.customer))


def apply_status_rules(
    scope: pl.LazyFrame, facts: pl.LazyFrame, unmapped: pl.LazyFrame, params: AuditParams
) -> pl.LazyFrame:
    """SPEC 4.3 rules 1–7 and 4.4 on every entry in scope and every new entry.

    Adds `rule` (which rule decided), `_existing`, and `_change` (null when nothing changed).
    """
    old = {c: pl.col(c) for c in MANAGED}
    new_entries = facts.filter(~pl.col("exists")).select("number", "hierarchy")
    teams = pl.col("teams_vendor").is_not_null()
    blocked_until_open = (pl.col("blocked_state") == "BlockedUntil") & (
        pl.col("blocked_until").is_null() | (pl.col("blocked_until") > params.as_of)
    )
    rule = (
        pl.when(pl.col("has_usage")).then(pl.lit("used"))
        # A device uses the number but its site is unknown: never free the number on that.
        .when(pl.col("used_unmapped")).then(pl.lit("unmapped_kept"))
        .when(old["status"] == "Reserved").then(pl.lit("reserved"))
        .when(teams & (pl.col("blocked_state") == "BlockedForever")).then(pl.lit("blocked_forever"))
        # A BlockedUntil without a date has no release date: never Available, so Reserved.
        .when(teams & blocked_until_open & pl.col("blocked_until").is_null()).then(pl.lit("blocked_forever"))
        .when(teams & blocked_until_open).then(pl.lit("blocked_until"))
        .when((old["status"] == "Cooling") & (old["release_date"] > params.as_of)).then(pl.lit("cooling_wait"))
        .when(old["status"] == "Cooling").then(pl.lit("cooling_release"))
        # Cooling for 0 days would end on as_of, which rule 3 releases: no cooling at all.
        .when(old["status"].is_in(USED) & (pl.col("vendor") == "AudioCodes"))
        .then(pl.lit("freed_audiocodes" if params.audiocodes_cooling_days > 0 else "freed_available"))
        .when(old["status"].is_in(USED) & (params.cooling_enabled and params.cooling_days > 0)).then(pl.lit("freed_cooling"))
        .when(old["status"].is_in(USED)).then(pl.lit("freed_available"))
        .when(teams).then(pl.lit("teams_available"))
        .otherwise(pl.lit("unused"))
    )
    kept = pl.col("rule").is_in(["reserved", "cooling_wait", "unused", "unmapped_kept"])
    usage_status = (
        pl.when(pl.col("has_used") & pl.col("has_utility") & old["status"].is_in(USED)).then(old["status"])
        .when(pl.col("has_used")).then(pl.lit("Used"))
        .otherwise(pl.lit("Used-Utility"))
    )
    status = (
        pl.when(pl.col("rule") == "used").then(usage_status)
        .when(pl.col("rule") == "unmapped_kept").then(old["status"])
        .when(pl.col("rule").is_in(["reserved", "blocked_forever"])).then(pl.lit("Reserved"))
        .when(pl.col("rule").is_in(["blocked_until", "cooling_wait", "freed_audiocodes", "freed_cooling"])).then(pl.lit("Cooling"))
        .otherwise(pl.lit("Available"))
    )
    cooling_release = (
        pl.when(pl.col("rule") == "blocked_until")
        .then(pl.max_horizontal(pl.col("blocked_until"), pl.when(old["status"] == "Cooling").then(old["release_date"])))
        .when(pl.col("rule").is_in(["cooling_wait", "unmapped_kept"])).then(old["release_date"])
        .when(pl.col("rule") == "freed_audiocodes").then(pl.lit(params.as_of) + pl.duration(days=params.audiocodes_cooling_days))
        .when(pl.col("rule") == "freed_cooling").then(pl.lit(params.as_of) + pl.duration(days=params.cooling_days))
        .otherwise(pl.lit(None, pl.Date()))
    )
    vendor = (
        pl.when(pl.col("rule") == "used").then(_join_vendors(pl.col("vendor_list")))
        .when(teams).then(pl.col("teams_vendor"))
        .when(kept | (pl.col("rule") == "freed_audiocodes")).then(old["vendor"])
        .otherwise(pl.lit(""))
    )
    number_type = (
        pl.when(pl.col("rule") == "used").then(pl.coalesce("usage_number_type", "teams_number_type", pl.lit("")))
        .when(teams).then(pl.col("teams_number_type"))
        .when(kept | (pl.col("rule") == "freed_audiocodes")).then(old["number_type"])
        .otherwise(pl.lit(""))
    )
    usage = pl.when(pl.col("rule") == "used").then(pl.col("usage_list").list.join(",")).when(kept).then(old["usage"]).otherwise(pl.lit(""))
    e164 = pl.coalesce("usage_e164", "assoc_e164", old["e164"], pl.lit(""))
    changed = pl.any_horizontal([pl.col(f"new_{c}").ne_missing(old[c]) for c in MANAGED])
    change = (
        pl.when(~pl.col("_existing")).then(pl.lit("added"))
        .when(~changed).then(pl.lit(None, pl.String()))
        .when((pl.col("new_status") == "Available") & (old["status"] != "Available")).then(pl.lit("released"))
        .when((pl.col("new_status") == "Cooling") & (old["status"] != "Cooling")).then(pl.lit("cooled"))
        .otherwise(pl.lit("updated"))
    )
    return (
        pl.concat([scope.with_columns(_existing=pl.lit(True)), _blank_entries(new_entries, params)], how="vertical")
        .join(facts.drop("exists"), on=["number", "hierarchy"], how="left")
        .join(unmapped, on="number", how="left")
        .with_columns(has_usage=pl.col("has_usage").fill_null(False), used_unmapped=pl.col("used_unmapped").fill_null(False))
        .with_columns(rule=rule)
        .with_columns(
            new_status=status,
            new_usage=usage,
            new_vendor=vendor,
            new_number_type=number_type,
            new_e164=e164,
            new_release_date=cooling_release,
        )
        .with_columns(_change=change)
        .with_columns(
            [pl.col(c).alias(f"old_{c}") for c in MANAGED]
            + [
                pl.when(pl.col("_change").is_not_null()).then(pl.col(f"new_{c}")).otherwise(old[c]).alias(c)
                for c in MANAGED
            ]
        )
        .with_columns(
            updated_at=pl.when(pl.col("_change").is_not_null()).then(pl.lit(params.now)).otherwise(pl.col("updated_at")),
            last_audit_id=pl.when(pl.col("_change").is_not_null()).then(pl.lit(params.audit_id)).otherwise(pl.col("last_audit_id")),
        )
    )


def _join_vendors(vendors: pl.Expr) -> pl.Expr:
    """One vendor as is; several joined in canonical usage order, Cisco ('') named."""
    named = vendors.list.eval(pl.when(pl.element() == "").then(pl.lit("Cisco")).otherwise(pl.element()))
    return pl.when(vendors.list.len() == 1).then(vendors.list.first()).otherwise(named.list.join(", "))


def _blank_entries(keys: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """New entries before the rules fill them: administrators' fields empty."""
    return keys.with_columns(
        status=pl.lit(None, pl.String()),
        usage=pl.lit(None, pl.String()),
        vendor=pl.lit(None, pl.String()),
        number_type=pl.lit(None, pl.String()),
        e164=pl.lit(None, pl.String()),
        release_date=pl.lit(None, pl.Date()),
        reserved_until=pl.lit(None, pl.Date()),
        **{field: pl.lit("") for field in ADMIN_FIELDS},
        created_at=pl.lit(params.now),
        updated_at=pl.lit(params.now),
        last_audit_id=pl.lit(params.audit_id),
        _existing=pl.lit(False),
    ).select([pl.col(c).cast(t) for c, t in NUMBER_INVENTORY.items()] + ["_existing"])


def change_log(changed: pl.DataFrame, params: AuditParams) -> pl.DataFrame:
    return changed.select(
        audit_id=pl.lit(params.audit_id),
        number="number",
        hierarchy="hierarchy",
        change="_change",
        old_status="old_status",
        new_status="status",
        old_usage="old_usage",
        new_usage="usage",
        old_vendor="old_vendor",
        new_vendor="vendor",
        old_number_type="old_number_type",
        new_number_type="number_type",
        old_release_date="old_release_date",
        new_release_date="release_date",
        changed_at=pl.lit(params.now),
    ).select([pl.col(c).cast(t) for c, t in NUMBER_CHANGES.items()])


def usage_links(landed_usages: pl.LazyFrame) -> pl.LazyFrame:
    return landed_usages.select(
        "number",
        pl.col("target").alias("hierarchy"),
        "vendor",
        "usage",
        "device_type",
        "device_name",
        "cluster",
        "partition",
        "site",
        "owner",
        "source",
    ).sort("hierarchy", "number", "usage", "device_name").select([pl.col(c).cast(t) for c, t in NUMBER_USAGE.items()])


def _exception(kind: str, params: AuditParams, number: pl.Expr, hierarchy: pl.Expr, detail: pl.Expr) -> list[pl.Expr]:
    return [
        pl.lit(params.audit_id).alias("audit_id"),
        pl.lit(kind).alias("kind"),
        number.cast(pl.String()).alias("number"),
        hierarchy.cast(pl.String()).alias("hierarchy"),
        detail.alias("detail"),
        pl.lit(RESOLUTIONS[kind]).alias("resolution"),
    ]


def _where() -> pl.Expr:
    return pl.format("source '{}' row {}", pl.col("source"), pl.col("source_row"))


def usage_exceptions(usages: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """bad_number and unmapped_device, for every usage of the customer (the audit goes on)."""
    bad = usages.filter(pl.col("number").is_null()).select(
        _exception(
            "bad_number",
            params,
            pl.col("number_raw"),
            pl.col("site").fill_null(pl.lit(params.customer)),
            pl.format("{}: '{}' is not a number ({} {})", _where(), pl.col("number_raw"), pl.col("device_type"), pl.col("device_name")),
        )
    )
    unmapped = usages.filter(pl.col("number").is_not_null() & pl.col("site").is_null()).select(
        _exception(
            "unmapped_device",
            params,
            pl.col("number"),
            pl.lit(params.customer),
            pl.format("{}: {} '{}' has no site for '{}'", _where(), pl.col("device_type"), pl.col("device_name"), pl.col("site_key")),
        )
    )
    return pl.concat([bad, unmapped])


def landing_exceptions(landing: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    ancestor = landing.filter(pl.col("outcome") == "ancestor_entry").select(
        _exception(
            "ancestor_entry",
            params,
            pl.col("number"),
            pl.col("site"),
            pl.format("used at {} but held by an entry at {}; no second entry added on the same path", pl.col("site"), pl.col("holder")),
        )
    )
    other = landing.filter(pl.col("outcome") == "other_site").select(
        _exception(
            "entry_at_other_site",
            params,
            pl.col("number"),
            pl.col("target"),
            pl.format("used at {} but held by an entry at {}; that entry was audited as used", pl.col("site"), pl.col("holder")),
        )
    )
    return pl.concat([ancestor, other])


def device_exceptions(usages: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """The same device profile or phone name in more than one cluster."""
    frames = []
    for device_type, kind, label in ((DEVICE_PROFILE, "duplicate_device_profile", "device profile"), (PHONE, "duplicate_phone", "phone")):
        duplicated = (
            # A source without a cluster ('') is not another cluster (as in cluster_exceptions).
            usages.filter((pl.col("device_type") == device_type) & (pl.col("device_name") != "") & (pl.col("cluster") != ""))
            .group_by("device_name")
            .agg(
                clusters=pl.col("cluster").unique().sort(),
                number=pl.col("number").min(),
                site=pl.col("site").min(),
            )
            .filter(pl.col("clusters").list.len() > 1)
        )
        frames.append(
            duplicated.select(
                _exception(
                    kind,
                    params,
                    pl.col("number"),
                    pl.col("site"),
                    pl.format("{} '{}' is in clusters {}", pl.lit(label), pl.col("device_name"), pl.col("clusters").list.join(", ")),
                )
            )
        )
    return pl.concat(frames)


def cluster_exceptions(landed_usages: pl.LazyFrame, params: AuditParams) -> pl.LazyFrame:
    """One number used in more than one cluster, landing on one entry."""
    return (
        landed_usages.filter(pl.col("cluster") != "")
        .group_by("number", "target")
        .agg(clusters=pl.col("cluster").unique().sort())
        .filter(pl.col("clusters").list.len() > 1)
        .select(
            _exception(
                "number_in_clusters",
                params,
                pl.col("number"),
                pl.col("target"),
                pl.format("used in clusters {}", pl.col("clusters").list.join(", ")),
            )
        )
    )


def change_log_for_import(imported: pl.DataFrame, operation_id: str, now: datetime) -> pl.DataFrame:
    """Entries imported from an estate's inventory, logged as `added` under the load's id."""
    return imported.select(
        audit_id=pl.lit(operation_id),
        number="number",
        hierarchy="hierarchy",
        change=pl.lit("added"),
        old_status=pl.lit(None, pl.String()),
        new_status="status",
        old_usage=pl.lit(None, pl.String()),
        new_usage="usage",
        old_vendor=pl.lit(None, pl.String()),
        new_vendor="vendor",
        old_number_type=pl.lit(None, pl.String()),
        new_number_type="number_type",
        old_release_date=pl.lit(None, pl.Date()),
        new_release_date="release_date",
        changed_at=pl.lit(now),
    ).select([pl.col(c).cast(t) for c, t in NUMBER_CHANGES.items()])
