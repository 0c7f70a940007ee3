"""The dataset as it was known at an evaluation time ``as_of`` (point-in-time view).

Computing a KPI "as of" a past moment must not see later events: a shipment delivered after
``as_of`` was still in transit then. Rules, per table:

1. A row whose *existence* time (``EXISTS_AT``) is after ``as_of`` did not exist: dropped
   (for end-of-day tables keyed by a date, the day must have ended).
2. Every other timestamp after ``as_of`` had not happened yet: set to null.
3. Status columns follow their timestamps (a shipment whose delivery scan is in the future is
   ``in_transit``; an order whose cancellation is in the future is not cancelled; a pick not
   yet confirmed is ``open``; a decision not yet taken is pending).
4. Cancelled quantities of order lines (which carry no time of their own) follow the
   cancellation times known for the line: its order's ``cancelled_at`` and the ``cancelled``
   events of the line or of its order. A line whose every such time lies after ``as_of`` was
   not cancelled yet: its ``qty_cancelled_customer`` / ``qty_cancelled_merchant`` become 0. A
   line with no cancellation time at all keeps its quantities (when they happened is unknown).
   So an order cancelled after ``as_of`` never shows fully cancelled lines without
   ``cancelled_at`` in the view.
5. Child rows of dropped parents are dropped (shipment lines of shipments that did not exist).

Planned times (promises, ship-by deadlines, due dates, cut-offs) are commitments made when the
row was written, so they are kept even when they lie after ``as_of``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.schema import DATE, PLANNED_COLUMNS, TABLES, TS

EXISTS_AT = {
    "orders": "created_at", "order_lines": "created_at", "order_events": "event_at",
    "exceptions": "opened_at", "shipments": "created_at", "pick_tasks": "released_at",
    "waves": "released_at", "receipts": "received_at", "inventory_movements": "moved_at",
    "inventory_snapshots": "snapshot_date", "inventory_counts": "counted_at",
    "forecasts": "forecast_made_at", "returns": "rma_requested_at", "labor_hours": "work_date",
    "node_capacity_daily": "capacity_date", "replenishment_recommendations": "created_at",
}


def _exists_mask(df: pd.DataFrame, table: str, as_of: pd.Timestamp) -> pd.Series:
    col = EXISTS_AT.get(table)
    if col is None:
        return pd.Series(True, index=df.index)
    if TABLES[table].column(col).dtype == DATE:  # an end-of-day record needs its day to end
        return (df[col] + pd.Timedelta(days=1)) <= as_of.tz_localize(None)
    return df[col] <= as_of


def restrict(ds, as_of: pd.Timestamp):
    """A new Dataset holding only what was known at ``as_of`` (see module rules)."""
    frames: dict[str, pd.DataFrame] = {}
    future_cancel = _cancelled_after(ds.tables, as_of)
    for name, df in ds.tables.items():
        df = df.loc[_exists_mask(df, name, as_of)].copy()
        if name == "shipments":
            df = _undo_future_delivery(df, as_of)
        elif name in _UNDO:
            _undo_future_outcomes(df, as_of, _UNDO[name])
        elif name == "order_lines" and future_cancel is not None:
            late = df["order_line_id"].isin(future_cancel).to_numpy()
            df.loc[late, ["qty_cancelled_customer", "qty_cancelled_merchant"]] = 0.0
        for col in TABLES[name].columns:
            if col.dtype == TS and (name, col.name) not in PLANNED_COLUMNS:
                late = df[col.name] > as_of
                if late.any():
                    df.loc[late, col.name] = pd.NaT
        frames[name] = df
    _drop_orphans(frames)
    return ds.replace(**frames)


def _cancelled_after(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.Index | None:
    """Ids of cancelled lines whose every known cancellation time lies after ``as_of``."""
    lines, orders = tables["order_lines"], tables["orders"]
    has = (lines["qty_cancelled_customer"] + lines["qty_cancelled_merchant"]) > 0
    if not has.any():
        return None
    lines = lines.loc[has, ["order_line_id", "order_id"]]
    times = [lines.assign(t=lines["order_id"].map(orders.set_index("order_id")["cancelled_at"]))]
    ev = tables.get("order_events")
    if ev is not None:
        ev = ev.loc[ev["event_type"].eq("cancelled"), ["order_id", "order_line_id", "event_at"]]
        own = ev["order_line_id"].notna()
        times.append(ev.loc[own, ["order_line_id", "event_at"]].rename(columns={"event_at": "t"})
                     .merge(lines[["order_line_id"]], on="order_line_id"))
        times.append(lines.merge(ev.loc[~own, ["order_id", "event_at"]], on="order_id")
                     .rename(columns={"event_at": "t"}))
    t = pd.concat([f[["order_line_id", "t"]] for f in times], ignore_index=True).dropna()
    first = t.groupby("order_line_id", sort=False)["t"].min()
    late = first.index[(first > as_of).to_numpy()]
    return late if len(late) else None


def _undo_future_delivery(sh: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Shipments whose outcome (delivery scan or failed attempt) lies after ``as_of`` were
    still moving: ``in_transit`` if shipped by then, else ``pending``. Lost and
    returned-to-sender shipments carry no outcome time and keep their status once shipped.
    A ``delivered`` row with no scan at all stays as it is (a missing scan)."""
    outcome_later = (sh["delivered_at"] > as_of) | (
        sh["delivery_status"].eq("failed") & (sh["first_delivery_attempt_at"] > as_of))
    shipped = sh["shipped_at"].notna() & (sh["shipped_at"] <= as_of)
    sh.loc[outcome_later, "delivery_status"] = "in_transit"
    sh.loc[outcome_later, "delivery_failure_reason"] = np.nan
    sh.loc[~shipped, "delivery_status"] = "pending"
    sh.loc[~shipped, "delivery_failure_reason"] = np.nan
    return sh


# table -> [(timestamp column, columns reset to null when it lies after as_of, status fix)]
_UNDO = {
    "orders": [("cancelled_at", ["cancel_initiator", "cancel_reason"], None)],
    "pick_tasks": [("picked_at", ["qty_picked"], ("status", "open")),
                   ("error_detected_at", ["error_type", "error_detection_point"],
                    ("error_detected", False))],
    "returns": [("rma_decided_at", ["rma_decision"], None),
                ("disposition_at", ["disposition"], None)],
    "replenishment_recommendations": [("decided_at", ["decision", "qty_ordered",
                                                      "resulting_po_id"], None)],
}


def _undo_future_outcomes(df: pd.DataFrame, as_of: pd.Timestamp, rules) -> None:
    """Reset the outcome columns of events that happen after ``as_of`` (in place)."""
    for ts_col, null_cols, status in rules:
        later = df[ts_col] > as_of
        if not later.any():
            continue
        df.loc[later, null_cols] = np.nan
        if status is not None:
            df.loc[later, status[0]] = status[1]


def _drop_orphans(f: dict[str, pd.DataFrame]) -> None:
    keep = {
        ("order_lines", "order_id"): ("orders", "order_id"),
        ("shipment_lines", "shipment_id"): ("shipments", "shipment_id"),
    }
    for (child, ccol), (parent, pcol) in keep.items():
        if child in f and parent in f:
            f[child] = f[child].loc[f[child][ccol].isin(f[parent][pcol])]
