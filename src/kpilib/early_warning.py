"""Early warning on open orders: risk of missing the ship-by deadline, a queue and alerts.

At an evaluation time ``as_of`` (a refresh): fit the snapshot risk model of
:mod:`kpilib.risk.snapshots` (training rows = the orders open at every ``snapshot_hours``
grid time of the ``train_days`` before ``as_of`` whose outcome is known by then, features as
of that time; refit when the cached model is older than ``refit_hours`` of data time), score
every open order at ``as_of`` (released or not, not cancelled, outcome unknown, deadline
ahead) and build the queue: ``item`` (order id), ``item_type``, ``owner_role`` (the owner of
``on_time_shipment_rate``), ``deadline``, ``hours_left``, ``risk``, ``order_value``
(Σ qty_ordered · unit_price), ``reasons`` (top log-odds contributions) and ``alert``.

``threshold`` ``"auto"`` is the model's: the highest risk at which ``target_recall`` of the
late training orders reach it in some snapshot (:func:`kpilib.risk.model.recall_threshold`).
An item alerts when ``risk >= threshold`` and it is high-value (``order_value`` at or above
the ``high_value_quantile`` of open orders) or near its deadline (``hours_left <=
near_hours``): band ``critical`` when near the deadline, else ``stressed``. Alerts go through
the alert store like KPI alerts, keyed ``early_warning|order=<id>``; an item that leaves the
queue (shipped, cancelled, deadline passed) closes its alert.

Open RMAs, exceptions and unwaved lines are not scored yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpilib.alerts.records import ALERT_COLUMNS, alert_id

KPI = "early_warning"
DEFAULTS = {"threshold": "auto", "target_recall": 0.7, "snapshot_hours": 6.0,
            "train_days": 90.0, "near_hours": 12.0, "high_value_quantile": 0.9, "refit_hours": 24.0,
            "min_train": 50}
QUEUE_COLUMNS = ["item", "item_type", "owner_role", "node", "channel", "deadline",
                 "hours_left", "risk", "order_value", "reasons", "alert"]


@dataclass
class Warning:
    """The queue and alert records of one evaluation, and the model used (None: too little
    history to fit one yet)."""

    queue: pd.DataFrame
    alerts: pd.DataFrame
    model: Any


def settings(config: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overridden by a store's ``early_warning`` configuration."""
    return {**DEFAULTS, **(config or {})}


def fit_model(ds, as_of: pd.Timestamp, cfg: dict[str, Any] | None = None):
    """The snapshot risk model trained on outcomes known before ``as_of``, with its
    ``threshold`` for ``target_recall``; None when fewer than ``min_train`` orders or fewer
    than 3 rows of a class (the calibration folds)."""
    from kpilib.risk import snapshots
    from kpilib.risk.model import fit, recall_threshold

    cfg = settings(cfg)
    days = cfg["train_days"]
    train = snapshots.training_rows(ds, as_of, float(cfg["snapshot_hours"]),
                                    None if days is None else float(days))
    rows = train["late"].value_counts()
    if train["order_id"].nunique() < int(cfg["min_train"]) or len(rows) < 2 or rows.min() < 3:
        return None
    model = fit(train, "logit", as_of, (snapshots.CATEGORICAL, snapshots.NUMERIC), "open")
    model.threshold = recall_threshold(train["order_id"], train["late"], model.predict(train),
                                       float(cfg["target_recall"]))
    return model


def threshold(model, cfg: dict[str, Any]) -> float:
    """``cfg["threshold"]``, or the model's own when it is ``"auto"``."""
    thr = cfg["threshold"]
    return float(model.threshold) if thr == "auto" else float(thr)


def order_values(ds) -> pd.Series:
    """Σ qty_ordered · unit_price per order id."""
    ol = ds.order_lines
    return (ol["qty_ordered"].astype(float) * ol["unit_price"]).groupby(ol["order_id"]).sum()


