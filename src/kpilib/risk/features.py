"""Features known at release time, and ship-by outcomes with the time they became known.

Population: non-test, non-transfer orders with a ``released_to_node`` event and at least one line
(created by release) with ``planned_ship_by_at``. Release ``r`` = the order's first
``released_to_node`` event; its node is that event's ``node_id``. Deadline = earliest
``planned_ship_by_at`` of the lines created ``<= r`` (deadlines and promises are taken as fixed
when a line is created).

Every feature of an order reads only records with a timestamp ``<= r`` (leakage rule):

- order: channel, order_type, release day of week and hour (UTC), hours from creation to
  release, promised lead hours (earliest original promise − created_at), slack hours
  (deadline − r), lines and units on lines created ``<= r``;
- order history: allocation attempts and failed attempts (``qty_confirmed < qty``), holds
  placed, backorder events, all with ``event_at <= r``;
- node load at ``r``: backlog = order-node slices released ``<= r`` and not completed by ``r``
  (other orders only), releases in the 24 h before ``r``, open pick lines (tasks released
  ``<= r`` not picked by ``r``), open waves (released ``<= r``, not closed by ``r``), and the
  share of failed allocation attempts at the node in the 24 h before ``r``.

A line is completed when its shipped quantity (shipments with ``shipped_at``) reaches
``qty_ordered − qty_cancelled_customer − qty_cancelled_merchant``; a slice when all its lines
are. Comparisons with ``r`` use ``<=`` on those completion times, so moving any event that
happens after ``r`` to another time after ``r`` changes no feature.

Outcome: an order is late when a line with a deadline (and ``qty_ordered −
qty_cancelled_customer > 0``) has not shipped that quantity by its deadline (merchant
cancellation is a failure). The outcome is known at the first missed deadline (late) or
when the last such line completed (on time); still open before its deadline = unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

CATEGORICAL = ["channel", "node", "order_type", "release_dow"]
NUMERIC = [
    "release_hour", "hours_created_to_release", "promised_lead_hours", "slack_hours",
    "lines", "units", "alloc_attempts", "alloc_failures", "holds", "backorders",
    "node_backlog", "node_releases_24h", "node_open_pick_lines", "node_open_waves",
    "node_alloc_fail_rate_24h",
]
DAY = pd.Timedelta(hours=24)


def _table(ds: Any, name: str) -> pd.DataFrame | None:
    return getattr(ds, name, None)


def _population_orders(ds: Any) -> pd.DataFrame:
    o = ds.orders
    keep = ~o["is_test"].astype(bool) & (o["order_type"] != "transfer")
    return o.loc[keep, ["order_id", "channel", "order_type", "created_at", "cancelled_at"]]


def releases(ds: Any) -> pd.DataFrame:
    """First ``released_to_node`` event per order and per order-node slice."""
    ev = _table(ds, "order_events")
    cols = ["order_id", "node", "release_at"]
    if ev is None:
        return pd.DataFrame(columns=cols)
    rel = ev.loc[ev["event_type"] == "released_to_node", ["order_id", "node_id", "event_at"]]
    rel = rel.rename(columns={"node_id": "node", "event_at": "release_at"})
    return rel.sort_values(["order_id", "release_at", "node"], kind="stable")


def line_completion(ds: Any) -> pd.DataFrame:
    """Per line: required quantities, ``completed_at`` = the time its shipped quantity reached
    ``required_ship``, and ``required_done_at`` = the time it reached ``required``."""
    ol = ds.order_lines[["order_line_id", "order_id", "assigned_node_id", "created_at",
                         "qty_ordered", "qty_cancelled_customer", "qty_cancelled_merchant",
                         "planned_ship_by_at"]].copy()
    ol["required"] = ol["qty_ordered"] - ol["qty_cancelled_customer"]
    ol["required_ship"] = ol["required"] - ol["qty_cancelled_merchant"]
    sh, sl = _table(ds, "shipments"), _table(ds, "shipment_lines")
    for col in ("completed_at", "required_done_at"):
        ol[col] = pd.Series(pd.NaT, index=ol.index, dtype="datetime64[ns, UTC]")
    if sh is not None and sl is not None and len(sl):
        x = sl.merge(sh[["shipment_id", "shipped_at"]], on="shipment_id")
        x = x[x["shipped_at"].notna()].sort_values(["order_line_id", "shipped_at"], kind="stable")
        x["cum"] = x.groupby("order_line_id")["qty_shipped"].cumsum()
        x = x.merge(ol[["order_line_id", "required_ship", "required"]], on="order_line_id")
        for col, qty in (("completed_at", "required_ship"), ("required_done_at", "required")):
            done = x[x["cum"] >= x[qty]].groupby("order_line_id")["shipped_at"].min()
            ol[col] = ol["order_line_id"].map(done).astype("datetime64[ns, UTC]")
    return ol


def ship_outcomes(ds: Any, lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per order: ``deadline``, ``late`` (bool; NaN when unknown) and ``known_at``
    (``lines``: :func:`line_completion` of ``ds`` when already computed)."""
    lines = line_completion(ds) if lines is None else lines
    lines = lines.assign(completed_at=lines["required_done_at"])
    lines = lines[lines["planned_ship_by_at"].notna() & (lines["required"] > 0)]
    as_of = pd.Timestamp(ds.data_as_of)
    late = lines["completed_at"].isna() | (lines["completed_at"] > lines["planned_ship_by_at"])
    lines = lines.assign(
        line_late=late,
        missed_at=lines["planned_ship_by_at"].where(late),
        done_at=lines["completed_at"].where(~late),
    )
    g = lines.groupby("order_id")
    out = pd.DataFrame({
        "deadline": g["planned_ship_by_at"].min(),
        "first_missed": g["missed_at"].min(),
        "last_done": g["done_at"].max(),
        "any_late": g["line_late"].any(),
    })
    # late known at its first missed deadline (only if that deadline has passed by as_of)
    late_known = out["any_late"] & (out["first_missed"] <= as_of)
    out["late"] = np.where(late_known, 1.0, np.where(out["any_late"], np.nan, 0.0))
    out["known_at"] = out["first_missed"].where(late_known, out["last_done"].where(
        ~out["any_late"]))
    return out[["deadline", "late", "known_at"]].reset_index()


