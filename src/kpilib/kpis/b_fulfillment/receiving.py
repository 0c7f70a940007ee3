"""B4 dock-to-stock cycle time of receipt lines, and the age of receipt lines not put away."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.timeline import expand_open
from kpilib.fact_tables.times import hours
from kpilib.kpis.common import observations, record_columns
from kpilib.registry import kpi

RECEIPT_DIMS = ("node", "fulfillment_model", "supplier", "product_class", "sku")


@kpi("dock_to_stock_hours", code="B4", fact="receipt_lines",
     name="Dock-to-stock cycle time", domain="fulfillment",
     unit="hours", direction="lower", grain="receipt line", kind="mean", tables=("receipts",),
     dims=RECEIPT_DIMS,
     requires=('receipts.putaway_completed_at',))
def dock_to_stock_hours(ctx: Context) -> pd.DataFrame:
    """dock_to_stock = putaway_completed_at − dock_arrival_at (hours; fallback received_at);
    mean, p50, p90, n over receipt lines put away in P.

    Anchor: putaway completion.

    Population: receipt lines put away; cross-dock lines and negative durations excluded by reason.

    Grain: receipt line; anchor = ``putaway_completed_at`` (the last unit put away, so a
    partial putaway is measured to its end). Cross-dock lines are excluded (``crossdock``),
    negative durations too (``negative_duration``). Lines with no ``dock_arrival_at`` are
    measured from ``received_at`` and kept in the value; they are *counted* under
    ``fallback_received_at`` in the ``excluded`` JSON, which is the result's only per-reason
    counter (so that key is a count of fallbacks, not an exclusion). Lines on hold (QA or
    supplier discrepancy) stay in the gross figure. Lines not yet put away: see
    ``open_receipt_age_hours``. Supplier = the receipt's supplier, else the product's.
    """
    rl = ctx.fact("receipt_lines")
    obs = observations(rl, ctx, rows=rl.index, anchor=rl["putaway_completed_at"],
                       x=rl["dock_to_stock_hours"].where(rl["exclusion"].isna()),
                       excluded=rl["exclusion"])
    fallback = obs["excluded"].isna().to_numpy() & rl["fallback_received_at"].to_numpy()
    marks = obs.loc[fallback].assign(
        x=np.nan, excluded="fallback_received_at")
    return pd.concat([obs, marks], ignore_index=True)


@kpi("open_receipt_age_hours", code="B4", fact="receipt_lines",
     name="Open receipt age (snapshot)", domain="fulfillment",
     unit="hours", direction="lower", grain="receipt line (snapshot)", kind="mean",
     tables=("receipts",), dims=RECEIPT_DIMS, snapshot=True)
def open_receipt_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t − dock_arrival_at (fallback received_at) of receipt lines received by t and
    not put away by t (hours); mean, p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: receipt lines received and not yet put away at the snapshot (cross-dock lines left
    out).

    Snapshot at ``as_of`` (``freq=None``) or each period end capped at ``as_of``.
    Cross-dock lines are not in the population. A line is open from its receipt scan (the
    record exists from then, asof.py) until its putaway.
    """
    rl = ctx.fact("receipt_lines")
    rl = rl.loc[~rl["is_crossdock"]]
    base = rl[[*record_columns(rl, ctx), "start_at"]]
    rows = expand_open(base, rl["received_at"], rl["putaway_completed_at"],
                       ctx.snapshot_points())
    return observations(rows, ctx, period=rows["period"],
                        x=hours(rows["t"], rows["start_at"]))
