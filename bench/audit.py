"""Benchmark: generate an estate, load it, audit every customer twice (the second night after
~10% of the usages changed), and time each stage. Stages are called directly, no Prefect.

    python -m bench.audit --numbers 1000000 --customers 100 [--keep DIR] [--batch-rows N]

Each night loads every customer's estate, then runs the nightly audit of all customers as
`numaudit nightly` does (batches of customers, one vectorised pass and one commit each).
A summary line is printed per night; the last line printed is the slower night's:

    numbers=N customers=C load_s=… audit_s=… validate_s=… write_s=… total_s=… peak_rss_mb=…

load_s (loading the estates), audit_s (plan: the reads, and compute), validate_s (validate and
the SPEC 4.8 guard) and write_s are summed over the night's customers and batches; total_s is
the night's wall time (night 1 includes opening the warehouse). The estate is generated in a
child process, so peak_rss_mb is the benchmark process's peak: the loads and the audits.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import Estate, generate, night_dates
from numaudit.auditing import compute, judge_release, plan_audits, validate, write_back
from numaudit.estate import load_estates
from numaudit.nightly import DEFAULT_BATCH_ROWS, plan_night
from storage.lake import Warehouse

# The SPEC 4.8 guard runs between validate and write back; its time is counted in validate_s
# and shown on its own per night.
STAGES = ("load", "plan", "compute", "validate", "guard", "write")


@dataclass
class Night:
    number: int
    total_s: float = 0.0
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
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
    peak_rss_mb: float
    warehouse: dict[str, int]
    estate: Estate

    def summary_line(self, night: Night | None = None) -> str:
        """One night's figures; by default the slower night's."""
        shown = night or max(self.nights, key=lambda n: n.total_s)
        seconds = shown.seconds
        return (
            f"numbers={self.numbers} customers={self.customers} load_s={seconds['load']:.2f} "
            f"audit_s={seconds['plan'] + seconds['compute']:.2f} "
            f"validate_s={seconds['validate'] + seconds['guard']:.2f} "
            f"write_s={seconds['write']:.2f} total_s={shown.total_s:.2f} peak_rss_mb={self.peak_rss_mb:.0f}"
        )


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who).ru_maxrss  # KiB on Linux, bytes on macOS
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


def generate_apart(folder: Path, numbers: int, customers: int, sites: int, seed: int) -> Estate:
    """Generate in a child process, so that peak_rss_mb measures the load and the audits only."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(generate, folder, numbers, customers, sites, seed).result()


def run_night(warehouse: Warehouse, estate: Estate, night: int, files: dict[str, Path], batch_rows: int) -> Night:
    """Load every customer's sources, then run the nightly audit of all of them (in batches,
    as `numaudit nightly` does), timing each stage."""
    night_started = time.perf_counter()
    result = Night(night)
    as_of = night_dates(estate.as_of)[night - 1]
    started = time.perf_counter()
    load_estates(warehouse, list(files.values()))  # as `numaudit load` does: all in one transaction
    result.add("load", time.perf_counter() - started, f"{len(files)} estates")
    for batch in plan_night(warehouse, as_of, batch_rows=batch_rows).batches:
        label = f"{len(batch)} customers from {batch[0].customer}"
        t0 = time.perf_counter()
        plan = plan_audits(warehouse, batch)
        t1 = time.perf_counter()
        audited = compute(plan)
        t2 = time.perf_counter()
        failures = validate(plan, audited)
        t3 = time.perf_counter()
        verdicts = judge_release(plan, audited)
        t4 = time.perf_counter()
        summaries = write_back(warehouse, plan, audited, verdicts, failures)
        t5 = time.perf_counter()
        for stage, seconds in zip(STAGES[1:], (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            result.add(stage, seconds, label)
        for summary in summaries:
            result.counts.update(summary.counts)
            result.counts[f"state:{summary.state}"] += 1
            result.counts.update({f"exception:{k}": v for k, v in summary.exceptions.items()})
        result.counts["entries_in_scope"] += audited.in_scope
        result.counts["usage_links"] += audited.usage_links.height
        result.counts["batches"] += 1
    result.total_s = time.perf_counter() - night_started
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


def run(
    folder: Path,
    numbers: int,
    customers: int,
    sites: int = 20,
    seed: int = 7,
    echo: bool = True,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Result:
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
        opened_s = time.perf_counter() - started
        for night, files in ((1, estate.files), (2, estate.night2_files)):
            nights.append(run_night(warehouse, estate, night, files, batch_rows))
        nights[0].total_s += opened_s
        counts = warehouse_counts(warehouse)
    result = Result(numbers, customers, generate_s, nights, peak_rss_mb(), counts, estate)
    for night_ in nights:
        report(night_, say)
        say(f"night {night_.number}: " + result.summary_line(night_))
    return result


def report(night: Night, say: Any) -> None:
    stages = " ".join(f"{s}={night.seconds[s]:.2f}s" for s in STAGES)
    slowest = " ".join(f"{s}={night.slowest[s][0]:.2f}s" for s in STAGES if s in night.slowest)
    counts = " ".join(f"{k}={v}" for k, v in sorted(night.counts.items()))
    say(f"night {night.number}: {stages}")
    say(f"night {night.number} slowest customer or batch: {slowest}")
    say(f"night {night.number} counts: {counts}")
    say(f"night {night.number} peak_rss_mb={peak_rss_mb():.0f}")


def main(argv: list[str] | None = None) -> Result:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--sites", type=int, default=20, help="sites per customer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="generate and keep the estates and the warehouse in DIR")
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS, help="staged rows per audit batch")
    args = parser.parse_args(argv)
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
        folder = args.keep
    else:
        folder = Path(tempfile.mkdtemp(prefix="numaudit-bench-"))
    try:
        result = run(folder, args.numbers, args.customers, args.sites, args.seed, batch_rows=args.batch_rows)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print("warehouse: " + " ".join(f"{k}={v}" for k, v in result.warehouse.items()))
    print(result.summary_line(), flush=True)
    return result


if __name__ == "__main__":
    main()
