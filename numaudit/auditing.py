"""Audits, stage by stage: plan (refusals of SPEC 4.1 and reads), compute (pure transforms),
validate (SPEC 2 invariants), guard (SPEC 4.8 mass-release check), write back (one
transaction, SPEC 4.9).

Every stage takes a batch of audits (one per customer): a single audit is a batch of one,
and the nightly job audits all its customers in a few batches, each one vectorised pass and
one commit, while each customer's audit keeps its own id, verdict, counts and runs row. A
customer whose result breaks an invariant, or whom the guard refuses, gets a `failed` or
`refused` runs row and nothing else; the others of the batch are written.

The Prefect flows wrap each stage in a task; the benchmark and tests call them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import polars as pl

from numaudit.ids import new_id, utc_now
from schemas.models import InvariantError, InventoryModel, violations
from schemas.tables import AUDIT_RUNS
from storage.lake import Warehouse, tree_nodes
from transforms.audit import AuditInputs, AuditParams, AuditResult, audit_batch, under
from transforms.guard import GuardVerdict, freed_by_audit, judge_counts, latest_and_baseline

MAX_SITES = 200
COUNT_KINDS = ("added", "updated", "released", "cooled", "unchanged", "exceptions")


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
class CustomerAudit:
    """One customer's audit within a batch."""

    request: AuditRequest
    params: AuditParams
    settings: dict[str, Any]
    loads: pl.DataFrame  # the customer's SOURCE_LOADS, every load (for the guard)
    last_audit_at: datetime | None  # start of the customer's last completed, non-dry-run audit


@dataclass
class AuditPlan:
    audits: list[CustomerAudit]
    inputs: AuditInputs
    entries: pl.DataFrame  # the customers' trees as read (to check what the audits add)
    nodes: list[str]  # the hierarchy nodes of those trees: the customers, below and above them
    started_at: datetime

    @property
    def params(self) -> list[AuditParams]:
        return [a.params for a in self.audits]


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
    verdict: GuardVerdict | None = None
    error: Exception | None = None  # why a failed audit failed (run_audit raises it)


def plan_audit(warehouse: Warehouse, request: AuditRequest) -> AuditPlan:
    return plan_audits(warehouse, [request])


def plan_audits(warehouse: Warehouse, requests: Sequence[AuditRequest], *, now: datetime | None = None) -> AuditPlan:
    """Check each request against SPEC 4.1 (the first refusal stops the batch: nothing is
    written) and read what the audits need, a table at a time for the whole batch."""
    if not requests:
        raise AuditRefused("no customer to audit")
    customers = [r.customer for r in requests]
    if len(set(customers)) != len(customers):
        raise AuditRefused("a customer can be audited only once per batch")
    nodes = warehouse.read("hierarchy")
    loaded = set(warehouse.query("SELECT DISTINCT customer FROM source_loads")["customer"].to_list())
    sites = {r.customer: check_request(nodes, r, loaded) for r in requests}
    now = now or utc_now()
    settings = {row["customer"]: row for row in warehouse.read_in("settings", "customer", customers).iter_rows(named=True)}
    loads = warehouse.read_in("source_loads", "customer", customers).partition_by("customer", as_dict=True)
    last_audits = dict(
        warehouse.query(
            "SELECT customer, max(started_at) AS at FROM audit_runs "
            "WHERE state = 'completed' AND NOT dry_run GROUP BY customer"
        ).iter_rows()
    )
    audits = []
    for request in requests:
        setting = settings.get(request.customer, {})
        params = AuditParams(
            audit_id=new_id("A"),
            customer=request.customer,
            mode=request.mode,
            sites=sites[request.customer],
            as_of=request.as_of or now.date(),
            now=now,
            cooling_enabled=bool(setting.get("cooling_enabled", False)),
            cooling_days=int(setting.get("cooling_days", 30)),
            audiocodes_cooling_days=int(setting.get("audiocodes_cooling_days", 2)),
        )
        customer_loads = loads.get((request.customer,), pl.DataFrame())
        audits.append(CustomerAudit(request, params, setting, customer_loads, last_audits.get(request.customer)))
    if len({a.params.as_of for a in audits}) > 1:
        raise AuditRefused("the audits of one batch share as_of")
    tree = tree_nodes(nodes["path"].to_list(), customers)
    entries = warehouse.read_in("number_inventory", "hierarchy", tree)
    inputs = AuditInputs(
        entries=entries.lazy(),
        usages=warehouse.read_in("staged_usages", "customer", customers).lazy(),
        vendor_numbers=warehouse.read_in("staged_vendor_numbers", "customer", customers).lazy(),
        e164=warehouse.read_in("staged_e164", "customer", customers).lazy(),
    )
    return AuditPlan(audits, inputs, entries, tree, now)


