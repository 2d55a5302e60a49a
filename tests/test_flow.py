"""The audit as a Prefect flow run: same result as the stages, summary published as a
table artifact the dashboard shows. One temporary Prefect server for the whole session."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from flows.audit import artifact_key, audit_flow, nightly_flow
from numaudit.auditing import AuditGuardRefused
from numaudit.estate import load_estate
from storage.lake import Warehouse


@pytest.mark.usefixtures("prefect_harness")
def test_audit_flow_writes_and_publishes_its_summary(tmp_path: Path, estate: Path) -> None:
    home = tmp_path / "warehouse"
    with Warehouse(home) as lake:
        load_estate(lake, estate)
    summary = audit_flow(customer="sys.prov.Acme", as_of=date(2026, 11, 22), warehouse=str(home))
    assert summary.state == "completed"
    assert summary.counts["added"] == 2 and summary.counts["released"] == 2
    with Warehouse(home, read_only=True) as lake:
        assert lake.read("audit_runs")["audit_id"].to_list() == [summary.audit_id]

    rows = published_table(artifact_key("sys.prov.Acme"), summary.audit_id)
    assert {"measure": "change: added", "count": 2} in rows
    assert {"measure": "exception: bad_number", "count": 1} in rows


@pytest.mark.usefixtures("prefect_harness")
def test_nightly_flow_audits_each_customer_and_publishes_each_summary(tmp_path: Path, estate: Path) -> None:
    home = tmp_path / "warehouse"
    with Warehouse(home) as lake:
        load_estate(lake, estate)

    (summary,) = nightly_flow(as_of=date(2026, 11, 22), warehouse=str(home))

    assert (summary.customer, summary.state, summary.counts["added"]) == ("sys.prov.Acme", "completed", 2)
    rows = published_table(artifact_key("sys.prov.Acme"), summary.audit_id)
    assert {"measure": "change: released", "count": 2} in rows


@pytest.mark.usefixtures("prefect_harness")
def test_a_refused_audit_publishes_its_summary_and_fails_the_flow_run(tmp_path: Path, estate: Path) -> None:
    home = tmp_path / "warehouse"
    strict = estate.read_text().replace("max_release_fraction = 1.0", "max_release_fraction = 0.10")
    estate.write_text(strict)
    with Warehouse(home) as lake:
        load_estate(lake, estate)

    with pytest.raises(AuditGuardRefused) as refused:
        audit_flow(customer="sys.prov.Acme", as_of=date(2026, 11, 22), warehouse=str(home))

    with Warehouse(home, read_only=True) as lake:
        [run] = lake.read("audit_runs").to_dicts()
    assert run["state"] == "refused" and run["message"] == str(refused.value)
    assert {"measure": "change: released", "count": 0} in published_table(artifact_key("sys.prov.Acme"), run["audit_id"])


def published_table(key: str, audit_id: str) -> list[dict[str, object]]:
    """The newest table artifact under `key`, read over the API as the dashboard reads it.
    (Prefect 3.8's client sends nulls this server version rejects, so the body is explicit.)"""
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 1, "offset": 0, "flow_runs": {}, "task_runs": {}}
    response = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    [artifact] = response.json()
    assert artifact["type"] == "table" and audit_id in artifact["description"]
    data = artifact["data"]
    return data if isinstance(data, list) else json.loads(data)


def test_artifact_key_is_a_valid_prefect_key() -> None:
    assert artifact_key("sys.Demo-Prov.Acme Corp") == "audit-sys-demo-prov-acme-corp"
