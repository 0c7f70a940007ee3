"""The ``exception_queue`` fact: one row per actionable exception, with its exclusion reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables.orders import hours
from kpilib.fact_tables.population import order_population
from kpilib.registry import register_param

register_param("min_age_minutes", 5.0, "E1: exceptions resolved within this many minutes of "
               "opening (auto-resolved) are excluded; 0 keeps them")


@fact("exception_queue", grain="exception", tables=("orders", "order_lines", "exceptions"))
def exception_queue(ctx: Context) -> pd.DataFrame:
    """One row per actionable exception: opened/resolved, channel, node, severity, exclusion.

    exclusion: ``is_test`` (exception of a test order: leading indicators drop only
    test orders) or ``auto_resolved`` (resolved within ``min_age_minutes`` of opening).
    Informational exceptions are not in the queue at all.
    """
    ex = ctx.table("exceptions")
    ex = ex.loc[~ex["is_informational"], ["exception_id", "order_id", "node_id",
                                          "exception_type", "severity", "opened_at",
                                          "resolved_at"]].reset_index(drop=True)
    pop = order_population(ctx).set_index("order_id")
    out = ex.rename(columns={"node_id": "node"})
    out["channel"] = out["order_id"].map(pop["channel"]).array
    test = out["order_id"].map(pop["warehouse_exclusion"]).eq("is_test")
    quick = (hours(out["resolved_at"] - out["opened_at"]) * 60.0
             < float(ctx.param("min_age_minutes")))
    out["exclusion"] = np.where(test, "is_test", np.where(quick, "auto_resolved", None))
    return out
