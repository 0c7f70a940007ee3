"""Order-flow facts (A11, A13-A16): delivery, shipping and cancellation per order.

Two registered fact tables, both built from the point-in-time dataset ``ctx.ds``:

- ``order_flow_lines``: one row per *requirement line* = an order line without kit components
  (a kit's components stand in for the sold line), with ``top_line_id`` (the sold line
  whose SKU segments it), ``required`` = qty_ordered - customer - merchant cancellations (a
  component is scaled by its kit line's remaining fraction), shipped and delivered quantities
  and times, ``is_pickup`` and ``missing_scan``.
- ``orders``: one row per order: population ``exclusion``, ``start_at``
  (authorized_at, fallback created_at), cancellation, ``delivered`` / ``final_delivery_at`` /
  ``first_delivery_at`` (A11), ``fully_shipped`` / ``last_shipped_at`` (A14),
  ``terminal_at`` (A15/A16: final delivery or cancellation) and shipment counts.

Delivery of a line (A11): its delivered quantity (shipments with ``delivery_status =
'delivered'``) covers ``required``; the line's delivery time is the latest scan among them. A
delivered shipment without ``delivered_at`` is a missing scan. Store pickup:
a line with a ``ready_for_pickup`` event (line-level, or order-level for every line), or whose
node's fulfillment_model is ``pickup_in_store``, is delivered at its latest ready event and
never by a shipment scan.

:func:`rollup` reduces requirement lines to any grouping (the order, or the sub-unit of an
order in a segment), so KPIs and facts share one code path. Snapshot expansion lives
in :mod:`kpilib.fact_tables.timeline`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables import line_base, segments
from kpilib.fact_tables.population import order_population
from kpilib.fact_tables.times import utc_series

EPS = 1e-9
SKU_DIMS = ("sku", "supplier", "product_class", "abc_class", "xyz_class")


def per_context(func: Callable) -> Callable:
    """Cache ``func(ctx, *args)`` for the life of the context (``by``, freq... are fixed
    there). Callers must not modify the frame they get back."""

    @functools.wraps(func)
    def wrapper(ctx: Context, *args):
        key = f"_flow:{func.__module__}.{func.__qualname__}{args!r}"
        return ctx.memo(key, lambda: func(ctx, *args))

    return wrapper


def line_shipments(ctx: Context) -> pd.DataFrame:
    """Shipment lines joined to their shipment (order_line_id, shipment_id, node_id, times)."""

    def build() -> pd.DataFrame:
        sl, sh = ctx.table("shipment_lines"), ctx.table("shipments")
        cols = ["order_line_id", "shipment_id", "order_id", "node_id", "qty_shipped",
                "shipped_at", "delivered_at", "delivery_status"]
        if sl is None or sh is None:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
            out["qty_shipped"] = out["qty_shipped"].astype(float)
            for c in ("shipped_at", "delivered_at"):
                out[c] = out[c].astype("datetime64[ns, UTC]")
            return out
        return sl[["order_line_id", "shipment_id", "qty_shipped"]].merge(
            sh[["shipment_id", "order_id", "node_id", "shipped_at", "delivered_at",
                "delivery_status"]], on="shipment_id")[cols]

    return ctx.memo("_flow_line_shipments", build)


def _requirement_lines(ctx: Context) -> pd.DataFrame:
    ol = ctx.ds.order_lines
    kit_ids = ol["parent_line_id"].dropna().unique()
    is_kit = ol["order_line_id"].isin(kit_ids)
    kit = ol.loc[is_kit, ["order_line_id", "qty_ordered", "qty_cancelled_customer",
                          "qty_cancelled_merchant"]]
    kit_frac = ((kit["qty_ordered"] - kit["qty_cancelled_customer"]
                 - kit["qty_cancelled_merchant"]) / kit["qty_ordered"].where(
                     kit["qty_ordered"] > 0)).fillna(0.0).clip(0.0, 1.0)
    kit_frac.index = kit["order_line_id"].to_numpy()
    out = ol.loc[~is_kit, ["order_line_id", "order_id", "parent_line_id",
                           "promised_delivery_at_original"]].copy()
    own = (ol.loc[~is_kit, "qty_ordered"] - ol.loc[~is_kit, "qty_cancelled_customer"]
           - ol.loc[~is_kit, "qty_cancelled_merchant"]).clip(lower=0.0)
    frac = out["parent_line_id"].map(kit_frac).fillna(1.0)
    out["required"] = (own * frac).to_numpy()
    out["top_line_id"] = out["parent_line_id"].where(out["parent_line_id"].isin(kit_ids),
                                                     out["order_line_id"])
    return out.drop(columns="parent_line_id")


def _ready_times(ctx: Context, lines: pd.DataFrame) -> pd.DataFrame:
    """Per requirement line: first and last ready_for_pickup time (line, kit line or order)."""
    first, last = (np.append(t, line_base.NAT) for t in line_base.ready_times(ctx))
    pos = line_base.positions(ctx, lines["order_line_id"])  # -1 reads the NaT appended last
    return pd.DataFrame({"ready_first_at": utc_series(first[pos], index=lines.index),
                         "ready_last_at": utc_series(last[pos], index=lines.index)})


@fact("order_flow_lines", grain="requirement line (order line without kit components)",
      tables=("orders", "order_lines"))
def order_flow_lines(ctx: Context) -> pd.DataFrame:
    """One row per requirement line: required, shipped and delivered quantities and times."""
    lines = _requirement_lines(ctx)
    s = line_shipments(ctx)
    shipped = s["shipped_at"].notna()
    deliv = s["delivery_status"].eq("delivered")
    s = s.assign(_qs=s["qty_shipped"].where(shipped, 0.0),
                 _qd=s["qty_shipped"].where(deliv, 0.0),
                 _ts=s["shipped_at"].where(shipped),
                 _td=s["delivered_at"].where(deliv),
                 _ms=deliv & s["delivered_at"].isna())
    g = s.groupby("order_line_id", sort=False).agg(
        shipped_qty=("_qs", "sum"), first_shipped_at=("_ts", "min"),
        last_shipped_at=("_ts", "max"), delivered_qty=("_qd", "sum"),
        scan_first_at=("_td", "min"), scan_last_at=("_td", "max"), missing_scan=("_ms", "any"))
    out = lines.join(g, on="order_line_id")
    out["shipped_qty"] = out["shipped_qty"].astype(float).fillna(0.0)
    out["delivered_qty"] = out["delivered_qty"].astype(float).fillna(0.0)
    out["missing_scan"] = out["missing_scan"].astype("boolean").fillna(False).astype(bool)
    ready = _ready_times(ctx, out)
    nodes = segments.line_dims(ctx)[["order_line_id", "fulfillment_model"]]
    model = out[["order_line_id"]].merge(nodes, on="order_line_id", how="left")
    pickup_node = model["fulfillment_model"].eq("pickup_in_store").to_numpy()
    out["is_pickup"] = ready["ready_last_at"].notna().to_numpy() | pickup_node
    pick = out["is_pickup"]
    out["delivered_first_at"] = out["scan_first_at"].where(~pick, ready["ready_first_at"])
    out["delivered_last_at"] = out["scan_last_at"].where(~pick, ready["ready_last_at"])
    out["missing_scan"] = out["missing_scan"] & ~pick
    out["delivered_ok"] = np.where(pick, ready["ready_last_at"].notna(),
                                   out["delivered_qty"] >= out["required"] - EPS)
    out["shipped_ok"] = out["shipped_qty"] >= out["required"] - EPS
    return out.drop(columns=["scan_first_at", "scan_last_at"]).reset_index(drop=True)


def rollup(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Reduce requirement lines to one row per ``keys`` (an order or a sub-unit).

    delivered: at least one line has required > 0 and every such line is delivered;
    final_delivery_at: latest delivery among those lines; first_delivery_at: earliest
    delivery of any line; fully_shipped: every line's required quantity shipped and at
    least one unit shipped; last_shipped_at / first_shipped_at over shipped lines.
    """
    need = lines["required"] > EPS
    work = pd.DataFrame({
        **{k: lines[k] for k in keys},
        "_need": need, "_open": need & ~lines["delivered_ok"],
        "_fin": lines["delivered_last_at"].where(need),
        "_first": lines["delivered_first_at"], "_ms": lines["missing_scan"],
        "_unship": ~lines["shipped_ok"], "_any": lines["shipped_qty"] > EPS,
        "_ls": lines["last_shipped_at"], "_fs": lines["first_shipped_at"],
    })
    g = work.groupby(keys, sort=False, dropna=False)
    out = g.agg(n_need=("_need", "sum"), n_open=("_open", "sum"),
                final_delivery_at=("_fin", "max"), first_delivery_at=("_first", "min"),
                missing_scan=("_ms", "any"), n_unshipped=("_unship", "sum"),
                any_shipped=("_any", "any"), last_shipped_at=("_ls", "max"),
                first_shipped_at=("_fs", "min"))
    out["delivered"] = (out["n_need"] > 0) & (out["n_open"] == 0)
    out["fully_shipped"] = (out["n_unshipped"] == 0) & out["any_shipped"]
    return out.drop(columns=["n_open", "n_unshipped", "any_shipped"]).reset_index()


