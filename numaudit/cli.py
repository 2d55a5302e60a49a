"""`numaudit`: load estates, audit a customer or the whole night, query the warehouse."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from numaudit.auditing import AuditRefused, AuditSummary
from numaudit.nightly import DEFAULT_BATCH_ROWS
from schemas.models import InvariantError
from sources.base import SourceError
from storage.lake import Warehouse, WarehouseError

app = typer.Typer(
    help="Keep a telephone number inventory true: load what the voice platforms use, audit, query.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

WarehouseOption = Annotated[
    Path,
    typer.Option(
        "--warehouse",
        envvar="NUMAUDIT_HOME",
        help="Warehouse folder (DuckLake catalog and data); created on first use.",
    ),
]
DEFAULT_HOME = Path("warehouse")


@app.command()
def load(
    estates: Annotated[list[Path], typer.Argument(help="Estate files (TOML), one per customer.")],
    warehouse: WarehouseOption = DEFAULT_HOME,
) -> None:
    """Load customers' estates: hierarchy, settings, existing inventory and sources.

    All estates load in one transaction: a bad file, row or column anywhere refuses the
    load and nothing is written. An inventory file is imported once: the same file content
    loaded again is not re-read (entries removed since do not come back).
    """
    from numaudit.estate import load_estates

    with _errors(), Warehouse(warehouse) as lake:
        for estate, report in zip(estates, load_estates(lake, estates), strict=True):
            imported = (
                f"inventory file unchanged since its import ({report.entries_kept} entries), not read again"
                if report.inventory_unchanged
                else f"{report.entries_added} inventory entries imported"
                + (f" ({report.entries_kept} already present, kept as they are)" if report.entries_kept else "")
            )
            out.print(f"[green]loaded[/] {estate} → {report.customer}: {report.nodes} nodes, {imported}")
            for name, counts in report.sources.items():
                out.print(f"  source {name}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))


@app.command()
def audit(
    customer: Annotated[str, typer.Option(help="Hierarchy path of the customer to audit.")],
    mode: Annotated[str, typer.Option(help="customer (mixed) or site.")] = "customer",
    site: Annotated[list[str] | None, typer.Option(help="Site mode: a site to audit (repeatable, at most 200); all sites when omitted.")] = None,
    as_of: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Audit date (YYYY-MM-DD); today by default.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute everything, write only the audit_runs row.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Override the safety guard on mass releases.")] = False,
    warehouse: WarehouseOption = DEFAULT_HOME,
) -> None:
    """Audit a customer's inventory against its loaded sources (a Prefect flow run)."""
    if mode not in ("customer", "site"):
        err.print(f"[red]refused:[/] --mode must be customer or site, not {mode!r}")
        raise typer.Exit(2)
    # Keep the terminal for the summary: Prefect's own progress and telemetry stay quiet.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.audit import audit_flow

    with _errors():
        summary = audit_flow(
            customer=customer,
            mode=mode,
            sites=site or [],
            as_of=as_of.date() if as_of else None,
            dry_run=dry_run,
            force=force,
            warehouse=str(warehouse),
        )
        print_summary(summary, warehouse)


@app.command()
def nightly(
    as_of: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Audit date (YYYY-MM-DD); today by default.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute everything, write only the audit_runs rows.")] = False,
    batch_rows: Annotated[int, typer.Option(help="Staged rows audited in one pass and one commit (bounds memory).")] = DEFAULT_BATCH_ROWS,
    warehouse: WarehouseOption = DEFAULT_HOME,
) -> None:
    """Audit every customer with number management enabled (a Prefect flow run).

    Customers whose Site-Location-Code dial plan allows only site mode are audited in site
    mode. One customer's failure or refusal does not stop the others; the command exits 1
    when any customer's audit failed or was refused.
    """
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.audit import nightly_flow

    with _errors():
        summaries = nightly_flow(as_of=as_of.date() if as_of else None, dry_run=dry_run, warehouse=str(warehouse), batch_rows=batch_rows)
        table = Table(title=f"nightly audit: {len(summaries)} customers")
        for column in ("customer", "mode", "state", "added", "updated", "released", "cooled", "unchanged", "exceptions"):
            table.add_column(column)
        for summary in summaries:
            counts = [str(summary.counts.get(k, 0)) for k in ("added", "updated", "released", "cooled", "unchanged", "exceptions")]
            table.add_row(summary.customer, summary.mode, summary.state, *counts)
        out.print(table)
        for summary in summaries:
            if summary.state != "completed":
                err.print(f"[red]{summary.state}:[/] {summary.customer}: {summary.message}")
    if any(s.state != "completed" for s in summaries):
        raise typer.Exit(1)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query over the warehouse's tables and views.")],
    limit: Annotated[int, typer.Option(help="Rows to print at most.")] = 100,
    warehouse: WarehouseOption = DEFAULT_HOME,
) -> None:
    """Run a read-only query against the warehouse and print a table."""
    with _errors(), Warehouse(warehouse, read_only=True) as lake:
        try:
            frame = lake.query(query)
        except Exception as error:  # DuckDB's parser, binder and catalog errors alike
            raise WarehouseError(f"query failed: {error}") from error
        table = Table(show_lines=False)
        for column in frame.columns:
            table.add_column(column, overflow="fold")
        for row in frame.head(limit).iter_rows():
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)
        shown = min(limit, frame.height)
        out.print(f"{frame.height} row(s)" + (f", first {shown} shown" if shown < frame.height else ""))


