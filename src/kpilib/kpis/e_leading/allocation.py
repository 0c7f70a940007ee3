"""E2 allocation failures: first-attempt failure rate, attempt failure rate and failures per
SKU-node-day. Leading indicators count the work that happened: only test orders leave the
population.

E2 notes
--------
Edge cases
----------
- Lines held for payment/fraud have no attempt and are not in the population.
- A partial allocation is a failure even if the policy ships partially; a later
  successful re-sourcing to another node does not undo a failed first attempt.
- Test orders are excluded (``is_test``); fraud/duplicate/transfer orders stay in
  (leading indicators count the work that happened).
- Segments: node = the attempted node (event node_id), fulfillment_model of that node;
  channel of the order; sku, supplier, product_class, abc/xyz class of the line's SKU.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.kpis.common import SKU_DIMS, observations
from kpilib.registry import kpi

E2_DIMS = ("node", "channel", "supplier", "product_class", "sku", "abc_class", "xyz_class",
           "fulfillment_model")


# --- E2 --------------------------------------------------------------------------------------


def _attempt_obs(ctx: Context, first_only: bool) -> pd.DataFrame:
    a = ctx.fact("allocation_attempts")
    if first_only:
        a = a.loc[a["is_first"]]
    a = _attempt_obs_frame(ctx, a)
    return observations(a, ctx, anchor=a["event_at"], num=a["failed"].astype(float), den=1.0,
                        excluded=a["exclusion"])


def _attempt_obs_frame(ctx: Context, a: pd.DataFrame) -> pd.DataFrame:
    """Attempts plus the requested SKU and node attributes."""
    sku_want = [d for d in ctx.by if d in SKU_DIMS and d != "sku"]
    if sku_want:
        a = a.merge(segments.sku_dims(ctx)[["sku", *sku_want]], on="sku", how="left")
    if "fulfillment_model" in ctx.by:
        model = segments.node_dims(ctx).set_index("node")["fulfillment_model"]
        a = a.assign(fulfillment_model=a["node"].map(model).to_numpy())
    return a


@kpi("allocation_failure_rate", code="E2", fact="allocation_attempts",
     name="Allocation failure rate", domain="leading",
     unit="fraction", direction="lower", grain="order line (first attempt)", kind="rate",
     tables=("order_events",), dims=E2_DIMS,
     requires=('order_events.event_type=allocation_attempt',))
def allocation_failure_rate(ctx: Context) -> pd.DataFrame:
    """failed first attempts / order lines with a first allocation attempt in P; failed =
    qty_confirmed < qty.

    Anchor: the line's first allocation attempt.

    Population: order lines with an allocation attempt; only test orders are excluded.

    Grain: order line; first attempt = earliest ``allocation_attempt`` event of the line;
    anchor: first attempt time (E2).

    Grain, population and edge cases: see the E2 notes in the module docstring.
    """
    return _attempt_obs(ctx, first_only=True)


@kpi("allocation_attempt_failure_rate", code="E2", fact="allocation_attempts",
     name="Allocation attempt failure rate",
     domain="leading", unit="fraction", direction="lower", grain="allocation attempt",
     kind="rate", tables=("order_events",), dims=E2_DIMS,
     requires=('order_events.event_type=allocation_attempt',))
def allocation_attempt_failure_rate(ctx: Context) -> pd.DataFrame:
    """failed allocation attempts / all allocation attempts in P (retries included).

    Anchor: the attempt.

    Population: every allocation attempt, retries included; only test orders are excluded.

    Grain: allocation attempt; anchor: attempt time (E2 frequency view).

    Grain, population and edge cases: see the E2 notes in the module docstring.
    """
    return _attempt_obs(ctx, first_only=False)


@kpi("allocation_failures_per_sku_day", code="E2", fact="allocation_attempts",
     name="Allocation failures per SKU-node-day",
     domain="leading", unit="failures/SKU-node-day", direction="lower",
     grain="SKU-node-day", kind="ratio", tables=("order_events",),
     dims=("node", "sku", "supplier", "product_class", "abc_class", "xyz_class",
           "fulfillment_model"),
     requires=('order_events.event_type=allocation_attempt',))
def allocation_failures_per_sku_day(ctx: Context) -> pd.DataFrame:
    """Σ failed allocation attempts / |{SKU-node-days with at least one attempt}| in P.

    Anchor: the attempt.

    Population: SKU-node-days with at least one allocation attempt.

    Grain: SKU x attempted node x calendar day (in the reporting time zone ``tz``); every
    attempt row carries its failure (numerator) and the first attempt of each cell carries
    the cell (denominator), so any roll-up is Σ failures / Σ active cells (E2 frequency view
    per stock cell). Anchor: attempt time.

    Notes
    -----
    Reading: the spec's "count of failed attempts per SKU-node-day" is a table; as a KPI
    value it is the mean over SKU-node-days that saw an attempt. ``by=["channel"]`` is not
    offered (a cell mixes channels).

    Grain, population and edge cases: see the E2 notes in the module docstring.
    """
    a = ctx.fact("allocation_attempts")
    day = a["event_at"].dt.tz_convert(ctx.tz).dt.tz_localize(None).dt.normalize()
    cell = pd.DataFrame({"sku": a["sku"].to_numpy(), "node": a["node"].to_numpy(),
                         "day": day.to_numpy(), "out": a["exclusion"].notna().to_numpy()})
    first = ~cell.duplicated().to_numpy() & ~cell["out"].to_numpy()
    obs = _attempt_obs_frame(ctx, a.assign(_first=first))
    return observations(obs, ctx, anchor=obs["event_at"], num=obs["failed"].astype(float),
                        den=obs["_first"].astype(float), n=obs["_first"].astype(int),
                        excluded=obs["exclusion"])


# --- E5 --------------------------------------------------------------------------------------