def _count_le(sorted_times: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_times, t, side="right")


def _ns(s: pd.Series) -> np.ndarray:
    """Timestamps as int64 ns (NaT -> max int, i.e. 'never')."""
    v = s.astype("datetime64[ns, UTC]").dt.tz_convert(None).to_numpy("datetime64[ns]")
    out = v.astype(np.int64)
    out[np.isnat(v)] = np.iinfo(np.int64).max
    return out


def _node_load(ds: Any, base: pd.DataFrame, slices: pd.DataFrame, at: str = "release_at"
               ) -> pd.DataFrame:
    """Node-level counts at each row's time ``base[at]`` (events <= that time only; the order
    itself is left out of the backlog and of the releases of the last 24 h)."""
    r, rel_own = _ns(base[at]), _ns(base["release_at"])
    feats = {k: np.zeros(len(base)) for k in (
        "node_backlog", "node_releases_24h", "node_open_pick_lines", "node_open_waves")}
    feats["node_alloc_fail_rate_24h"] = np.full(len(base), np.nan)
    pt, wv, ev = _table(ds, "pick_tasks"), _table(ds, "waves"), _table(ds, "order_events")
    alloc = None
    if ev is not None:
        alloc = ev[(ev["event_type"] == "allocation_attempt") & ev["node_id"].notna()]
    day = DAY.value
    for node, idx in base.groupby("node", sort=True).indices.items():
        t, own_r = r[idx], rel_own[idx]
        s = slices[slices["node"] == node]
        rel, done = np.sort(_ns(s["release_at"])), np.sort(_ns(s["done_at"]))
        # open slices = released <= t minus completed <= t; minus the order itself if open
        own = base["order_id"].iloc[idx].map(
            s.drop_duplicates("order_id").set_index("order_id")["done_at"])
        self_open = ((_ns(own) > t) & (own_r <= t)).astype(int)
        self_recent = ((own_r <= t) & (own_r > t - day)).astype(int)
        feats["node_backlog"][idx] = _count_le(rel, t) - _count_le(done, t) - self_open
        feats["node_releases_24h"][idx] = _count_le(rel, t) - _count_le(rel, t - day) - self_recent
        if pt is not None:
            p = pt[pt["node_id"] == node]
            feats["node_open_pick_lines"][idx] = (
                _count_le(np.sort(_ns(p["released_at"])), t)
                - _count_le(np.sort(_ns(p["picked_at"])), t))
        if wv is not None:
            w = wv[wv["node_id"] == node]
            feats["node_open_waves"][idx] = (
                _count_le(np.sort(_ns(w["released_at"])), t)
                - _count_le(np.sort(_ns(w["closed_at"])), t))
        if alloc is not None:
            a = alloc[alloc["node_id"] == node].sort_values("event_at", kind="stable")
            feats["node_alloc_fail_rate_24h"][idx] = share_24h(
                _ns(a["event_at"]), failed_attempt(a).to_numpy(), t)
    return pd.DataFrame(feats, index=base.index)


HISTORY = ["alloc_attempts", "alloc_failures", "holds", "holds_open", "backorders"]


def failed_attempt(events: pd.DataFrame) -> pd.Series:
    """An allocation attempt failed: ``qty_confirmed < qty`` (a missing quantity as 0)."""
    return events["qty_confirmed"].fillna(0) < events["qty"].fillna(0)


