"""`kpilib watch`: refresh a KPI store from batches landing in an inbox folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

HELP = "\n\n".join((
    "Watch an inbox folder and apply each batch that lands in it to a KPI store (see "
    "`kpilib refresh --help` for what a batch is and how a store is created).",
    "Move a finished batch folder into the inbox with one rename (`mv`, same file system); "
    "names starting with '.' are ignored, so a writer can build '.incoming' there first. "
    "Batches are applied once each, in name order, then moved to <inbox>/done; a rejected "
    "one goes to <inbox>/rejected with <name>.reason.txt. A crash mid-batch leaves the store "
    "as it was and the batch in the inbox; a restart carries on.",
    "Each batch logs its progress and one summary line. SIGTERM or Ctrl-C stop between "
    "batches. --once processes what is waiting and exits (for cron); exit code 1 when a "
    "batch was rejected.",
))


def run(store: Path, inbox: Path, once: bool, poll: float, log_file: Path | None) -> int:
    """Execute the command; return the exit code."""
    from kpilib.watch import watch

    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        stats = watch(store, inbox, once=once, poll=poll)
    except FileNotFoundError as err:
        typer.echo(f"error: {err}", err=True)
        return 2
    return 1 if stats.rejected else 0


def register(app: typer.Typer) -> None:
    """Add `watch` to the kpilib CLI."""

    @app.command("watch", help=HELP)
    def watch_cmd(
        store: Annotated[Path, typer.Option("--store", help="Store folder (kpilib refresh "
                                                            "--init creates one).")],
        inbox: Annotated[Path, typer.Option("--inbox", help="Folder batches are moved into.")],
        once: Annotated[bool, typer.Option("--once", help="Process what is waiting, then "
                                                          "exit.")] = False,
        poll: Annotated[float, typer.Option(help="Seconds between looks at the inbox.")
                        ] = 1.0,
        log_file: Annotated[Path | None, typer.Option(
            "--log", help="Also append the log to this file.")] = None,
    ) -> None:
        raise typer.Exit(run(store, inbox, once, poll, log_file))
