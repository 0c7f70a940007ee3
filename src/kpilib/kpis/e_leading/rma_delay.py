"""E5 return authorization (RMA) decision delay, auto-decision share and open RMA age.
Only test orders leave the population.

E5 notes
--------
Grain: RMA line; anchor: ``rma_decided_at`` (E5). Undecided requests are pending (see
``open_rma_age_hours``).

Edge cases
----------
- Requests withdrawn by the customer are excluded (``withdrawn``), test orders
  (``is_test``); a decision before the request is ``negative_duration``.
- Distinct from B9, which starts at physical receipt.
- Segments: channel, return_reason, product_class / supplier / sku of the returned SKU,
  node / fulfillment_model of the line (node that shipped it, else assigned; reading
  chosen, the receiving node is rarely known at decision time).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.orders import hours, per_context
from kpilib.fact_tables.timeline import open_positions
from kpilib.kpis.common import SKU_DIMS, observations
from kpilib.registry import kpi

E5_DIMS = ("channel", "product_class", "return_reason", "node", "supplier", "sku",
           "fulfillment_model")


AUTO_DECISION = pd.Timedelta(minutes=1)


@per_context
def _rma(ctx: Context) -> pd.DataFrame:
    r = ctx.fact("rma_requests")
    line_want = [d for d in ctx.by if d in ("node", "fulfillment_model")]
    if line_want:
        dims = segments.line_dims(ctx)[["order_line_id", *line_want]]
        r = r.merge(dims, on="order_line_id", how="left")
    sku_want = [d for d in ctx.by if d in SKU_DIMS and d != "sku"]
    if sku_want:
        r = r.merge(segments.sku_dims(ctx)[["sku", *sku_want]], on="sku", how="left")
    return r


def _decided(ctx: Context) -> pd.DataFrame:
    r = _rma(ctx)
    r = r.loc[r["rma_decided_at"].notna()].reset_index(drop=True)
    excluded = r["exclusion"].where(r["exclusion"].notna() | (r["delay_hours"] >= 0),
                                    "negative_duration")
    return r.assign(excluded=excluded)


@kpi("rma_decision_delay_hours", code="E5", fact="rma_requests",
     name="RMA decision delay", domain="leading", unit="hours",
     direction="lower", grain="RMA line", kind="mean", tables=("returns",), dims=E5_DIMS,
     requires=('returns.rma_decided_at',))
def rma_decision_delay_hours(ctx: Context) -> pd.DataFrame:
    """delay = rma_decided_at - rma_requested_at (hours) per RMA line decided in P; mean, p50, p90,
    n.

    Anchor: the decision time.

    Population: decided RMA lines; withdrawn requests and test orders excluded by reason.

    Grain, population and edge cases: see the E5 notes in the module docstring.
    """
    r = _decided(ctx)
    return observations(r, ctx, anchor=r["rma_decided_at"], x=r["delay_hours"],
                        excluded=r["excluded"])


@kpi("auto_decision_share", code="E5", fact="rma_requests",
     name="RMA auto-decision share", domain="leading",
     unit="fraction", direction="none", grain="RMA line", kind="rate", tables=("returns",),
     dims=E5_DIMS,
     requires=('returns.rma_decided_at',))
def auto_decision_share(ctx: Context) -> pd.DataFrame:
    """|{RMA lines decided in P within 1 minute of the request}| / |{RMA lines decided in P}|.

    Anchor: the decision time.

    Population: as ``rma_decision_delay_hours``.

    Notes
    -----
    "Within 1 minute" is read as delay <= 60 seconds.

    Grain, population and edge cases: see the E5 notes in the module docstring.
    """
    r = _decided(ctx)
    auto = (r["rma_decided_at"] - r["rma_requested_at"]) <= AUTO_DECISION
    return observations(r, ctx, anchor=r["rma_decided_at"], num=auto.astype(float), den=1.0,
                        excluded=r["excluded"])


@kpi("open_rma_age_hours", code="E5", fact="rma_requests",
     name="Open RMA age", domain="leading", unit="hours",
     direction="lower", grain="RMA line (snapshot)", kind="mean", tables=("returns",),
     dims=E5_DIMS, snapshot=True)
def open_rma_age_hours(ctx: Context) -> pd.DataFrame:
    """age = t - rma_requested_at (hours) over RMA lines requested by t and undecided at t; mean,
    p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: RMA lines requested and undecided at the snapshot; withdrawn requests and test
    orders excluded by reason.

    Snapshot: t = as_of with ``freq=None``, else each period end capped at as_of.

    Edge cases
    ----------
    - Withdrawn requests are excluded at every snapshot (``withdrawn``; reading chosen: E5
      drops them from the population, so they never count as waiting), test orders
      ``is_test``; both are counted where they were open.
    - Segments as ``rma_decision_delay_hours``.
    """
    r = _rma(ctx)
    points = ctx.snapshot_points()
    ent, pt = open_positions(points, r["rma_requested_at"], r["rma_decided_at"])
    rows = r.iloc[ent].reset_index(drop=True)
    t = points["t"].iloc[pt].reset_index(drop=True)
    return observations(rows, ctx, period=points["period"].iloc[pt],
                        x=hours(t - rows["rma_requested_at"]), excluded=rows["exclusion"])
