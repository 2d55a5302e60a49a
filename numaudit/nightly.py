"""The nightly job's choice of audits (SPEC 10): every customer with number management
enabled whose sources were loaded, in site mode where a Site-Location-Code dial plan allows
no other (SPEC 4.1), grouped into batches that are audited in one pass and one commit each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from numaudit.auditing import AuditRequest, AuditSummary, run_audits
from storage.lake import Warehouse
from transforms.audit import under

# Staged rows per batch: bounds the memory of one pass (a 1.2M-entry batch peaks near 4 GB).
DEFAULT_BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class NightPlan:
    batches: list[list[AuditRequest]]
    skipped: dict[str, str]  # customer -> why the night does not audit it


def plan_night(warehouse: Warehouse, as_of: date | None = None, dry_run: bool = False, batch_rows: int = DEFAULT_BATCH_ROWS) -> NightPlan:
    nodes = warehouse.read("hierarchy")
    customers = nodes.filter((pl.col("kind") == "customer") & pl.col("number_management"))["path"].sort().to_list()
    rows = dict(
        warehouse.query(
            "SELECT customer, sum(n) AS n FROM ("
            " SELECT customer, count(*) AS n FROM staged_usages GROUP BY customer"
            " UNION ALL SELECT customer, count(*) AS n FROM staged_vendor_numbers GROUP BY customer"
            " UNION ALL SELECT customer, 0 AS n FROM source_loads GROUP BY customer"
            ") GROUP BY customer"
        ).iter_rows()
    )
    slc = nodes.filter(pl.col("slc_dial_plan"))["path"].to_list()
    skipped = {c: "no source has been loaded: run `numaudit load ESTATE.toml` first" for c in customers if c not in rows}
    batches: list[list[AuditRequest]] = []
    size = 0
    for customer in (c for c in customers if c in rows):
        site_mode = bool(slc) and nodes.filter(pl.col("path").is_in(slc) & under(pl.col("path"), customer)).height > 0
        request = AuditRequest(customer, "site" if site_mode else "customer", as_of=as_of, dry_run=dry_run)
        if not batches or size + rows[customer] > batch_rows:
            batches.append([])
            size = 0
        batches[-1].append(request)
        size += int(rows[customer])
    return NightPlan(batches, skipped)


def run_night(warehouse: Warehouse, as_of: date | None = None, dry_run: bool = False, batch_rows: int = DEFAULT_BATCH_ROWS) -> tuple[list[AuditSummary], dict[str, str]]:
    """The nightly audits without Prefect (tests, benchmark): summaries and skipped customers."""
    night = plan_night(warehouse, as_of, dry_run, batch_rows)
    return [s for batch in night.batches for s in run_audits(warehouse, batch)], night.skipped
