"""The ``inventory_layers`` fact: FIFO layers on hand at the evaluation time, with their age.

Layers come from :mod:`kpilib.fact_tables.fifo`; ``age_bucket`` uses the inclusive upper
bounds of ``aging_buckets`` (default 30, 60, 90 days).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables.fifo import age_layers, fifo_layers
from kpilib.registry import register_param

register_param("aging_partition", "node", "C3 partition: 'node' (node-wise) or 'company'")

TABLES = ("inventory_movements",)


@fact("inventory_layers", grain="FIFO layer", tables=TABLES)
def inventory_layers(ctx: Context) -> pd.DataFrame:
    """FIFO layers on hand at ``as_of``: sku, node_id, layer_date, qty, unit_cost, value,
    age_days, age_bucket (module rules)."""
    layers = fifo_layers(ctx.ds.inventory_movements, ctx.as_of, ctx.param("aging_partition"))
    return age_layers(layers, ctx.as_of, ctx.param("aging_buckets"))
