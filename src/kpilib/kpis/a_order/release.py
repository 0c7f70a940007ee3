"""A12 order release time: from the start of an order-node slice to its release to the node.

Computed from the ``order_node_slices`` fact (:mod:`kpilib.fact_tables.slices`).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.timeline import expand_open
from kpilib.fact_tables.times import hours, ts_min
from kpilib.kpis.common import (
    first_reason,
    observations,
    order_node_slices,
    record_columns,
    slice_duration_obs,
)
from kpilib.registry import kpi


@kpi("order_release_time_hours", code="A12", fact="order_node_slices",
     name="Order release time", domain="order", unit="hours",
     direction="lower", grain="order-node slice", kind="mean",
     tables=("orders", "order_lines", "order_events"),
     dims=("channel", "node", "fulfillment_model"),
     requires=('order_events.event_type=released_to_node',))
def order_release_time_hours(ctx: Context) -> pd.DataFrame:
    """release_time = first ``released_to_node`` event at the slice's node − start_at (hours),
    start_at = ``authorized_at`` (fallback ``created_at``), or ``earliest_ship_at`` when a
    pre-order's earliest ship time is later. Mean, p50, p90, n over slices released in P.

    Anchor: first release event at the slice's node.

    Population: order-node slices of customer orders that were released; orders cancelled before
    release, negative durations and the usual order exclusions are counted by reason.

    Grain: order-node slice; anchor = the first release event at the node.

    Edge cases (A12): a re-release after a short keeps the first release (min). A release
    event with no ``node_id`` releases every slice of its order. Orders cancelled before the
    release are excluded (``cancelled_before_release``); slices never released are pending
    (see ``unreleased_order_age_hours``). Customer population: test, fraud,
    duplicate, transfer and replacement orders are excluded by reason. Negative durations
    (release before authorization) are excluded (``negative_duration``).
    """
    sl = order_node_slices(ctx)
    x = hours(sl["released_at"], sl["start_at"])
    reason = sl["exclusion"].copy()
    reason = first_reason(reason, sl["cancelled_at"].notna()
                      & (sl["cancelled_at"] < sl["released_at"]), "cancelled_before_release")
    return slice_duration_obs(ctx, sl, x, sl["released_at"], reason)


@kpi("unreleased_order_age_hours", code="A12", fact="order_node_slices",
     name="Unreleased order age (snapshot)", domain="order",
     unit="hours", direction="lower", grain="order-node slice (snapshot)", kind="mean",
     tables=("orders", "order_lines"), dims=("channel", "node", "fulfillment_model"),
     snapshot=True,
     requires=('order_events.event_type=released_to_node',))
def unreleased_order_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t − start_at for each slice not yet released at snapshot time t (hours);
    mean, p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: slices of customer orders waiting at the snapshot: started, not released, shipped or
    cancelled, with something left to ship.

    A slice is waiting at t when ``start_at ≤ t`` and none of its release, first ship
    confirm or the order's cancellation happened by t (a shipped slice counts as released
    even when its release event is missing). Slices with nothing left to ship (every line
    cancelled, by line quantities) are not waiting and are left out. start_at as in
    ``order_release_time_hours``.
    Snapshots: at ``as_of`` with ``freq=None``, else at each period end capped at
    ``as_of``. Customer population: excluded reasons are counted, not measured. Slices whose
    node is not known yet are shown under node ``(unknown)``.
    """
    sl = order_node_slices(ctx)
    sl = sl.loc[~sl["all_cancelled"]]
    end = ts_min(sl["released_at"], sl["first_shipped_at"], sl["cancelled_at"])
    start = sl["start_at"].where(sl["start_at"] >= sl["created_at"], sl["created_at"])
    keep = sl.loc[:, [*record_columns(sl, ctx), "exclusion"]].assign(_start=start)
    open_rows = expand_open(keep, start, end, ctx.snapshot_points())
    age = hours(open_rows["t"], open_rows["_start"])
    return observations(open_rows, ctx, period=open_rows["period"],
                        x=age.where(open_rows["exclusion"].isna()),
                        excluded=open_rows["exclusion"])
