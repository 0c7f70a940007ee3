"""KPI ids and banding directions, read from the KPI registry (:data:`kpilib.registry.KPIS`).

Direction decides which side of a chart is adverse: ``higher`` (low values are bad), ``lower``
(high values are bad), ``target`` (two-sided: both sides adverse) or ``none`` (a measure, not
banded).
"""

from __future__ import annotations

from kpilib import registry

DIRECTIONS = registry.DIRECTIONS
HIGHER, LOWER, TARGET, NONE = DIRECTIONS


def known_ids() -> frozenset[str]:
    """Ids of the registered KPIs."""
    return frozenset(registry.load_all())


def direction_of(kpi: str) -> str:
    """Banding direction of one KPI (its registry ``direction``; ``none`` for an unknown id)."""
    kdef = registry.load_all().get(kpi)
    return kdef.direction if kdef is not None else NONE


def kpi_name(kpi: str) -> str:
    """Display name: the registry ``name``, else the id in words."""
    kdef = registry.load_all().get(kpi)
    return kdef.name if kdef is not None else kpi.replace("_", " ").capitalize()
