"""`kpilib validate DIR`: check a dataset folder against the data contract and print problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

_PARAGRAPHS = (
    "Check a dataset folder against the kpilib data contract (docs/data-model.md).",
    "The folder holds one file per table: <table>.parquet, <table>.csv or <table>.csv.gz. "
    "orders and order_lines are required, every other table is optional.",
    "Checked: files are readable; required tables and columns exist; values parse as their "
    "type (CSV: booleans true/false or 1/0, empty cell = null, dates YYYY-MM-DD, timestamps "
    "ISO-8601 WITH an offset, e.g. 2024-03-01T10:00:00Z or 2024-03-01T11:00:00+01:00); "
    "required columns have no nulls; enumerations; no negative quantities; unique primary keys; "
    "foreign keys between the tables present; impossible time orders (delivered before shipped, "
    "shipped before the order existed, putaway before receipt, ...); shipped or cancelled more "
    "than ordered; snapshot qty_available = on_hand - allocated - held; values off by 10x "
    "(order amount vs its lines, received vs expected quantity).",
    "Every problem is listed at once with table, column, rule, number of rows and example keys. "
    "Exit code 0 when clean, 1 when there are problems, 2 when the folder does not exist or "
    "--assume-tz is not a time zone.",
    "Naive timestamps (no offset) are rejected (rule naive_timestamp): add the offset in the "
    "data, or pass --assume-tz Europe/Berlin (any IANA zone) to read them as local times in "
    "that zone. To start from a correct file layout, run `kpilib template`.",
)
HELP = "\n\n".join(_PARAGRAPHS)


def _example_keys(record: dict) -> str:
    rows = record["examples"][:3]
    return "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in rows)


def run(directory: Path, assume_tz: str | None, as_json: bool) -> int:
    """Validate ``directory``, print the result, return the exit code."""
    from rich.console import Console
    from rich.table import Table

    from kpilib.contracts import check_path

    console = Console()
    if not directory.is_dir():
        console.print(f"[red]not a folder:[/red] {directory}")
        return 2
    from kpilib.errors import ParameterError

    try:
        tables, problems = check_path(directory, assume_tz)
    except ParameterError as err:
        console.print(f"[red]{err}[/red]")
        return 2
    if as_json:
        print(json.dumps([p.as_record() for p in problems], indent=2, default=str))
        return 1 if problems else 0
    if not problems:
        n_rows = sum(len(f) for f in tables.values())
        console.print(f"[green]clean:[/green] {len(tables)} tables, {n_rows} rows "
                      f"({', '.join(tables)})")
        return 0
    out = Table(title=f"{len(problems)} data contract problem(s) in {directory}",
                show_lines=True)
    for name in ("table", "column", "rule", "rows", "detail", "example keys"):
        out.add_column(name, overflow="fold")
    for p in problems:
        record = p.as_record()
        out.add_row(p.table or "", p.column or "", p.rule, str(p.n_rows), p.detail,
                    _example_keys(record))
    console.print(out)
    return 1


def register(app: typer.Typer) -> None:
    """Add `validate` to the kpilib CLI."""

    @app.command("validate", help=HELP)
    def validate(
        directory: Annotated[Path, typer.Argument(help="Dataset folder to check.")],
        assume_tz: Annotated[str | None, typer.Option(
            "--assume-tz", help="IANA zone for timestamps without offset (else rejected).")
        ] = None,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print the problems as JSON records instead of a table.")] = False,
    ) -> None:
        raise typer.Exit(run(directory, assume_tz, as_json))
