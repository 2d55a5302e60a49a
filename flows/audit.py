"""Audits as Prefect flows: each stage a task, each customer's summary a table artifact.

`numaudit-audit` audits one customer; `numaudit-nightly` audits every customer with number
management enabled, in batches (one vectorised pass and one commit each), and isolates
failures: a customer whose data breaks the audit fails alone, the night goes on.

Tasks receive the open warehouse and in-memory frames, so none of them is cached.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from numaudit.auditing import (
    AuditPlan,
    AuditRequest,
    AuditSummary,
    Stages,
    compute,
    judge_release,
    plan_audits,
    raise_for_state,
    run_audits,
    validate,
    write_back,
)
from numaudit.nightly import DEFAULT_BATCH_ROWS, plan_night
from storage.lake import Warehouse
from transforms.audit import AuditResult
from transforms.guard import GuardVerdict


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(warehouse: Warehouse, requests: list[AuditRequest]) -> AuditPlan:
    return plan_audits(warehouse, requests)


@task(name="compute", cache_policy=NO_CACHE)
def compute_task(plan: AuditPlan) -> AuditResult:
    return compute(plan)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(plan: AuditPlan, result: AuditResult) -> dict[str, str]:
    return validate(plan, result)


@task(name="guard", cache_policy=NO_CACHE)
def guard_task(plan: AuditPlan, result: AuditResult) -> dict[str, GuardVerdict]:
    return judge_release(plan, result)


@task(name="write back", cache_policy=NO_CACHE)
def write_task(
    warehouse: Warehouse, plan: AuditPlan, result: AuditResult, verdicts: dict[str, GuardVerdict], failures: dict[str, str]
) -> list[AuditSummary]:
    return write_back(warehouse, plan, result, verdicts, failures)


TASK_STAGES = Stages(plan_task, compute_task, validate_task, guard_task, write_task)  # type: ignore[arg-type]


@task(name="publish summary", cache_policy=NO_CACHE)
def publish_task(summaries: list[AuditSummary]) -> None:
    for summary in summaries:
        rows = [{"measure": f"change: {k}", "count": v} for k, v in summary.counts.items()]
        rows += [{"measure": f"status: {k}", "count": v} for k, v in summary.statuses.items()]
        rows += [{"measure": f"exception: {k}", "count": v} for k, v in summary.exceptions.items()]
        create_table_artifact(
            key=artifact_key(summary.customer),
            table=rows,
            description=(
                f"Audit {summary.audit_id} of {summary.customer} ({summary.mode} mode, as of {summary.as_of})"
                f"{' — dry run' if summary.dry_run else ''}: {summary.state}"
                + (f" — {summary.message}" if summary.state != "completed" else "")
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
    """One customer's audit. A refused or failed audit publishes its summary, then fails the
    flow run, so the dashboard shows it."""
    if mode not in ("customer", "site"):
        raise ValueError(f"mode must be customer or site, not {mode!r}")
    request = AuditRequest(customer, mode, tuple(sites or ()), as_of, dry_run, force)  # type: ignore[arg-type]
    with Warehouse(Path(warehouse)) as lake:
        (summary,) = run_audits(lake, [request], TASK_STAGES)
    publish_task([summary])
    raise_for_state(summary)
    return summary


@flow(name="numaudit-nightly", flow_run_name="nightly audit {as_of}")
def nightly_flow(
    as_of: date | None = None,
    dry_run: bool = False,
    warehouse: str = "warehouse",
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> list[AuditSummary]:
    """Every customer with number management enabled and loaded sources (site mode where a
    Site-Location-Code dial plan allows no other), in batches of about `batch_rows` staged
    rows. Releases expired cooling as part of each audit (SPEC 4.3 rule 6)."""
    summaries: list[AuditSummary] = []
    with Warehouse(Path(warehouse)) as lake:
        night = plan_night(lake, as_of, dry_run, batch_rows)
        for customer, reason in night.skipped.items():
            get_run_logger().warning("not audited: %s: %s", customer, reason)
        for batch in night.batches:
            summaries += run_audits(lake, batch, TASK_STAGES)
    publish_task(summaries)
    return summaries