@app.command()
def export(
    name: Annotated[str, typer.Argument(help="Table or view to export: number_inventory, free_numbers, …")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write; replaced if it exists.")],
    customer: Annotated[str | None, typer.Option(help="Only this customer's rows (its hierarchy path).")] = None,
    warehouse: WarehouseOption = DEFAULT_HOME,
) -> None:
    """Export a table or view as a CSV file for spreadsheets (UTF-8 with BOM, CRLF line ends).

    Cells a spreadsheet would run as formulas get a leading ' and so stay text (CSV injection).

    Those are cells starting with =, +, -, @, a tab or a carriage return, or with =, +, -, @ after spaces.

    Plain numbers (+ or -, digits, at most one decimal point) are kept: +442071234567 keeps its +.

    Column names are treated the same way.
    """
    from numaudit.export import ExportError, export_csv

    with _errors(), Warehouse(warehouse, read_only=True) as lake:
        try:
            report = export_csv(lake, name, output, customer)
        except ExportError as error:
            err.print(f"[red]error:[/] {error}")
            raise typer.Exit(1) from error
        out.print(
            f"exported {report.rows} row(s) of {report.name} to {report.output}"
            + (
                f"; {report.neutralised} cell(s) that a spreadsheet would run as formulas start with '"
                if report.neutralised
                else ""
            )
        )


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Where to write the demo estate; its warehouse goes in FOLDER/warehouse.")] = Path("demo"),
) -> None:
    """Generate a realistic demo estate, load it and audit every customer (`make demo`)."""
    import shutil

    from numaudit.demo import generate_demo
    from numaudit.estate import load_estates

    home = folder / "warehouse"
    if home.exists():
        shutil.rmtree(home)  # the demo starts from an empty warehouse every time
    estates = generate_demo(folder)
    out.print(f"[bold]demo estate[/] written to {folder}/ ({len(estates)} customers)")
    with _errors(), Warehouse(home) as lake:
        reports = load_estates(lake, estates)
    customers = [report.customer for report in reports]
    for estate, report in zip(estates, reports, strict=True):
        out.print(f"[green]loaded[/] {estate}: {report.nodes} nodes, {report.entries_added} entries, sources " + ", ".join(report.sources))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.audit import nightly_flow

    with _errors():
        # The nightly job picks site mode where a Site-Location-Code dial plan allows no other.
        for summary in nightly_flow(warehouse=str(home)):
            print_summary(summary, home)
    out.print(
        f"\n[bold]Try it:[/]\n"
        f"  numaudit sql \"SELECT * FROM utilisation ORDER BY used_percent DESC\" --warehouse {home}\n"
        f"  numaudit sql \"SELECT kind, count(*) FROM audit_exceptions GROUP BY kind\" --warehouse {home}\n"
        f"  numaudit sql \"SELECT * FROM cooling_releases WHERE days_left <= 7\" --warehouse {home}\n"
        f"  numaudit audit --customer {customers[0]} --warehouse {home}   # again: changes nothing"
    )


def print_summary(summary: AuditSummary, warehouse: Path) -> None:
    title = "dry run — nothing written but the audit_runs row" if summary.dry_run else summary.state
    out.print(f"\n[bold]audit {summary.audit_id}[/] of {summary.customer} ({summary.mode} mode, as of {summary.as_of}): {title}")
    out.print(_pairs("changes", summary.counts))
    out.print(_pairs("entries in scope by status", summary.statuses))
    out.print(_pairs("exceptions by kind", summary.exceptions or {"none": 0}))
    if summary.top_changes:
        table = Table(title="first changes")
        for column in summary.top_changes[0]:
            table.add_column(column)
        for change in summary.top_changes:
            table.add_row(*("" if v is None else str(v) for v in change.values()))
        out.print(table)
    out.print(
        "query it: numaudit sql \"SELECT change, count(*) FROM number_changes "
        f"WHERE audit_id = '{summary.audit_id}' GROUP BY change\""
        + (f" --warehouse {warehouse}" if warehouse != DEFAULT_HOME else "")
    )


def _pairs(title: str, values: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in values.items():
        table.add_row(str(key), str(value))
    return table


class _errors:
    """Bad input, refusals and storage errors end the command with their message only."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> Literal[False]:
        if isinstance(error, AuditRefused):
            err.print(f"[red]refused:[/] {error}")
            raise typer.Exit(2)
        if isinstance(error, (SourceError, WarehouseError, InvariantError)):
            err.print(f"[red]error:[/] {error}")
            raise typer.Exit(1)
        return False


