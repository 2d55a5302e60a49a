"""One audit, stage by stage: plan (refusals of SPEC 4.1 and reads), compute (pure
transforms), validate (SPEC 2 invariants), guard (SPEC 4.8 mass-release check), write back
(one transaction, SPEC 4.9).

The Prefect flow wraps each stage in a task; the benchmark and tests call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import polars as pl

from numaudit.ids import new_id, utc_now
from schemas.models import InvariantError, InventoryModel, violations
from schemas.tables import AUDIT_RUNS
from storage.lake import Warehouse, tree_filter
from transforms.audit import AuditInputs, AuditParams, AuditResult, audit, entries_in_scope, under
from transforms.guard import USED, GuardVerdict, judge, latest_and_baseline

MAX_SITES = 200


class AuditRefused(Exception):
    """The audit cannot run as asked (SPEC 4.1); nothing was written."""


class AuditGuardRefused(AuditRefused):
    """SPEC 4.8: the audit would free too many used numbers; only its refused audit_runs row
    was written. `verdict` holds the counts and the sources that went empty or shrank."""

    def __init__(self, message: str, verdict: GuardVerdict) -> None:
        super().__init__(message)
        self.verdict = verdict


@dataclass(frozen=True)
class AuditRequest:
    customer: str
    mode: Literal["customer", "site"] = "customer"
    sites: tuple[str, ...] = ()  # site mode: specific sites; empty = all the customer's sites
    as_of: date | None = None
    dry_run: bool = False
    force: bool = False


@dataclass
class AuditPlan:
    request: AuditRequest
    params: AuditParams
    inputs: AuditInputs
    entries: pl.DataFrame  # the customer's tree as read, for validation of the merged result
    started_at: datetime
    settings: dict[str, Any]
    loads: pl.DataFrame | None = None  # the customer's SOURCE_LOADS, every load (for the guard)
    last_audit_at: datetime | None = None  # start of the customer's last completed, non-dry-run audit


@dataclass
class AuditSummary:
    audit_id: str
    customer: str
    mode: str
    sites: tuple[str, ...]
    as_of: date
    dry_run: bool
    state: str
    counts: dict[str, int]
    statuses: dict[str, int]
    exceptions: dict[str, int]
    top_changes: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


def plan_audit(warehouse: Warehouse, request: AuditRequest) -> AuditPlan:
    """Check the request against SPEC 4.1 and read what the audit needs."""
    nodes = warehouse.read("hierarchy")
    customer = _customer_node(nodes, request.customer)
    subtree = nodes.filter(under(pl.col("path"), request.customer))
    sites = _sites_in_scope(subtree, request)
    if request.mode == "customer":
        slc = subtree.filter(pl.col("slc_dial_plan"))["path"].to_list()
        if slc:
            raise AuditRefused(
                f"customer {request.customer} has a Site-Location-Code dial plan at "
                f"{_some(slc)}: only site mode is possible (--mode site)"
            )
    if not customer["number_management"]:
        raise AuditRefused(f"number management is disabled for customer {request.customer}")
    loads = warehouse.read("source_loads", "customer = ?", [request.customer])
    if loads.is_empty():
        raise AuditRefused(
            f"no source has been loaded for customer {request.customer}: run `numaudit load ESTATE.toml` first"
        )
    settings = warehouse.read("settings", "customer = ?", [request.customer])
    setting = settings.row(0, named=True) if not settings.is_empty() else {}
    audit_id = new_id("A")
    now = utc_now()
    params = AuditParams(
        audit_id=audit_id,
        customer=request.customer,
        mode=request.mode,
        sites=sites,
        as_of=request.as_of or now.date(),
        now=now,
        cooling_enabled=bool(setting.get("cooling_enabled", False)),
        cooling_days=int(setting.get("cooling_days", 30)),
        audiocodes_cooling_days=int(setting.get("audiocodes_cooling_days", 2)),
    )
    entries = warehouse.read("number_inventory", *tree_filter(request.customer))
    by_customer = ("customer = ?", [request.customer])
    inputs = AuditInputs(
        entries=entries.lazy(),
        usages=warehouse.read("staged_usages", *by_customer).lazy(),
        vendor_numbers=warehouse.read("staged_vendor_numbers", *by_customer).lazy(),
        e164=warehouse.read("staged_e164", *by_customer).lazy(),
    )
    runs = warehouse.read("audit_runs", "customer = ? AND state = 'completed' AND NOT dry_run", [request.customer])
    last_audit_at = runs["started_at"].max() if not runs.is_empty() else None
    return AuditPlan(request, params, inputs, entries, now, setting, loads, last_audit_at)


def compute(plan: AuditPlan) -> AuditResult:
    return audit(plan.inputs, plan.params)


def merged_inventory(plan: AuditPlan, result: AuditResult) -> pl.DataFrame:
    """The customer's tree as it will be after the write: written rows replace their keys."""
    kept = plan.entries.join(result.written.select("number", "hierarchy"), on=["number", "hierarchy"], how="anti")
    return pl.concat([kept, result.written])


