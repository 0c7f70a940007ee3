"""The ``rma_requests`` fact: one row per return line, with its decision delay and exclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables.orders import hours
from kpilib.fact_tables.population import order_population


@fact("rma_requests", grain="RMA line", tables=("orders", "order_lines", "returns"))
def rma_requests(ctx: Context) -> pd.DataFrame:
    """One row per return line: requested/decided times, ``delay_hours``, ``exclusion``.

    exclusion: ``is_test`` (test order) or ``withdrawn`` (``rma_decision =
    'withdrawn'``, E5). Segments: channel of the order, return_reason, and the line's
    node / SKU attributes (the node that shipped the line, else its assigned node).
    """
    r = ctx.table("returns")
    out = r[["return_line_id", "order_id", "order_line_id", "sku", "return_reason",
             "rma_requested_at", "rma_decided_at", "rma_decision"]].reset_index(drop=True)
    pop = order_population(ctx).set_index("order_id")
    out["channel"] = out["order_id"].map(pop["channel"]).to_numpy()
    test = out["order_id"].map(pop["warehouse_exclusion"]).eq("is_test").to_numpy()
    withdrawn = out["rma_decision"].eq("withdrawn").to_numpy()
    out["exclusion"] = np.where(test, "is_test", np.where(withdrawn, "withdrawn", None))
    out["delay_hours"] = hours(out["rma_decided_at"] - out["rma_requested_at"])
    return out
