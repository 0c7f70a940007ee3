"""`kpilib alerts`: band KPI results, route alerts to owners, de-duplicate, optionally POST."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = "\n\n".join((
    "Turn KPI results into alerts: band them (normal / stressed / critical), "
    "raise an alert for each series whose latest period is stressed or critical, route it to "
    "its owner role, and record it in an alert store.",
    "--results is a file written by `kpilib compute` (parquet or CSV; an already banded file "
    "is used as is). The running period, not ended at the file's data_as_of (which "
    "`kpilib compute --out` writes), is never judged: it raises no alert, and the period "
    "before it is the one alerted on. --config is a folder with bands.yaml and/or roles.yaml "
    "(missing files: "
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
    from kpilib.bands.partial import mark_partial
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
        # the running period (not ended at the file's data_as_of) is never judged
        banded = (mark_partial(frame) if "band" in frame.columns
                  else apply_bands(frame, bands))
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


RISK_HELP = "\n\n".join((
    "Early warning: train a calibrated classifier that scores, at release time, each order's "
    "probability of missing its ship-by deadline (planned_ship_by_at), print its quality on a "
    "later test period against a node-late-rate baseline (ROC AUC, Brier score, lift at the "
    "top decile), and list the open orders most at risk with the reasons that weigh most.",
    "Features use only events up to each order's release; training uses only outcomes known "
    "before the cutoff (default: 70% of the labelled history).",
))


def run_risk(data: Path, cutoff: str | None, as_of: str | None, model: str, top: int,
             out: Path | None) -> int:
    """Execute `kpilib risk`; return the exit code."""
    import pandas as pd

    import kpilib
    from kpilib.risk import run as risk_run

    if not data.is_dir():
        typer.echo(f"not a folder: {data}", err=True)
        return 2
    ds = kpilib.load_dataset(data)
    try:
        fitted, queue = risk_run(ds, cutoff=cutoff, as_of=as_of, kind=model, top=top)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        return 2
    if fitted.importance is not None:
        top_feats = ", ".join(f"{k} {v:.3f}" for k, v in fitted.importance.head(5).items())
        typer.echo(f"permutation importance (ROC AUC drop): {top_feats}")
    typer.echo(f"{len(queue)} open order(s) in the action queue")
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        typer.echo(queue.head(15)[["order_id", "node", "channel", "risk", "hours_to_deadline",
                                   "reasons"]].to_string(index=False))
    if out is not None:
        queue.to_csv(out, index=False)
        typer.echo(f"written: {out}")
    return 0


def register(app: typer.Typer) -> None:
    """Add `alerts` and `risk` to the kpilib CLI."""

    @app.command("risk", help=RISK_HELP)
    def risk(
        data: Annotated[Path, typer.Option("--data", help="Dataset folder.")],
        cutoff: Annotated[str | None, typer.Option(
            help="Train/test cutoff (UTC timestamp); default 70% of labelled releases.")
        ] = None,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Which orders are open (default: the data's as-of).")] = None,
        model: Annotated[str, typer.Option(help="logit (per-order reasons) or hgb.")
                         ] = "logit",
        top: Annotated[int, typer.Option(help="Length of the action queue.")] = 50,
        out: Annotated[Path | None, typer.Option(help="Write the action queue to this CSV.")
                       ] = None,
    ) -> None:
        raise typer.Exit(run_risk(data, cutoff, as_of, model, top, out))

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
