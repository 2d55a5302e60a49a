"""The audit as a Prefect flow: each stage a task, the summary a table artifact.

Tasks receive the open warehouse and in-memory frames, so none of them is cached.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from numaudit.auditing import (
    AuditPlan,
    AuditRequest,
    AuditSummary,
    compute,
    guard,
    plan_audit,
    record_failure,
    validate,
    write_back,
)
from schemas.models import InvariantError
from storage.lake import Warehouse
from transforms.audit import AuditResult
from transforms.guard import GuardVerdict


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(warehouse: Warehouse, request: AuditRequest) -> AuditPlan:
    return plan_audit(warehouse, request)


@task(name="compute", cache_policy=NO_CACHE)
def compute_task(plan: AuditPlan) -> AuditResult:
    return compute(plan)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(plan: AuditPlan, result: AuditResult) -> None:
    validate(plan, result)


@task(name="guard", cache_policy=NO_CACHE)
def guard_task(warehouse: Warehouse, plan: AuditPlan, result: AuditResult) -> GuardVerdict:
    return guard(warehouse, plan, result)


@task(name="write back", cache_policy=NO_CACHE)
def write_task(warehouse: Warehouse, plan: AuditPlan, result: AuditResult, verdict: GuardVerdict | None = None) -> AuditSummary:
    return write_back(warehouse, plan, result, verdict)


@task(name="publish summary", cache_policy=NO_CACHE)
def publish_task(summary: AuditSummary) -> None:
    rows = [{"measure": f"change: {k}", "count": v} for k, v in summary.counts.items()]
    rows += [{"measure": f"status: {k}", "count": v} for k, v in summary.statuses.items()]
    rows += [{"measure": f"exception: {k}", "count": v} for k, v in summary.exceptions.items()]
    create_table_artifact(
        key=artifact_key(summary.customer),
        table=rows,
        description=(
            f"Audit {summary.audit_id} of {summary.customer} ({summary.mode} mode, as of {summary.as_of})"
            f"{' — dry run' if summary.dry_run else ''}: {summary.state}"
        ),
    )


def artifact_key(customer: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes."""
    return "audit-" + re.sub(r"[^a-z0-9-]+", "-", customer.lower()).strip("-")


@flow(name="numaudit-audit", flow_run_name="audit {customer} ({mode})")
def audit_flow(
    customer: str,
    mode: str = "customer",
    sites: list[str] | None = None,
    as_of: date | None = None,
    dry_run: bool = False,
    force: bool = False,
    warehouse: str = "warehouse",
) -> AuditSummary:
    if mode not in ("customer", "site"):
        raise ValueError(f"mode must be customer or site, not {mode!r}")
    request = AuditRequest(customer, mode, tuple(sites or ()), as_of, dry_run, force)  # type: ignore[arg-type]
    with Warehouse(Path(warehouse)) as lake:
        plan = plan_task(lake, request)
        try:
            result = compute_task(plan)
            validate_task(plan, result)
            verdict = guard_task(lake, plan, result)
            summary = write_task(lake, plan, result, verdict)
        except InvariantError as error:
            record_failure(lake, plan, str(error))
            raise
    publish_task(summary)
    return summary
