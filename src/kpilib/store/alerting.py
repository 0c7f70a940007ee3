"""Alerts of a refresh: band-driven KPI alerts and early-warning alerts, one alert store.

The generation being built gets a copy of the previous ``alerts/state.json`` and runs
:meth:`kpilib.alerts.AlertStore.update` on it with the batch id as run id, so the alert state
moves with the generation: a crash before the pointer swap leaves the old state, and a rerun
of the same batch is skipped before it gets here. New records go into the state's outbox (not
sent yet); :func:`deliver` sends the outbox of the current generation after the swap, so an
alert is delivered only once its generation is committed, and stays in the outbox until sent.
"""

from __future__ import annotations

import os
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import early_warning
from kpilib.store.core import Store

MODEL_FILE = "risk_model.pkl"


@dataclass
class FlowResult:
    """Alert events emitted by one refresh and the length of the early-warning queue."""

    counts: dict[str, int] = field(default_factory=dict)
    early_warning: int = 0


def _prepare(store: Store, building: Path, previous: Path | None) -> Path:
    alerts = building / "alerts"
    alerts.mkdir()
    if previous is not None and (previous / "alerts" / "state.json").exists():
        shutil.copy2(previous / "alerts" / "state.json", alerts / "state.json")
    # per-run records are shared by all generations (same run id, same content on a rerun)
    os.symlink(os.path.join("..", "..", "..", "alert_runs"), alerts / "runs")
    return alerts


def _load_model(previous: Path | None):
    path = previous / MODEL_FILE if previous is not None else None
    if path is None or not path.exists():
        return None
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - written by this store, never from outside


def update(store: Store, building: Path, previous: Path | None, ds,
           banded: dict[str, pd.DataFrame], run_id: str, now: Any = None) -> FlowResult:
    """Band alerts of every set plus early-warning alerts into ``building``'s alert store."""
    from kpilib.alerts import AlertStore, from_bands, latest_per_series
    from kpilib.roles import load_roles_config

    as_of = pd.Timestamp(ds.data_as_of)
    roles = load_roles_config(store.config.get("roles"))
    alerts_dir = _prepare(store, building, previous)
    astore = AlertStore(alerts_dir)
    parts, latest = [], []
    for frame in banded.values():
        parts.append(from_bands(frame, roles, run_id, as_of))
        latest.append(latest_per_series(frame))
    result = FlowResult()
    cfg = early_warning.settings(store.config.get("early_warning"))
    if cfg.get("enabled", True):
        warn = early_warning.evaluate(ds, as_of, roles.owner_of("on_time_shipment_rate"), cfg,
                                      run_id, _load_model(previous))
        warn.queue.to_parquet(building / "early_warning.parquet", index=False)
        if warn.model is not None:
            with open(building / MODEL_FILE, "wb") as fh:
                pickle.dump(warn.model, fh)
        parts.append(warn.alerts)
        latest.append(early_warning.closures(astore.state["open"], warn.alerts, as_of))
        result.early_warning = len(warn.queue)
    alerts = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    latest_all = pd.concat([p for p in latest if len(p)] or latest[:1], ignore_index=True)
    summary = astore.update(alerts, latest_all, run_id, now if now is not None else as_of)
    webhook = store.config.get("webhook")
    if webhook and len(summary.emitted):
        from kpilib.alerts.store import _jsonable

        astore.outbox.append({"url": webhook, "payload": {
            "run_id": run_id, "as_of": as_of.isoformat(),
            "alerts": [_jsonable(r) for r in summary.emitted.to_dict("records")]}})
        astore.save()
    result.counts = summary.counts()
    return result


def deliver(store: Store) -> tuple[int, int]:
    """Send the current generation's outbox; return (delivered, still pending)."""
    from kpilib.alerts import AlertStore

    if not store.config.get("webhook"):
        return 0, 0
    astore = AlertStore(store.alert_dir())
    if not astore.outbox:
        return 0, 0
    options = store.config.get("webhook_options") or {}
    delivered = astore.flush_outbox(**options)
    return delivered, len(astore.outbox)