def check_request(nodes: pl.DataFrame, request: AuditRequest, loaded: set[str]) -> tuple[str, ...]:
    """SPEC 4.1 refusals; returns the sites in scope."""
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
    if request.customer not in loaded:
        raise AuditRefused(
            f"no source has been loaded for customer {request.customer}: run `numaudit load ESTATE.toml` first"
        )
    return sites


def compute(plan: AuditPlan) -> AuditResult:
    return audit_batch(plan.inputs, plan.params)


def validate(plan: AuditPlan, result: AuditResult) -> dict[str, str]:
    """SPEC 2 invariants on what the audits would write: customer -> why its write is refused.

    Every written row is checked. Unchanged rows were checked when they were written; an
    added row can only clash with entries of its own number, so those are checked with it.
    """
    added = result.changes.filter(pl.col("change") == "added").select("number").unique()
    around = plan.entries.join(added, on="number", how="semi").join(result.written, on=["number", "hierarchy"], how="anti")
    checked = pl.concat([result.written, around.select(result.written.columns)])
    problems: dict[str, list[str]] = {}
    for violation in violations(InventoryModel, checked):
        row = checked.row(violation.row, named=True) if violation.row is not None else {}
        where = f"{violation.check} at number {row.get('number')!r}, hierarchy {row.get('hierarchy')!r}"
        owner = _owner(plan, row.get("hierarchy"))
        for audit in [owner] if owner else plan.audits:  # a clash no customer owns fails them all
            problems.setdefault(audit.params.customer, []).append(where)
    return {
        customer: f"audit {_audit_of(plan, customer).params.audit_id} would break an inventory invariant "
        f"({found[0]}); nothing was written" + (f" ({len(found)} violations in all)" if len(found) > 1 else "")
        for customer, found in problems.items()
    }


def judge_release(plan: AuditPlan, result: AuditResult) -> dict[str, GuardVerdict]:
    """SPEC 4.8 verdict per customer (no reads, no writes)."""
    freed = freed_by_audit(result.changes)
    used = dict(result.per_customer.select("customer", "used_before").iter_rows())
    verdicts = {}
    for audit in plan.audits:
        loads = audit.loads
        latest, baseline = latest_and_baseline(loads, audit.last_audit_at) if not loads.is_empty() else (loads, loads)
        verdicts[audit.request.customer] = judge_counts(
            int(freed.get(audit.params.audit_id, 0)),
            int(used.get(audit.request.customer, 0)),
            audit.settings.get("max_release_fraction"),
            latest,
            baseline,
            force=audit.request.force,
        )
    return verdicts


