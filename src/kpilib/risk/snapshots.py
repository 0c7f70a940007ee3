"""Snapshot features: what is known about an open order at an evaluation time ``t`` (a refresh).

Rows are (order, ``t``) pairs with the order open at ``t``, released or not: created ``<= t``,
not cancelled by ``t`` (``cancelled_at <= t``), outcome not known by ``t`` (``known_at <= t``,
see :func:`kpilib.risk.features.ship_outcomes`), and a deadline after ``t``, the deadline being
the earliest ``planned_ship_by_at`` of the lines created ``<= t``. Population as release
features (non-test, non-transfer orders).

Every feature of a row reads only records with a timestamp ``<= t``:

- order: channel, order_type, ``node`` (node of the first ``released_to_node`` event, or
  ``unreleased`` before it), ``released`` (1/0), ``hours_left`` (deadline − t),
  ``hours_open`` (t − created_at), ``hours_since_release`` (t − release, 0 before release),
  promised lead hours, lines and units (lines created ``<= t``), ``lines_done_share`` (share of
  those lines whose shipped quantity reached their quantity to ship by ``t``);
- order history: allocation attempts and failed attempts, holds placed, holds still open
  (placed − released), backorder events, all with ``event_at <= t``;
- node load at ``t`` (released rows; NaN before release): as the release features;
- network pressure at ``t``: orders created, ``backordered`` events, and the failed share of
  allocation attempts over all nodes in the 24 h before ``t`` (stockouts and surges);
- recent lateness: the late share of the outcomes known in the 24 h before ``t``, over all
  orders and over the row's node (NaN before release); ``hours_left_unreleased`` = hours left
  while unreleased (0 once released).

Training rows (:func:`training_rows`): the open orders at every ``step_hours`` grid time
(multiples of ``step_hours`` since the epoch) before ``cutoff``, optionally only over its last
``days``, whose outcome is known before ``cutoff``; label ``late``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kpilib.risk.features import (
    DAY,
    _count_le,
    _node_load,
    _ns,
    _population_orders,
    _table,
    failed_attempt,
    line_completion,
    order_history,
    releases,
    share_24h,
    ship_outcomes,
    slice_completion,
)

CATEGORICAL = ["channel", "node", "order_type"]
NODE_LOAD = ["node_backlog", "node_releases_24h", "node_open_pick_lines", "node_open_waves",
             "node_alloc_fail_rate_24h"]
NUMERIC = [
    "released", "hours_left", "hours_open", "hours_since_release", "promised_lead_hours",
    "lines", "units", "lines_done_share", "alloc_attempts", "alloc_failures", "holds",
    "holds_open", "backorders", *NODE_LOAD, "node_late_rate_24h", "net_orders_24h",
    "net_backorders_24h", "net_alloc_fail_rate_24h", "net_late_rate_24h",
    "hours_left_unreleased",
]
HOUR = pd.Timedelta(hours=1)


def grid(start: Any, end: Any, step_hours: float) -> pd.DatetimeIndex:
    """Multiples of ``step_hours`` since the epoch in ``[start, end)``."""
    step = pd.Timedelta(hours=step_hours)
    first = pd.Timestamp(start).ceil(step)
    return pd.date_range(first, pd.Timestamp(end), freq=step, inclusive="left")


def open_rows(ds: Any, times: Any, outcomes: pd.DataFrame | None = None,
              lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Order id, ``at`` and the order's columns for every order open at each of ``times``."""
    times = pd.DatetimeIndex(times)
    orders = _population_orders(ds)
    lines = line_completion(ds) if lines is None else lines
    outcomes = ship_outcomes(ds, lines) if outcomes is None else outcomes
    last_deadline = lines.groupby("order_id")["planned_ship_by_at"].max()
    known = outcomes.set_index("order_id")["known_at"]
    end = pd.concat([orders["cancelled_at"], orders["order_id"].map(known),
                     orders["order_id"].map(last_deadline)], axis=1).min(axis=1)
    t = times.asi8 if len(times) else np.array([], np.int64)
    lo = np.searchsorted(t, _ns(orders["created_at"]), side="left")
    hi = np.searchsorted(t, _ns(end), side="left")  # NaT end (no deadline): max int, all
    hi = np.where(orders["order_id"].map(last_deadline).isna().to_numpy(), lo, hi)
    n = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(orders)), n)
    step = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    rows = orders.iloc[which].reset_index(drop=True)
    rows.insert(1, "at", pd.DatetimeIndex(t[lo[which] + step]).tz_localize("UTC")
                if len(which) else pd.Series(dtype="datetime64[ns, UTC]"))
    return rows


def _lines_at(rows: pd.DataFrame, lines: pd.DataFrame, prom: pd.Series) -> pd.DataFrame:
    lr = lines.merge(rows[["order_id", "at"]].reset_index(names="row"), on="order_id")
    lr = lr[lr["created_at"] <= lr["at"]]
    lr = lr.assign(promised=lr["order_line_id"].map(prom),
                   done=(lr["completed_at"] <= lr["at"]).astype(float))
    return lr.groupby("row").agg(
        lines=("order_line_id", "size"), units=("qty_ordered", "sum"),
        deadline=("planned_ship_by_at", "min"), promised=("promised", "min"),
        lines_done_share=("done", "mean")).reindex(rows.index)


