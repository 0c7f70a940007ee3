"""Order-node slices (kpi-spec §1.10): all lines of one order that one node fulfils.

A line belongs to the node that shipped it (its latest shipment), else to its last assigned
node (``segments.latest_shipment_of_line``). Kit parents are left out: warehouse KPIs work on
component lines (§1.5), and a kit parent and its components share the node anyway. Shipments
belong to the slice of their ``(order_id, node_id)``; a node that shipped part of an order but
holds none of its lines after re-sourcing still forms a slice (with no lines).

One row per ``(order_id, node)`` with:

- ``channel``, ``order_type``, ``fulfillment_model``, ``exclusion`` (customer-KPI reason,
  §1.5) and ``warehouse_exclusion`` (``is_test`` only, §11.9);
- ``start_at`` = ``authorized_at`` (fallback ``created_at``), moved to ``earliest_ship_at``
  for pre-orders (A12); ``cancelled_at`` (full-order cancellation);
- ``released_at`` = first ``released_to_node`` event at the slice's node (an event without a
  node releases every slice of its order); re-releases after a short keep the first one;
- ``planned_ship_by`` = min ``planned_ship_by_at`` of the slice's lines (B1);
- ``hold_hours`` = Σ duration of merchant holds (``hold_placed`` by system/user, paired in
  order with ``hold_released``; still open = until ``as_of``) placed before ``planned_ship_by``
  on the order or on a line of the slice (B1 deadline extension);
- ``n_lines``, ``all_customer_cancelled`` (every line has ``qty_ordered −
  qty_cancelled_customer ≤ 0``), ``all_cancelled`` (nothing left to ship after customer and
  merchant cancellations);
- ``first_shipped_at``, ``last_shipped_at``, ``n_shipped``, ``n_unshipped`` (shipments at the
  node with / without ship confirm), ``carrier`` and ``service_level`` of the last shipment;
- ``complete``: every line's remaining quantity is shipped (or, without ``shipment_lines``,
  every shipment of the slice is confirmed) and at least one shipment left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import segments
from kpilib.context import Context, fact
from kpilib.facts.ops_common import ts_min
from kpilib.facts.population import order_population

KEY = ["order_id", "node"]


def leaf_lines(ctx: Context) -> pd.DataFrame:
    """Order lines that are not kit parents: order_line_id, order_id, node + quantities."""

    def build() -> pd.DataFrame:
        ol = ctx.ds.order_lines
        parents = ol["parent_line_id"].dropna().unique()
        lines = ol.loc[~ol["order_line_id"].isin(parents),
                       ["order_line_id", "order_id", "assigned_node_id", "qty_ordered",
                        "qty_cancelled_customer", "qty_cancelled_merchant",
                        "planned_ship_by_at"]]
        ship = segments.latest_shipment_of_line(ctx)[["order_line_id", "ship_node"]]
        lines = lines.merge(ship, on="order_line_id", how="left")
        lines["node"] = lines["ship_node"].astype(object).where(
            lines["ship_node"].notna(), lines["assigned_node_id"]).astype(object)
        return lines.drop(columns=["ship_node", "assigned_node_id"])

    return ctx.memo("_ops_leaf_lines", build)


def _line_shipped_qty(ctx: Context) -> pd.Series | None:
    sl, sh = ctx.table("shipment_lines"), ctx.table("shipments")
    if sl is None or sh is None:
        return None
    done = sh.loc[sh["shipped_at"].notna(), ["shipment_id"]]
    m = sl[["shipment_id", "order_line_id", "qty_shipped"]].merge(done, on="shipment_id")
    return m.groupby("order_line_id", sort=False)["qty_shipped"].sum()


def _line_slices(ctx: Context) -> pd.DataFrame:
    lines = leaf_lines(ctx)
    req = lines["qty_ordered"] - lines["qty_cancelled_customer"]
    rem = req - lines["qty_cancelled_merchant"]
    shipped = _line_shipped_qty(ctx)
    frame = pd.DataFrame({
        "order_id": lines["order_id"], "node": lines["node"],
        "planned_ship_by": lines["planned_ship_by_at"],
        "cust_cancel": req <= 0, "cancelled": rem <= 0,
    })
    if shipped is not None:
        got = lines["order_line_id"].map(shipped).fillna(0.0)
        frame["line_done"] = (rem - got) <= 1e-9
    else:
        frame["line_done"] = True
    g = frame.groupby(KEY, dropna=False, sort=False)
    return pd.DataFrame({
        "n_lines": g.size(), "planned_ship_by": g["planned_ship_by"].min(),
        "all_customer_cancelled": g["cust_cancel"].all(), "all_cancelled": g["cancelled"].all(),
        "lines_done": g["line_done"].all(),
    }).reset_index()


def _shipment_slices(ctx: Context) -> pd.DataFrame:
    sh = ctx.table("shipments")
    cols = ["order_id", "node", "first_shipped_at", "last_shipped_at", "n_shipped",
            "n_unshipped", "carrier", "service_level"]
    if sh is None:
        return pd.DataFrame(columns=cols)
    s = sh[["order_id", "node_id", "shipped_at", "carrier", "service_level", "shipment_id"]]
    s = s.rename(columns={"node_id": "node"}).astype({"node": object})
    g = s.groupby(KEY, sort=False)
    out = pd.DataFrame({
        "first_shipped_at": g["shipped_at"].min(), "last_shipped_at": g["shipped_at"].max(),
        "n_shipped": g["shipped_at"].count(),
    })
    out["n_unshipped"] = g.size() - out["n_shipped"]
    last = s.loc[s["shipped_at"].notna()].sort_values(
        ["order_id", "node", "shipped_at", "shipment_id"]).drop_duplicates(KEY, keep="last")
    out = out.reset_index().merge(last[[*KEY, "carrier", "service_level"]], on=KEY, how="left")
    return out[cols]


def _first_release(ctx: Context, slices: pd.DataFrame) -> pd.Series:
    ev = ctx.table("order_events")
    if ev is None:
        return pd.Series(pd.NaT, index=slices.index, dtype="datetime64[ns, UTC]")
    rel = ev.loc[ev["event_type"].eq("released_to_node"), ["order_id", "node_id", "event_at"]]
    at_node = rel.dropna(subset=["node_id"]).groupby(["order_id", "node_id"])["event_at"].min()
    at_node.index = at_node.index.set_names(KEY)
    any_node = rel.loc[rel["node_id"].isna()].groupby("order_id")["event_at"].min()
    t1 = slices[KEY].merge(at_node.rename("t").reset_index(), on=KEY, how="left")["t"]
    t1 = pd.Series(t1.array, index=slices.index)
    t2 = slices["order_id"].map(any_node)
    return ts_min(t1.astype("datetime64[ns, UTC]"), t2.astype("datetime64[ns, UTC]"))


def _hold_hours(ctx: Context, slices: pd.DataFrame) -> pd.Series:
    """Σ merchant hold durations placed before each slice's ``planned_ship_by`` (hours)."""
    ev = ctx.table("order_events")
    zero = pd.Series(0.0, index=slices.index)
    if ev is None:
        return zero
    h = ev.loc[ev["event_type"].isin(["hold_placed", "hold_released"])
               & ev["actor_type"].ne("customer"),
               ["order_id", "order_line_id", "event_type", "event_at", "event_id"]]
    if h.empty:
        return zero
    h = h.assign(line=h["order_line_id"].fillna("")).sort_values(
        ["order_id", "line", "event_at", "event_id"])
    h["k"] = h.groupby(["order_id", "line", "event_type"], sort=False).cumcount()
    placed = h.loc[h["event_type"].eq("hold_placed"), ["order_id", "line", "k", "event_at"]]
    released = h.loc[h["event_type"].eq("hold_released"), ["order_id", "line", "k", "event_at"]]
    pairs = placed.merge(released, on=["order_id", "line", "k"], how="left",
                         suffixes=("", "_end"))
    end = pairs["event_at_end"].fillna(ctx.as_of)
    pairs["dur"] = ((end - pairs["event_at"]).dt.total_seconds() / 3600.0).clip(lower=0)
    line_node = leaf_lines(ctx).set_index("order_line_id")["node"]
    pairs["node"] = pairs["line"].map(line_node)
    base = slices[[*KEY, "planned_ship_by"]].reset_index()
    order_level = base.merge(pairs.loc[pairs["line"].eq(""), ["order_id", "event_at", "dur"]],
                             on="order_id")
    line_level = base.merge(pairs.loc[pairs["line"].ne(""), [*KEY, "event_at", "dur"]],
                            on=KEY)
    both = pd.concat([order_level, line_level], ignore_index=True)
    both = both.loc[both["event_at"] < both["planned_ship_by"]]
    return zero.add(both.groupby("index")["dur"].sum(), fill_value=0.0)


