"""`kpilib generate`: simulate a synthetic ecommerce ERP dataset into a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def _help() -> str:
    from kpilib.synth.params import SCENARIOS

    lines = [
        "Simulate an ecommerce network (orders from web, marketplaces and B2B; allocation from "
        "node stock with backorders and splits; waves, picks, parcels, deliveries, returns; "
        "replenishment, receipts, stock ledger, counts, forecasts, labour and costs) and write "
        "the 19 tables of the data model to OUT as <table>.parquet (or .csv) plus truth.json, "
        "which records what the scenario injected (forecast bias per class, surge dates, batch "
        "interval, slow bundle SKUs, ...). The same arguments always give the same bytes.",
        "Scenarios:",
    ]
    lines += [f"- {name}: {sc.description}" for name, sc in SCENARIOS.items()]
    lines.append("Default sample: `kpilib generate --out data/sample` (omnichannel, one year, "
                 "about 50,000 orders, 500 SKUs, 3 nodes). --scale multiplies orders and SKUs.")
    return "\n\n".join(lines)


def run(scenario: str, seed: int, start: str, days: int, scale: float, out: Path,
        fmt: str) -> int:
    """Generate with a per-stage progress display; returns the exit code."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from kpilib.errors import ParameterError
    from kpilib.synth import STAGES, generate

    console = Console()
    t0 = time.perf_counter()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("starting", total=len(STAGES))

        def step(name: str) -> None:
            done = STAGES.index(name)
            progress.update(task, completed=done, description=f"{scenario}: {name}")

        try:
            tables, _truth = generate(scenario=scenario, seed=seed, start=start, days=days,
                                      scale=scale, out=out, fmt=fmt, progress=step)
        except ParameterError as err:
            console.print(f"[red]{err}[/red]")
            return 2
        progress.update(task, completed=len(STAGES), description=f"{scenario}: written")
    summary = Table(title=f"{out} ({time.perf_counter() - t0:.1f} s)")
    summary.add_column("table")
    summary.add_column("rows", justify="right")
    for name, df in tables.items():
        summary.add_row(name, f"{len(df):,}")
    console.print(summary)
    return 0


def register(app: typer.Typer) -> None:
    """Add the `generate` sub-command to ``app``."""

    @app.command("generate", help=_help())
    def generate_cmd(
        out: Annotated[Path, typer.Option(help="Output folder (created if missing).")] = Path(
            "data/sample"),
        scenario: Annotated[str, typer.Option(
            help="omnichannel | beauty_stockouts | apparel_surge")] = "omnichannel",
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
        start: Annotated[str, typer.Option(help="First day (UTC), YYYY-MM-DD.")] = "2024-01-01",
        days: Annotated[int, typer.Option(help="Days simulated (>= 14).")] = 365,
        scale: Annotated[float, typer.Option(
            help="Volume multiplier: 1.0 = about 50,000 orders and 500 SKUs a year.")] = 1.0,
        fmt: Annotated[str, typer.Option("--format", help="parquet | csv")] = "parquet",
    ) -> None:
        raise typer.Exit(run(scenario, seed, start, days, scale, out, fmt))
