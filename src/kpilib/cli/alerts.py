"""`kpilib alerts`: band KPI results, route alerts to owners, de-duplicate, optionally POST."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = "\n\n".join((
    "Turn KPI results into alerts: band them (normal / stressed / critical, kpi-spec §7), "
    "raise an alert for each series whose latest period is stressed or critical, route it to "
    "its owner role, and record it in an alert store.",
    "--results is a file written by `kpilib compute` (parquet or CSV; an already banded file "
    "is used as is). --config is a folder with bands.yaml and/or roles.yaml (missing files: "
    "the packaged defaults). --store is a folder keeping state across runs: an alert already "
    "open is not sent again, a worse band is sent as 'escalated', and a series back to normal "
    "is sent as 'closed'. Each run writes <store>/runs/<run_id>/alerts.jsonl and alerts.csv.",
    "With --webhook URL, the run's records are POSTed as JSON ({run_id, as_of, alerts: [...]}) "
    "with a timeout and retries; a delivery that still fails stays in the store's outbox and "
    "is retried first on the next run.",
    "Exit code 0 on success, 2 on bad input or configuration, 3 when a webhook delivery is "
    "pending in the outbox.",
))


def read_results(path: Path):
    """A compute result file (parquet, CSV or CSV.gz) as a DataFrame with tz-aware periods."""
    import pandas as pd

    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, keep_default_na=True)
        if "period" in frame:
            frame["period"] = pd.to_datetime(frame["period"], utc=True)
        if "band" in frame and "signals" in frame:
            frame["signals"] = frame["signals"].fillna("")
    return frame


def run(results: Path, config: Path | None, store_dir: Path, webhook: str | None,
        run_id: str | None, as_of: str | None, all_periods: bool, timeout: float,
        retries: int) -> int:
    """Execute the command; return the exit code."""
    import pandas as pd
    from rich.console import Console

    from kpilib.alerts import AlertStore, from_bands, latest_per_series
    from kpilib.bands import apply_bands, load_bands_config
    from kpilib.errors import ConfigError
    from kpilib.roles import load_roles_config

    console = Console(soft_wrap=True)
    if not results.is_file():
        console.print(f"[red]results file not found:[/red] {results}")
        return 2
    if config is not None and not config.is_dir():
        console.print(f"[red]--config must be a folder with bands.yaml / roles.yaml:[/red] "
                      f"{config}")
        return 2
    stamp = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    run_id = run_id or stamp.strftime("%Y%m%dT%H%M%SZ")
    try:
        bands_path = config / "bands.yaml" if config else None
        roles_path = config / "roles.yaml" if config else None
        bands = load_bands_config(bands_path if bands_path and bands_path.exists() else None)
        roles = load_roles_config(roles_path if roles_path and roles_path.exists() else None)
        frame = read_results(results)
        banded = frame if "band" in frame.columns else apply_bands(frame, bands)
        alerts = from_bands(banded, roles, run_id, stamp, latest_only=not all_periods)
        store = AlertStore(store_dir)
        summary = store.update(alerts, latest_per_series(banded), run_id, stamp,
                               webhook=webhook,
                               webhook_options={"timeout": timeout, "retries": retries})
    except (ConfigError, ValueError, KeyError) as err:
        console.print(f"[red]{type(err).__name__}:[/red] {err}")
        return 2
    counts = summary.counts()
    console.print(f"run {run_id}: {len(alerts)} breach(es) in the results; "
                  f"opened {counts.get('opened', 0)}, escalated {counts.get('escalated', 0)}, "
                  f"closed {counts.get('closed', 0)}, not re-sent {summary.suppressed}; "
                  f"open now {len(store.open_alerts())}")
    for rec in summary.emitted.to_dict("records"):
        console.print(f"  [{rec['event']}] {rec['owner_role']}: {rec['reason']}")
    console.print(f"written: {store_dir / 'runs' / run_id / 'alerts.jsonl'} (and alerts.csv)")
    if webhook:
        console.print(f"webhook: delivered {summary.delivered}, pending in outbox "
                      f"{summary.pending_outbox}")
        for err in summary.errors:
            console.print(f"[yellow]{err}[/yellow]")
        if summary.pending_outbox:
            return 3
    return 0


def register(app: typer.Typer) -> None:
    """Add `alerts` to the kpilib CLI."""

    @app.command("alerts", help=HELP)
    def alerts(
        results: Annotated[Path, typer.Option(
            "--results", help="KPI results file from `kpilib compute` (parquet or CSV).")],
        store: Annotated[Path, typer.Option(
            "--store", help="Alert store folder (state.json, runs/<run_id>/alerts.*).")],
        config: Annotated[Path | None, typer.Option(
            "--config", help="Folder with bands.yaml and/or roles.yaml (default: packaged).")
        ] = None,
        webhook: Annotated[str | None, typer.Option(
            "--webhook", help="URL to POST the run's alert records to (JSON).")] = None,
        run_id: Annotated[str | None, typer.Option(
            "--run-id", help="Name of this run (default: as-of time, e.g. 20240819T060000Z).")
        ] = None,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Evaluation time stamped on the records (default: now, UTC).")
        ] = None,
        all_periods: Annotated[bool, typer.Option(
            "--all-periods", help="Alert on every stressed/critical period, not only the "
            "latest of each series.")] = False,
        timeout: Annotated[float, typer.Option(help="Webhook timeout per attempt, seconds.")
                           ] = 10.0,
        retries: Annotated[int, typer.Option(help="Webhook retries after the first attempt.")
                           ] = 3,
    ) -> None:
        raise typer.Exit(run(results, config, store, webhook, run_id, as_of, all_periods,
                             timeout, retries))