def order_attrs(ctx: Context) -> pd.DataFrame:
    """Order-level attributes: channel, exclusion, created/start, cancellation."""

    def build() -> pd.DataFrame:
        o = ctx.ds.orders
        out = order_population(ctx)[["order_id", "channel", "order_type", "exclusion",
                                     "warehouse_exclusion"]].copy()
        for col in ("created_at", "authorized_at", "earliest_ship_at", "cancelled_at",
                    "cancel_initiator", "cancel_reason"):
            out[col] = o[col].array
        out["start_at"] = out["authorized_at"].fillna(out["created_at"])
        return out

    return ctx.memo("_flow_order_attrs", build)


def terminal_at(order_level: pd.DataFrame) -> pd.Series:
    """A15/A16 terminal time: final delivery, else cancellation (NaT while neither)."""
    delivered = order_level["final_delivery_at"].where(
        order_level["delivered"] & ~order_level["missing_scan"])
    return delivered.where(order_level["cancelled_at"].isna(), order_level["cancelled_at"])


@fact("orders", grain="order", tables=("orders", "order_lines"))
def orders_fact(ctx: Context) -> pd.DataFrame:
    """One row per order: exclusion, start, cancellation, delivery, shipping and terminal time."""
    lines = ctx.fact("order_flow_lines")
    r = rollup(lines, ["order_id"])
    out = order_attrs(ctx).merge(r, on="order_id", how="left")
    out["n_need"] = out["n_need"].fillna(0).astype(int)
    for col in ("delivered", "fully_shipped", "missing_scan"):
        out[col] = out[col].astype("boolean").fillna(False).astype(bool)
    s = line_shipments(ctx)
    s = s.loc[s["shipped_at"].notna()]
    counts = s.groupby("order_id").agg(n_shipments=("shipment_id", "nunique"),
                                       n_ship_nodes=("node_id", "nunique"))
    out = out.join(counts, on="order_id")
    for col in ("n_shipments", "n_ship_nodes"):
        out[col] = out[col].fillna(0).astype(int)
    out["is_terminal"] = out["delivered"] | out["cancelled_at"].notna()
    out["terminal_at"] = terminal_at(out)
    return out