def share_24h(at: np.ndarray, flag: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per time of ``t``: flagged / all records in ``(t − 24 h, t]``, the records at the sorted
    int-ns times ``at`` with ``flag`` (NaN where there are none)."""
    hits = np.concatenate([[0.0], np.cumsum(np.asarray(flag, dtype=float))])
    hi, lo = _count_le(at, t), _count_le(at, t - DAY.value)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hi > lo, (hits[hi] - hits[lo]) / np.maximum(hi - lo, 1), np.nan)


def order_history(ds: Any, rows: pd.DataFrame, at: str) -> pd.DataFrame:
    """Per row of ``rows``: its order's allocation attempts, failed attempts, holds placed,
    holds still open (placed − released) and backorder events with ``event_at <= rows[at]``
    (:data:`HISTORY`, floats)."""
    out = pd.DataFrame(0.0, index=rows.index, columns=HISTORY)
    ev = _table(ds, "order_events")
    if ev is None or rows.empty:
        return out
    types = ("allocation_attempt", "hold_placed", "hold_released", "backordered")
    e = ev.loc[ev["event_type"].isin(types),
               ["order_id", "event_type", "event_at", "qty", "qty_confirmed"]]
    e = e.merge(rows[["order_id", at]].reset_index(names="row"), on="order_id")
    e = e[e["event_at"] <= e[at]]
    attempt = e["event_type"] == "allocation_attempt"
    placed = e["event_type"] == "hold_placed"
    e = e.assign(alloc_attempts=attempt, alloc_failures=attempt & failed_attempt(e),
                 holds=placed,
                 holds_open=placed.astype(int) - (e["event_type"] == "hold_released"),
                 backorders=e["event_type"] == "backordered")
    return e.groupby("row")[HISTORY].sum().reindex(rows.index).fillna(0.0).astype(float)


def slice_completion(ds: Any, lines: pd.DataFrame, rel: pd.DataFrame) -> pd.DataFrame:
    """Order-node slices with ``release_at`` and ``done_at`` (NaT = still open).

    A slice is done when every line assigned to its node with ``required_ship > 0`` completed;
    a slice with no such line is done at the order's ``cancelled_at`` (or at release).
    """
    sl = rel.drop_duplicates(["order_id", "node"], keep="first")
    counted = lines[lines["required_ship"] > 0]
    counted = counted.assign(is_open=counted["completed_at"].isna())
    g = counted.groupby(["order_id", "assigned_node_id"])
    open_any = g["is_open"].any()
    last = g["completed_at"].max()
    key = pd.MultiIndex.from_frame(sl[["order_id", "node"]])
    has = key.isin(last.index)
    still_open = open_any.reindex(key).to_numpy(dtype=object)
    done = last.reindex(key).where(~np.array([v is True for v in still_open]))
    cancelled = sl["order_id"].map(ds.orders.set_index("order_id")["cancelled_at"])
    fallback = cancelled.fillna(sl["release_at"]).to_numpy()
    sl = sl.assign(done_at=np.where(has, done.to_numpy(), fallback))
    sl["done_at"] = pd.to_datetime(sl["done_at"], utc=True)
    return sl


def release_features(ds: Any, select: Callable[[pd.DataFrame], pd.Series] | None = None
                     ) -> pd.DataFrame:
    """One row per released order: ids, ``release_at``, ``deadline`` and the feature columns.

    ``select`` (a boolean mask over the rows of ``order_id``, ``release_at``, ``deadline``,
    ``cancelled_at``) keeps only those orders before the costly features are computed; every
    feature of an order reads the whole dataset, so the kept rows equal the same rows of the
    full frame (e.g. the open orders scored by the action queue)."""
    orders = _population_orders(ds)
    rel = releases(ds)
    first = rel.drop_duplicates("order_id", keep="first")
    base = orders.merge(first, on="order_id", how="inner")
    lines = line_completion(ds)
    # lines known at release (a line added by a later edit is not)
    lr = lines.merge(base[["order_id", "release_at"]], on="order_id")
    lr = lr[lr["created_at"] <= lr["release_at"]]
    prom = ds.order_lines.set_index("order_line_id")["promised_delivery_at_original"]
    lr = lr.assign(promised=lr["order_line_id"].map(prom))
    agg = lr.groupby("order_id").agg(
        lines=("order_line_id", "size"), units=("qty_ordered", "sum"),
        deadline=("planned_ship_by_at", "min"), promised=("promised", "min"))
    base = base.join(agg, on="order_id")
    base = base[base["deadline"].notna()].sort_values(["release_at", "order_id"], kind="stable")
    base = base.reset_index(drop=True)
    if select is not None:
        base = base[select(base).to_numpy(bool)].reset_index(drop=True)
    promised = base.set_index("order_id")["promised"]
    hours = pd.Timedelta(hours=1)
    base["promised_lead_hours"] = (base["order_id"].map(promised) - base["created_at"]) / hours
    base["slack_hours"] = (base["deadline"] - base["release_at"]) / hours
    base["hours_created_to_release"] = (base["release_at"] - base["created_at"]) / hours
    base["release_dow"] = base["release_at"].dt.day_name().str[:3]
    base["release_hour"] = base["release_at"].dt.hour.astype(float)
    sl = slice_completion(ds, lines, rel)
    history = order_history(ds, base, "release_at").drop(columns="holds_open")
    base = pd.concat([base, history, _node_load(ds, base, sl)], axis=1)
    cols = ["order_id", "release_at", "deadline", "created_at", "cancelled_at", *CATEGORICAL,
            *NUMERIC]
    return base[cols]
