"""`kpilib import olist|online-retail SRC_DIR --out DIR`: a public dataset → the data contract.

Rule: OUT = mapping(SRC_DIR) [+ forecasts = kpilib.forecast.backtest(OUT)], written through the
contract as ``<table>.parquet`` plus ``import_report.json`` (rows per table, every set-aside
reason with its count, the tables the source lacks and why, what kpilib derived). Each source
is a mapping file shipped in ``kpilib/mappings/`` (:data:`MAPPINGS`: ``olist.yaml``,
``online_retail.yaml``), whose comments give every mapping choice; ``kpilib import mapped
FILE`` runs any other mapping file the same way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"
MAPPINGS = {  # mapping files shipped in kpilib/mappings/
    "olist": "olist.yaml",
    "online-retail": "online_retail.yaml",
}

_PARAGRAPHS = (
    "Import a public ecommerce dataset into a kpilib dataset folder: SOURCE is `olist` "
    "(Olist Brazilian E-Commerce: olist_orders_dataset.csv + olist_order_items_dataset.csv) or "
    "`online-retail` (UCI Online Retail: online_retail_*.csv). SRC_DIR is the folder holding "
    "those files.",
    "Olist maps to orders, order_lines (one per item), nodes (one per seller, dropship), "
    "shipments and shipment_lines (one per order and seller; carrier hand-off = shipped, "
    "customer delivery = delivered), and released_to_node events at payment approval; the "
    "estimated delivery date is a date promise (deadline: end of that day in São Paulo). "
    "Online Retail maps to orders (one per invoice, channel domestic/export) and order_lines "
    "(product rows); cancellation invoices, stock adjustments and non-product codes are set "
    "aside and counted. Each source is a mapping file shipped with kpilib "
    "(kpilib/mappings/olist.yaml, online_retail.yaml) whose comments give every choice; see "
    "also docs/real-data.md.",
    "Nothing is invented: a table the source lacks stays absent, so the KPIs that need it "
    "report `unavailable`. Rows the contract rejects leave the import with their whole order "
    "and are counted by rule. Neither source has forecasts: with --backtest (the default) "
    "kpilib.forecast.backtest makes baseline forecasts from the order history (rolling "
    "origin, nothing after each forecast's origin is read) so the forecast KPIs have values; "
    "--no-backtest leaves forecasts absent.",
    "Written to OUT: <table>.parquet per table and import_report.json (rows per table, every "
    "set-aside reason with its count, absent tables and why, derived tables). OUT must not "
    "already hold table files unless --force (which removes them first). Exit code 0 on "
    "success, 2 when SRC_DIR is not that dataset or an option is wrong.",
    "Your own export: `kpilib import mapped MAPPING.yaml --out OUT [--src FOLDER]` reads the "
    "files a mapping file names and maps their columns to the contract (write a starting file "
    "with `kpilib template --mapping MAPPING.yaml`). A PostgreSQL database: `kpilib import "
    "db postgresql://USER@HOST:PORT/DB --mapping MAPPING.yaml --out OUT`, where the mapping's "
    "sources are `table: SCHEMA.NAME` or `query: SELECT ...` (the password comes from "
    "PGPASSWORD or ~/.pgpass, never the URL; exit code 1 when the server cannot be reached, 2 "
    "for a bad URL, table or query).",
    "Next: `kpilib validate OUT`, then `kpilib reports run --data OUT --out reports/<name>`.",
)
HELP = "\n\n".join(_PARAGRAPHS)


def _table_files(out: Path) -> list[Path]:
    from kpilib import schema
    from kpilib.contracts.io import split_name

    if not out.is_dir():
        return []
    return [f for f in sorted(out.iterdir())
            if f.is_file() and split_name(f)[1] and split_name(f)[0] in schema.TABLES]


def add_backtest(result, method: str, lag: int, granularity: str) -> int:
    """Put :func:`kpilib.forecast.backtest` forecasts into ``result``; return their rows."""
    from kpilib.forecast import backtest

    forecasts = backtest(result.dataset(), method=method, lag=lag, granularity=granularity)
    result.tables["forecasts"] = forecasts
    result.notes.pop("forecasts", None)
    result.derived["forecasts"] = (
        f"baseline backtest by kpilib.forecast.backtest(method={method!r}, lag={lag}, "
        f"granularity={granularity!r}): rolling-origin forecasts from the order history, "
        "not the business's own forecasts")
    return len(forecasts)


def print_summary(console, result, source: str, src: str, out: Path, seconds: float) -> None:
    """Rows per table, set-aside reasons with counts, absent and derived tables."""
    from rich.table import Table

    console.print(f"[bold]{source}[/bold] imported from {src} in {seconds:.1f} s")
    written = Table(title=f"Written to {out}")
    written.add_column("table")
    written.add_column("rows", justify="right")
    for name, frame in result.tables.items():
        written.add_row(name, f"{len(frame):,}")
    console.print(written)
    aside = Table(title="Set aside (counted, not imported)")
    for col in ("table", "reason", "rows", "by", "detail"):
        aside.add_column(col, justify="right" if col == "rows" else "left", overflow="fold")
    for rec in result.report:
        aside.add_row(rec["table"], rec["reason"], f"{rec['rows']:,}", rec["by"], rec["detail"])
    if result.report:
        console.print(aside)
    else:
        console.print("Set aside: nothing")
    absent = Table(title="Not in the source (KPIs needing these report `unavailable`)")
    absent.add_column("table(s) / column")
    absent.add_column("why", overflow="fold")
    for name, why in result.notes.items():
        absent.add_row(name, why)
    console.print(absent)
    for name, how in result.derived.items():
        console.print(f"[bold]derived[/bold] {name}: {how}")
    console.print(f"Report: {out / 'import_report.json'}\n"
                  f"Next: kpilib validate {out}  ·  kpilib reports run --data {out}")


def _mapped(source: str, src: str, mapping: Path | None, root: Path | None, status):
    """The ImportResult of ``kpilib import mapped MAPPING`` / ``kpilib import db URL``."""
    from kpilib.errors import ParameterError
    from kpilib.mapping import import_db, import_mapped

    if source == "mapped":
        return import_mapped(src, root)
    if mapping is None:
        raise ParameterError("`kpilib import db URL` needs --mapping MAPPING.yaml (which "
                             "tables or queries feed which tables of the data model)")
    return import_db(src, mapping, progress=lambda name, rows: status.update(
        f"reading sources.{name}: {rows:,} rows..."))


def run(source: str, src: str | Path, out: Path, with_backtest: bool, method: str, lag: int,
        granularity: str, force: bool, mapping: Path | None = None,
        root: Path | None = None) -> int:
    """Import ``src`` as ``source`` into ``out``; print the summary; return the exit code
    (0 done, 1 database unreachable, 2 bad source, mapping or option)."""
    from rich.console import Console
    from rich.markup import escape

    from kpilib.errors import DataContractError, ParameterError
    from kpilib.mapping.database import DatabaseUnreachable, redact

    console = Console()
    if source not in (*MAPPINGS, "mapped", "db"):
        console.print(f"[red]unknown source {source!r}[/red]; choose one of "
                      f"{[*MAPPINGS, 'mapped', 'db']}")
        return 2
    from kpilib.forecast import METHODS, SEASON

    if with_backtest and (method not in METHODS or granularity not in SEASON or lag < 0):
        console.print(f"[red]backtest options: --method one of {list(METHODS)}, --granularity "
                      f"one of {list(SEASON)}, --lag >= 0[/red]")
        return 2
    if out.exists() and not out.is_dir():
        console.print(f"[red]--out {escape(str(out))} is a file, not a folder[/red]; choose a "
                      "folder path")
        return 2
    existing = _table_files(out)
    if existing and not force:
        console.print(f"[red]{out} already holds table files[/red] "
                      f"({', '.join(f.name for f in existing[:5])}...); pass --force to replace "
                      "them or choose an empty folder")
        return 2
    t0 = time.perf_counter()
    shown = redact(str(src)) if source == "db" else str(src)
    if source in MAPPINGS:
        from kpilib.mapping import import_mapped

        try:
            with console.status(f"mapping {source} to the data contract..."):
                result = import_mapped(MAPPINGS_DIR / MAPPINGS[source], Path(src))
        except (ParameterError, DataContractError, ValueError, OSError) as err:
            console.print(f"[red]SRC_DIR is not the {source} dataset:[/red] {escape(str(err))}")
            return 2
    else:
        try:
            with console.status(f"reading and mapping {shown}...") as status:
                result = _mapped(source, src, mapping, root, status)
        except (ParameterError, DataContractError, ValueError, OSError) as err:
            console.print(f"[red]cannot import {escape(shown)}:[/red] {escape(str(err))}")
            return 1 if isinstance(err, DatabaseUnreachable) else 2
    if with_backtest:
        with console.status(f"backtesting {method} forecasts..."):
            add_backtest(result, method, lag, granularity)
    for f in existing:
        f.unlink()
    (out / "import_report.json").unlink(missing_ok=True)
    try:
        with console.status(f"writing {out}..."):
            result.write(out)
    except OSError as err:
        console.print(f"[red]cannot write {escape(str(err.filename or out))}:[/red] "
                      f"{escape(err.strerror or str(err))}; choose a writable --out")
        return 2
    print_summary(console, result, source, shown, out, time.perf_counter() - t0)
    return 0


def register(app: typer.Typer) -> None:
    """Add the `import` sub-command (``import`` is a Python keyword, hence this module name)."""

    @app.command("import", help=HELP)
    def import_cmd(
        source: Annotated[str, typer.Argument(help="olist | online-retail | mapped | db")],
        src_dir: Annotated[str, typer.Argument(
            help="Folder with the source's CSV files; for `mapped` the MAPPING.yaml file; for "
                 "`db` the database URL (postgresql://USER@HOST:PORT/DB).")],
        out: Annotated[Path, typer.Option(help="Output dataset folder (created).")],
        backtest: Annotated[bool, typer.Option(
            "--backtest/--no-backtest",
            help="Add baseline forecasts from the order history (kpilib.forecast.backtest).")
        ] = True,
        method: Annotated[str, typer.Option(
            help="Backtest method: ets | ets_statsmodels | seasonal_naive | naive.")] = "ets",
        lag: Annotated[int, typer.Option(help="Backtest lag in periods.")] = 1,
        granularity: Annotated[str, typer.Option(
            help="Backtest period: week | month | day.")] = "week",
        force: Annotated[bool, typer.Option(
            help="Replace table files already in OUT.")] = False,
        mapping: Annotated[Path | None, typer.Option(
            help="For `db`: the mapping file naming the tables or queries that feed each "
                 "table of the data model.")] = None,
        src: Annotated[Path | None, typer.Option(
            "--src", help="For `mapped`: folder of the source files (default: the mapping "
                          "file's folder).")] = None,
    ) -> None:
        raise typer.Exit(run(source, src_dir, out, backtest, method, lag, granularity, force,
                             mapping, src))