def write_back(
    warehouse: Warehouse,
    plan: AuditPlan,
    result: AuditResult,
    verdicts: dict[str, GuardVerdict],
    failures: dict[str, str] | None = None,
) -> list[AuditSummary]:
    """SPEC 4.9 for every audit of the batch, in one transaction: the completed audits'
    entries, usage links, changes and exceptions, and every audit's runs row. A dry run, a
    refused or a failed audit writes only its runs row."""
    summaries = summarise(plan, result, verdicts, failures or {})
    writing = [a for a, s in zip(plan.audits, summaries, strict=True) if s.state == "completed" and not a.request.dry_run]
    ids = [a.params.audit_id for a in writing]
    by_id = pl.col("audit_id").is_in(ids)
    written = result.written.filter(pl.col("last_audit_id").is_in(ids))
    scope = scope_nodes(plan, writing)
    extra = {"audit_ids": [a.params.audit_id for a in plan.audits]}
    message = f"audit {plan.audits[0].params.customer}" if len(plan.audits) == 1 else f"audit {len(plan.audits)} customers"
    with warehouse.transaction(message, extra) as tx:
        if writing:
            before = tx.count("number_inventory")
            added = sum(s.counts["added"] for s in summaries if s.audit_id in ids)
            # Rewrite changed rows: delete their keys, insert their new state (added keys
            # match nothing). The row count check below proves nothing was lost.
            tx.delete_keys("number_inventory", written.select("number", "hierarchy"))
            tx.append("number_inventory", written)
            if tx.count("number_inventory") < before + added:
                raise InvariantError("the audits would lose entries; nothing was written")
            tx.delete_in("number_usage", "hierarchy", scope)
            tx.append("number_usage", result.usage_links.filter(pl.col("hierarchy").is_in(scope)))
            tx.append("number_changes", result.changes.filter(by_id))
            tx.append("audit_exceptions", result.exceptions.filter(by_id))
        tx.append("audit_runs", pl.concat([_run_row(a, s, plan.started_at) for a, s in zip(plan.audits, summaries, strict=True)]))
    return summaries


def summarise(plan: AuditPlan, result: AuditResult, verdicts: dict[str, GuardVerdict], failures: dict[str, str]) -> list[AuditSummary]:
    """Each audit's state, counts, statuses after the audit, exceptions and top changes."""
    changes = result.changes.partition_by("audit_id", as_dict=True)
    exceptions = result.exceptions.partition_by("audit_id", as_dict=True)
    statuses = result.statuses.partition_by("customer", as_dict=True)
    unchanged = dict(result.per_customer.select("customer", "unchanged").iter_rows())
    summaries = []
    for audit in plan.audits:
        params = audit.params
        if params.customer in failures:
            summaries.append(_failed(audit, failures[params.customer], InvariantError(failures[params.customer])))
            continue
        verdict = verdicts[params.customer]
        mine = changes.get((params.audit_id,), result.changes.clear())
        found = exceptions.get((params.audit_id,), result.exceptions.clear())
        kinds = dict(mine["change"].value_counts().iter_rows())
        counts = {k: int(kinds.get(k, 0)) for k in ("added", "updated", "released", "cooled")}
        counts.update(unchanged=int(unchanged.get(params.customer, 0)), exceptions=found.height)
        refused = verdict.refused and not audit.request.dry_run
        summaries.append(
            AuditSummary(
                params.audit_id, params.customer, params.mode, params.sites, params.as_of, audit.request.dry_run,
                state="refused" if refused else "completed",
                counts={k: 0 for k in COUNT_KINDS} if refused else counts,
                statuses=dict(statuses.get((params.customer,), result.statuses.clear()).select("status", "len").sort("status").iter_rows()),
                exceptions=dict(found["kind"].value_counts().sort("kind").iter_rows()),
                top_changes=mine.select("number", "hierarchy", "change", "old_status", "new_status", "new_usage").head(10).to_dicts(),
                message=("dry run; would be refused: " if verdict.refused and audit.request.dry_run else "") + verdict.message(),
                verdict=verdict,
            )
        )
    return summaries


def scope_nodes(plan: AuditPlan, audits: Sequence[CustomerAudit]) -> list[str]:
    """The nodes whose usage links the audits replace: in site mode the chosen sites, in
    customer mode the customer and every node below it."""
    customers = {a.params.customer for a in audits if a.params.mode == "customer"}
    sites = {site for a in audits if a.params.mode == "site" for site in a.params.sites}
    owned = [n for n in plan.nodes if any(".".join(n.split(".")[:i]) in customers for i in range(1, n.count(".") + 2))]
    return sorted(sites.union(owned))


