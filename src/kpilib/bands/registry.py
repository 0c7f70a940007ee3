"""KPI directions and ids for banding: the live registry when present, else kpi-spec.md §0.

Direction decides which side of a chart is adverse (§7.2): ``higher`` (low values are bad),
``lower`` (high values are bad), ``target`` (two-sided: both sides adverse) or ``none`` (a
measure, not banded). The fallback table below copies §0 (and its companion ids) so banding and
config validation work before, or without, the KPI engine.
"""

from __future__ import annotations

import pandas as pd

HIGHER, LOWER, TARGET, NONE = "higher", "lower", "target", "none"
DIRECTIONS = (HIGHER, LOWER, TARGET, NONE)

# id -> direction, from kpi-spec.md §0 (+ companions and §5/§6 variants).
FALLBACK_DIRECTIONS: dict[str, str] = {
    # A. order workflow
    "perfect_order_rate": HIGHER, "in_full_rate": HIGHER, "on_time_delivery_rate": HIGHER,
    "documentation_accuracy_rate": HIGHER, "perfect_condition_rate": HIGHER, "otif_rate": HIGHER,
    "order_fill_rate": HIGHER, "line_fill_rate": HIGHER, "unit_fill_rate": HIGHER,
    "backorder_rate": LOWER, "backorder_age_hours": LOWER, "order_cycle_time_hours": LOWER,
    "open_order_age_hours": LOWER, "order_release_time_hours": LOWER,
    "unreleased_order_age_hours": LOWER, "cancellation_rate_pre_ship": LOWER,
    "merchant_cancellation_rate_pre_ship": LOWER, "split_shipment_rate": LOWER,
    "split_node_rate": LOWER, "order_touch_count": LOWER, "touchless_order_rate": HIGHER,
    "exception_rate": LOWER, "exceptions_per_100_orders": LOWER,
    # B. fulfillment
    "on_time_shipment_rate": HIGHER, "order_picking_accuracy": HIGHER,
    "line_picking_accuracy": HIGHER, "lines_picked_per_hour": HIGHER,
    "dock_to_stock_hours": LOWER, "open_receipt_age_hours": LOWER, "dock_to_ship_hours": LOWER,
    "dock_to_first_ship_hours": LOWER, "warehouse_capacity_utilization_avg": TARGET,
    "warehouse_capacity_utilization_peak": TARGET, "cost_per_order": LOWER,
    "cost_per_order_incl_freight": LOWER, "parcel_cost_pct_revenue": LOWER,
    "return_processing_hours": LOWER, "return_refund_hours": LOWER,
    "open_return_age_hours": LOWER,
    # C. inventory
    "inventory_turnover": HIGHER, "days_of_supply": TARGET, "inventory_age_buckets": NONE,
    "average_inventory_age_days": LOWER, "aged_inventory_share_90p": LOWER,
    "sell_through_rate": HIGHER, "stockout_rate": LOWER, "stockout_events": LOWER,
    "mean_stockout_duration_days": LOWER, "inventory_count_accuracy_by_location": HIGHER,
    "available_to_promise": NONE,
    # D. forecast
    "forecast_mean_error": TARGET, "forecast_mpe": TARGET, "forecast_mad": LOWER,
    "forecast_mape": LOWER, "forecast_wape": LOWER, "forecast_accuracy": HIGHER,
    "forecast_bias_ratio": TARGET, "normalized_forecast_bias": TARGET, "tracking_signal": TARGET,
    # E. leading indicators
    "exception_queue_age_hours": LOWER, "allocation_failure_rate": LOWER,
    "allocation_attempt_failure_rate": LOWER, "allocation_failures_per_sku_day": LOWER,
    "replenishment_acceptance_rate": TARGET, "replenishment_accepted_any_rate": HIGHER,
    "wave_backlog": LOWER, "rma_decision_delay_hours": LOWER, "open_rma_age_hours": LOWER,
}

# §7.2: "Two-sided KPIs (capacity utilization, days of supply, acceptance rate) treat both sides
# as adverse" - E3 is "higher, up to a target band" in its block; §7 makes it two-sided.
TWO_SIDED_OVERRIDES = frozenset({
    "warehouse_capacity_utilization_avg", "warehouse_capacity_utilization_peak",
    "days_of_supply", "replenishment_acceptance_rate",
})


_CACHE: list = []  # [registry frame, {id: direction}] once the registry has KPIs


def _registry() -> pd.DataFrame | None:
    """``kpilib.list_kpis()`` once it returns KPIs (cached), else None."""
    if _CACHE:
        return _CACHE[0]
    try:
        import kpilib

        table = kpilib.list_kpis()
    except (ImportError, AttributeError, NotImplementedError):
        return None
    if not isinstance(table, pd.DataFrame) or "id" not in table or table.empty:
        return None
    _CACHE.append(table)
    return table


def registry_available() -> bool:
    """True when ``kpilib.list_kpis()`` works (the KPI engine is installed)."""
    return _registry() is not None


def known_ids() -> frozenset[str]:
    """Registered KPI ids (``kpilib.list_kpis().id``) plus the §0 ids of the spec.

    The union keeps the shipped configuration valid while the engine registers KPIs one
    module at a time, and still rejects ids that are in neither (typos).
    """
    reg = _registry()
    spec = frozenset(FALLBACK_DIRECTIONS)
    return spec if reg is None else spec | frozenset(reg["id"].astype(str))


def direction_of(kpi: str) -> str:
    """Banding direction of one KPI: registry ``direction`` first, then §0; two-sided per §7.2."""
    if kpi in TWO_SIDED_OVERRIDES:
        return TARGET
    reg = _registry()
    if reg is not None and "direction" in reg:
        if len(_CACHE) == 1:
            _CACHE.append(dict(zip(reg["id"].astype(str), reg["direction"].astype(str),
                                   strict=True)))
        hit = _CACHE[1].get(kpi)
        if hit in DIRECTIONS:
            return hit
    return FALLBACK_DIRECTIONS.get(kpi, NONE)