def build_queue(ds, model, as_of: pd.Timestamp, owner: str, cfg: dict[str, Any]
                ) -> pd.DataFrame:
    """Every open order scored at ``as_of``, most at risk first, with ``alert`` flags
    (``cfg["threshold"]`` already a number)."""
    from kpilib.risk.model import reasons_logit
    from kpilib.risk.snapshots import snapshot_features

    if model is None:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    q = snapshot_features(ds, [as_of])
    if q.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    q["risk"] = model.predict(q)
    q = q.sort_values(["risk", "order_id"], ascending=[False, True], kind="stable")
    q = q.reset_index(drop=True)
    value = q["order_id"].map(order_values(ds)).astype(float)
    out = pd.DataFrame({
        "item": q["order_id"].astype(str), "item_type": "order", "owner_role": owner,
        "node": q["node"], "channel": q["channel"], "deadline": q["deadline"],
        "hours_left": q["hours_left"].astype(float), "risk": q["risk"].astype(float),
        "order_value": value, "reasons": reasons_logit(model, q)})
    out["alert"] = alert_flags(out, cfg)
    return out[QUEUE_COLUMNS].reset_index(drop=True)


def alert_flags(queue: pd.DataFrame, cfg: dict[str, Any]) -> pd.Series:
    """risk >= threshold and (order_value >= its high_value_quantile over the queue, or
    hours_left <= near_hours)."""
    high = queue["order_value"] >= queue["order_value"].quantile(cfg["high_value_quantile"])
    near = queue["hours_left"] <= cfg["near_hours"]
    return (queue["risk"] >= cfg["threshold"]) & (high | near)


def alert_records(queue: pd.DataFrame, cfg: dict[str, Any], run_id: str,
                  as_of: pd.Timestamp) -> pd.DataFrame:
    """Alert records (``ALERT_COLUMNS``) for the queue items that alert."""
    rows = queue[queue["alert"].astype(bool)]
    recs = []
    for r in rows.itertuples(index=False):
        key = f"{KPI}|order={r.item}"
        near = r.hours_left <= cfg["near_hours"]
        where = "not yet released" if r.node == "unreleased" else f"at {r.node}"
        recs.append({
            "alert_key": key, "alert_id": alert_id(key), "kpi": KPI, "segment": f"order={r.item}",
            "period": r.deadline, "band": "critical" if near else "stressed",
            "signals": f"risk>={float(cfg['threshold']):.3g}"
                       + (";near_deadline" if near else ";high_value"),
            "value": float(r.risk), "metric": "risk", "unit": "fraction",
            "owner_role": r.owner_role,
            "reason": (f"Order {r.item} {where} ({r.channel}) has a {r.risk:.0%} risk of "
                       f"missing its ship-by {r.deadline:%Y-%m-%d %H:%M} UTC "
                       f"({r.hours_left:.1f} h left, order value {r.order_value:,.2f}): "
                       f"{r.reasons}"),
            "run_id": run_id, "as_of": as_of, "event": "opened", "state": "open"})
    return pd.DataFrame(recs, columns=list(ALERT_COLUMNS))


def closures(open_state: dict[str, dict[str, Any]], alerts: pd.DataFrame,
             as_of: pd.Timestamp) -> pd.DataFrame:
    """``latest`` rows (band normal, period ``as_of``) for open early-warning alerts no longer
    raised."""
    still = set(alerts["alert_key"])
    keys = [k for k, v in open_state.items() if v.get("kpi") == KPI and k not in still]
    return pd.DataFrame({"alert_key": keys, "kpi": KPI, "band": "normal",
                         "period": as_of, "value": np.nan, "signals": "left_queue"})


def evaluate(ds, as_of: pd.Timestamp, owner: str, cfg: dict[str, Any], run_id: str,
             model: Any = None) -> Warning:
    """Fit (or reuse ``model`` when fresh enough and a snapshot model), score the open orders,
    build the alerts."""
    fresh = (model is not None and getattr(model, "population", "release") == "open"
             and (as_of - model.cutoff) <= pd.Timedelta(hours=cfg["refit_hours"]))
    if not fresh:
        model = fit_model(ds, as_of, cfg)
    if model is not None:
        cfg = {**cfg, "threshold": threshold(model, cfg)}
    queue = build_queue(ds, model, as_of, owner, cfg)
    return Warning(queue, alert_records(queue, cfg, run_id, as_of), model)