def _start_at(orders: pd.DataFrame) -> pd.Series:
    start = orders["authorized_at"].fillna(orders["created_at"])
    pre = orders["earliest_ship_at"]
    return start.where(pre.isna() | (pre <= start), pre)


@fact("order_node_slices", grain="order-node slice", tables=("orders", "order_lines"))
def order_node_slices(ctx: Context) -> pd.DataFrame:
    """One row per order-node slice: node, release, ship deadline, ship times, cancellations
    and exclusions (see module docstring)."""
    lines = _line_slices(ctx).astype({"node": object})
    ships = _shipment_slices(ctx).astype({"node": object})
    out = lines.merge(ships, on=KEY, how="outer", sort=False)
    for c in ("first_shipped_at", "last_shipped_at", "planned_ship_by"):
        out[c] = pd.to_datetime(out[c], utc=True)
    out["n_lines"] = out["n_lines"].fillna(0).astype(int)
    for c in ("n_shipped", "n_unshipped"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype(int)
    for c in ("all_customer_cancelled", "all_cancelled"):
        out[c] = out[c].astype("boolean").fillna(False).astype(bool)
    has_qty = ctx.table("shipment_lines") is not None
    lines_done = out["lines_done"].astype("boolean").fillna(True).astype(bool)
    shipped_any = out["n_shipped"] > 0
    by_qty = lines_done & shipped_any
    by_ship = shipped_any & out["n_unshipped"].eq(0)
    out["complete"] = np.where(has_qty & out["n_lines"].gt(0), by_qty, by_ship)
    out = out.drop(columns=["lines_done"])

    o = ctx.ds.orders
    pop = order_population(ctx).set_index("order_id")
    info = o[["order_id", "channel", "order_type", "created_at", "cancelled_at"]].assign(
        start_at=_start_at(o))
    out = out.merge(info, on="order_id", how="left")
    out["exclusion"] = out["order_id"].map(pop["exclusion"])
    out["warehouse_exclusion"] = out["order_id"].map(pop["warehouse_exclusion"])
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    out["fulfillment_model"] = out["node"].map(fm)
    out["released_at"] = _first_release(ctx, out)
    out["hold_hours"] = _hold_hours(ctx, out).to_numpy()
    out = out.sort_values(KEY, kind="stable", na_position="last").reset_index(drop=True)
    return out
