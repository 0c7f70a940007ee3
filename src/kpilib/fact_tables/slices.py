"""Order-node slices: all lines of one order that one node fulfils.

A line belongs to the node that shipped it (its latest shipment), else to its last assigned
node (``segments.latest_shipment_of_line``). Kit parents are left out: warehouse KPIs work on
component lines, and a kit parent and its components share the node anyway. Shipments
belong to the slice of their ``(order_id, node_id)``; a node that shipped part of an order but
holds none of its lines after re-sourcing still forms a slice (with no lines).

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
from kpilib.fact_tables.times import ts_min

KEY = ["order_id", "node"]
UTC = "datetime64[ns, UTC]"


def node_index(ctx: Context) -> pd.Index:
    """Sorted node ids seen in nodes, line assignments, shipments and order events."""

    def build() -> pd.Index:
        parts = [ctx.ds.order_lines["assigned_node_id"]]
        for table, col in (("nodes", "node_id"), ("shipments", "node_id"),
                           ("order_events", "node_id")):
            if ctx.table(table) is not None:
                parts.append(ctx.table(table)[col])
        ids = pd.unique(pd.concat([p.dropna().astype(object) for p in parts]))
        return pd.Index(np.sort(ids.astype(str)))

    return ctx.memo("_ops_node_index", build)


def _codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Positions of ``values`` in ``index`` (-1 when absent); text is compared as objects,
    integer ids (kpilib.keys codes) as integers."""
    if index.dtype == object:
        values = values.astype(object)
    return index.get_indexer(values).astype(np.int64)


def _key(ctx: Context, oc: np.ndarray, nc: np.ndarray) -> np.ndarray:
    """One int64 per (order, node); node code -1 (unknown node) is kept apart."""
    return oc * (len(node_index(ctx)) + 1) + (nc + 1)


def leaf_lines(ctx: Context) -> pd.DataFrame:
    """Order lines that are not kit parents, with ``oc``/``nc`` (order and node codes), the
    slice ``key``, ``node`` (shipping node, else last assigned) and quantities."""

    def build() -> pd.DataFrame:
        ol = ctx.ds.order_lines
        ship = segments.latest_shipment_of_line(ctx)
        node = ol["assigned_node_id"].astype(object).to_numpy().copy()
        if len(ship):
            pos = _codes(line_index(ctx), ship["order_line_id"])
            shipped = ship["ship_node"].notna().to_numpy() & (pos >= 0)
            node[pos[shipped]] = ship["ship_node"].to_numpy()[shipped]
        leaf = ~ol["order_line_id"].isin(ol["parent_line_id"].dropna().unique()).to_numpy()
        lines = ol.loc[leaf, ["order_line_id", "order_id", "qty_ordered",
                              "qty_cancelled_customer", "qty_cancelled_merchant",
                              "planned_ship_by_at"]].copy()
        lines["node"] = node[leaf]
        lines["line_pos"] = np.flatnonzero(leaf)
        lines["oc"] = _codes(order_index(ctx), lines["order_id"])
        lines["nc"] = _codes(node_index(ctx), lines["node"])
        lines["key"] = _key(ctx, lines["oc"].to_numpy(), lines["nc"].to_numpy())
        return lines

    return ctx.memo("_ops_leaf_lines", build)


def _line_shipped_qty(ctx: Context, lines: pd.DataFrame) -> np.ndarray | None:
    """Quantity of each leaf line on confirmed shipments (None without shipment_lines)."""
    sl, sh = ctx.table("shipment_lines"), ctx.table("shipments")
    if sl is None or sh is None:
        return None
    done = pd.Index(sh.loc[sh["shipped_at"].notna(), "shipment_id"])
    ok = done.get_indexer(sl["shipment_id"]) >= 0
    pos = _codes(line_index(ctx), sl["order_line_id"])[ok]
    qty = sl["qty_shipped"].to_numpy()[ok]
    per_line = np.bincount(pos[pos >= 0], qty[pos >= 0], minlength=len(line_index(ctx)))
    return per_line[lines["line_pos"].to_numpy()]


def _line_slices(ctx: Context) -> pd.DataFrame:
    lines = leaf_lines(ctx)
    req = lines["qty_ordered"] - lines["qty_cancelled_customer"]
    rem = req - lines["qty_cancelled_merchant"]
    shipped = _line_shipped_qty(ctx, lines)
    frame = pd.DataFrame({
        "key": lines["key"], "planned_ship_by": lines["planned_ship_by_at"],
        "cust_cancel": req <= 0, "cancelled": rem <= 0,
        "line_done": True if shipped is None else (rem - shipped) <= 1e-9,
    })
    g = frame.groupby("key", sort=False)
    return pd.DataFrame({
        "n_lines": g.size(), "planned_ship_by": g["planned_ship_by"].min(),
        "all_customer_cancelled": g["cust_cancel"].all(), "all_cancelled": g["cancelled"].all(),
        "lines_done": g["line_done"].all(),
    }).reset_index()


