"""`kpilib reports run|schedule|refresh`: the report suite from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

reports_app = typer.Typer(
    help=(
        "Run the report notebooks (papermill) and publish offline HTML reports with an index, "
        "once (`run`) or on a cron schedule (`schedule`)."
    ),
    no_args_is_help=True,
)

_NB_HELP = "Report notebooks to run (stems, repeatable); default: the four report notebooks."
_TARGETS_HELP = (
    "Goals shown beside the control limits ('vs target' in the tables, a dash-dot line on the "
    "charts; they never change a band): 'benchmarks' = published industry figures (WERC, "
    "APQC; the packaged targets.yaml, each with its source), 'none' = control limits only, "
    "or PATH.yaml = your own goals in the same format (`kpilib config init config` writes an "
    "editable copy). Default: config/targets.yaml in the working directory when present, "
    "else benchmarks."
)


_DATA_HELP = "Dataset folder (contract); default data/sample. A KPI store folder works too."
_STORE_HELP = (
    "Run off a KPI store (the folder `kpilib refresh --init` creates and `kpilib refresh` / "
    "`kpilib watch` keep current) instead of --data: the reports use the data of the store's "
    "current generation, fixed for the whole run, and read every KPI result the store "
    "maintains for the report's cut (same KPIs, --freq and segment, as of the data's end, no "
    "--filter/--start/--end/--per) instead of computing it; the rest is computed as with "
    "--data and the run log names it. The numbers are the same either way. The index links "
    "the store's live page (live.html, written beside the runs)."
)
def _source(data: Path | None, store: Path | None) -> tuple[Path, bool]:
    """The folder the reports read (``--data`` or ``--store``, not both) and whether it must
    be a KPI store."""
    if data is not None and store is not None:
        raise typer.BadParameter("give --data or --store, not both", param_hint="--store")
    if store is not None:
        return store, True
    return data if data is not None else Path("data/sample"), False


def _filters(values: list[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in values or []:
        if "=" not in item:
            raise typer.BadParameter(f"filter {item!r} must look like DIM=VALUE")
        dim, value = item.split("=", 1)
        out.setdefault(dim.strip(), []).append(value)
    return out


def _params(
    data,
    out,
    as_of,
    per,
    role,
    start,
    end,
    freq,
    segment_by,
    filters,
    thresholds,
    kpis,
    notebooks,
    notebook_dir,
    jobs,
    keep,
    allow_future_as_of=False,
    targets=None,
    store=False,
):
    from kpilib.reports.params import ReportParams, default_config

    if thresholds is None:
        found = default_config("bands.yaml")
        thresholds = str(found) if found else None
    if targets is None:
        found = default_config("targets.yaml")
        targets = str(found) if found else "benchmarks"
    return ReportParams(
        data_path=str(data),
        out_dir=str(out),
        as_of=as_of,
        start=start,
        end=end,
        freq=freq,
        segment_by=segment_by or None,
        per=per,
        filters=_filters(filters),
        role=role,
        thresholds=thresholds,
        kpis=[k for s in (kpis or []) for k in s.split(",") if k] or None,
        notebooks=notebooks or None,
        notebook_dir=str(notebook_dir) if notebook_dir else None,
        jobs=jobs,
        keep=keep,
        allow_future_as_of=allow_future_as_of,
        targets=targets,
        store=store,
    )


def run_once(params, quiet: bool = False) -> int:
    """Run with a rich progress bar; print where the output is; return the exit code.

    ``quiet`` silences progress and the summary of a successful run; errors and failed
    notebooks always reach stderr.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from kpilib.errors import ParameterError
    from kpilib.reports.publish import RunLockedError
    from kpilib.reports.suite import run_reports

    console = Console(stderr=True, quiet=quiet)
    errors = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("validating parameters and loading data", total=1)

        def progress(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)
            if done:
                bar.console.log(message)

        try:
            outcome = run_reports(params, progress=progress)
        except (ParameterError, RunLockedError) as err:
            bar.stop()
            errors.print(f"[red]error:[/red] {escape(str(err))}", highlight=False)
            return 2
        except OSError as err:  # the output folder changed under us (disk full, removed...)
            bar.stop()
            errors.print(f"[red]error:[/red] cannot write the run: {escape(str(err))}; check "
                         "that --out is on a writable file system with free space",
                         highlight=False)
            return 2
    out = Path(params.out_dir)
    report = errors if outcome.status != "ok" else console
    report.print(f"run {outcome.run_id}: {outcome.status}", markup=False)
    for line in outcome.notes:
        console.print(f"  {line}", markup=False, highlight=False)
    for r in outcome.results:
        line = f"  {r.status:6s} {r.duration_s:6.1f} s  {r.notebook}"
        line += f" [{r.segment}]" if r.segment is not None else ""
        if r.error:
            line += f"  -> {r.error.splitlines()[0][:160]}  (see {r.ipynb})"
        (errors if r.error else console).print(line, markup=False, highlight=False)
    index = outcome.run_dir / "index.html"
    console.print(f"index: {index}", markup=False)
    if outcome.latest_moved:
        console.print(f"latest: {out / 'latest' / 'index.html'}", markup=False)
    else:
        console.print("latest NOT moved: every notebook failed", markup=False)
    print(
        json.dumps({"run_id": outcome.run_id, "status": outcome.status, "index": str(index)}),
        file=sys.stdout,
    )
    return outcome.exit_code


