"""The ``allocation_attempts`` fact: one row per allocation attempt, flagged failed / first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import keys
from kpilib.context import Context, fact
from kpilib.fact_tables.population import order_population


@fact("allocation_attempts", grain="allocation attempt", tables=("orders", "order_lines",
                                                                  "order_events"))
def allocation_attempts(ctx: Context) -> pd.DataFrame:
    """One row per ``allocation_attempt`` event: line, attempted node, time, requested and
    confirmed qty, ``failed`` (qty_confirmed < qty), ``is_first`` (the line's earliest attempt;
    ties by event_id) and ``exclusion`` (``is_test`` only).

    A null ``qty`` falls back to the line's qty_ordered; a null ``qty_confirmed`` counts as
    nothing confirmed (failed). Attempts without an order_line_id are order-level and are
    kept for the attempt rate only (``is_first`` False).
    """
    ev = ctx.table("order_events")
    a = ev.loc[ctx.event_mask("allocation_attempt"),
               ["event_id", "order_id", "order_line_id", "node_id", "event_at", "qty",
                "qty_confirmed"]].rename(columns={"node_id": "node"})
    lines = ctx.ds.order_lines.set_index("order_line_id")
    qty = a["qty"].fillna(a["order_line_id"].map(lines["qty_ordered"]))
    a["failed"] = (a["qty_confirmed"].fillna(0.0) < qty).to_numpy()
    a["sku"] = a["order_line_id"].map(lines["sku"]).to_numpy()
    line_code = pd.factorize(a["order_line_id"])[0]            # -1 = no line
    id_rank = keys.text_rank(a["event_id"])
    when = a["event_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    order = np.lexsort((id_rank, when, line_code))
    first = np.zeros(len(a), dtype=bool)
    sorted_codes = line_code[order]
    starts = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]] & (sorted_codes >= 0)
    first[order[starts]] = True
    a["is_first"] = first
    pop = order_population(ctx).set_index("order_id")
    a["channel"] = a["order_id"].map(pop["channel"]).to_numpy()
    a["exclusion"] = a["order_id"].map(pop["warehouse_exclusion"]).to_numpy()
    return a.reset_index(drop=True)
