"""Warehouse work facts: pick tasks and pick lines (B2, B3), receipt lines (B4), node-days of
capacity (B6) and return lines (B9).

Warehouse KPIs count the work that happened: only test orders leave their population
(``warehouse_exclusion``); transfers, replacements and fraud-cancelled orders that were worked
stay in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables import segments
from kpilib.fact_tables.line_base import line_index, order_index
from kpilib.fact_tables.population import order_population
from kpilib.fact_tables.times import day_anchor, hours, utc_ns

RETURN_PICK_ERRORS = ("wrong_item", "missing_item")
B2_MATURITY_DAYS = 14


def _order_info(ctx: Context) -> pd.DataFrame:
    pop = order_population(ctx)
    return pop[["order_id", "channel", "order_type", "warehouse_exclusion"]]


def maturity_days(ctx: Context, default: int) -> float:
    """``params['maturity_days']`` when set, else the KPI's own window."""
    value = ctx.param("maturity_days")
    return float(default if value is None else value)


def take(values, pos: np.ndarray) -> np.ndarray:
    """``values[pos]`` as objects, with None where ``pos`` is -1 (not found)."""
    return np.append(np.asarray(values, dtype=object), None)[pos]


def pick_tasks(ctx: Context) -> pd.DataFrame:
    """Non-cancelled pick tasks with order_id, channel, warehouse_exclusion, product dims,
    ``picker``, integer codes ``lp`` (order line position), ``oc`` (order) and ``nc`` (node),
    and ``task_error`` (error detected at any point, except a short the picker reported
    correctly: ``short_reported`` with error type ``wrong_qty`` or none)."""

    def build() -> pd.DataFrame:
        pt = ctx.table("pick_tasks")
        t = pt.loc[pt["status"].ne("cancelled"),
                   ["task_id", "node_id", "wave_id", "order_line_id", "sku", "qty_requested",
                    "qty_picked", "released_at", "picked_at", "picker_id", "short_reported",
                    "error_detected", "error_type"]].reset_index(drop=True)
        lp = line_index(ctx).get_indexer(t["order_line_id"])
        t["lp"] = lp
        t["order_id"] = take(ctx.ds.order_lines["order_id"], lp)
        oc = order_index(ctx).get_indexer(t["order_id"])
        t["oc"] = oc
        pop = order_population(ctx)          # one row per order, in the order of ``orders``
        for c in ("channel", "order_type", "warehouse_exclusion"):
            t[c] = take(pop[c], oc)
        sd = segments.sku_dims(ctx)
        sp = pd.Index(sd["sku"]).get_indexer(t["sku"])
        for c in ("supplier", "product_class"):
            t[c] = take(sd[c], sp)
        t["nc"], _ = pd.factorize(t["node_id"], sort=True)
        excused = t["short_reported"] & (t["error_type"].isna() | t["error_type"].eq("wrong_qty"))
        t["task_error"] = t["error_detected"] & ~excused
        fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
        t = t.rename(columns={"picker_id": "picker"}, copy=False)
        t["node"] = t["node_id"]
        t["fulfillment_model"] = t["node"].map(fm)
        return t.drop(columns=["short_reported", "error_detected", "error_type"])

    return ctx.memo("_ops_pick_tasks", build)


def _return_error_deadline(ctx: Context, lp: np.ndarray) -> np.ndarray:
    """Earliest wrong/missing-item RMA request (int64 ns, NAT if none) per line position."""
    n = len(line_index(ctx))
    first = np.full(n + 1, np.iinfo(np.int64).max)
    rt = ctx.table("returns")
    if rt is not None:
        r = rt.loc[rt["return_reason"].isin(RETURN_PICK_ERRORS)]
        pos = line_index(ctx).get_indexer(r["order_line_id"])
        np.minimum.at(first, np.where(pos >= 0, pos, n),
                      utc_ns(r["rma_requested_at"]).view("int64"))
    return first[np.where(lp >= 0, lp, n)]


