"""Order-flow facts (A11, A13-A16): delivery, shipping and cancellation per order.

Two registered fact tables, both computed by SQL (``kpilib/sql/facts/order_flow_lines.sql``
and ``orders_fact.sql``, run by :mod:`kpilib.sql.run`) over the point-in-time dataset
``ctx.ds``:

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

:func:`rollup` reduces requirement lines to the sub-unit of an order in a line-level segment
(node, SKU...) by the same SQL rule (``unit_rollup.sql``) the ``orders`` fact applies to the
whole order. Snapshot expansion lives in :mod:`kpilib.fact_tables.timeline`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables import segments
from kpilib.sql import run

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


@fact("order_flow_lines", grain="requirement line (order line without kit components)",
      tables=("orders", "order_lines"))
def order_flow_lines(ctx: Context) -> pd.DataFrame:
    """One row per requirement line: required, shipped and delivered quantities and times
    (SQL: ``kpilib/sql/facts/order_flow_lines.sql``)."""
    return run.frame(ctx, "order_flow_lines")


UNIT_COLS = ["required", "delivered_ok", "delivered_first_at", "delivered_last_at",
             "missing_scan", "shipped_ok", "shipped_qty", "first_shipped_at", "last_shipped_at"]


def rollup(ctx: Context, lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Requirement lines reduced to one row per ``keys`` (an order or a sub-unit), in the order
    of first appearance: ``keys`` and the columns of the ``unit_rollup`` SQL definition
    (delivered, final/first delivery, fully_shipped, shipping times...), the rule the
    ``orders`` fact applies to whole orders, here applied to each distinct ``keys``."""
    unit = lines.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    units = lines[UNIT_COLS].reset_index(drop=True)
    units.insert(0, "unit", unit)
    rolled = run.frame_given(ctx, "unit_rollup", {"order_units": units})
    first = np.unique(unit, return_index=True)[1]  # first line of each unit, by unit number
    out = lines[keys].iloc[first[rolled["unit"].to_numpy()]].reset_index(drop=True)
    return pd.concat([out, rolled.drop(columns="unit")], axis=1)


ATTRS = ["order_id", "channel", "order_type", "exclusion", "warehouse_exclusion", "created_at",
         "authorized_at", "earliest_ship_at", "cancelled_at", "cancel_initiator",
         "cancel_reason", "start_at"]


def order_attrs(ctx: Context) -> pd.DataFrame:
    """Order-level attributes: channel, exclusion, created/start, cancellation (the first
    columns of the ``orders`` fact)."""
    return ctx.memo("_flow_order_attrs", lambda: ctx.fact("orders")[ATTRS])


@fact("orders", grain="order", tables=("orders", "order_lines"))
def orders_fact(ctx: Context) -> pd.DataFrame:
    """One row per order: exclusion, start, cancellation, delivery, shipping and terminal time
    (SQL: ``kpilib/sql/facts/orders_fact.sql``)."""
    return run.frame(ctx, "orders_fact")


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
        out = attrs.merge(rollup(ctx, lines, keys), on="order_id", how="left")
    else:
        out = rollup(ctx, lines, keys).merge(attrs, on="order_id", how="left")
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