def hours(delta: pd.Series) -> pd.Series:
    """Timedelta -> float hours."""
    return delta / pd.Timedelta(hours=1)


LINE_DIMS = ("node", "supplier", "product_class", "fulfillment_model", "sku", "abc_class",
             "xyz_class", "carrier", "service_level")


def line_by(ctx: Context) -> list[str]:
    """The requested ``by`` dimensions that are line attributes (sub-unit rule)."""
    return [d for d in ctx.by if d in LINE_DIMS]


def with_dims(ctx: Context, lines: pd.DataFrame, node_basis: str = "ship") -> pd.DataFrame:
    """Requirement lines plus the requested line-level ``by`` columns.

    SKU attributes come from the sold line (``top_line_id``); node, fulfillment_model,
    carrier and service_level from the line itself (shipping node, else assigned).
    ``node_basis="assigned"`` uses ``order_lines.assigned_node_id`` instead (A13).
    """
    want = line_by(ctx)
    if not want:
        return lines
    dims = segments.line_dims(ctx).set_index("order_line_id")
    out = lines.copy()
    for col in want:
        if col in SKU_DIMS:
            out[col] = out["top_line_id"].map(dims[col]).to_numpy()
        else:  # the component's own node/carrier, else its kit line's
            own = out["order_line_id"].map(dims[col])
            out[col] = own.where(own.notna(), out["top_line_id"].map(dims[col])).to_numpy()
    if node_basis == "assigned" and ({"node", "fulfillment_model"} & set(want)):
        assigned = ctx.ds.order_lines.set_index("order_line_id")["assigned_node_id"]
        node = out["order_line_id"].map(assigned)
        node = node.where(node.notna(), out["top_line_id"].map(assigned))
        model = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
        if "node" in want:
            out["node"] = node.to_numpy()
        if "fulfillment_model" in want:
            out["fulfillment_model"] = node.map(model).to_numpy()
    return out


@per_context
def flow_lines(ctx: Context, node_basis: str = "ship") -> pd.DataFrame:
    """The ``order_flow_lines`` fact with the requested line-level ``by`` columns."""
    return with_dims(ctx, ctx.fact("order_flow_lines"), node_basis)


@per_context
def subunits(ctx: Context, node_basis: str = "ship") -> pd.DataFrame:
    """One row per (order, line-level segment) - or per order when ``by`` has none - with the
    :func:`rollup` columns, the order attributes and order-level ``order_*`` facts."""
    lines = flow_lines(ctx, node_basis)
    attrs = order_attrs(ctx)
    keys = ["order_id", *line_by(ctx)]
    if len(keys) == 1:
        out = attrs.merge(rollup(lines, keys), on="order_id", how="left")
    else:
        out = rollup(lines, keys).merge(attrs, on="order_id", how="left")
    for col in ("delivered", "fully_shipped", "missing_scan"):
        out[col] = out[col].astype("boolean").fillna(False).astype(bool)
    whole = ctx.fact("orders").set_index("order_id")
    for col in ("first_shipped_at", "terminal_at", "is_terminal"):
        out[f"order_{col}"] = out["order_id"].map(whole[col]).array
    return out


# --- helpers shared by the order-flow KPI modules ------------------------------------------


def join_on(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Left merge on ``keys`` with segment keys compared as objects (NaN matches NaN)."""
    left, right = left.copy(), right.copy()
    for k in keys[1:]:
        left[k] = left[k].astype(object)
        right[k] = right[k].astype(object)
    return left.merge(right, on=keys, how="left")