def pick_units(ctx: Context, unit: str) -> pd.DataFrame:
    """Pick tasks reduced to units (``unit='line'``: order line at a node; ``'order'``:
    order at a node) and the ``ctx.by`` task dims: one row each with ``order_id``,
    ``order_line_id`` (line units), ``node_id``, ``picked`` (every task picked),
    ``last_picked_at``, ``error`` (a task error, or a wrong/missing-item return on one of its
    lines requested within the maturity window after the line's last pick), ``preliminary``
    (last pick younger than the window) and the warehouse exclusion."""
    t = pick_tasks(ctx)
    window = pd.Timedelta(days=maturity_days(ctx, B2_MATURITY_DAYS))
    width = int(t["nc"].max()) + 2 if len(t) else 1
    line_key = t["lp"].to_numpy().astype(np.int64) * width + t["nc"].to_numpy()
    last_ns = pd.Series(utc_ns(t["picked_at"]).view("int64")).where(
        t["picked_at"].notna().to_numpy())
    line_last = last_ns.groupby(line_key).transform("max").to_numpy()
    rma = _return_error_deadline(ctx, t["lp"].to_numpy())
    ret_error = ~np.isnan(line_last) & (rma <= line_last + window.value)
    base = t["lp"] if unit == "line" else t["oc"]
    key = base.to_numpy().astype(np.int64) * width + t["nc"].to_numpy()
    dims = [d for d in ctx.by if d in t.columns]
    frame = pd.DataFrame({
        "_key": key, **{d: t[d] for d in dims},
        "open": t["picked_at"].isna(), "picked_at": t["picked_at"],
        "error": t["task_error"] | ret_error,
    })
    g = frame.groupby(["_key", *dims], sort=False, dropna=False)
    out = pd.DataFrame({
        "picked": ~g["open"].any(), "last_picked_at": g["picked_at"].max(),
        "error": g["error"].any(), "_row": g["open"].idxmax(),
    }).reset_index()
    first = t.iloc[out["_row"].to_numpy()]
    for c in ("order_id", "node_id", "warehouse_exclusion", *(
            ["order_line_id"] if unit == "line" else [])):
        out[c] = first[c].to_numpy()
    out["preliminary"] = out["last_picked_at"] + window > ctx.as_of
    return out.drop(columns=["_key", "_row"])


@fact("pick_lines", grain="pick line (order line at a node)", tables=("pick_tasks",))
def pick_lines(ctx: Context) -> pd.DataFrame:
    """One row per order line picked at a node: picked, last_picked_at, error, preliminary
    (B2 line picking accuracy, before any segmentation)."""
    return pick_units(ctx, "line")


@fact("receipt_lines", grain="receipt line", tables=("receipts",))
def receipt_lines(ctx: Context) -> pd.DataFrame:
    """One row per receipt line: ``start_at`` (dock arrival, fallback receipt scan,
    ``fallback_received_at``), ``putaway_completed_at``, ``dock_to_stock_hours``, node,
    supplier (receipt's, fallback the product's primary supplier), product_class and the
    exclusion reason (``crossdock``, ``negative_duration``)."""
    r = ctx.table("receipts")
    out = r[["receipt_line_id", "node_id", "sku", "received_at", "putaway_completed_at",
             "is_crossdock"]].rename(columns={"node_id": "node"})
    out["start_at"] = r["dock_arrival_at"].fillna(r["received_at"])
    out["fallback_received_at"] = r["dock_arrival_at"].isna()
    out["dock_to_stock_hours"] = hours(out["putaway_completed_at"], out["start_at"])
    sku = segments.sku_dims(ctx)[["sku", "supplier", "product_class"]]
    out = out.merge(sku, on="sku", how="left")
    out["supplier"] = r["supplier_id"].where(r["supplier_id"].notna(), out["supplier"])
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    out["fulfillment_model"] = out["node"].map(fm)
    reason = pd.Series(pd.NA, index=out.index, dtype=object)
    reason = reason.where(~out["is_crossdock"], "crossdock")
    neg = reason.isna() & (out["dock_to_stock_hours"] < 0)
    out["exclusion"] = reason.where(~neg, "negative_duration")
    return out


