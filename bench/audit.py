"""Benchmark: generate an estate, load it, audit every customer twice (the second night after
~10% of the usages changed), and time each stage. Stages are called directly, no Prefect.

    python -m bench.audit --numbers 1000000 --customers 100 [--keep DIR]

The last line printed is the summary:

    numbers=N customers=C load_s=… audit_s=… validate_s=… write_s=… total_s=… peak_rss_mb=…

load_s, audit_s (plan_audit + compute), validate_s (validate, and the SPEC 4.8 guard when the
product has one) and write_s are summed over the customers and over both nights; total_s is the wall time of everything after generation (opening the
warehouse, both loads, both audits, the count checks). The estate is generated in a child
process, so peak_rss_mb is the benchmark process's peak: the loads and the audits.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import Estate, generate, night_dates
from numaudit import auditing
from numaudit.auditing import AuditRequest, compute, plan_audit, validate, write_back
from numaudit.estate import load_estate
from storage.lake import Warehouse

# The SPEC 4.8 mass-release guard runs between validate and write back when the product has
# it (run_audit's order); its time is counted in validate_s and shown on its own per night.
GUARD: Callable[..., Any] | None = getattr(auditing, "guard", None)
STAGES = ("load", "plan", "compute", "validate", "guard", "write")


@dataclass
class Night:
    number: int
    seconds: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    slowest: dict[str, tuple[float, str]] = field(default_factory=dict)

    def add(self, stage: str, seconds: float, customer: str) -> None:
        self.seconds[stage] += seconds
        if seconds > self.slowest.get(stage, (-1.0, ""))[0]:
            self.slowest[stage] = (seconds, customer)


@dataclass
class Result:
    numbers: int
    customers: int
    generate_s: float
    nights: list[Night]
    total_s: float
    peak_rss_mb: float
    warehouse: dict[str, int]
    estate: Estate

    def stage(self, name: str) -> float:
        return sum(n.seconds[name] for n in self.nights)

    def summary_line(self) -> str:
        return (
            f"numbers={self.numbers} customers={self.customers} load_s={self.stage('load'):.2f} "
            f"audit_s={self.stage('plan') + self.stage('compute'):.2f} "
            f"validate_s={self.stage('validate') + self.stage('guard'):.2f} "
            f"write_s={self.stage('write'):.2f} total_s={self.total_s:.2f} peak_rss_mb={self.peak_rss_mb:.0f}"
        )


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who).ru_maxrss  # KiB on Linux, bytes on macOS
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def generate_apart(folder: Path, numbers: int, customers: int, sites: int, seed: int) -> Estate:
    """Generate in a child process, so that peak_rss_mb measures the load and the audits only."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(generate, folder, numbers, customers, sites, seed).result()


def run_night(warehouse: Warehouse, estate: Estate, night: int, files: dict[str, Path]) -> Night:
    """Load every customer's sources, then audit every customer in customer mode."""
    result = Night(night)
    as_of = night_dates(estate.as_of)[night - 1]
    for customer, file in files.items():
        started = time.perf_counter()
        load_estate(warehouse, file)
        result.add("load", time.perf_counter() - started, customer)
    for customer in files:
        t0 = time.perf_counter()
        plan = plan_audit(warehouse, AuditRequest(customer=customer, mode="customer", as_of=as_of))
        t1 = time.perf_counter()
        audited = compute(plan)
        t2 = time.perf_counter()
        validate(plan, audited)
        t3 = time.perf_counter()
        verdict = None if GUARD is None else GUARD(warehouse, plan, audited)
        t4 = time.perf_counter()
        summary = (
            write_back(warehouse, plan, audited) if GUARD is None else write_back(warehouse, plan, audited, verdict)
        )
        t5 = time.perf_counter()
        for stage, seconds in zip(STAGES[1:], (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            result.add(stage, seconds, customer)
        result.counts.update({k: v for k, v in summary.counts.items()})
        result.counts["entries_in_scope"] += audited.in_scope
        result.counts["usage_links"] += audited.usage_links.height
        result.counts.update({f"exception:{k}": v for k, v in summary.exceptions.items()})
    return result


def warehouse_counts(warehouse: Warehouse) -> dict[str, int]:
    tables = (
        "number_inventory",
        "number_usage",
        "number_changes",
        "audit_runs",
        "audit_exceptions",
        "staged_usages",
        "staged_vendor_numbers",
    )
    counts = {t: int(warehouse.query(f"SELECT count(*) AS n FROM {t}")["n"][0]) for t in tables}
    keys = warehouse.query("SELECT count(*) AS n FROM (SELECT DISTINCT number, hierarchy FROM number_inventory)")
    counts["number_inventory_keys"] = int(keys["n"][0])
    return counts


def run(folder: Path, numbers: int, customers: int, sites: int = 20, seed: int = 7, echo: bool = True) -> Result:
    say = print if echo else (lambda *_: None)
    started = time.perf_counter()
    estate = generate_apart(folder / "estates", numbers, customers, sites, seed)
    generate_s = time.perf_counter() - started
    say(
        f"generated {len(estate.customers)} estates in {generate_s:.2f}s: {estate.inventory_rows} entries, "
        f"{estate.usage_rows[1]} usages night 1, {estate.usage_rows[2]} night 2 ({estate.changes}), "
        f"{estate.vendor_number_rows} Teams numbers; generator peak_rss_mb={peak_rss_mb(resource.RUSAGE_CHILDREN):.0f}"
    )
    started = time.perf_counter()
    nights = []
    with Warehouse(folder / "warehouse") as warehouse:
        for night, files in ((1, estate.files), (2, estate.night2_files)):
            nights.append(run_night(warehouse, estate, night, files))
            report(nights[-1], say)
        counts = warehouse_counts(warehouse)
    total_s = time.perf_counter() - started
    return Result(numbers, customers, generate_s, nights, total_s, peak_rss_mb(), counts, estate)


def report(night: Night, say: Any) -> None:
    stages = " ".join(f"{s}={night.seconds[s]:.2f}s" for s in STAGES)
    slowest = " ".join(f"{s}={night.slowest[s][0]:.2f}s" for s in STAGES if s in night.slowest)
    counts = " ".join(f"{k}={v}" for k, v in sorted(night.counts.items()))
    say(f"night {night.number}: {stages}")
    say(f"night {night.number} slowest customer: {slowest}")
    say(f"night {night.number} counts: {counts}")
    say(f"night {night.number} peak_rss_mb={peak_rss_mb():.0f}")


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--sites", type=int, default=20, help="sites per customer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="generate and keep the estates and the warehouse in DIR")
    args = parser.parse_args(argv)
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
        folder = args.keep
    else:
        folder = Path(tempfile.mkdtemp(prefix="numaudit-bench-"))
    try:
        result = run(folder, args.numbers, args.customers, args.sites, args.seed)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print("warehouse: " + " ".join(f"{k}={v}" for k, v in result.warehouse.items()))
    print(result.summary_line(), flush=True)
    return result


if __name__ == "__main__":
    main()
