"""B6 warehouse capacity utilization per node-day: average and peak over the period.

B6 notes
--------
Grain: node-day; anchor = ``capacity_date`` (local midnight in the reporting time zone).
Roll-ups over several nodes use ``Σoccupied / Σusable`` per day (capacity changes are
handled by the daily denominator). Days with ``usable_capacity = 0`` are excluded
(``usable_capacity_zero``). Units are never mixed: when one segment holds nodes in
different ``capacity_unit`` (positions and m³), each unit is rolled up on its own and the
day's value is the mean of the per-unit ratios. ``n`` counts node-days.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables.warehouse import capacity_observations
from kpilib.registry import kpi

CAP_DIMS = ("node", "fulfillment_model")


@kpi("warehouse_capacity_utilization_avg", code="B6", fact=None,
     name="Warehouse capacity utilization (average)",
     domain="fulfillment", unit="fraction", direction="target", grain="node-day",
     kind="custom", tables=("node_capacity_daily",), dims=CAP_DIMS)
def warehouse_capacity_utilization_avg(ctx: Context) -> pd.DataFrame:
    """avg = mean over the days of P of u_d, u_d = Σoccupied / Σusable_capacity that day;
    numerator = Σ_d u_d, denominator = number of days.

    Anchor: the capacity date.

    Population: node-days with usable capacity (days with zero capacity excluded).

    Grain, population and edge cases: see the B6 notes in the module docstring.
    """
    return capacity_observations(ctx, peak=False)


@kpi("warehouse_capacity_utilization_peak", code="B6", fact=None,
     name="Warehouse capacity utilization (peak)",
     domain="fulfillment", unit="fraction", direction="target", grain="node-day",
     kind="custom", tables=("node_capacity_daily",), dims=CAP_DIMS)
def warehouse_capacity_utilization_peak(ctx: Context) -> pd.DataFrame:
    """peak = max over the days of P of u_d, u_d = Σoccupied / Σusable_capacity that day;
    numerator / denominator = Σoccupied / Σusable of the peak day (latest day on ties).

    Anchor: the capacity date.

    Population: as ``warehouse_capacity_utilization_avg``.

    Grain, population and edge cases: see the B6 notes in the module docstring.
    """
    return capacity_observations(ctx, peak=True)