@fact("return_lines", grain="return line", tables=("returns",))
def return_lines(ctx: Context) -> pd.DataFrame:
    """One row per return line: node (receiving node), channel, product_class,
    return_reason, disposition, ``processing_hours`` (disposition − receipt),
    ``refund_hours`` (refund − receipt), ``pre_receipt_refund`` (refund issued before the
    return was received, or with no receipt) and ``warehouse_exclusion``."""
    rt = ctx.table("returns")
    out = rt[["return_line_id", "order_id", "order_line_id", "sku", "return_reason",
              "received_at", "disposition", "disposition_at", "refund_issued_at",
              "receiving_node_id", "rma_decision"]].rename(
        columns={"receiving_node_id": "node"})
    out = out.merge(_order_info(ctx)[["order_id", "channel", "warehouse_exclusion"]],
                    on="order_id", how="left")
    out = out.merge(segments.sku_dims(ctx)[["sku", "supplier", "product_class"]], on="sku",
                    how="left")
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    out["fulfillment_model"] = out["node"].map(fm)
    out["processing_hours"] = hours(out["disposition_at"], out["received_at"])
    out["refund_hours"] = hours(out["refund_issued_at"], out["received_at"])
    out["pre_receipt_refund"] = out["refund_issued_at"].notna() & (
        out["received_at"].isna() | (out["refund_issued_at"] < out["received_at"]))
    return out


def capacity_days(ctx: Context) -> pd.DataFrame:
    """Node-days in the window with period, dims, day, unit, occupied, usable."""
    cap = ctx.table("node_capacity_daily")
    anchor = day_anchor(cap["capacity_date"], ctx.tz)
    keep, period = ctx.in_window(anchor), ctx.period_of(anchor)
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    days = pd.DataFrame({"period": period, "node": cap["node_id"],
                         "fulfillment_model": cap["node_id"].map(fm),
                         "day": cap["capacity_date"], "unit": cap["capacity_unit"],
                         "occupied": cap["occupied"], "usable": cap["usable_capacity"]})
    return days.loc[keep.to_numpy()]


def capacity_observations(ctx: Context, peak: bool) -> pd.DataFrame:
    """B6 reduced rows per (period, segment): mean (``peak=False``) or max of the daily
    utilisation Σoccupied / Σusable, with node-days of zero capacity counted as excluded."""
    days = capacity_days(ctx)
    keys = ["period", *ctx.by]
    zero = days["usable"] <= 0
    skipped = days.loc[zero, keys].assign(excluded="usable_capacity_zero", value=np.nan,
                                          numerator=np.nan, denominator=np.nan, n=0)
    d = days.loc[~zero]
    per_unit = d.groupby([*keys, "day", "unit"], dropna=False, sort=False).agg(
        occ=("occupied", "sum"), use=("usable", "sum"), n=("occupied", "size")).reset_index()
    per_unit["u"] = per_unit["occ"] / per_unit["use"]
    daily = per_unit.groupby([*keys, "day"], dropna=False, sort=False).agg(
        u=("u", "mean"), occ=("occ", "sum"), use=("use", "sum"), units=("unit", "size"),
        n=("n", "sum")).reset_index()
    g = daily.groupby(keys, dropna=False, sort=False)
    if peak:
        top = daily.sort_values([*keys, "u", "day"], kind="stable").drop_duplicates(
            keys, keep="last").set_index(keys)
        one_unit = top["units"].eq(1)
        out = pd.DataFrame({"value": top["u"],
                            "numerator": top["occ"].where(one_unit, top["u"]),
                            "denominator": top["use"].where(one_unit, 1.0)})
        out["n"] = g["n"].sum()
    else:
        out = pd.DataFrame({"numerator": g["u"].sum(), "denominator": g["u"].size(),
                            "n": g["n"].sum()})
        out["value"] = out["numerator"] / out["denominator"]
    out = out.reset_index()
    if len(skipped):
        out = pd.concat([out, skipped], ignore_index=True)
    out["n"] = out["n"].astype(int)
    return out