@reports_app.command("run")
def run_cmd(
    data: Annotated[Path | None, typer.Option("--data", help=_DATA_HELP)] = None,
    store: Annotated[Path | None, typer.Option("--store", help=_STORE_HELP)] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder for runs + latest.")] = Path(
        "reports"
    ),
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluation time (ISO); default: data as-of.")
    ] = None,
    per: Annotated[
        str | None, typer.Option("--per", help="Fan out: one report set per value of DIM.")
    ] = None,
    role: Annotated[str | None, typer.Option(
        "--role", help="Role of roles.yaml (see `kpilib config init`).")] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Period start (inclusive, ISO).")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="Period end (exclusive, ISO).")] = None,
    freq: Annotated[str, typer.Option("--freq", help="Period length: D, W, M or Q.")] = "W",
    segment_by: Annotated[
        str, typer.Option("--segment-by", help="Segment for breakdowns.")
    ] = "channel",
    filters: Annotated[
        list[str] | None, typer.Option("--filter", help="DIM=VALUE (repeatable).")
    ] = None,
    thresholds: Annotated[
        str | None,
        typer.Option(
            "--thresholds",
            help="Band config YAML (default: config/bands.yaml in the working directory when "
                 "present, else the packaged one; `kpilib config init config` writes it)."
        ),
    ] = None,
    kpis: Annotated[
        list[str] | None, typer.Option("--kpis", help="Headline KPI ids (comma separated).")
    ] = None,
    targets: Annotated[str | None, typer.Option(
        "--targets", metavar="benchmarks|none|PATH.yaml", help=_TARGETS_HELP)] = None,
    notebooks: Annotated[list[str] | None, typer.Option("--notebooks", help=_NB_HELP)] = None,
    notebook_dir: Annotated[
        Path | None, typer.Option("--notebook-dir", help="Folder of the notebooks.")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Parallel notebooks (default: CPU count).")
    ] = None,
    keep: Annotated[int, typer.Option("--keep", help="Retention: keep the last N runs.")] = 10,
    quiet: Annotated[bool, typer.Option(
        "--quiet", help="No progress or summary when the run succeeds; errors and failed "
        "notebooks still go to stderr.")] = False,
    allow_future_as_of: Annotated[bool, typer.Option(
        "--allow-future-as-of", help="Accept an --as-of after the data's end (refused by "
        "default); the KPI notes then say so.")] = False,
) -> None:
    """Run the report suite once and publish <out>/<run_id>/ and <out>/latest.

    Exit codes: 0 all reports ok; 1 some or all reports failed (see index.html); 2 bad
    parameters or another run in progress (nothing started, nothing published).

    Examples: `kpilib reports run --data data/sample --out reports`; off a KPI store kept by
    a watcher: `kpilib watch --store st --inbox inbox --once && kpilib reports run --store st
    --out reports`.
    """
    data, from_store = _source(data, store)
    params = _params(
        data,
        out,
        as_of,
        per,
        role,
        start,
        end,
        freq,
        segment_by,
        filters,
        thresholds,
        kpis,
        notebooks,
        notebook_dir,
        jobs,
        keep,
        allow_future_as_of,
        targets,
        store=from_store,
    )
    raise typer.Exit(run_once(params, quiet=quiet))


