"""`kpilib template DIR`: empty CSV templates for every table plus a column reference."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_PARAGRAPHS = (
    "Write empty CSV templates of the kpilib data model into DIR, header "
    "only, columns in schema order: orders.csv and order_lines.csv (required) in DIR, every "
    "optional table in DIR/optional/ (move a file up into DIR once you fill it: an absent "
    "table makes its KPIs `unavailable`, an empty one claims there was nothing).",
    "Also written: COLUMNS.md (every column's type, NOT NULL, allowed values, foreign key, "
    "rules and meaning), README.md (the steps from a first export to a clean load) and "
    "example/ (one valid order; `kpilib validate DIR/example` is clean).",
    "Then fill the files and run `kpilib validate DIR` until it is clean. On the untouched "
    "template it lists exactly two problems: orders and order_lines are empty. CSV rules: "
    "booleans true/false (or 1/0), empty cell = null, dates YYYY-MM-DD, timestamps ISO 8601 "
    "with an offset (or validate with --assume-tz <IANA zone>). Guide: docs/byod.md.",
)
HELP = "\n\n".join(_PARAGRAPHS)


def run(directory: Path, fmt: str, tables: str, force: bool) -> int:
    """Write the template; print what was written; return the exit code."""
    from rich.console import Console

    from kpilib.templates import write_template

    console = Console()
    if fmt != "csv":
        console.print(f"[red]--format {fmt!r}: only csv templates are written[/red]")
        return 2
    names = tuple(t.strip() for t in tables.split(",") if t.strip())
    try:
        files = write_template(directory, names, force=force)
    except (FileExistsError, ValueError) as err:
        console.print(f"[red]{err}[/red]")
        return 2
    top = sorted(p.name for p in files if p.parent == directory and p.suffix == ".csv")
    console.print(f"Template written to {directory}: {', '.join(top)} to fill; "
                  f"{sum(p.parent.name == 'optional' for p in files)} optional tables in "
                  f"{directory / 'optional'}; COLUMNS.md, README.md, example/.")
    console.print(f"Next: fill the CSVs, then `kpilib validate {directory}`.")
    return 0


def register(app: typer.Typer) -> None:
    """Add the `template` sub-command to ``app``."""

    @app.command("template", help=HELP)
    def template_cmd(
        directory: Annotated[Path, typer.Argument(help="Folder to write (created).")],
        fmt: Annotated[str, typer.Option("--format", help="File format: csv.")] = "csv",
        tables: Annotated[str, typer.Option(
            help="Optional tables to put in DIR itself, comma separated (e.g. "
                 "shipments,shipment_lines,nodes).")] = "",
        force: Annotated[bool, typer.Option(help="Overwrite existing template files.")] = False,
    ) -> None:
        raise typer.Exit(run(directory, fmt, tables, force))
