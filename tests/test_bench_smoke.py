"""The benchmark runs end to end at a tiny size, and its figures describe a correct audit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.audit import main

SUMMARY = re.compile(
    r"^numbers=2000 customers=2 load_s=\d+\.\d\d audit_s=\d+\.\d\d validate_s=\d+\.\d\d "
    r"write_s=\d+\.\d\d total_s=\d+\.\d\d peak_rss_mb=\d+$"
)


def test_benchmark_runs_at_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = main(["--numbers", "2000", "--customers", "2", "--sites", "4", "--keep", str(tmp_path / "bench")])

    lines = capsys.readouterr().out.strip().splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    estate = result.estate
    first, second = result.nights
    # The second night reloaded changed sources, and the audit acted on them.
    assert estate.changes["removed_numbers"] > 0 and estate.changes["moved_numbers"] > 0
    assert second.counts["released"] + second.counts["cooled"] > 0
    assert second.counts["updated"] + second.counts["added"] > 0
    assert first.counts["added"] == estate.expected_added[1]
    assert second.counts["added"] == estate.expected_added[2]
    # Warehouse: every entry kept once, nothing deleted, the usage tab holds night 2's usages.
    counts = result.warehouse
    expected_entries = estate.inventory_rows + estate.expected_added[1] + estate.expected_added[2]
    assert counts["number_inventory"] == counts["number_inventory_keys"] == expected_entries
    assert counts["number_usage"] == estate.landing_usages[2]
    assert counts["staged_usages"] == estate.usage_rows[2]
    assert counts["staged_vendor_numbers"] == estate.vendor_number_rows
    assert counts["audit_runs"] == 2 * len(estate.customers)
    assert counts["audit_exceptions"] == first.counts["exceptions"] + second.counts["exceptions"]
