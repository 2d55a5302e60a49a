"""Column definitions of every warehouse table: the one source of truth for DDL and frames.

Column names are the analysts' interface (SPEC sections 2, 4.9): change them only with the SPEC.
"""

from __future__ import annotations

import polars as pl

STATUSES = ("Available", "Used", "Used-Utility", "Cooling", "Reserved")
CHANGE_KINDS = ("added", "updated", "released", "cooled")
RUN_STATES = ("completed", "failed", "refused")
NODE_KINDS = ("provider", "reseller", "customer", "intermediate", "site")

ADMIN_FIELDS = ("tag", "description", "reservation_notes", *(f"extra{i}" for i in range(1, 10)))

HIERARCHY: dict[str, pl.DataType] = {
    "path": pl.String(),
    "kind": pl.String(),
    "parent": pl.String(),
    "number_management": pl.Boolean(),
    "slc_dial_plan": pl.Boolean(),
    "hybrid": pl.Boolean(),
}

SETTINGS: dict[str, pl.DataType] = {
    "customer": pl.String(),
    "cooling_enabled": pl.Boolean(),
    "cooling_days": pl.Int32(),
    "audiocodes_cooling_days": pl.Int32(),
    "max_release_fraction": pl.Float64(),
    "hybrid_prefix": pl.String(),
}

NUMBER_INVENTORY: dict[str, pl.DataType] = {
    "number": pl.String(),
    "hierarchy": pl.String(),
    "status": pl.String(),
    "usage": pl.String(),
    "vendor": pl.String(),
    "number_type": pl.String(),
    "e164": pl.String(),
    "release_date": pl.Date(),
    "reserved_until": pl.Date(),
    **{field: pl.String() for field in ADMIN_FIELDS},
    "created_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "last_audit_id": pl.String(),
}

# The "Usage tab": one row per thing that uses an entry's number.
NUMBER_USAGE: dict[str, pl.DataType] = {
    "number": pl.String(),
    "hierarchy": pl.String(),
    "vendor": pl.String(),
    "usage": pl.String(),
    "device_type": pl.String(),
    "device_name": pl.String(),
    "cluster": pl.String(),
    "partition": pl.String(),
    "site": pl.String(),
    "owner": pl.String(),
    "source": pl.String(),
}

AUDIT_RUNS: dict[str, pl.DataType] = {
    "audit_id": pl.String(),
    "customer": pl.String(),
    "mode": pl.String(),
    "sites": pl.String(),
    "as_of": pl.Date(),
    "dry_run": pl.Boolean(),
    "forced": pl.Boolean(),
    "started_at": pl.Datetime("us"),
    "finished_at": pl.Datetime("us"),
    "state": pl.String(),
    "added": pl.Int64(),
    "updated": pl.Int64(),
    "released": pl.Int64(),
    "cooled": pl.Int64(),
    "unchanged": pl.Int64(),
    "exceptions": pl.Int64(),
    "message": pl.String(),
    "snapshot_id": pl.Int64(),
}

NUMBER_CHANGES: dict[str, pl.DataType] = {
    "audit_id": pl.String(),
    "number": pl.String(),
    "hierarchy": pl.String(),
    "change": pl.String(),
    "old_status": pl.String(),
    "new_status": pl.String(),
    "old_usage": pl.String(),
    "new_usage": pl.String(),
    "old_vendor": pl.String(),
    "new_vendor": pl.String(),
    "old_number_type": pl.String(),
    "new_number_type": pl.String(),
    "old_release_date": pl.Date(),
    "new_release_date": pl.Date(),
    "changed_at": pl.Datetime("us"),
}

AUDIT_EXCEPTIONS: dict[str, pl.DataType] = {
    "audit_id": pl.String(),
    "kind": pl.String(),
    "number": pl.String(),
    "hierarchy": pl.String(),
    "detail": pl.String(),
    "resolution": pl.String(),
}