def _shipment_slices(ctx: Context) -> pd.DataFrame:
    sh = ctx.table("shipments")
    cols = ["key", "first_shipped_at", "last_shipped_at", "n_shipped", "n_unshipped",
            "carrier", "service_level"]
    if sh is None:
        return pd.DataFrame({c: pd.Series(dtype=UTC if c.endswith("_at") else
                                          (np.int64 if c in ("key", "n_shipped",
                                                             "n_unshipped") else object))
                             for c in cols})
    key = _key(ctx, _codes(order_index(ctx), sh["order_id"]),
               _codes(node_index(ctx), sh["node_id"]))
    s = pd.DataFrame({"key": key, "shipped_at": sh["shipped_at"].array})
    g = s.groupby("key", sort=False)
    out = pd.DataFrame({
        "first_shipped_at": g["shipped_at"].min(), "last_shipped_at": g["shipped_at"].max(),
        "n_shipped": g["shipped_at"].count(),
    })
    out["n_unshipped"] = g.size() - out["n_shipped"]
    t = sh["shipped_at"]
    done = np.flatnonzero(t.notna().to_numpy())
    order = done[np.lexsort((done, t.dt.tz_localize(None).to_numpy()[done].view("int64"),
                             key[done]))]
    last = pd.DataFrame({"key": key[order], "carrier": sh["carrier"].to_numpy()[order],
                         "service_level": sh["service_level"].to_numpy()[order]})
    last = last.drop_duplicates("key", keep="last").set_index("key")
    out = out.join(last, how="left").reset_index()
    return out[cols]


def _first_release(ctx: Context, slices: pd.DataFrame) -> pd.Series:
    ev = ctx.table("order_events")
    if ev is None:
        return pd.Series(pd.NaT, index=slices.index, dtype=UTC)
    rel = ev.loc[ctx.event_mask("released_to_node"), ["order_id", "node_id", "event_at"]]
    oc = _codes(order_index(ctx), rel["order_id"])
    nc = _codes(node_index(ctx), rel["node_id"])
    has_node = rel["node_id"].notna().to_numpy()
    at = rel["event_at"]
    at_node = at[has_node].groupby(_key(ctx, oc, nc)[has_node]).min()
    any_node = at[~has_node].groupby(oc[~has_node]).min()
    t1 = at_node.reindex(slices["key"].to_numpy())
    t2 = any_node.reindex(slices["oc"].to_numpy())
    return ts_min(pd.Series(t1.array, index=slices.index).astype(UTC),
                  pd.Series(t2.array, index=slices.index).astype(UTC))


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
    and exclusions (see module docstring)."""
    out = _line_slices(ctx).merge(_shipment_slices(ctx), on="key", how="outer", sort=True)
    for c in ("first_shipped_at", "last_shipped_at", "planned_ship_by"):
        out[c] = pd.to_datetime(out[c], utc=True)
    for c in ("n_lines", "n_shipped", "n_unshipped"):
        out[c] = pd.to_numeric(out[c]).fillna(0).astype(int)
    for c in ("all_customer_cancelled", "all_cancelled"):
        out[c] = out[c].astype("boolean").fillna(False).astype(bool)
    has_qty = ctx.table("shipment_lines") is not None
    lines_done = out["lines_done"].astype("boolean").fillna(True).astype(bool)
    shipped_any = out["n_shipped"] > 0
    by_ship = shipped_any & out["n_unshipped"].eq(0)
    out["complete"] = np.where(has_qty & out["n_lines"].gt(0), lines_done & shipped_any,
                               by_ship)
    out = out.drop(columns=["lines_done"])

    width = len(node_index(ctx)) + 1
    key = out["key"].to_numpy()
    oc, nc = key // width, key % width - 1
    nodes = np.append(node_index(ctx).to_numpy(dtype=object), None)   # code -1 -> None
    out.insert(0, "node", nodes[nc])
    o = ctx.ds.orders
    out.insert(0, "order_id", o["order_id"].to_numpy()[oc])
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
    out["released_at"] = _first_release(ctx, out)
    out["hold_hours"] = _hold_hours(ctx, out)
    return out
