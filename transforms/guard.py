"""SPEC 4.8 safety guard: refuse an audit that would free too many used numbers.

An empty or truncated extract looks exactly like "every number was freed". Before anything
is written the audit asks `judge` whether what it would free is plausible:

- freed = entries whose status goes from Used / Used-Utility to Available or Cooling;
- used = entries in scope that were Used / Used-Utility before the audit;
- the audit is refused when freed > 0 and freed / used > max_release_fraction, unless forced.

To explain a refusal, the customer's latest load of each source is compared with the load
that was in force at the customer's last completed (not dry-run) audit, source by source
(usage rows + vendor-number rows): a source that went to 0 rows is *empty*, one that lost
more than half its rows (from at least `MIN_ROWS_TO_SHRINK`) *shrank*, one no longer loaded
is *gone*. These never refuse on their own; the fraction decides.

Pure: frames and numbers in, a verdict out. `numaudit.auditing.guard` does the reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

USED = ("Used", "Used-Utility")
FREE = ("Available", "Cooling")
DEFAULT_MAX_RELEASE_FRACTION = 0.10
SHRINK_BELOW = 0.5  # a source "shrank" when it has less than half its rows of the last audit
MIN_ROWS_TO_SHRINK = 10  # ... and had at least this many (tiny sources vary naturally)


@dataclass(frozen=True)
class SourceDrop:
    source: str
    kind: str
    rows_now: int | None  # None: the source is no longer loaded at all
    rows_before: int

    def describe(self) -> str:
        what = "vendor numbers" if "vendor" in self.kind else "usages"
        if self.rows_now is None:
            return f"source '{self.source}' is no longer loaded ({self.rows_before:,} {what} at the last audit)"
        return f"source '{self.source}' has {self.rows_now:,} {what} ({self.rows_before:,} at the last audit)"


@dataclass(frozen=True)
class GuardVerdict:
    freed: int
    used: int
    max_release_fraction: float
    forced: bool
    empty: list[SourceDrop] = field(default_factory=list)
    shrunk: list[SourceDrop] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return self.freed / self.used if self.used else (1.0 if self.freed else 0.0)

    @property
    def above(self) -> bool:
        """The audit would free more than the setting allows (forced or not)."""
        return self.freed > 0 and self.fraction > self.max_release_fraction

    @property
    def refused(self) -> bool:
        return self.above and not self.forced

    def findings(self) -> str:
        text = (
            f"this audit would free {self.freed:,} of {self.used:,} used numbers "
            f"({self.fraction:.1%}, {'above' if self.above else 'within'} max_release_fraction "
            f"{_percent(self.max_release_fraction)})"
        )
        drops = [d.describe() for d in self.empty + self.shrunk]
        return text + ("; " + "; ".join(drops) if drops else "")

    def message(self) -> str:
        """What the audit_runs row and the operator are told."""
        if self.refused:
            return self.findings() + ". Nothing was changed. Check the extract, or run again with --force."
        if self.above:
            return "forced past the safety guard: " + self.findings() + "."
        return "safety guard passed: " + self.findings() + "."


def judge(
    changes: pl.DataFrame,
    used_before: int,
    max_release_fraction: float | None,
    latest_loads: pl.DataFrame,
    baseline_loads: pl.DataFrame,
    force: bool = False,
) -> GuardVerdict:
    """The guard's verdict on an audit's NUMBER_CHANGES (old_status/new_status columns)."""
    return judge_counts(changes.filter(frees()).height, used_before, max_release_fraction, latest_loads, baseline_loads, force)


def frees() -> pl.Expr:
    """A NUMBER_CHANGES row that frees a used number."""
    return pl.col("old_status").is_in(USED) & pl.col("new_status").is_in(FREE)


def freed_by_audit(changes: pl.DataFrame) -> dict[str, int]:
    """Per audit_id of NUMBER_CHANGES: entries that go from used to Available or Cooling."""
    freed = changes.filter(frees())
    return {str(audit_id): int(n) for audit_id, n in freed.group_by("audit_id").len().iter_rows()}


def judge_counts(
    freed: int,
    used_before: int,
    max_release_fraction: float | None,
    latest_loads: pl.DataFrame,
    baseline_loads: pl.DataFrame,
    force: bool = False,
) -> GuardVerdict:
    """The guard's verdict on `freed` of `used_before` used numbers."""
    limit = DEFAULT_MAX_RELEASE_FRACTION if max_release_fraction is None else float(max_release_fraction)
    empty, shrunk = source_drops(latest_loads, baseline_loads)
    return GuardVerdict(int(freed), int(used_before), limit, force, empty, shrunk)


def source_drops(latest: pl.DataFrame, baseline: pl.DataFrame) -> tuple[list[SourceDrop], list[SourceDrop]]:
    """Sources that went empty (or are gone) and sources that shrank, latest vs baseline."""
    now = _rows_by_source(latest)
    before = _rows_by_source(baseline)
    empty: list[SourceDrop] = []
    shrunk: list[SourceDrop] = []
    for source, (kind, rows_before) in sorted(before.items()):
        if rows_before <= 0:
            continue
        if source not in now:
            empty.append(SourceDrop(source, kind, None, rows_before))
            continue
        rows_now = now[source][1]
        if rows_now == 0:
            empty.append(SourceDrop(source, kind, 0, rows_before))
        elif rows_before >= MIN_ROWS_TO_SHRINK and rows_now < rows_before * SHRINK_BELOW:
            shrunk.append(SourceDrop(source, kind, rows_now, rows_before))
    return empty, shrunk


def latest_and_baseline(loads: pl.DataFrame, last_audit_at: datetime | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a customer's SOURCE_LOADS into its latest load and the load to compare it with.

    The baseline is the load in force at the last completed audit (the newest load committed
    no later than that audit started); with no completed audit yet, the load before the latest.
    When no load came after the last audit, the baseline is the latest load itself (nothing
    to compare).
    """
    if loads.is_empty():
        return loads, loads
    order = loads.group_by("load_id").agg(pl.col("loaded_at").max()).sort("loaded_at", "load_id")
    latest_id = order["load_id"][-1]
    if last_audit_at is not None:
        before = order.filter(pl.col("loaded_at") <= last_audit_at)
        base_id = before["load_id"][-1] if before.height else None
    else:
        base_id = order["load_id"][-2] if order.height > 1 else None
    latest = loads.filter(pl.col("load_id") == latest_id)
    baseline = loads.filter(pl.col("load_id") == base_id) if base_id is not None else loads.clear()
    return latest, baseline


def _rows_by_source(loads: pl.DataFrame) -> dict[str, tuple[str, int]]:
    rows: dict[str, tuple[str, int]] = {}
    for row in loads.iter_rows(named=True):
        count = int(row["usage_rows"] or 0) + int(row["vendor_number_rows"] or 0)
        kind = str(row.get("kind") or "")
        previous = rows.get(row["source"], (kind, 0))[1]
        rows[row["source"]] = (kind, previous + count)
    return rows


def _percent(value: float) -> str:
    return f"{value * 100:g}%"
