"""Order-node slice KPIs: A12 release time, B1 on-time shipment, B5 dock-to-ship (kpi-spec §2,
§3, §11.8), all computed from the ``order_node_slices`` fact (kpilib.facts.slices)."""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.facts import slices as _slices_fact  # noqa: F401  (registers the fact)
from kpilib.facts.ops_common import hours, ts_min
from kpilib.facts.timeline import expand_open
from kpilib.registry import kpi, register_param

register_param("hold_counts_against_node", False,
               "B1: merchant holds count against the node (True) or extend the ship "
               "deadline by the hold duration (False)")

SLICE_DIMS = ("channel", "node", "fulfillment_model", "carrier", "service_level")


def _slices(ctx: Context) -> pd.DataFrame:
    return ctx.fact("order_node_slices")


def _obs(sl: pd.DataFrame, ctx: Context, **cols) -> pd.DataFrame:
    """Observation frame: the requested dims of each slice plus ``cols``."""
    out = pd.DataFrame({d: sl[d].to_numpy() for d in ctx.by if d in sl.columns})
    for name, values in cols.items():
        out[name] = values.array if isinstance(values, pd.Series) else values
    return out


def _exclude(reason: pd.Series, cond: pd.Series, code: str) -> pd.Series:
    """First reason wins: set ``code`` where ``cond`` holds and no reason is set yet."""
    return reason.where(reason.notna() | ~cond, code)


def _duration_obs(ctx: Context, sl: pd.DataFrame, x: pd.Series, anchor: pd.Series,
                  reason: pd.Series) -> pd.DataFrame:
    reason = _exclude(reason, anchor.notna() & (x < 0), "negative_duration")
    return _obs(sl, ctx, anchor=anchor, x=x.where(reason.isna()), excluded=reason)


@kpi("order_release_time_hours", name="Order release time", domain="order", unit="hours",
     direction="lower", grain="order-node slice", kind="mean",
     tables=("orders", "order_lines", "order_events"),
     dims=("channel", "node", "fulfillment_model"),
     requires=('order_events.event_type=released_to_node',))
def order_release_time_hours(ctx: Context) -> pd.DataFrame:
    """release_time = first ``released_to_node`` event at the slice's node − start_at (hours),
    start_at = ``authorized_at`` (fallback ``created_at``), or ``earliest_ship_at`` when a
    pre-order's earliest ship time is later. Mean, p50, p90, n over slices released in P.

    Grain: order-node slice (§1.10); anchor = the first release event at the node.

    Edge cases (A12): a re-release after a short keeps the first release (min). A release
    event with no ``node_id`` releases every slice of its order. Orders cancelled before the
    release are excluded (``cancelled_before_release``); slices never released are pending
    (see ``unreleased_order_age_hours``). Customer population (§1.5): test, fraud,
    duplicate, transfer and replacement orders are excluded by reason. Negative durations
    (release before authorization) are excluded (``negative_duration``).
    """
    sl = _slices(ctx)
    x = hours(sl["released_at"], sl["start_at"])
    reason = sl["exclusion"].copy()
    reason = _exclude(reason, sl["cancelled_at"].notna()
                      & (sl["cancelled_at"] < sl["released_at"]), "cancelled_before_release")
    return _duration_obs(ctx, sl, x, sl["released_at"], reason)


@kpi("unreleased_order_age_hours", name="Unreleased order age (snapshot)", domain="order",
     unit="hours", direction="lower", grain="order-node slice (snapshot)", kind="mean",
     tables=("orders", "order_lines"), dims=("channel", "node", "fulfillment_model"),
     snapshot=True,
     requires=('order_events.event_type=released_to_node',))
