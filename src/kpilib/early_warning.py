"""Early warning on open orders: risk of missing the ship-by deadline, a queue and alerts.

At an evaluation time ``as_of`` (a refresh): fit the release-time risk model of
:mod:`kpilib.risk` on the outcomes known by then (refit when the cached model is older than
``refit_hours`` of data time), score every open released order (released, not cancelled,
outcome unknown, deadline ahead) and build the queue: ``item`` (order id), ``item_type``,
``owner_role`` (the owner of ``on_time_shipment_rate``), ``deadline``, ``hours_left``,
``risk``, ``order_value`` (Σ qty_ordered · unit_price), ``reasons`` (top log-odds
contributions) and ``alert``.

An item alerts when ``risk >= threshold`` and it is high-value (``order_value`` at or above
the ``high_value_quantile`` of open orders) or near its deadline (``hours_left <=
near_hours``): band ``critical`` when near the deadline, else ``stressed``. Alerts go through
the alert store like KPI alerts, keyed ``early_warning|order=<id>``; an item that leaves the
queue (shipped, cancelled, deadline passed) closes its alert.

Orders not yet released are outside the model (its features are taken at release); open RMAs,
exceptions and unwaved lines are not scored yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpilib.alerts.records import ALERT_COLUMNS, alert_id

KPI = "early_warning"
DEFAULTS = {"threshold": 0.5, "near_hours": 12.0, "high_value_quantile": 0.9,
            "refit_hours": 24.0, "min_train": 50}
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


def fit_model(ds, as_of: pd.Timestamp, min_train: int = 50):
    """The risk model trained on outcomes known before ``as_of``; None when too few."""
    from kpilib.risk.model import fit, labelled, time_split

    train, _, _ = time_split(labelled(ds), cutoff=as_of)
    if len(train) < min_train or train["late"].nunique() < 2:
        return None
    return fit(train, "logit", as_of)


def order_values(ds) -> pd.Series:
    """Σ qty_ordered · unit_price per order id."""
    ol = ds.order_lines
    return (ol["qty_ordered"].astype(float) * ol["unit_price"]).groupby(ol["order_id"]).sum()


def build_queue(ds, model, as_of: pd.Timestamp, owner: str, cfg: dict[str, Any]
                ) -> pd.DataFrame:
    """Every open released order scored, most at risk first, with ``alert`` flags."""
    from kpilib.risk.model import action_queue

    if model is None:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    q = action_queue(model, ds, as_of, top=np.iinfo(np.int32).max)
    if q.empty:
        return pd.DataFrame(columns=QUEUE_COLUMNS)
    value = q["order_id"].map(order_values(ds)).astype(float)
    out = pd.DataFrame({
        "item": q["order_id"].astype(str), "item_type": "order", "owner_role": owner,
        "node": q["node"], "channel": q["channel"], "deadline": q["deadline"],
        "hours_left": q["hours_to_deadline"].astype(float), "risk": q["risk"].astype(float),
        "order_value": value, "reasons": q["reasons"]})
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
        recs.append({
            "alert_key": key, "alert_id": alert_id(key), "kpi": KPI, "segment": f"order={r.item}",
            "period": r.deadline, "band": "critical" if near else "stressed",
            "signals": f"risk>={cfg['threshold']}" + (";near_deadline" if near else ";high_value"),
            "value": float(r.risk), "metric": "risk", "unit": "fraction",
            "owner_role": r.owner_role,
            "reason": (f"Order {r.item} at {r.node} ({r.channel}) has a {r.risk:.0%} risk of "
                       f"missing its ship-by {r.deadline:%Y-%m-%d %H:%M} UTC "
                       f"({r.hours_left:.1f} h left, value {r.order_value:,.2f}): {r.reasons}"),
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
    """Fit (or reuse ``model`` when fresh enough), score the open orders, build the alerts."""
    fresh = model is not None and (as_of - model.cutoff) <= pd.Timedelta(hours=cfg["refit_hours"])
    if not fresh:
        model = fit_model(ds, as_of, int(cfg["min_train"]))
    queue = build_queue(ds, model, as_of, owner, cfg)
    return Warning(queue, alert_records(queue, cfg, run_id, as_of), model)
