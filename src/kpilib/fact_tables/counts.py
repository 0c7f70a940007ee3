"""The ``count_rows`` fact: one row per SKU row of an inventory count, with its variance.

A location count event is keyed by node, location and the UTC day of ``counted_at``; that
composite key is ``count_event`` (``node|location|YYYY-MM-DD``), which is not an id of the
source (``inventory_counts`` has ``count_id`` per SKU row).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context, fact
from kpilib.registry import register_param

register_param("count_tol_units", 0.0, "C6: |counted - system| allowed per SKU row (units)")


@fact("count_rows", grain="SKU row of a location count", tables=("inventory_counts",))
def count_rows(ctx: Context) -> pd.DataFrame:
    """One row per counted SKU row: ``count_event`` key (node, location, count day), variance,
    is_recount, count_program, and whether it is within ``count_tol_units``."""
    c = ctx.ds.inventory_counts
    out = c.rename(columns={"node_id": "node"}).copy()
    out["count_day"] = out["counted_at"].dt.floor("D")
    out["count_event"] = (out["node"].astype(str) + "|" + out["location_id"].astype(str) + "|"
                          + out["count_day"].dt.strftime("%Y-%m-%d"))
    out["variance"] = out["qty_counted"] - out["qty_system_at_count"]
    out["row_ok"] = out["variance"].abs() <= float(ctx.param("count_tol_units"))
    return out.reset_index(drop=True)
