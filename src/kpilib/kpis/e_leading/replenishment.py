"""E3 replenishment recommendation acceptance.

Outcome of each recommendation in the cohort (``decision_due_at`` in the period, superseded
ones excluded), judged on what was ordered rather than on the label alone:

- ``accepted_as_is``: an order was placed with ``|qty_ordered − qty_recommended| ≤ tol ×
  qty_recommended`` (``replenishment_tolerance``, default 10%); a do-not-order
  recommendation (``qty_recommended = 0``) is accepted when a decision other than
  ``rejected`` was taken and nothing was ordered;
- ``modified``: an order was placed outside the tolerance;
- ``rejected``: decision ``rejected``;
- ``expired``: no decision by ``decision_due_at`` (decision ``expired``, no decision at all
  once the due time has passed, or a decision taken only after the due time).

Reading chosen: "ordered" means ``qty_ordered > 0`` with a decision of ``accepted`` or
``modified``; a label that disagrees with the quantities (``accepted`` but 30% off) follows
the quantities, as the spec defines the classes by tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.registry import kpi

TABLES = ("replenishment_recommendations",)
DIMS = ("node", "sku", "supplier", "product_class", "abc_class", "xyz_class", "outcome")
OUTCOMES = ("accepted_as_is", "modified", "rejected", "expired")


def _cohort(ctx: Context) -> pd.DataFrame:
    r = ctx.fact("replenishment_outcomes")
    r = r.assign(anchor=r["decision_due_at"].where(r["outcome"].notna()),
                 excluded=np.where(r["superseded"], "superseded", None))
    if "supplier" in ctx.by:
        r = r.assign(supplier=r["supplier_id"])
    return segments.attach(r, segments.sku_dims(ctx), "sku", ctx)


@kpi("replenishment_acceptance_rate", code="E3", fact="replenishment_outcomes",
     name="Replenishment recommendation acceptance",
     domain="leading", unit="fraction", direction="target", grain="recommendation",
     kind="rate", tables=TABLES, dims=DIMS, params=("replenishment_tolerance",))
def replenishment_acceptance_rate(ctx: Context) -> pd.DataFrame:
    """Acceptance = accepted_as_is / cohort; cohort = recommendations with decision_due_at in
    the period, superseded ones excluded (counted as ``superseded``). Cut by ``outcome`` for
    the four-way breakdown. Pending (undecided, not yet due) recommendations are in no period.
    Two-sided: a rate stuck at 100% with rising stockouts suggests rubber-stamping.

    Anchor: the decision due time.

    Population: recommendations due in the period; superseded ones excluded (``superseded``);
    undecided ones not yet due are pending.
    """
    r = _cohort(ctx)
    return r.assign(num=r["outcome"].eq("accepted_as_is").astype(float), den=1.0)


@kpi("replenishment_accepted_any_rate", code="E3", fact="replenishment_outcomes",
     name="Replenishment recommendations acted on",
     domain="leading", unit="fraction", direction="target", grain="recommendation",
     kind="rate", tables=TABLES, dims=DIMS, params=("replenishment_tolerance",))
def replenishment_accepted_any_rate(ctx: Context) -> pd.DataFrame:
    """Accepted any = (accepted_as_is + modified) / cohort (same cohort as the acceptance).

    Anchor: as ``replenishment_acceptance_rate``.

    Population: as ``replenishment_acceptance_rate``.
    """
    r = _cohort(ctx)
    return r.assign(num=r["outcome"].isin(["accepted_as_is", "modified"]).astype(float),
                    den=1.0)