# One row per load of one source: what was read, when, how many rows (the safety guard of
# SPEC 4.8 compares these counts between audits).
SOURCE_LOADS: dict[str, pl.DataType] = {
    "load_id": pl.String(),
    "customer": pl.String(),
    "source": pl.String(),
    "kind": pl.String(),
    "location": pl.String(),
    "loaded_at": pl.Datetime("us"),
    "raw_rows": pl.Int64(),
    "usage_rows": pl.Int64(),
    "vendor_number_rows": pl.Int64(),
    "e164_rows": pl.Int64(),
}

# Normalised usages as the readers emit them (SPEC 3, 5), staged per customer and source.
STAGED_USAGES: dict[str, pl.DataType] = {
    "customer": pl.String(),
    "source": pl.String(),
    "source_row": pl.Int64(),
    "number_raw": pl.String(),
    "number": pl.String(),  # null when the raw value is not a number (bad_number)
    "device_type": pl.String(),  # SPEC 3, e.g. device/cucm/Phone
    "device_name": pl.String(),
    "cluster": pl.String(),
    "partition": pl.String(),
    "site": pl.String(),  # hierarchy path of the device's node; null when unmapped
    "site_key": pl.String(),  # the vendor value the site was resolved from
    "vendor": pl.String(),
    "number_type": pl.String(),
    "owner": pl.String(),
    "online": pl.Boolean(),  # AudioCodes registration; true for every other source
    "e164": pl.String(),
}

# Numbers a platform holds but has not assigned (Teams acquired numbers, SPEC 4.4, 4.3.7).
STAGED_VENDOR_NUMBERS: dict[str, pl.DataType] = {
    "customer": pl.String(),
    "source": pl.String(),
    "source_row": pl.Int64(),
    "number_raw": pl.String(),
    "number": pl.String(),
    "site": pl.String(),  # null: lands at the customer
    "site_key": pl.String(),
    "vendor": pl.String(),
    "number_type": pl.String(),
    "assigned": pl.Boolean(),
    "blocked_state": pl.String(),  # '', NotBlocked, BlockedUntil, BlockedForever
    "blocked_until": pl.Date(),
}

# E.164 associations (N E.164 to 1 internal number, SPEC 4.5).
STAGED_E164: dict[str, pl.DataType] = {
    "customer": pl.String(),
    "source": pl.String(),
    "source_row": pl.Int64(),
    "e164": pl.String(),
    "number": pl.String(),
    "is_primary": pl.Boolean(),
}

# One row per inventory file imported: its content's digest, so that loading the same file
# again (a nightly load names it every night) neither re-reads it nor brings back entries
# removed since.
INVENTORY_IMPORTS: dict[str, pl.DataType] = {
    "load_id": pl.String(),
    "customer": pl.String(),
    "file": pl.String(),
    "sha256": pl.String(),
    "rows": pl.Int64(),
    "added": pl.Int64(),
    "imported_at": pl.Datetime("us"),
}

TABLES: dict[str, dict[str, pl.DataType]] = {
    "hierarchy": HIERARCHY,
    "settings": SETTINGS,
    "number_inventory": NUMBER_INVENTORY,
    "number_usage": NUMBER_USAGE,
    "audit_runs": AUDIT_RUNS,
    "number_changes": NUMBER_CHANGES,
    "audit_exceptions": AUDIT_EXCEPTIONS,
    "source_loads": SOURCE_LOADS,
    "inventory_imports": INVENTORY_IMPORTS,
    "staged_usages": STAGED_USAGES,
    "staged_vendor_numbers": STAGED_VENDOR_NUMBERS,
    "staged_e164": STAGED_E164,
}

# Columns every raw_<vendor>_<object> table carries besides the vendor's own fields (all text).
RAW_LINEAGE: dict[str, pl.DataType] = {
    "customer": pl.String(),
    "source": pl.String(),
    "source_file": pl.String(),
    "extracted_at": pl.Datetime("us"),
    "source_row": pl.Int64(),
}


def empty(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=columns)
