"""Order-flow KPIs: cycle time (A11) and pre-ship cancellation (A13), on the order facts of
:mod:`kpilib.fact_tables.orders` (split shipments and touches, A14-A15: ``order_handling``).

Every KPI here is order-grain: cut by a line-level dimension it is evaluated on the sub-unit
(the order's lines in that segment) through :func:`kpilib.fact_tables.orders.subunits`, which
with no line-level dimension gives one row per order. Population exclusions (is_test, fraud_cancel,
duplicate, transfer_order, replacement_order) are counted under their
reason, placed in the period of the record's anchor when it has one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.errors import ParameterError
from kpilib.fact_tables.orders import (
    hours,
    order_attrs,
    per_context,
    subunits,
    with_dims,
)
from kpilib.fact_tables.timeline import open_positions
from kpilib.kpis.common import observations
from kpilib.registry import ORDER_DIMS, SHIP_DIMS, kpi, register_param

register_param("exclude_dwell", False, "A11: subtract pre-order dwell max(0, earliest_ship_at - "
               "start_at) (SCOR net cycle time)")
register_param("cycle_end", "final_delivery", "A11 end event: 'final_delivery' (order "
               "complete) or 'first_delivery' (first unit delivered)")

FLOW_TABLES = ("orders", "order_lines", "shipments", "shipment_lines")
ALL_DIMS = ORDER_DIMS + SHIP_DIMS
PRELIM_DAYS = 30
INITIATOR_SEGMENTS = ("customer", "merchant", "system", "fraud", "duplicate")


# --- A11 -------------------------------------------------------------------------------------


def _cycle_obs(ctx: Context) -> pd.DataFrame:
    end_basis = ctx.param("cycle_end")
    if end_basis not in ("final_delivery", "first_delivery"):
        raise ParameterError(f"cycle_end must be 'final_delivery' or 'first_delivery'; "
                             f"got {end_basis!r}")
    u = subunits(ctx)
    if end_basis == "final_delivery":
        reached = u["delivered"]
        end = u["final_delivery_at"].where(reached)
    else:
        end = u["first_delivery_at"]
        reached = end.notna() | (u["missing_scan"] & u["last_shipped_at"].notna())
    ct = hours(end - u["start_at"])
    if ctx.param("exclude_dwell"):
        ct = ct - hours(u["earliest_ship_at"] - u["start_at"]).clip(lower=0).fillna(0.0)
    cancelled = u["cancelled_at"].notna()
    scanless = reached & u["missing_scan"]
    excluded = u["exclusion"].copy()
    excluded = excluded.where(excluded.notna() | ~cancelled, "cancelled")
    excluded = excluded.where(excluded.notna() | ~scanless, "missing_delivery_scan")
    excluded = excluded.where(excluded.notna() | ~(ct < 0), "negative_duration")
    anchor = end.where(~scanless, u["last_shipped_at"])
    anchor = anchor.where(~cancelled | anchor.notna(), u["cancelled_at"])
    anchor = anchor.where(reached | cancelled)
    return observations(u, ctx, anchor=anchor, x=ct, excluded=excluded)


@kpi("order_cycle_time_hours", code="A11", fact="orders",
     name="Order cycle time", domain="order", unit="hours",
     direction="lower", grain="order", kind="mean", tables=FLOW_TABLES, dims=ALL_DIMS,
     params=("exclude_dwell", "cycle_end"), requires=("capture:delivery_events",))
def order_cycle_time_hours(ctx: Context) -> pd.DataFrame:
    """ct = final_delivery_at - start_at, in hours; mean, p50, p90, n over orders delivered in P.

    Anchor: final delivery of the order.

    Population: delivered customer orders; cancelled orders, missing delivery scans, negative
    durations and the usual order exclusions are counted by reason.

    Grain: order (sub-unit for line-level dims); anchor: final delivery (A11).
    ``start_at`` = authorized_at, fallback created_at. ``final_delivery_at`` = latest delivery
    scan of the lines whose required quantity (ordered - customer - merchant cancellations) is
    all delivered; merchant-cancelled lines are therefore measured to the last delivery of the
    remaining lines. Store pickup lines are delivered at their ``ready_for_pickup`` event.

    Edge cases
    ----------
    - Undelivered orders are pending (no period); see ``open_order_age_hours``.
    - Cancelled orders (``orders.cancelled_at``): excluded ``cancelled`` (at cancellation).
    - A delivered shipment without ``delivered_at``: ``missing_delivery_scan`` (counted at the
      order's last ship confirm, the latest time known).
    - ct < 0: ``negative_duration``. Population exclusions counted by reason.
    - ``exclude_dwell=True`` (net variant): ct - max(0, earliest_ship_at - start_at).
    - ``cycle_end="first_delivery"``: end = first delivery of any line; the population is
      orders with at least one delivery and the anchor moves to that first delivery.
    - A source declared without delivery scans (``delivery_events: none``): unavailable,
      since no order can be seen delivered.

    Notes
    -----
    Reading: an order is complete when every line with required quantity > 0 is delivered
    in full; lost/failed/returned shipments deliver nothing, so such orders stay pending.
    """
    return _cycle_obs(ctx)


@kpi("open_order_age_hours", code="A11", fact="orders",
     name="Open order age", domain="order", unit="hours",
     direction="lower", grain="order (snapshot)", kind="mean", tables=FLOW_TABLES,
     dims=ALL_DIMS, snapshot=True,
     requires=("capture:delivery_events",))
def open_order_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t - start_at, in hours, over orders open at snapshot t; mean, p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: customer orders created and neither delivered nor cancelled at the snapshot.

    Snapshot: t = as_of with ``freq=None``, else each period end capped at as_of.
    Open at t: created_at <= t, not cancelled by t, not delivered by t (A11 final delivery).
    ``start_at`` is authorized_at when authorized by t, else created_at.

    Edge cases
    ----------
    - Population exclusions counted by reason at the snapshots where they are open.
    - Delivered with a missing scan: delivery time unknown; counted as
      ``missing_delivery_scan`` until its last ship confirm, never as open after it.
    - An order (sub-unit) whose lines are all cancelled has nothing to wait for: never open.
    - Orders whose shipments were lost, failed or returned stay open (they were never
      delivered; a replacement order is a separate order) - that is the point of the
      companion: stuck orders keep ageing.

    Notes
    -----
    Companion of A11 against survivorship bias. Sub-units for line-level dims.
    """
    u = subunits(ctx)
    points = ctx.snapshot_points()
    scanless = u["delivered"] & u["missing_scan"]
    closed = u["final_delivery_at"].where(u["delivered"] & ~scanless)
    closed = closed.where(~scanless, u["last_shipped_at"])
    closed = pd.concat([closed, u["cancelled_at"]], axis=1).min(axis=1)
    nothing_due = u["n_need"].fillna(0).eq(0)        # every line cancelled: nothing waits
    closed = closed.where(~nothing_due, u["created_at"])
    ent, pt = open_positions(points, u["created_at"], closed)
    rows = u.iloc[ent].reset_index(drop=True)
    t = points["t"].iloc[pt].reset_index(drop=True)
    auth_known = rows["authorized_at"].notna() & (rows["authorized_at"] <= t)
    start = rows["authorized_at"].where(auth_known, rows["created_at"])
    excluded = rows["exclusion"].where(rows["exclusion"].notna() | ~scanless.iloc[ent]
                                       .reset_index(drop=True), "missing_delivery_scan")
    return observations(rows, ctx, period=points["period"].iloc[pt], x=hours(t - start),
                        excluded=excluded)


# --- A13 -------------------------------------------------------------------------------------

A13_DIMS = ("channel", "node", "product_class", "fulfillment_model")


@per_context
def _cancel_frame(ctx: Context) -> pd.DataFrame:
    """Sub-units (assigned node) with ``pre_ship`` (A13 numerator) and ``preliminary``."""
    u = subunits(ctx, "assigned").copy()
    first_ship = u["order_first_shipped_at"]
    cancelled = u["cancelled_at"].notna()
    u["pre_ship"] = cancelled & (first_ship.isna() | (u["cancelled_at"] < first_ship))
    young = (ctx.as_of - u["created_at"]) < pd.Timedelta(days=PRELIM_DAYS)
    u["preliminary"] = ~(first_ship.notna() | cancelled) & young
    return u


def _cancel_obs(ctx: Context, initiators: tuple[str, ...] | None) -> pd.DataFrame:
    u = _cancel_frame(ctx)
    num = u["pre_ship"]
    if initiators is not None:
        num = num & u["cancel_initiator"].isin(initiators)
    return observations(u, ctx, anchor=u["created_at"], num=num.astype(float), den=1.0,
                        excluded=u["exclusion"], preliminary=u["preliminary"])


def _initiator_breakdown(ctx: Context) -> pd.DataFrame:
    """by cancel_initiator: every segment shares the headline denominator (see docstring)."""
    u = _cancel_frame(ctx)
    label = u["cancel_initiator"].where(u["cancel_initiator"].notna(), "(unknown)")
    label = label.where(u["exclusion"].ne("fraud_cancel"), "fraud")
    label = label.where(u["exclusion"].ne("duplicate"), "duplicate")
    label = label.where(u["pre_ship"])
    shown = u["exclusion"].isin(["fraud_cancel", "duplicate"])
    segs = list(INITIATOR_SEGMENTS) + sorted(set(label.dropna()) - set(INITIATOR_SEGMENTS))
    base = u.loc[~shown]
    rep = base.loc[base.index.repeat(len(segs))].reset_index(drop=True)
    seg = np.tile(np.array(segs, dtype=object), len(base))
    lab = label.loc[~shown].repeat(len(segs)).to_numpy()
    rep["cancel_initiator"] = seg
    main = observations(rep, ctx, anchor=rep["created_at"], num=(lab == seg).astype(float), den=1.0,
                        n=1, excluded=rep["exclusion"], preliminary=rep["preliminary"])
    extra = u.loc[shown & u["pre_ship"]].copy()
    extra["cancel_initiator"] = label.loc[extra.index]
    side = observations(extra, ctx, anchor=extra["created_at"], num=1.0, den=0.0, n=0,
                        excluded=pd.Series([None] * len(extra), dtype=object),
                        preliminary=np.zeros(len(extra), dtype=bool))
    return pd.concat([main, side], ignore_index=True)


@kpi("cancellation_rate_pre_ship", code="A13", fact="orders",
     name="Cancellation rate before shipment", domain="order",
     unit="fraction", direction="lower", grain="order", kind="rate",
     tables=("orders", "order_lines", "shipments"), dims=(*A13_DIMS, "cancel_initiator"),
     requires=('orders.cancelled_at',))
def cancellation_rate_pre_ship(ctx: Context) -> pd.DataFrame:
    """|{o created in P : cancelled_at < first shipped_at (or no shipment)}| / |{o created in P}|.

    Anchor: order creation.

    Population: orders created in the period; test, transfer and replacement orders excluded, and
    fraud and duplicate cancellations left out of both sides.

    Grain: order (sub-unit of the assigned node for node / fulfillment_model, product_class
    from the sold line); anchor: order creation (A13). Only full-order cancellations
    (``orders.cancelled_at``) count; partially cancelled orders are in the denominator only
    (see ``cancellation_unit_rate_pre_ship``).

    Edge cases
    ----------
    - Fraud and duplicate cancellations leave numerator and denominator (``fraud_cancel``,
      ``duplicate``), like is_test, transfer and replacement orders.
    - ``preliminary`` while an order of the cohort is neither shipped nor cancelled and is
      younger than 30 days at as_of.

    Notes
    -----
    Breakdown ``by=["cancel_initiator"]`` (reading chosen): segments customer, merchant,
    system, fraud, duplicate (plus "(unknown)" when a cancellation has no initiator). Every
    segment has the headline denominator (the valid cohort) and as numerator the pre-ship
    cancellations of that initiator, so customer + merchant + system (+ unknown) numerators add
    up to the headline numerator. The fraud and duplicate segments count the excluded
    fraud/duplicate pre-ship cancellations over that same valid cohort ("per valid order"),
    which is how the population rules report them "only inside A13's breakdown"; duplicates are
    labelled
    ``duplicate`` whatever their initiator. is_test/transfer/replacement stay excluded and are
    counted in every segment's ``excluded``.
    """
    if "cancel_initiator" in ctx.by:
        return _initiator_breakdown(ctx)
    return _cancel_obs(ctx, None)


@kpi("merchant_cancellation_rate_pre_ship", code="A13", fact="orders",
     name="Merchant cancellation rate before shipment",
     domain="order", unit="fraction", direction="lower", grain="order", kind="rate",
     tables=("orders", "order_lines", "shipments"), dims=A13_DIMS,
     requires=('orders.cancelled_at',))
def merchant_cancellation_rate_pre_ship(ctx: Context) -> pd.DataFrame:
    """|{o created in P : cancelled pre-ship by merchant or system}| / |{o created in P}|.

    Anchor: order creation.

    Population: as ``cancellation_rate_pre_ship``.

    Fulfilment-health variant of A13: same cohort, anchor (order creation), exclusions and
    preliminary rule as ``cancellation_rate_pre_ship``; the numerator keeps
    ``cancel_initiator in {merchant, system}`` only.
    """
    return _cancel_obs(ctx, ("merchant", "system"))


@kpi("cancellation_unit_rate_pre_ship", code="A13", fact="order_flow_lines",
     name="Cancelled unit rate before shipment",
     domain="order", unit="fraction", direction="lower", grain="order line (units)",
     kind="rate", tables=("orders", "order_lines"), dims=A13_DIMS,
     requires=('orders.cancelled_at',))
def cancellation_unit_rate_pre_ship(ctx: Context) -> pd.DataFrame:
    """Σ(qty_cancelled_customer + qty_cancelled_merchant) / Σ qty_ordered, lines created in P.

    Anchor: line creation.

    Population: sold lines (not kit components) of the orders ``cancellation_rate_pre_ship`` counts.

    Grain: sold order line (kit components are not counted again); anchor: line
    ``created_at`` (A13 unit variant). Segments: channel, node (assigned), product_class,
    fulfillment_model of the assigned node.

    Edge cases
    ----------
    - A line of an order fully cancelled before shipment counts all its ordered units as
      cancelled (reading chosen: the order-level cancellation may not be mirrored on the line
      quantities), i.e. max(line cancelled qty, qty_ordered) for such orders.
    - Population exclusions by the line's order; lines with qty_ordered = 0 add nothing.
    - ``preliminary`` by the order rule of A13 (not shipped, not cancelled, < 30 days).
    """
    ol = ctx.ds.order_lines
    ol = ol.loc[ol["parent_line_id"].isna()]
    lines = pd.DataFrame({"order_line_id": ol["order_line_id"].array,
                          "order_id": ol["order_id"].array,
                          "top_line_id": ol["order_line_id"].array})
    lines = with_dims(ctx, lines, node_basis="assigned")
    if "channel" in ctx.by:
        lines["channel"] = lines["order_id"].map(
            order_attrs(ctx).set_index("order_id")["channel"]).array
    orders = ctx.fact("orders").set_index("order_id")
    first_ship = lines["order_id"].map(orders["first_shipped_at"])
    cancelled_at = lines["order_id"].map(orders["cancelled_at"])
    created = lines["order_id"].map(orders["created_at"])
    pre_ship = cancelled_at.notna() & (first_ship.isna() | (cancelled_at < first_ship))
    qty = ol["qty_ordered"].to_numpy()
    cancelled = (ol["qty_cancelled_customer"] + ol["qty_cancelled_merchant"]).to_numpy()
    num = np.where(pre_ship.to_numpy(), np.maximum(cancelled, qty), np.minimum(cancelled, qty))
    young = (ctx.as_of - created) < pd.Timedelta(days=PRELIM_DAYS)
    prelim = ~(first_ship.notna() | cancelled_at.notna()) & young
    return observations(lines, ctx, anchor=ol["created_at"], num=num, den=qty,
                        excluded=lines["order_id"].map(orders["exclusion"]), preliminary=prelim)