def validate(plan: AuditPlan, result: AuditResult) -> None:
    """Refuse to write anything that breaks a SPEC 2 invariant."""
    merged = merged_inventory(plan, result)
    found = violations(InventoryModel, merged)
    if found:
        first = found[0]
        row = merged.row(first.row, named=True) if first.row is not None else {}
        raise InvariantError(
            f"audit {plan.params.audit_id} would break an inventory invariant ({first.check}) "
            f"at number {row.get('number')!r}, hierarchy {row.get('hierarchy')!r}; nothing was written"
            + (f" ({len(found)} violations in all)" if len(found) > 1 else "")
        )
    if merged.height < plan.entries.height:
        raise InvariantError(f"audit {plan.params.audit_id} would delete entries; nothing was written")


def judge_release(plan: AuditPlan, result: AuditResult) -> GuardVerdict:
    """SPEC 4.8 verdict for this plan and result (no reads, no writes)."""
    used = entries_in_scope(plan.entries.lazy(), plan.params).filter(pl.col("status").is_in(USED)).collect().height
    loads = plan.loads if plan.loads is not None else pl.DataFrame()
    latest, baseline = latest_and_baseline(loads, plan.last_audit_at) if not loads.is_empty() else (loads, loads)
    return judge(
        result.changes, used, plan.settings.get("max_release_fraction"), latest, baseline, force=plan.request.force
    )


def guard(warehouse: Warehouse, plan: AuditPlan, result: AuditResult) -> GuardVerdict:
    """SPEC 4.8: refuse a mass release (writing only the refused audit_runs row) unless forced.
    A dry run is never refused: its summary message carries the verdict instead."""
    verdict = judge_release(plan, result)
    if verdict.refused and not plan.request.dry_run:
        message = verdict.message()
        record_failure(warehouse, plan, message, state="refused")
        raise AuditGuardRefused(message, verdict)
    return verdict


def write_back(
    warehouse: Warehouse, plan: AuditPlan, result: AuditResult, verdict: GuardVerdict | None = None
) -> AuditSummary:
    """SPEC 4.9: everything in one transaction; a dry run writes only its audit_runs row."""
    summary = summarise(plan, result, state="completed")
    if verdict is not None:
        summary.message = ("dry run; would be refused: " if verdict.refused else "") + verdict.message()
    run = _run_row(plan, summary)
    params = plan.params
    with warehouse.transaction(f"audit {params.customer}", {"audit_id": params.audit_id, "customer": params.customer}) as tx:
        if not plan.request.dry_run:
            before = tx.count("number_inventory")
            # Rewrite changed rows: delete their keys, insert their new state (added keys
            # match nothing). The row count check below proves nothing was lost.
            tx.delete_keys("number_inventory", result.written.select("number", "hierarchy"))
            tx.append("number_inventory", result.written)
            if tx.count("number_inventory") < before + summary.counts["added"]:
                raise InvariantError(f"audit {params.audit_id} would lose entries; nothing was written")
            tx.delete("number_usage", *_scope_filter(params))
            tx.append("number_usage", result.usage_links)
            tx.append("number_changes", result.changes)
            tx.append("audit_exceptions", result.exceptions)
        tx.append("audit_runs", run)
    return summary


def record_failure(warehouse: Warehouse, plan: AuditPlan, message: str, state: str = "failed") -> None:
    """A failed or refused audit leaves its audit_runs row, and nothing else."""
    counts = {k: 0 for k in ("added", "updated", "released", "cooled", "unchanged", "exceptions")}
    summary = AuditSummary(
        plan.params.audit_id, plan.params.customer, plan.params.mode, plan.params.sites, plan.params.as_of,
        plan.request.dry_run, state, counts, {}, {}, [], message,
    )
    with warehouse.transaction(f"audit {plan.params.customer} {state}", {"audit_id": plan.params.audit_id}) as tx:
        tx.append("audit_runs", _run_row(plan, summary))


