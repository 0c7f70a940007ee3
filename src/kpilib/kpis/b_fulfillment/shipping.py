"""B1 on-time shipment and B5 dock-to-ship time of order-node slices, computed from the
``order_node_slices`` fact (:mod:`kpilib.fact_tables.slices`)."""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.times import hours
from kpilib.kpis.common import (
    first_reason,
    observations,
    order_node_slices,
    slice_duration_obs,
)
from kpilib.registry import kpi, register_param

register_param("hold_counts_against_node", False,
               "B1: merchant holds count against the node (True) or extend the ship "
               "deadline by the hold duration (False)")

SLICE_DIMS = ("channel", "node", "fulfillment_model", "carrier", "service_level")


@kpi("on_time_shipment_rate", code="B1", fact="order_node_slices",
     name="On-time shipment rate", domain="fulfillment",
     unit="fraction", direction="higher", grain="order-node slice", kind="rate",
     tables=("orders", "order_lines", "shipments"), dims=SLICE_DIMS,
     params=("hold_counts_against_node",),
     requires=('order_lines.planned_ship_by_at',))
def on_time_shipment_rate(ctx: Context) -> pd.DataFrame:
    """on_time_shipment_rate = |{slices whose last shipment left by the ship deadline}| /
    |{slices whose ship deadline is in P}|; deadline = min ``planned_ship_by_at`` of the
    slice's lines.

    Anchor: the slice's ship deadline (earliest planned ship-by time of its lines).

    Population: order-node slices of customer orders with a ship deadline; slices fully cancelled by
    the customer before the deadline, or by the merchant before shipping, excluded by reason.

    Grain: order-node slice; anchor = the deadline (due cohort).

    Edge cases (B1): not (fully) shipped and past the deadline → late, even if
    part already left; shipped in several shipments → on time only if the last one is.
    Deadlines after ``as_of`` are pending. Slice fully cancelled by the customer before the
    deadline → excluded (``customer_cancel``; a full-order cancellation after the deadline
    leaves it late); fully merchant-cancelled before shipping → excluded
    (``merchant_cancel``). Merchant holds (``hold_placed`` by system or user): with
    ``hold_counts_against_node=False`` (default) the deadline — and so the anchor — moves
    later by the hold duration (holds placed before the deadline; an open hold runs to
    ``as_of``); with True the planned deadline stands. Slices without any
    ``planned_ship_by_at`` have no deadline and are not in the population. Customer
    population: test, fraud, duplicate, transfer and replacement orders excluded.
    Carrier/service level = those of the slice's last shipment.
    """
    sl = order_node_slices(ctx)
    deadline = sl["planned_ship_by"]
    if not ctx.param("hold_counts_against_node"):
        deadline = deadline + pd.to_timedelta(sl["hold_hours"], unit="h")
    reason = sl["exclusion"].copy()
    nothing_shipped = sl["n_shipped"].eq(0)
    cust = sl["all_customer_cancelled"] & nothing_shipped & ~(
        sl["cancelled_at"].notna() & (sl["cancelled_at"] > deadline))
    reason = first_reason(reason, cust, "customer_cancel")
    merchant = sl["all_cancelled"] & ~sl["all_customer_cancelled"] & nothing_shipped
    reason = first_reason(reason, merchant, "merchant_cancel")
    on_time = sl["complete"] & (sl["last_shipped_at"] <= deadline)
    return observations(sl, ctx, rows=sl.index, anchor=deadline, num=on_time.astype(float),
                        den=1.0, excluded=reason)


B5_DIMS = ("channel", "node", "fulfillment_model", "carrier", "service_level")


def _warehouse_slices(ctx: Context) -> tuple[pd.DataFrame, pd.Series]:
    sl = order_node_slices(ctx)
    reason = sl["warehouse_exclusion"].copy()
    reason = first_reason(reason, sl["released_at"].isna(), "missing_release")
    return sl, reason


@kpi("dock_to_ship_hours", code="B5", fact="order_node_slices",
     name="Dock-to-ship time", domain="fulfillment", unit="hours",
     direction="lower", grain="order-node slice", kind="mean",
     tables=("orders", "order_lines", "order_events", "shipments"), dims=B5_DIMS,
     requires=('order_events.event_type=released_to_node',))
def dock_to_ship_hours(ctx: Context) -> pd.DataFrame:
    """dock_to_ship = last ship confirm of the slice − first ``released_to_node`` event at
    its node (hours); mean, p50, p90, n.

    Anchor: the slice's last ship confirm.

    Population: shipped order-node slices of every order worked (only test orders excluded); slices
    without a release event and negative durations excluded by reason.

    Grain: order-node slice; anchor = the last ship confirm, i.e. the slice is measured once
    it is complete (every line shipped or cancelled). Backorder-affected slices stay in this
    figure, measured to the last ship (see ``dock_to_first_ship_hours``).
    Warehouse population: only test orders are excluded; transfers, replacements and
    fraud-cancelled orders that were worked count. Shipped slices with no release event are
    excluded (``missing_release``), negative durations too (``negative_duration``).
    ``business_hours`` is not implemented (elapsed wall-clock hours).
    """
    sl, reason = _warehouse_slices(ctx)
    anchor = sl["last_shipped_at"].where(sl["complete"])
    x = hours(sl["last_shipped_at"], sl["released_at"])
    return slice_duration_obs(ctx, sl, x, anchor, reason)


@kpi("dock_to_first_ship_hours", code="B5", fact="order_node_slices",
     name="Dock-to-first-ship time", domain="fulfillment",
     unit="hours", direction="lower", grain="order-node slice", kind="mean",
     tables=("orders", "order_lines", "order_events", "shipments"), dims=B5_DIMS,
     requires=('order_events.event_type=released_to_node',))
def dock_to_first_ship_hours(ctx: Context) -> pd.DataFrame:
    """dock_to_first_ship = first ship confirm of the slice − first ``released_to_node``
    event at its node (hours); mean, p50, p90, n.

    Anchor: the slice's first ship confirm.

    Population: as ``dock_to_ship_hours``.

    Grain: order-node slice; anchor = the first ship confirm (B5 companion for slices
    waiting on backorder). Same population and exclusions as ``dock_to_ship_hours``.
    """
    sl, reason = _warehouse_slices(ctx)
    x = hours(sl["first_shipped_at"], sl["released_at"])
    return slice_duration_obs(ctx, sl, x, sl["first_shipped_at"], reason)
