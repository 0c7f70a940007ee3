"""The ``replenishment_outcomes`` fact: the outcome of each replenishment recommendation.

Outcomes are judged on what was ordered rather than on the decision label alone:
``accepted_as_is`` (ordered within ``replenishment_tolerance`` of the recommended quantity, or
a do-not-order recommendation followed), ``modified`` (ordered outside the tolerance),
``rejected``, or ``expired`` (no decision by ``decision_due_at``); NaN while pending.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.registry import register_param

register_param("replenishment_tolerance", 0.10, "E3: accepted as-is within this share")

TABLES = ("replenishment_recommendations",)


@fact("replenishment_outcomes", grain="recommendation", tables=TABLES)
def replenishment_outcomes(ctx: Context) -> pd.DataFrame:
    """One row per recommendation: outcome (see module doc; NaN while pending), superseded."""
    r = ctx.ds.replenishment_recommendations.rename(columns={"node_id": "node"}).copy()
    tol = float(ctx.param("replenishment_tolerance"))
    superseded = r["decision"].eq("superseded") | r["superseded_by"].notna()
    in_time = r["decided_at"].notna() & (r["decided_at"] <= r["decision_due_at"])
    ordered = r["decision"].isin(["accepted", "modified"]) & (r["qty_ordered"].fillna(0) > 0)
    within = (r["qty_ordered"] - r["qty_recommended"]).abs() <= tol * r["qty_recommended"]
    zero_rec_ok = r["qty_recommended"].eq(0) & ~ordered & r["decision"].notna() \
        & ~r["decision"].isin(["rejected", "expired"])
    past_due = r["decision_due_at"] <= ctx.as_of
    outcome = np.select(
        [in_time & r["decision"].eq("rejected"),
         in_time & ordered & within, in_time & ordered & ~within,
         in_time & zero_rec_ok,
         r["decision"].eq("expired") | past_due],
        ["rejected", "accepted_as_is", "modified", "accepted_as_is", "expired"],
        default="")
    r["outcome"] = np.where(outcome == "", None, outcome)
    r["superseded"] = superseded
    return r.reset_index(drop=True)
