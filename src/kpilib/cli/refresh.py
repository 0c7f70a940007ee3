"""`kpilib refresh`: create a KPI store, or apply an extract batch to it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = "\n\n".join((
    "Keep a KPI store up to date. A store is a folder holding the loaded tables, every KPI "
    "result of the maintained sets with its band, the alert state and the early-warning "
    "queue, written as generations: a refresh builds a new one and swaps a pointer, so a "
    "crash or a rejected batch leaves the previous one intact.",
    "Create one with --init: `kpilib refresh --store st --init --data data/sample --kpis all "
    "--by none --by channel --freq W` (--data is the first full dataset; each --by is one "
    "maintained set, its segment dims comma-separated, `none` for the totals: the two above "
    "cover a report run's headline and segment tables; --webhook URL sends alerts; "
    "--reports DIR also writes DIR/live.html beside the report runs).",
    "Apply a batch: `kpilib refresh --store st --data batch/`. A batch is a folder of "
    "<table>.parquet/.csv files with new and changed rows (each replaces the stored row with "
    "the same primary key); a boolean column _deleted=true deletes that row; a file for a "
    "table without a primary key (labor_hours, fulfillment_costs) replaces the table; a "
    "file named SNAPSHOT in the folder makes it a full snapshot. The merged data is validated "
    "against the contract: a bad batch is rejected whole and the store is unchanged (exit 1). "
    "A batch already applied (same folder name, or --batch-id) is skipped.",
    "Then every maintained set is recomputed and banded, alerts are raised, escalated or "
    "closed, the early-warning queue is rebuilt, and the outbox is delivered.",
))


def set_specs(kpis: str, by: list[str], freq: str) -> list[dict]:
    """One maintained set per ``--by`` value (dims comma-separated; ``none`` or empty = totals)."""
    selection = kpis if kpis in ("all",) else kpis.split(",")
    return [{"kpis": selection,
             "by": [] if b.strip() in ("", "none") else [d for d in b.split(",") if d],
             "freq": None if freq in ("", "none") else freq} for b in by]


def run(store: Path, data: Path, init: bool, kpis: str, by: list[str], freq: str,
        webhook: str | None, reports: Path | None, batch_id: str | None) -> int:
    """Execute the command; return the exit code."""
    from rich.console import Console

    from kpilib.errors import KpiLibError
    from kpilib.refresh import BatchRejected, refresh
    from kpilib.store import create

    console = Console(soft_wrap=True, stderr=False)
    if not data.is_dir():
        console.print(f"[red]--data must be a folder:[/red] {data}")
        return 2
    try:
        if init:
            options = {"webhook": webhook} if webhook else {}
            if reports is not None:
                options["reports_dir"] = str(reports.resolve())
            create(store, set_specs(kpis, by, freq), **options)
            console.print(f"created store {store}")
        with console.status(f"refreshing {store} with {data.name} ..."):
            summary = refresh(store, data, batch_id=batch_id)
    except BatchRejected as err:
        console.print(f"[red]{err}[/red]")
        return 1
    except (KpiLibError, FileNotFoundError, ValueError) as err:
        console.print(f"[red]{type(err).__name__}:[/red] {err}")
        return 2
    console.print(summary.line())
    return 3 if summary.pending_outbox else 0


def register(app: typer.Typer) -> None:
    """Add `refresh` to the kpilib CLI."""

    @app.command("refresh", help=HELP)
    def refresh_cmd(
        store: Annotated[Path, typer.Option("--store", help="Store folder.")],
        data: Annotated[Path, typer.Option(
            "--data", help="A batch folder, or with --init the first full dataset.")],
        init: Annotated[bool, typer.Option("--init", help="Create the store first.")] = False,
        kpis: Annotated[str, typer.Option(
            help="With --init: KPI ids (comma-separated), a domain, or all.")] = "all",
        by: Annotated[list[str] | None, typer.Option(
            help="With --init: one maintained set's segment dims, comma-separated, or none "
                 "for the totals; repeat for more sets (default: channel).")] = None,
        freq: Annotated[str, typer.Option(help="With --init: D, W, M, Q or none.")] = "W",
        webhook: Annotated[str | None, typer.Option(
            help="With --init: URL alerts are POSTed to.")] = None,
        reports: Annotated[Path | None, typer.Option(
            help="With --init: report folder to write live.html into.")] = None,
        batch_id: Annotated[str | None, typer.Option(
            "--batch-id", help="Name of this batch (default: the folder name).")] = None,
    ) -> None:
        raise typer.Exit(run(store, data, init, kpis, by or ["channel"], freq, webhook, reports,
                             batch_id))
