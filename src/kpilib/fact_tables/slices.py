"""Order-node slices: all lines of one order that one node fulfils.

A line belongs to the node that shipped it (its latest shipment), else to its last assigned
node (``segments.latest_shipment_of_line``). Kit parents are left out: warehouse KPIs work on
component lines, and a kit parent and its components share the node anyway. Shipments
belong to the slice of their ``(order_id, node_id)``; a node that shipped part of an order but
holds none of its lines after re-sourcing still forms a slice (with no lines).
The slices, with their line, shipment and release figures, are the SQL definitions
``kpilib/sql/facts/slice_lines.sql`` and ``node_slices.sql``; hold hours and the order's
attributes are added here.

One row per ``(order_id, node)`` with:

- ``channel``, ``order_type``, ``fulfillment_model``, ``exclusion`` (customer-KPI reason) and
``warehouse_exclusion`` (``is_test`` only);
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

from kpilib.context import Context, fact
from kpilib.fact_tables import segments
from kpilib.fact_tables.line_base import line_index, order_index
from kpilib.fact_tables.population import order_population
from kpilib.sql import run

KEY = ["order_id", "node"]
UTC = "datetime64[ns, UTC]"


def _codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1 when absent); text is compared as objects,
    integer ids (kpilib.keys codes) as integers."""
    if index.dtype == object:
        values = values.astype(object)
    return index.get_indexer(values).astype(np.int64)


def leaf_lines(ctx: Context) -> pd.DataFrame:
    """Order lines that are not kit parents, with ``line_pos`` (row in ``order_lines``),
    ``oc``/``nc`` (order and node positions), the slice ``key``, ``node`` (shipping node, else
    last assigned) and quantities (SQL: ``kpilib/sql/facts/slice_lines.sql``)."""

    def build() -> pd.DataFrame:
        return run.frame(ctx, "slice_lines")

    return ctx.memo("_ops_leaf_lines", build)


def _hold_hours(ctx: Context, slices: pd.DataFrame) -> np.ndarray:
    """Σ merchant hold durations placed before each slice's ``planned_ship_by`` (hours)."""
    ev = ctx.table("order_events")
    zero = np.zeros(len(slices))
    if ev is None:
        return zero
    rows = ctx.event_mask("hold_placed", "hold_released") & ev["actor_type"].ne(
        "customer").to_numpy()
    h = ev.loc[rows, ["order_id", "order_line_id", "event_type", "event_at"]]
    if h.empty:
        return zero
    h = h.assign(oc=_codes(order_index(ctx), h["order_id"]),
                 lp=_codes(line_index(ctx), h["order_line_id"]),
                 placed=h["event_type"].eq("hold_placed"))
    h = h.assign(t=h["event_at"].dt.tz_localize(None).to_numpy().view("int64"))
    h = h.sort_values(["oc", "lp", "t"], kind="stable")
    h["k"] = h.groupby(["oc", "lp", "placed"], sort=False).cumcount()
    on = ["oc", "lp", "k"]
    pairs = h.loc[h["placed"], [*on, "event_at"]].merge(
        h.loc[~h["placed"], [*on, "event_at"]], on=on, how="left", suffixes=("", "_end"))
    end = pairs["event_at_end"].fillna(ctx.as_of)
    pairs["dur"] = ((end - pairs["event_at"]).dt.total_seconds() / 3600.0).clip(lower=0)
    lines = leaf_lines(ctx)
    line_key = pd.Series(lines["key"].to_numpy(), index=lines["line_pos"].to_numpy())
    pairs["key"] = line_key.reindex(pairs["lp"].to_numpy()).to_numpy()
    base = pd.DataFrame({"row": np.arange(len(slices)), "oc": slices["oc"].to_numpy(),
                         "key": slices["key"].to_numpy(),
                         "due": slices["planned_ship_by"].array})
    order_level = base.merge(pairs.loc[pairs["lp"] < 0, ["oc", "event_at", "dur"]], on="oc")
    line_level = base.merge(pairs.loc[pairs["lp"] >= 0, ["key", "event_at", "dur"]],
                            on="key")
    both = pd.concat([order_level, line_level], ignore_index=True)
    both = both.loc[both["event_at"] < both["due"]]
    return np.bincount(both["row"].to_numpy(), both["dur"].to_numpy(), minlength=len(slices))


def _start_at(orders: pd.DataFrame) -> pd.Series:
    start = orders["authorized_at"].fillna(orders["created_at"])
    pre = orders["earliest_ship_at"]
    return start.where(pre.isna() | (pre <= start), pre)


@fact("order_node_slices", grain="order-node slice", tables=("orders", "order_lines"))
def order_node_slices(ctx: Context) -> pd.DataFrame:
    """One row per order-node slice: node, release, ship deadline, ship times, cancellations
    and exclusions (see module docstring; the slices themselves are the SQL definition
    ``kpilib/sql/facts/node_slices.sql``)."""
    sl = run.frame(ctx, "node_slices")
    has_qty = ctx.table("shipment_lines") is not None
    lines_done = sl["lines_done"].astype("boolean").fillna(True).astype(bool)
    shipped_any = sl["n_shipped"] > 0
    by_ship = shipped_any & sl["n_unshipped"].eq(0)
    complete = np.where(has_qty & sl["n_lines"].gt(0), lines_done & shipped_any, by_ship)
    oc = sl["oc"].to_numpy()
    o = ctx.ds.orders
    out = pd.DataFrame({"order_id": o["order_id"].to_numpy()[oc], "node": sl["node"],
                        "key": sl["key"]})
    out["n_lines"] = sl["n_lines"]
    out["planned_ship_by"] = sl["planned_ship_by_at"]   # a *_at name: comes back as time
    for c in ("all_customer_cancelled", "all_cancelled",
              "first_shipped_at", "last_shipped_at", "n_shipped", "n_unshipped", "carrier",
              "service_level"):
        out[c] = sl[c]
    out["complete"] = complete
    out["oc"] = oc
    for c in ("channel", "order_type"):
        out[c] = o[c].to_numpy()[oc]
    for c, values in (("created_at", o["created_at"]), ("cancelled_at", o["cancelled_at"]),
                      ("start_at", _start_at(o))):
        out[c] = values.iloc[oc].array
    pop = order_population(ctx)      # one row per order, in the order of ``orders``
    out["exclusion"] = pop["exclusion"].to_numpy()[oc]
    out["warehouse_exclusion"] = pop["warehouse_exclusion"].to_numpy()[oc]
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    out["fulfillment_model"] = out["node"].map(fm)
    out["released_at"] = sl["released_at"]
    out["hold_hours"] = _hold_hours(ctx, out)
    return out