def _network_at(ds: Any, rows: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    t = _ns(rows["at"])
    day = DAY.value
    created = np.sort(_ns(orders["created_at"]))
    out = {"net_orders_24h": _count_le(created, t) - _count_le(created, t - day),
           "net_backorders_24h": np.zeros(len(rows)),
           "net_alloc_fail_rate_24h": np.full(len(rows), np.nan)}
    ev = _table(ds, "order_events")
    if ev is not None:
        bo = np.sort(_ns(ev.loc[ev["event_type"] == "backordered", "event_at"]))
        out["net_backorders_24h"] = _count_le(bo, t) - _count_le(bo, t - day)
        a = ev[ev["event_type"] == "allocation_attempt"].sort_values("event_at", kind="stable")
        out["net_alloc_fail_rate_24h"] = share_24h(_ns(a["event_at"]),
                                                   failed_attempt(a).to_numpy(), t)
    return pd.DataFrame({k: np.asarray(v, float) for k, v in out.items()}, index=rows.index)


def _late_rate(known: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Late share of the outcomes that became known in ``(t − 24 h, t]`` (NaN: none)."""
    return share_24h(_ns(known["known_at"]), known["late"].to_numpy(float), t)


def _recent_late(rows: pd.DataFrame, outcomes: pd.DataFrame, node: pd.Series) -> pd.DataFrame:
    known = outcomes[outcomes["late"].notna()].sort_values("known_at", kind="stable")
    known = known.assign(node=known["order_id"].map(node))
    t = _ns(rows["at"])
    out = pd.DataFrame({"node_late_rate_24h": np.nan, "net_late_rate_24h": _late_rate(known, t)},
                       index=rows.index)
    for name, idx in rows.groupby("node", sort=True).indices.items():
        if name != "unreleased":
            out.iloc[idx, 0] = _late_rate(known[known["node"] == name], t[idx])
    return out


def snapshot_features(ds: Any, times: Any, lines: pd.DataFrame | None = None,
                      outcomes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per order open at each of ``times``: ids, ``at``, ``deadline`` and features
    (``lines``, ``outcomes``: :func:`line_completion`, :func:`ship_outcomes` of ``ds``)."""
    lines = line_completion(ds) if lines is None else lines
    outcomes = ship_outcomes(ds, lines) if outcomes is None else outcomes
    rows = open_rows(ds, times, outcomes, lines)
    prom = ds.order_lines.set_index("order_line_id")["promised_delivery_at_original"]
    rows = pd.concat([rows, _lines_at(rows, lines, prom)], axis=1)
    rows = rows[rows["deadline"] > rows["at"]].reset_index(drop=True)
    rel = releases(ds)
    first = rel.drop_duplicates("order_id", keep="first").set_index("order_id")
    release_at = rows["order_id"].map(first["release_at"])
    released = (release_at <= rows["at"]).to_numpy()
    rows["release_at"] = release_at.where(released)
    rows["node"] = rows["order_id"].map(first["node"]).where(released, "unreleased")
    rows["released"] = released.astype(float)
    rows["hours_left"] = (rows["deadline"] - rows["at"]) / HOUR
    rows["hours_open"] = (rows["at"] - rows["created_at"]) / HOUR
    rows["hours_since_release"] = ((rows["at"] - rows["release_at"]) / HOUR).fillna(0.0)
    rows["promised_lead_hours"] = (rows["promised"] - rows["created_at"]) / HOUR
    rows["hours_left_unreleased"] = rows["hours_left"] * (1.0 - rows["released"])
    load = pd.DataFrame(np.nan, index=rows.index, columns=NODE_LOAD)
    if released.any():
        sl = slice_completion(ds, lines, rel)
        done = rows[released]
        load.loc[done.index] = _node_load(ds, done, sl, at="at").to_numpy()
    rows = pd.concat([rows, order_history(ds, rows, "at"), load,
                      _recent_late(rows, outcomes, first["node"]),
                      _network_at(ds, rows, _population_orders(ds))], axis=1)
    cols = ["order_id", "at", "deadline", "created_at", "release_at", *CATEGORICAL, *NUMERIC]
    return rows[cols]


def training_rows(ds: Any, cutoff: Any, step_hours: float, days: float | None = None
                  ) -> pd.DataFrame:
    """Snapshot features at the grid times before ``cutoff`` (the last ``days`` of them when
    given) of the orders whose outcome is known before ``cutoff``, with their ``late`` label
    (1.0 / 0.0)."""
    cutoff = pd.Timestamp(cutoff)
    lines = line_completion(ds)
    outcomes = ship_outcomes(ds, lines)
    known = outcomes[outcomes["late"].notna() & (outcomes["known_at"] < cutoff)]
    start = ds.orders["created_at"].min()
    if days is not None and not pd.isna(start):
        start = max(start, cutoff - pd.Timedelta(days=days))
    if pd.isna(start):
        return pd.DataFrame(columns=["order_id", "at", *CATEGORICAL, *NUMERIC, "late"])
    feats = snapshot_features(ds, grid(start, cutoff, step_hours), lines, outcomes)
    return feats.merge(known[["order_id", "late"]], on="order_id", how="inner")
