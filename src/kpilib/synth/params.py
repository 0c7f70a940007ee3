"""Scenario parameters of the synthetic ERP generator.

Every knob a scenario turns lives in one frozen dataclass, so a scenario is a list of
overrides of the ``omnichannel`` default and ``truth.json`` can record the parameters used.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

CLASSES = ("apparel", "beauty", "home", "electronics", "bundles")


@dataclass(frozen=True)
class Scenario:
    """Knobs of one scenario (rates are per order or per line unless stated)."""

    name: str
    description: str
    orders_per_year: float = 50_000.0
    n_skus: int = 500
    class_mix: dict[str, float] = field(
        default_factory=lambda: {
            "apparel": 0.30, "beauty": 0.25, "home": 0.22, "electronics": 0.15, "bundles": 0.08,
        }
    )
    channel_mix: dict[str, float] = field(
        default_factory=lambda: {
            "web": 0.58, "marketplace_a": 0.25, "marketplace_b": 0.13, "b2b": 0.04,
        }
    )
    # multiplicative forecast bias per product class (forecast = bias * planned demand)
    forecast_bias: dict[str, float] = field(
        default_factory=lambda: {
            "apparel": 1.20, "beauty": 0.85, "home": 1.00, "electronics": 1.10, "bundles": 1.35,
        }
    )
    marketplace_batch_hours: float = 4.0  # marketplace orders are allocated in batches
    marketplace_fast_mover_boost: float = 2.5  # marketplaces over-index on fast movers
    marketplace_reserve_days: float = 2.0  # own-site stock marketplace batches may not take
    fast_mover_class: str | None = None  # restrict fast movers to one class
    safety_days: float = 6.0
    review_days: int = 7
    # beauty_stockouts
    spike_days_per_sku: int = 0  # unplanned marketplace demand spikes per fast mover
    spike_multiplier: float = 0.0
    spike_length_days: int = 3
    slow_bundles: bool = False
    # apparel_surge
    surge_campaigns: int = 0
    surge_multiplier: float = 1.0
    surge_length_days: int = 7
    dc2_region_share: float = 0.40


OMNICHANNEL = Scenario(
    name="omnichannel",
    description=(
        "Own site (web), two marketplaces and B2B wholesale over 3 nodes. Marketplace orders enter "
        "a separate system and are allocated in batches every few hours, so their release is "
        "slower and their allocation failures cluster at batch times."
    ),
)

BEAUTY_STOCKOUTS = replace(
    OMNICHANNEL,
    name="beauty_stockouts",
    description=(
        "Beauty-heavy catalogue. High-velocity SKUs stock out repeatedly because marketplace "
        "demand spikes never reach replenishment, while slow promotional bundles age in the "
        "secondary warehouse DC-2: stockouts and excess at the same time."
    ),
    class_mix={"apparel": 0.10, "beauty": 0.55, "home": 0.12, "electronics": 0.08, "bundles": 0.15},
    spike_days_per_sku=14,
    spike_multiplier=8.0,
    marketplace_reserve_days=0.0,
    fast_mover_class="beauty",
    spike_length_days=5,
    slow_bundles=True,
)

APPAREL_SURGE = replace(
    OMNICHANNEL,
    name="apparel_surge",
    description=(
        "Apparel-heavy catalogue. Marketing campaigns create order surges; campaign stock was "
        "positioned in the secondary node, so the primary node cannot fill: partially allocated "
        "orders, split shipments, expedited parcels and a higher cost per order in surge weeks."
    ),
    class_mix={"apparel": 0.60, "beauty": 0.10, "home": 0.12, "electronics": 0.10, "bundles": 0.08},
    surge_campaigns=3,
    surge_multiplier=3.5,
    surge_length_days=7,
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (OMNICHANNEL, BEAUTY_STOCKOUTS, APPAREL_SURGE)
}


def get_scenario(name: str) -> Scenario:
    """Return the scenario called ``name``; ``ParameterError`` lists the valid names."""
    from kpilib.errors import ParameterError

    if name not in SCENARIOS:
        raise ParameterError(f"unknown scenario {name!r}; choose one of {sorted(SCENARIOS)}")
    return SCENARIOS[name]
