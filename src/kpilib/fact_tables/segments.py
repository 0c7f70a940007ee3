"""Segment attributes of records: channel, node, supplier, product_class, fulfillment_model,
carrier, service_level, sku, abc_class, xyz_class.

Attribution: a line's ``node`` is the node that shipped it (its latest shipment), else its
last assigned node; its ``carrier``/``service_level`` are those of its latest shipment.
``supplier`` and ``product_class`` come from ``products``; ``fulfillment_model`` from the
line's node. ``abc_class``/``xyz_class`` come from
``kpilib.fact_tables.classes.sku_classes`` (C8/C9) and are the classes at the evaluation time
(``as_of``). Missing attributes stay NaN and are shown
as "(unknown)" in results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.classes import sku_classes
from kpilib.sql import run

CLASS_DIMS = ("abc_class", "xyz_class")


def sku_dims(ctx: Context) -> pd.DataFrame:
    """One row per SKU: sku, supplier, product_class (+ abc/xyz classes when requested)."""

    def build() -> pd.DataFrame:
        products = ctx.table("products")
        skus = ctx.ds.order_lines["sku"].drop_duplicates()
        if products is not None:
            skus = pd.concat([products["sku"], skus]).drop_duplicates()
        out = pd.DataFrame({"sku": skus.to_numpy()})
        if products is not None:
            out = out.merge(products[["sku", "supplier_id", "product_class"]], on="sku",
                            how="left").rename(columns={"supplier_id": "supplier"})
        else:
            out["supplier"] = np.nan
            out["product_class"] = np.nan
        return out

    out = ctx.memo("_sku_dims", build)
    if any(d in ctx.by for d in CLASS_DIMS):
        classes = ctx.memo("_sku_classes", lambda: _sku_classes(ctx))
        out = out.merge(classes, on="sku", how="left")
    return out


def _sku_classes(ctx: Context) -> pd.DataFrame:
    return sku_classes(ctx)[["sku", "abc_class", "xyz_class"]]


def node_dims(ctx: Context) -> pd.DataFrame:
    """One row per node: node, fulfillment_model, node_type (empty frame without ``nodes``)."""
    nodes = ctx.table("nodes")
    if nodes is None:
        return pd.DataFrame(columns=["node", "fulfillment_model", "node_type"])
    return nodes.rename(columns={"node_id": "node"})[["node", "fulfillment_model", "node_type"]]


def latest_shipment_of_line(ctx: Context) -> pd.DataFrame:
    """order_line_id -> ship_node, carrier, service_level of the line's latest shipment (ship
    confirm, else creation time; ties to the higher shipment id), one row per line that has
    a shipment (SQL: ``kpilib/sql/facts/line_latest_shipment.sql``)."""
    cols = ["order_line_id", "ship_node", "carrier", "service_level"]
    return ctx.memo("_line_latest_shipment",
                    lambda: run.frame(ctx, "line_latest_shipment")[cols])


def line_dims(ctx: Context) -> pd.DataFrame:
    """One row per order line: order_line_id, order_id and every standard dimension.

    Built once per context; callers must not modify the frame they get back."""

    def build() -> pd.DataFrame:
        ol = ctx.ds.order_lines[["order_line_id", "order_id", "sku", "assigned_node_id"]]
        out = ol.merge(ctx.ds.orders[["order_id", "channel"]], on="order_id", how="left")
        out = out.merge(latest_shipment_of_line(ctx), on="order_line_id", how="left")
        out["node"] = out["ship_node"].where(out["ship_node"].notna(), out["assigned_node_id"])
        out = out.drop(columns=["ship_node", "assigned_node_id"])
        out = out.merge(node_dims(ctx)[["node", "fulfillment_model"]], on="node", how="left")
        return out

    return ctx.memo("_line_dims", lambda: build().merge(sku_dims(ctx), on="sku", how="left"))


def attach(frame: pd.DataFrame, dims: pd.DataFrame, on: str, ctx: Context) -> pd.DataFrame:
    """Add the requested ``ctx.by`` columns found in ``dims`` to ``frame`` (left join on ``on``).

    Requested dimensions that ``dims`` lacks are not added (the caller decides whether the
    KPI supports them); columns already in ``frame`` are kept as they are.
    """
    wanted = [d for d in ctx.by if d in dims.columns and d not in frame.columns and d != on]
    if not wanted:
        return frame
    return frame.merge(dims[[on, *wanted]].drop_duplicates(on), on=on, how="left")