@reports_app.command("schedule")
def schedule_cmd(
    cron: Annotated[str, typer.Option("--cron", help='Crontab expression, e.g. "0 6 * * 1".')],
    data: Annotated[Path | None, typer.Option("--data", help=_DATA_HELP)] = None,
    store: Annotated[Path | None, typer.Option("--store", help=_STORE_HELP)] = None,
    out: Annotated[Path, typer.Option("--out")] = Path("reports"),
    per: Annotated[str | None, typer.Option("--per")] = None,
    role: Annotated[str | None, typer.Option("--role")] = None,
    freq: Annotated[str, typer.Option("--freq")] = "W",
    segment_by: Annotated[str, typer.Option("--segment-by")] = "channel",
    thresholds: Annotated[str | None, typer.Option("--thresholds")] = None,
    targets: Annotated[str | None, typer.Option(
        "--targets", metavar="benchmarks|none|PATH.yaml", help=_TARGETS_HELP)] = None,
    notebooks: Annotated[list[str] | None, typer.Option("--notebooks", help=_NB_HELP)] = None,
    notebook_dir: Annotated[Path | None, typer.Option("--notebook-dir")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs")] = None,
    keep: Annotated[int, typer.Option("--keep", help="Retention: keep the last N runs.")] = 10,
    timezone: Annotated[
        str, typer.Option("--timezone", help="Time zone of the cron expression.")
    ] = "UTC",
    run_now: Annotated[bool, typer.Option("--run-now", help="Also run once at start.")] = False,
) -> None:
    """Run the suite on a cron schedule until SIGTERM/SIGINT (as_of = data as-of at each run).

    Every parameter (data folder, segment, role, notebooks, output folder, time zone, a cron
    expression that can fire) is checked before waiting: exit code 2 names each problem.
    A file lock in <out> keeps runs from overlapping (a run still going when the next is due
    is skipped and logged); the last --keep runs are retained. With --store each run reads
    the store's generation current at its start.

    Example: `kpilib reports schedule --cron "0 6 * * *" --store st --out reports` beside a
    running `kpilib watch --store st --inbox inbox`.
    """
    from kpilib.reports.schedule import serve

    data, from_store = _source(data, store)

    params = _params(
        data,
        out,
        None,
        per,
        role,
        None,
        None,
        freq,
        segment_by,
        None,
        thresholds,
        None,
        notebooks,
        notebook_dir,
        jobs,
        keep,
        targets=targets,
        store=from_store,
    )
    raise typer.Exit(serve(cron, params, timezone=timezone, run_now=run_now))


@reports_app.command("export")
def export_cmd(
    notebook: Annotated[Path, typer.Argument(help="An executed notebook (.ipynb).")],
    html: Annotated[Path, typer.Argument(help="The HTML file to write.")],
) -> None:
    """Convert one executed notebook to the offline report HTML (no code, no external URL)."""
    from kpilib.reports.export import notebook_to_html

    if not notebook.is_file():
        typer.echo(f"error: {notebook} does not exist", err=True)
        raise typer.Exit(2)
    typer.echo(notebook_to_html(notebook, html))


@reports_app.command("refresh")
def refresh_cmd(
    notebooks: Annotated[
        list[Path] | None, typer.Argument(help="Notebooks (default: notebooks/*.ipynb).")
    ] = None,
) -> None:
    """Re-execute the stored notebooks in place on the CI dataset and strip volatile metadata."""
    from kpilib.reports.refresh import main as refresh_main

    raise typer.Exit(refresh_main([str(n) for n in notebooks or []]))


def register(app: typer.Typer) -> None:
    """Add `kpilib reports ...` to the main CLI."""
    app.add_typer(reports_app, name="reports")
