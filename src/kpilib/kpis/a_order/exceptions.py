"""A16 order exception rate and exceptions per 100 orders, on the creation cohort.

A16 notes
---------
Grain: order (sub-unit for node / fulfillment_model: an exception on a line belongs to
that line's sub-unit, an order-level exception to every sub-unit of the order); anchor:
order creation (A16). Only exceptions with ``is_informational = false`` and an order_id.

Edge cases
----------
- ``preliminary`` while an order of the cohort is not terminal (delivered or cancelled)
  and younger than 30 days at as_of.
- Exceptions not tied to an order (inbound, inventory) are left out (they are in E1).
- Population exclusions counted by reason.
- ``by=["exception_type"]``: every type segment has the whole cohort as denominator and
  counts that type only in the numerator (types = those seen among non-informational order
  exceptions); segments are not additive for the rate (an order with two types is in both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.orders import (
    flow_lines,
    join_on,
    line_by,
    per_context,
    subunits,
)
from kpilib.kpis.a_order.cycle_time_cancellation import PRELIM_DAYS
from kpilib.kpis.common import observations
from kpilib.registry import kpi

A16_DIMS = ("channel", "node", "fulfillment_model", "exception_type")


@per_context
def _exception_counts(ctx: Context, keys: list[str], by_type: bool) -> pd.DataFrame:
    """Non-informational order exceptions counted per sub-unit key (and type)."""
    ex = ctx.table("exceptions")
    ex = ex.loc[~ex["is_informational"] & ex["order_id"].notna(),
                ["order_id", "order_line_id", "exception_type"]]
    group = [*keys, "exception_type"] if by_type else keys
    if len(keys) == 1:
        rows = ex
    else:
        lines = flow_lines(ctx)
        ref = pd.concat([lines[[*keys, "order_line_id"]].rename(columns={"order_line_id": "k"}),
                         lines[[*keys, "top_line_id"]].rename(columns={"top_line_id": "k"})]
                        ).drop_duplicates()
        hit = ex.merge(ref, left_on=["order_id", "order_line_id"], right_on=["order_id", "k"])
        whole = ex.loc[~ex["order_line_id"].isin(ref["k"]) | ex["order_line_id"].isna()]
        units = lines[keys].drop_duplicates()
        rows = pd.concat([hit, whole.merge(units, on="order_id")], ignore_index=True)
    return rows.groupby(group, dropna=False).size().rename("n_exc").reset_index()


def _exception_obs(ctx: Context, per_100: bool) -> pd.DataFrame:
    u = subunits(ctx)
    keys = ["order_id", *line_by(ctx)]
    by_type = "exception_type" in ctx.by
    counts = _exception_counts(ctx, keys, by_type)
    if by_type:
        types = sorted(counts["exception_type"].dropna().unique())
        u = u.loc[u.index.repeat(len(types))].reset_index(drop=True)
        u["exception_type"] = np.tile(np.array(types, dtype=object), len(u) // max(len(types), 1))
        keys = [*keys, "exception_type"]
    u = join_on(u, counts, keys)
    n = u["n_exc"].fillna(0.0)
    young = (ctx.as_of - u["created_at"]) < pd.Timedelta(days=PRELIM_DAYS)
    prelim = ~u["order_is_terminal"].astype("boolean").fillna(False).astype(bool) & young
    num = 100.0 * n if per_100 else (n > 0).astype(float)
    return observations(u, ctx, anchor=u["created_at"], num=num, den=1.0, excluded=u["exclusion"],
                        preliminary=prelim)


@kpi("exception_rate", code="A16", fact="orders",
     name="Exception rate", domain="order", unit="fraction",
     direction="lower", grain="order", kind="rate", tables=("orders", "order_lines",
                                                            "exceptions"), dims=A16_DIMS)
def exception_rate(ctx: Context) -> pd.DataFrame:
    """|{o created in P : ∃ exception with is_informational = false}| / |{o created in P}|.

    Anchor: order creation.

    Population: customer orders created in the period; usual order exclusions by reason;
    informational exceptions do not count.

    Grain, population and edge cases: see the A16 notes in the module docstring.
    """
    return _exception_obs(ctx, per_100=False)


@kpi("exceptions_per_100_orders", code="A16", fact="orders",
     name="Exceptions per 100 orders", domain="order",
     unit="exceptions/100 orders", direction="lower", grain="order", kind="ratio",
     tables=("orders", "order_lines", "exceptions"), dims=A16_DIMS)
def exceptions_per_100_orders(ctx: Context) -> pd.DataFrame:
    """100 × count(non-informational exceptions of orders created in P) / |{o created in P}|.

    Anchor: order creation.

    Population: as ``exception_rate``.

    Notes
    -----
    Reading: ``count(exceptions)`` counts the non-informational exceptions only, the same set
    as the exception rate. By exception_type the segment numerators add up to the total.

    Grain, population and edge cases: see the A16 notes in the module docstring.
    """
    return _exception_obs(ctx, per_100=True)