def unreleased_order_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t − start_at for each slice not yet released at snapshot time t (hours);
    mean, p50, p90, n.

    A slice is waiting at t when ``start_at ≤ t`` and none of its release, first ship
    confirm or the order's cancellation happened by t (a shipped slice counts as released
    even when its release event is missing). Slices with nothing left to ship (every line
    cancelled, by line quantities) are not waiting and are left out. start_at as in
    ``order_release_time_hours``.
    Snapshots (§11.12): at ``as_of`` with ``freq=None``, else at each period end capped at
    ``as_of``. Customer population: excluded reasons are counted, not measured. Slices whose
    node is not known yet are shown under node ``(unknown)``.
    """
    sl = _slices(ctx)
    sl = sl.loc[~sl["all_cancelled"]]
    end = ts_min(sl["released_at"], sl["first_shipped_at"], sl["cancelled_at"])
    start = sl["start_at"].where(sl["start_at"] >= sl["created_at"], sl["created_at"])
    keep = sl.loc[:, [*[d for d in ctx.by if d in sl.columns], "exclusion"]].assign(
        _start=start)
    open_rows = expand_open(keep, start, end, ctx.snapshot_points())
    age = hours(open_rows["t"], open_rows["_start"])
    obs = open_rows.assign(x=age.where(open_rows["exclusion"].isna()),
                           excluded=open_rows["exclusion"])
    return obs.drop(columns=["_start", "t", "exclusion"])


@kpi("on_time_shipment_rate", name="On-time shipment rate", domain="fulfillment",
     unit="fraction", direction="higher", grain="order-node slice", kind="rate",
     tables=("orders", "order_lines", "shipments"), dims=SLICE_DIMS,
     params=("hold_counts_against_node",),
     requires=('order_lines.planned_ship_by_at',))
def on_time_shipment_rate(ctx: Context) -> pd.DataFrame:
    """on_time_shipment_rate = |{slices whose last shipment left by the ship deadline}| /
    |{slices whose ship deadline is in P}|; deadline = min ``planned_ship_by_at`` of the
    slice's lines.

    Grain: order-node slice; anchor = the deadline (due cohort).

    Edge cases (B1, §11.1, §11.8): not (fully) shipped and past the deadline → late, even if
    part already left; shipped in several shipments → on time only if the last one is.
    Deadlines after ``as_of`` are pending. Slice fully cancelled by the customer before the
    deadline → excluded (``customer_cancel``; a full-order cancellation after the deadline
    leaves it late); fully merchant-cancelled before shipping → excluded
    (``merchant_cancel``). Merchant holds (``hold_placed`` by system or user): with
    ``hold_counts_against_node=False`` (default) the deadline — and so the anchor — moves
    later by the hold duration (holds placed before the deadline; an open hold runs to
    ``as_of``); with True the planned deadline stands. Slices without any
    ``planned_ship_by_at`` have no deadline and are not in the population. Customer
    population (§1.5): test, fraud, duplicate, transfer and replacement orders excluded.
    Carrier/service level = those of the slice's last shipment.
    """
    sl = _slices(ctx)
    deadline = sl["planned_ship_by"]
    if not ctx.param("hold_counts_against_node"):
        deadline = deadline + pd.to_timedelta(sl["hold_hours"], unit="h")
    reason = sl["exclusion"].copy()
    nothing_shipped = sl["n_shipped"].eq(0)
    cust = sl["all_customer_cancelled"] & nothing_shipped & ~(
        sl["cancelled_at"].notna() & (sl["cancelled_at"] > deadline))
    reason = _exclude(reason, cust, "customer_cancel")
    merchant = sl["all_cancelled"] & ~sl["all_customer_cancelled"] & nothing_shipped
    reason = _exclude(reason, merchant, "merchant_cancel")
    on_time = sl["complete"] & (sl["last_shipped_at"] <= deadline)
    return _obs(sl, ctx, anchor=deadline, num=on_time.astype(float), den=1.0,
                excluded=reason)


B5_DIMS = ("channel", "node", "fulfillment_model", "carrier", "service_level")


def _warehouse_slices(ctx: Context) -> tuple[pd.DataFrame, pd.Series]:
    sl = _slices(ctx)
    reason = sl["warehouse_exclusion"].copy()
    reason = _exclude(reason, sl["released_at"].isna(), "missing_release")
    return sl, reason


@kpi("dock_to_ship_hours", name="Dock-to-ship time", domain="fulfillment", unit="hours",
     direction="lower", grain="order-node slice", kind="mean",
     tables=("orders", "order_lines", "order_events", "shipments"), dims=B5_DIMS,
     requires=('order_events.event_type=released_to_node',))
def dock_to_ship_hours(ctx: Context) -> pd.DataFrame:
    """dock_to_ship = last ship confirm of the slice − first ``released_to_node`` event at
    its node (hours); mean, p50, p90, n.

    Grain: order-node slice; anchor = the last ship confirm, i.e. the slice is measured once
    it is complete (every line shipped or cancelled). Backorder-affected slices stay in this
    figure, measured to the last ship (§11.8; see ``dock_to_first_ship_hours``).
    Warehouse population (§11.9): only test orders are excluded; transfers, replacements and
    fraud-cancelled orders that were worked count. Shipped slices with no release event are
    excluded (``missing_release``), negative durations too (``negative_duration``).
    ``business_hours`` is not implemented (elapsed wall-clock hours, §1.2).
    """
    sl, reason = _warehouse_slices(ctx)
    anchor = sl["last_shipped_at"].where(sl["complete"])
    x = hours(sl["last_shipped_at"], sl["released_at"])
    return _duration_obs(ctx, sl, x, anchor, reason)


@kpi("dock_to_first_ship_hours", name="Dock-to-first-ship time", domain="fulfillment",
     unit="hours", direction="lower", grain="order-node slice", kind="mean",
     tables=("orders", "order_lines", "order_events", "shipments"), dims=B5_DIMS,
     requires=('order_events.event_type=released_to_node',))
def dock_to_first_ship_hours(ctx: Context) -> pd.DataFrame:
    """dock_to_first_ship = first ship confirm of the slice − first ``released_to_node``
    event at its node (hours); mean, p50, p90, n.

    Grain: order-node slice; anchor = the first ship confirm (B5 companion for slices
    waiting on backorder, §11.8). Same population and exclusions as ``dock_to_ship_hours``.
    """
    sl, reason = _warehouse_slices(ctx)
    x = hours(sl["first_shipped_at"], sl["released_at"])
    return _duration_obs(ctx, sl, x, sl["first_shipped_at"], reason)
