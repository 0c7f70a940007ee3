"""Band settings: the keys of a bands file, their defaults, and the resolved per-KPI settings.

Resolution order for one KPI: built-in ``DEFAULTS`` < file ``defaults`` < the ``families`` entry
that lists the KPI < its ``kpis`` entry. Files are loaded by :mod:`kpilib.bands.config` and
checked by :mod:`kpilib.bands.validate` (stressed/critical thresholds in the order of the KPI's
direction: higher-is-better needs ``critical_at <= stressed_at``; lower mirrors; two-sided
needs ``lower.critical <= lower.stressed <= upper.stressed <= upper.critical``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from kpilib.bands import registry

if TYPE_CHECKING:
    from kpilib.bands.calendar import Window

CHARTS = ("xmr", "pchart", "none")
MR_RULES = ("adverse_move", "adverse_side", "off")
METRICS = ("value", "p50", "p90")
DENOMINATOR_COLUMNS = ("denominator", "n")
TOP_KEYS = frozenset({"version", "defaults", "families", "kpis", "calendar"})
SETTING_KEYS = frozenset({
    "chart", "metric", "baseline_k", "baseline_min", "baseline_start", "baseline_end",
    "run_length", "min_denominator", "denominator_column", "hysteresis", "alert_on_preliminary",
    "bounds", "direction", "fixed", "mr_rule",
})
KPI_KEYS = SETTING_KEYS | {"segments"}
FAMILY_KEYS = SETTING_KEYS | {"kpis", "description"}
FIXED_KEYS = frozenset({"stressed_at", "critical_at", "lower", "upper", "metric"})
SIDE_KEYS = frozenset({"stressed_at", "critical_at"})

DEFAULTS: dict[str, Any] = {
    "chart": "xmr", "metric": None, "baseline_k": 20, "baseline_min": 12,
    "baseline_start": None, "baseline_end": None, "run_length": 8, "min_denominator": 30,
    "denominator_column": "denominator", "hysteresis": 2, "alert_on_preliminary": False,
    "bounds": [None, None], "direction": None, "fixed": None, "mr_rule": "adverse_move",
}


@dataclass(frozen=True)
class FixedTargets:
    """Fixed thresholds. ``low_*`` guard the lower side, ``high_*`` the upper side."""

    low_stressed: float | None = None
    low_critical: float | None = None
    high_stressed: float | None = None
    high_critical: float | None = None
    metric: str | None = None


@dataclass(frozen=True)
class KpiBandSettings:
    """Resolved banding settings of one KPI."""

    kpi: str
    direction: str
    chart: str
    metric: str
    baseline_k: int
    baseline_min: int
    baseline_start: pd.Timestamp | None
    baseline_end: pd.Timestamp | None
    run_length: int
    min_denominator: float
    denominator_column: str
    hysteresis: int
    alert_on_preliminary: bool
    bounds: tuple[float, float]
    fixed: FixedTargets | None
    mr_rule: str = "adverse_move"


@dataclass(frozen=True)
class BandsConfig:
    """A validated bands configuration; ``settings_for(kpi)`` resolves one KPI.

    ``calendar``: the declared windows (peak seasons, disruptions; ``kpilib.bands.calendar``).
    """

    path: str
    defaults: Mapping[str, Any]
    families: Mapping[str, Mapping[str, Any]]
    kpis: Mapping[str, Mapping[str, Any]]
    calendar: tuple[Window, ...] = ()

    def windows_for(self, kpi: str) -> tuple[Window, ...]:
        """The ``calendar`` windows that apply to ``kpi`` (all, or those listing it)."""
        return tuple(w for w in self.calendar if w.applies_to(kpi))

    def has_segments(self, kpi: str) -> bool:
        """True when ``kpis.<kpi>.segments`` has entries (settings then vary by segment)."""
        return bool(self.kpis.get(kpi, {}).get("segments"))

    def family_of(self, kpi: str) -> str | None:
        """Name of the family whose ``kpis`` list names ``kpi`` (None if none)."""
        return next((n for n, f in self.families.items() if kpi in f.get("kpis", ())), None)

    def settings_for(self, kpi: str, unit: str | None = None,
                     segment: Mapping[str, str] | None = None) -> KpiBandSettings:
        """Merge defaults, family, KPI and matching segment entries; bounds from ``unit``.

        A ``segments`` key such as ``"abc_class=A"`` matches every series whose segment has
        that value (``"abc_class=A, node=DC-1"`` too); more specific keys are merged last.
        """
        merged: dict[str, Any] = {**DEFAULTS, **self.defaults}
        fam = self.family_of(kpi)
        if fam is not None:
            merged.update({k: v for k, v in self.families[fam].items() if k in SETTING_KEYS})
        entry = self.kpis.get(kpi, {})
        merged.update({k: v for k, v in entry.items() if k != "segments"})
        seg = dict(segment or {})
        matches = [(len(pairs), key) for key, pairs in
                   ((k, parse_segment(k)) for k in entry.get("segments", {}))
                   if all(seg.get(d) == v for d, v in pairs.items())]
        for _, key in sorted(matches):
            merged.update(entry["segments"][key])
        direction = _direction(merged["direction"]) or registry.direction_of(kpi)
        bounds = merged["bounds"]
        if fam is None and self.kpis.get(kpi, {}).get("bounds") is None:
            bounds = _bounds_from_unit(unit)
        lo, hi = (-math.inf if bounds[0] is None else float(bounds[0]),
                  math.inf if bounds[1] is None else float(bounds[1]))
        return KpiBandSettings(
            kpi=kpi, direction=direction, chart=merged["chart"],
            metric=merged["metric"] or ("p90" if unit in ("hours", "days") else "value"),
            baseline_k=int(merged["baseline_k"]), baseline_min=int(merged["baseline_min"]),
            baseline_start=_ts(merged["baseline_start"]), baseline_end=_ts(merged["baseline_end"]),
            run_length=int(merged["run_length"]),
            min_denominator=float(merged["min_denominator"]),
            denominator_column=merged["denominator_column"],
            hysteresis=int(merged["hysteresis"]),
            alert_on_preliminary=bool(merged["alert_on_preliminary"]),
            bounds=(lo, hi), fixed=_fixed(merged["fixed"], direction),
            mr_rule=merged["mr_rule"],
        )

    def with_overrides(self, kpi: str, **settings: Any) -> BandsConfig:
        """A copy with ``settings`` merged into ``kpis[kpi]`` (not re-validated)."""
        kpis = {k: dict(v) for k, v in self.kpis.items()}
        kpis.setdefault(kpi, {}).update(settings)
        return replace(self, kpis=kpis)


def parse_segment(key: str) -> dict[str, str]:
    """``"abc_class=A, node=DC-1"`` -> ``{"abc_class": "A", "node": "DC-1"}``."""
    pairs = {}
    for part in str(key).split(","):
        dim, sep, value = part.strip().partition("=")
        if not sep or not dim.strip() or not value.strip():
            raise ValueError(f"segment {key!r}: use 'dim=value' pairs separated by ','")
        pairs[dim.strip()] = value.strip()
    return pairs


def _direction(value: str | None) -> str | None:
    return registry.TARGET if value == "two_sided" else value


def _bounds_from_unit(unit: str | None) -> list[float | None]:
    if unit == "fraction":
        return [0.0, 1.0]
    if unit in ("hours", "days", "count", "units", "lines", "orders"):
        return [0.0, None]
    return [None, None]


def _ts(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts


def _fixed(spec: Mapping[str, Any] | None, direction: str) -> FixedTargets | None:
    """Flat ``stressed_at``/``critical_at`` guard the adverse side of a one-sided KPI."""
    if not spec:
        return None
    lower, upper = dict(spec.get("lower") or {}), dict(spec.get("upper") or {})
    flat = {k: spec[k] for k in SIDE_KEYS if k in spec}
    if flat and direction == registry.LOWER:
        upper = flat
    elif flat:
        lower = flat
    return FixedTargets(
        low_stressed=_num(lower.get("stressed_at")), low_critical=_num(lower.get("critical_at")),
        high_stressed=_num(upper.get("stressed_at")), high_critical=_num(upper.get("critical_at")),
        metric=spec.get("metric"),
    )


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


