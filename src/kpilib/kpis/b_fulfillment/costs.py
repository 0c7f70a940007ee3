"""Fulfilment cost KPIs: B7 cost per order and B8 parcel cost as a share of revenue. Warehouse
population: test orders excluded, the rest counted.

B7 notes
--------
Grain: node-period; anchors = each cost day (cost periods are spread evenly over their
days, ``period_end`` inclusive, so misaligned cost periods are prorated by days) and the
slice's first ship confirm (a slice shipped in several shipments is counted once).
Default pools: every pool of ``fulfillment_costs`` (labor, packaging, facility, 3pl_fees,
systems, other); outbound freight is not a pool. Transfer slices count in the
denominator only with ``include_transfers=True`` (else excluded as ``transfer_order``);
test orders are excluded. Zero shipped → undefined. By channel the node-period cost is
allocated to channels by their share of the node's shipped slices, and cost of
node-periods that shipped nothing stays unallocated. The data model has no exchange rates, so
the data contract accepts one currency per dataset (``mixed_currency``); amounts are never
converted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.line_base import line_index, order_index
from kpilib.fact_tables.population import order_population
from kpilib.fact_tables.times import day_anchor
from kpilib.fact_tables.warehouse import take
from kpilib.kpis.common import observations
from kpilib.registry import kpi

B7_DIMS = ("node", "fulfillment_model", "channel")
B8_DIMS = ("channel", "node", "fulfillment_model", "carrier", "service_level",
           "product_class", "supplier", "sku")
B8_FINAL_DAYS = 60


def _daily_costs(ctx: Context) -> pd.DataFrame:
    """Each cost row spread evenly over its days (period_end inclusive): period, node,
    amount per day."""
    fc = ctx.table("fulfillment_costs")
    ndays = ((fc["period_end"] - fc["period_start"]).dt.days + 1).clip(lower=1).to_numpy()
    rep = np.repeat(np.arange(len(fc)), ndays)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(ndays) - ndays, ndays)
    day = fc["period_start"].to_numpy()[rep] + offs.astype("timedelta64[D]")
    anchor = day_anchor(pd.Series(day), ctx.tz)
    keep, period = ctx.in_window(anchor), ctx.period_of(anchor)
    out = pd.DataFrame({"period": period, "node": fc["node_id"].to_numpy()[rep],
                        "num": fc["amount"].to_numpy()[rep] / ndays[rep]})
    return out.loc[keep.to_numpy()]


def _shipped_slices(ctx: Context) -> pd.DataFrame:
    """Slices with a ship confirm: period of the first one, node, channel, exclusion."""
    sl = ctx.fact("order_node_slices")
    sl = sl.loc[sl["first_shipped_at"].notna()]
    keep, period = ctx.in_window(sl["first_shipped_at"]), ctx.period_of(sl["first_shipped_at"])
    reason = sl["warehouse_exclusion"]
    if not ctx.param("include_transfers"):
        reason = reason.where(reason.notna() | sl["order_type"].ne("transfer"), "transfer_order")
    out = pd.DataFrame({"period": period, "node": sl["node"], "channel": sl["channel"],
                        "order_id": sl["order_id"], "excluded": reason})
    return out.loc[keep.to_numpy()]


def _order_reason(ctx: Context, oc: np.ndarray) -> np.ndarray:
    """Warehouse exclusion of each order code, plus ``transfer_order`` unless included."""
    pop = order_population(ctx)                 # one row per order, in the order of orders
    reason = take(pop["warehouse_exclusion"], oc)
    if not ctx.param("include_transfers"):
        transfer = take(pop["order_type"], oc) == "transfer"
        reason = np.where(pd.isna(reason) & transfer, "transfer_order", reason)
    return reason


def _freight(ctx: Context) -> pd.DataFrame:
    """Parcel cost of shipments confirmed in the window, by period, node and channel."""
    sh = ctx.table("shipments")
    s = sh.loc[sh["shipped_at"].notna(), ["order_id", "node_id", "shipped_at", "parcel_cost"]]
    keep, period = ctx.in_window(s["shipped_at"]), ctx.period_of(s["shipped_at"])
    oc = order_index(ctx).get_indexer(s["order_id"])
    ok = keep.to_numpy() & pd.isna(_order_reason(ctx, oc))
    return pd.DataFrame({"period": period[ok], "node": s["node_id"][ok],
                         "channel": take(order_population(ctx)["channel"], oc[ok]),
                         "num": s["parcel_cost"][ok].fillna(0.0)})


def _cost_obs(ctx: Context, freight: bool) -> pd.DataFrame:
    ch = ["channel"] if "channel" in ctx.by else []
    costs = _daily_costs(ctx)
    slices = _shipped_slices(ctx)
    node_key = ["period", "node"]
    c = costs.groupby(node_key, dropna=False)["num"].sum()
    ok = slices.loc[slices["excluded"].isna()]
    s_node = ok.groupby(node_key, dropna=False).size().rename("s_node")
    s_seg = ok.groupby([*node_key, *ch], dropna=False).size().rename("den").reset_index()
    rows = s_seg.merge(s_node.reset_index(), on=node_key, how="left")
    rows = rows.merge(c.rename("cost").reset_index(), on=node_key, how="outer" if not ch
                      else "left")
    rows["den"] = rows["den"].fillna(0.0)
    share = (rows["den"] / rows["s_node"]).where(rows["s_node"] > 0, 1.0)
    rows["num"] = rows["cost"].fillna(0.0) * share
    if freight:
        f = _freight(ctx).groupby([*node_key, *ch], dropna=False)["num"].sum()
        rows = rows.merge(f.rename("freight").reset_index(), on=[*node_key, *ch], how="left")
        rows["num"] += rows["freight"].fillna(0.0)
    rows["n"] = rows["den"].astype(int)
    skipped = slices.loc[slices["excluded"].notna(), [*node_key, *ch, "excluded"]].assign(
        num=0.0, den=0.0, n=0)
    out = pd.concat([rows[[*node_key, *ch, "num", "den", "n"]], skipped], ignore_index=True)
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    out["fulfillment_model"] = out["node"].map(fm)
    return out[["period", *ctx.by, "num", "den", "n", "excluded"]]


@kpi("cost_per_order", code="B7", fact="order_node_slices",
     name="Cost per order", domain="fulfillment", unit="currency/order",
     direction="lower", grain="node-period", kind="ratio",
     tables=("orders", "order_lines", "fulfillment_costs", "shipments"), dims=B7_DIMS,
     params=("include_transfers",), requires=("shipments.node_id",))
def cost_per_order(ctx: Context) -> pd.DataFrame:
    """cost_per_order = Σ fulfillment_costs.amount prorated to P at the node / |{order-node
    slices shipped in P at the node}| (outbound freight excluded).

    Anchor: each day of a cost period for costs; the slice's first ship confirm for orders.

    Population: order-node slices shipped at the node; test orders excluded, transfers only with
    ``include_transfers=True``.

    Grain, population and edge cases: see the B7 notes in the module docstring.
    """
    return _cost_obs(ctx, freight=False)


@kpi("cost_per_order_incl_freight", code="B7", fact="order_node_slices",
     name="Cost per order incl. freight",
     domain="fulfillment", unit="currency/order", direction="lower", grain="node-period",
     kind="ratio", tables=("orders", "order_lines", "fulfillment_costs", "shipments"),
     dims=B7_DIMS, params=("include_transfers",),
     requires=("shipments.node_id", "shipments.parcel_cost"))
def cost_per_order_incl_freight(ctx: Context) -> pd.DataFrame:
    """cost_per_order_incl_freight = (Σ prorated fulfillment costs + Σ shipments.parcel_cost
    of shipments confirmed in P at the node) / |{slices shipped in P at the node}|; freight
    of excluded orders (test, transfers unless included) is left out; by channel, freight
    goes to the channel of its order.

    Anchor: as ``cost_per_order``; freight at the shipment's ship confirm.

    Population: as ``cost_per_order``.

    Grain, population and edge cases: see the B7 notes in the module docstring.
    """
    return _cost_obs(ctx, freight=True)


LINE_DIMS = ("product_class", "supplier", "sku")


@kpi("parcel_cost_pct_revenue", code="B8", fact=None,
     name="Parcel cost as % of revenue", domain="fulfillment",
     unit="fraction", direction="lower", grain="shipment", kind="ratio",
     tables=("orders", "order_lines", "shipments", "shipment_lines"), dims=B8_DIMS,
     requires=('shipments.parcel_cost',))
def parcel_cost_pct_revenue(ctx: Context) -> pd.DataFrame:
    """parcel_cost_pct_revenue = Σ shipments.parcel_cost / Σ (qty_shipped ×
    order_lines.unit_price) over shipments confirmed in P.

    Anchor: ship confirmation.

    Population: outbound shipments with a parcel cost; test orders and shipments without a cost
    excluded by reason.

    Grain: shipment; anchor = ``shipped_at``. Merchandise revenue uses the net unit price
    (no tax, no shipping fee). Free replacement shipments: cost counted, revenue 0
    (``order_type='replacement'``, intentional). All shipments are outbound (return labels
    are not in ``shipments``). Shipments with no ``parcel_cost`` yet are excluded
    (``missing_parcel_cost``); test orders too. ``preliminary`` while a shipment in the
    period has ``parcel_cost_final`` false and shipped less than 60 days before ``as_of``. Revenue 0
    → undefined. Cut by a line dimension (product_class, supplier, sku)
    the shipment splits into its lines in the segment; its parcel cost is allocated by
    units shipped. One currency per dataset (the contract's ``mixed_currency`` rule): parcel cost
    and revenue are in the same unit.
    """
    sh = ctx.table("shipments")
    sh = sh.loc[sh["shipped_at"].notna()].reset_index(drop=True)
    sl = ctx.table("shipment_lines")
    spos = pd.Index(sh["shipment_id"]).get_indexer(sl["shipment_id"])
    lines = sl.loc[spos >= 0, ["order_line_id", "qty_shipped"]].assign(spos=spos[spos >= 0])
    lp = line_index(ctx).get_indexer(lines["order_line_id"])
    ol = ctx.ds.order_lines
    price = pd.to_numeric(take(ol["unit_price"], lp)).astype(float)
    lines["rev"] = lines["qty_shipped"].to_numpy() * np.nan_to_num(price)
    ldims = [d for d in ctx.by if d in LINE_DIMS]
    if ldims:
        sd = segments.sku_dims(ctx)
        sp = pd.Index(sd["sku"]).get_indexer(take(ol["sku"], lp))
        for d in ldims:
            lines[d] = take(sd[d], sp)
    g = lines.groupby(["spos", *ldims], dropna=False, sort=False)
    parts = pd.DataFrame({"rev": g["rev"].sum(), "qty": g["qty_shipped"].sum()}).reset_index()
    parts["qty_total"] = parts.groupby("spos")["qty"].transform("sum")
    parts["n_parts"] = parts.groupby("spos")["qty"].transform("size")
    head = sh[["shipment_id", "order_id", "node_id", "carrier", "service_level", "shipped_at",
               "parcel_cost", "parcel_cost_final"]].rename(columns={"node_id": "node"})
    m = head.assign(spos=np.arange(len(head))).merge(parts, on="spos", how="left")
    oc = order_index(ctx).get_indexer(m["order_id"])
    pop = order_population(ctx)
    m["channel"] = take(pop["channel"], oc)
    replacement = take(pop["order_type"], oc) == "replacement"
    share = (m["qty"] / m["qty_total"]).where(m["qty_total"] > 0, 1.0 / m["n_parts"])
    share = share.fillna(1.0)
    reason = pd.Series(take(pop["warehouse_exclusion"], oc), index=m.index)
    reason = reason.where(reason.notna() | m["parcel_cost"].notna(), "missing_parcel_cost")
    fm = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
    m["fulfillment_model"] = m["node"].map(fm)
    prelim = ~m["parcel_cost_final"] & (
        m["shipped_at"] + pd.Timedelta(days=B8_FINAL_DAYS) > ctx.as_of)
    return observations(m, ctx, anchor=m["shipped_at"],
                        num=m["parcel_cost"].fillna(0.0) * share,
                        den=m["rev"].fillna(0.0).where(~replacement, 0.0),
                        n=1, excluded=reason, preliminary=prelim)