def run_audit(warehouse: Warehouse, request: AuditRequest) -> AuditSummary:
    """All stages without Prefect (tests, benchmark)."""
    plan = plan_audit(warehouse, request)
    try:
        result = compute(plan)
        validate(plan, result)
        verdict = guard(warehouse, plan, result)
        return write_back(warehouse, plan, result, verdict)
    except InvariantError as error:
        record_failure(warehouse, plan, str(error))
        raise


def summarise(plan: AuditPlan, result: AuditResult, state: str) -> AuditSummary:
    kinds = result.changes["change"].value_counts()
    changes = dict(zip(kinds["change"].to_list(), kinds["count"].to_list(), strict=True))
    counts = {k: int(changes.get(k, 0)) for k in ("added", "updated", "released", "cooled")}
    counts["unchanged"] = result.unchanged
    counts["exceptions"] = result.exceptions.height
    merged = merged_inventory(plan, result)
    in_scope = merged.filter(
        pl.col("hierarchy").is_in(list(plan.params.sites)) if plan.params.mode == "site" else under(pl.col("hierarchy"), plan.params.customer)
    )
    statuses = dict(in_scope["status"].value_counts().sort("status").iter_rows())
    exceptions = dict(result.exceptions["kind"].value_counts().sort("kind").iter_rows())
    top = result.changes.select("number", "hierarchy", "change", "old_status", "new_status", "new_usage").head(10).to_dicts()
    return AuditSummary(
        plan.params.audit_id, plan.params.customer, plan.params.mode, plan.params.sites, plan.params.as_of,
        plan.request.dry_run, state, counts, statuses, exceptions, top,
    )


def _run_row(plan: AuditPlan, summary: AuditSummary) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "audit_id": plan.params.audit_id,
                "customer": plan.params.customer,
                "mode": plan.params.mode,
                "sites": ",".join(plan.request.sites) if plan.request.sites else "all",
                "as_of": plan.params.as_of,
                "dry_run": plan.request.dry_run,
                "forced": plan.request.force,
                "started_at": plan.started_at,
                "finished_at": utc_now(),
                "state": summary.state,
                **{k: summary.counts.get(k, 0) for k in ("added", "updated", "released", "cooled", "unchanged", "exceptions")},
                "message": summary.message,
                "snapshot_id": None,
            }
        ],
        schema=AUDIT_RUNS,
    )


def _scope_filter(params: AuditParams) -> tuple[str, list[Any]]:
    if params.mode == "site":
        return f"hierarchy IN ({', '.join('?' for _ in params.sites) or 'NULL'})", list(params.sites)
    return "(hierarchy = ? OR starts_with(hierarchy, ?))", [params.customer, params.customer + "."]


def _customer_node(nodes: pl.DataFrame, path: str) -> dict[str, Any]:
    found = nodes.filter(pl.col("path") == path)
    if found.is_empty():
        raise AuditRefused(f"{path!r} is not a node of the hierarchy (load its estate first)")
    node = found.row(0, named=True)
    if node["kind"] != "customer":
        above = [p for p in _ancestors(path) if p in set(nodes.filter(pl.col("kind") == "customer")["path"])]
        hint = f" (its customer is {above[-1]})" if above else ""
        raise AuditRefused(f"{path} is a {node['kind']}, not a customer: choose a customer node{hint}")
    return node


def _sites_in_scope(subtree: pl.DataFrame, request: AuditRequest) -> tuple[str, ...]:
    all_sites = subtree.filter(pl.col("kind") == "site")["path"].to_list()
    if request.mode == "customer":
        if request.sites:
            raise AuditRefused("--site applies to site mode only (use --mode site)")
        return tuple(sorted(all_sites))
    if not request.sites:
        return tuple(sorted(all_sites))
    if len(request.sites) > MAX_SITES:
        raise AuditRefused(f"at most {MAX_SITES} specific sites can be audited at once; {len(request.sites)} were given")
    # A site is named by its full path or relative to the customer (`London`, `EMEA.London`).
    known = set(all_sites)
    chosen = [s if s in known else f"{request.customer}.{s}" for s in request.sites]
    strangers = [given for given, path in zip(request.sites, chosen, strict=True) if path not in known]
    if strangers:
        raise AuditRefused(f"{_some(strangers)} is not a site under customer {request.customer}")
    return tuple(sorted(set(chosen)))


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _some(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")