@dataclass(frozen=True)
class Stages:
    """The stage functions a run calls: these plain ones, or the Prefect flows' tasks."""

    plan: Callable[[Warehouse, Sequence[AuditRequest]], AuditPlan]
    compute: Callable[[AuditPlan], AuditResult]
    validate: Callable[[AuditPlan, AuditResult], dict[str, str]]
    guard: Callable[[AuditPlan, AuditResult], dict[str, GuardVerdict]]
    write: Callable[[Warehouse, AuditPlan, AuditResult, dict[str, GuardVerdict], dict[str, str]], list[AuditSummary]]


def plain_stages() -> Stages:
    return Stages(plan_audits, compute, validate, judge_release, write_back)


def run_audits(warehouse: Warehouse, requests: Sequence[AuditRequest], stages: Stages | None = None) -> list[AuditSummary]:
    """All stages for a batch. One customer's bad result fails that customer only; an error
    in computing a batch reruns its customers one by one, so that it fails only the customer
    that caused it (its runs row says why)."""
    stages = stages or plain_stages()
    plan = stages.plan(warehouse, requests)
    try:
        result = stages.compute(plan)
    except Exception as error:  # isolated below, and recorded
        if len(requests) > 1:
            return [summary for request in requests for summary in run_audits(warehouse, [request], stages)]
        return [record_failure(warehouse, plan, f"the audit could not be computed: {error}", error)]
    failures = stages.validate(plan, result)
    return stages.write(warehouse, plan, result, stages.guard(plan, result), failures)


def run_audit(warehouse: Warehouse, request: AuditRequest) -> AuditSummary:
    """One customer's audit; raises AuditGuardRefused, InvariantError or the computation's
    error when its runs row says refused or failed."""
    (summary,) = run_audits(warehouse, [request])
    raise_for_state(summary)
    return summary


def raise_for_state(summary: AuditSummary) -> None:
    if summary.state == "refused" and summary.verdict is not None:
        raise AuditGuardRefused(summary.message, summary.verdict)
    if summary.state == "failed":
        raise summary.error or InvariantError(summary.message)


def record_failure(warehouse: Warehouse, plan: AuditPlan, message: str, error: Exception) -> AuditSummary:
    """A failed audit of one customer leaves its audit_runs row, and nothing else."""
    (audit,) = plan.audits
    summary = _failed(audit, message, error)
    with warehouse.transaction(f"audit {audit.params.customer} failed", {"audit_ids": [audit.params.audit_id]}) as tx:
        tx.append("audit_runs", _run_row(audit, summary, plan.started_at))
    return summary


def _failed(audit: CustomerAudit, message: str, error: Exception) -> AuditSummary:
    params = audit.params
    return AuditSummary(
        params.audit_id, params.customer, params.mode, params.sites, params.as_of, audit.request.dry_run,
        "failed", {k: 0 for k in COUNT_KINDS}, {}, {}, [], message, None, error,
    )


def _audit_of(plan: AuditPlan, customer: str) -> CustomerAudit:
    return next(a for a in plan.audits if a.params.customer == customer)


def _owner(plan: AuditPlan, hierarchy: str | None) -> CustomerAudit | None:
    if hierarchy is None:
        return None
    return next((a for a in plan.audits if hierarchy == a.request.customer or hierarchy.startswith(a.request.customer + ".")), None)


def _run_row(audit: CustomerAudit, summary: AuditSummary, started_at: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "audit_id": audit.params.audit_id,
                "customer": audit.params.customer,
                "mode": audit.params.mode,
                "sites": ",".join(audit.request.sites) if audit.request.sites else "all",
                "as_of": audit.params.as_of,
                "dry_run": audit.request.dry_run,
                "forced": audit.request.force,
                "started_at": started_at,
                "finished_at": utc_now(),
                "state": summary.state,
                **{k: summary.counts.get(k, 0) for k in COUNT_KINDS},
                "message": summary.message,
                "snapshot_id": None,
            }
        ],
        schema=AUDIT_RUNS,
    )


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
