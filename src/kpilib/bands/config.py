"""Band configuration (kpi-spec.md §7): load, validate and resolve per-KPI settings.

Resolution order for one KPI: built-in ``DEFAULTS`` < file ``defaults`` < the ``families`` entry
that lists the KPI < its ``kpis`` entry. The package default file is
``kpilib/config/bands.yaml`` (canonical); the repository's ``config/bands.yaml`` is a copy meant
to be edited and passed explicitly (``apply_bands(res, "config/bands.yaml")``).

Every problem raises ``kpilib.errors.ConfigError(path, key, message)``: unknown top-level or
setting keys, unknown KPI ids, bad values, and stressed/critical thresholds in the wrong order
for the KPI's direction (higher-is-better needs ``critical_at <= stressed_at``; lower mirrors;
two-sided needs ``lower.critical <= lower.stressed <= upper.stressed <= upper.critical``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpilib.bands import registry
from kpilib.errors import ConfigError

CHARTS = ("xmr", "pchart", "none")
MR_RULES = ("adverse_move", "adverse_side", "off")
METRICS = ("value", "p50", "p90")
DENOMINATOR_COLUMNS = ("denominator", "n")
TOP_KEYS = frozenset({"version", "defaults", "families", "kpis"})
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
    """Fixed thresholds (§7.1). ``low_*`` guard the lower side, ``high_*`` the upper side."""

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
    """A validated bands configuration; ``settings_for(kpi)`` resolves one KPI."""

    path: str
    defaults: Mapping[str, Any]
    families: Mapping[str, Mapping[str, Any]]
    kpis: Mapping[str, Mapping[str, Any]]

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


def default_config_path() -> Path:
    """The packaged default ``bands.yaml`` (canonical copy; ``config/bands.yaml`` mirrors it)."""
    return Path(str(resources.files("kpilib") / "config" / "bands.yaml"))


def load_bands_config(
    config: BandsConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    known_ids: Iterable[str] | None = None,
) -> BandsConfig:
    """Read and validate a bands configuration (mapping, YAML path, or None = package default).

    ``known_ids`` defaults to the KPI registry (``kpilib.list_kpis().id``), or the §0 ids when
    the engine is not installed.
    """
    if isinstance(config, BandsConfig):
        return config
    if config is None:
        config = default_config_path()
    if isinstance(config, str | Path):
        path = str(config)
        try:
            raw = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
        except FileNotFoundError as err:
            raise ConfigError(path, "-", "file not found") from err
        except yaml.YAMLError as err:
            raise ConfigError(path, "-", f"not valid YAML: {err}") from err
    else:
        path, raw = "<mapping>", config
    return _validate(raw, path, frozenset(known_ids) if known_ids is not None
                     else registry.known_ids())


def _validate(raw: Any, path: str, known: frozenset[str]) -> BandsConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(path, "-", "top level must be a mapping")
    _no_unknown(raw, TOP_KEYS, path, "")
    defaults = dict(raw.get("defaults") or {})
    _no_unknown(defaults, SETTING_KEYS - {"fixed"}, path, "defaults.")
    _check_settings(defaults, path, "defaults")
    families: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for name, fam in (raw.get("families") or {}).items():
        key = f"families.{name}"
        if not isinstance(fam, Mapping):
            raise ConfigError(path, key, "must be a mapping")
        _no_unknown(fam, FAMILY_KEYS, path, key + ".")
        members = list(fam.get("kpis") or [])
        for kpi in members:
            _known(kpi, known, path, f"{key}.kpis")
            if kpi in owner:
                raise ConfigError(path, f"{key}.kpis", f"{kpi!r} already in family {owner[kpi]!r}")
            owner[kpi] = name
        _check_settings(fam, path, key, members)
        families[str(name)] = {**fam, "kpis": tuple(members)}
    kpis: dict[str, dict[str, Any]] = {}
    for kpi, entry in (raw.get("kpis") or {}).items():
        key = f"kpis.{kpi}"
        _known(kpi, known, path, key)
        entry = dict(entry or {})
        _no_unknown(entry, KPI_KEYS, path, key + ".")
        fam = families.get(owner.get(kpi, ""), {})
        _check_settings(entry, path, key, [kpi], fam)
        segments = entry.get("segments") or {}
        if not isinstance(segments, Mapping):
            raise ConfigError(path, f"{key}.segments", "must map 'dim=value' to settings")
        for seg, settings in segments.items():
            skey = f"{key}.segments.{seg}"
            try:
                parse_segment(seg)
            except ValueError as err:
                raise ConfigError(path, skey, str(err)) from err
            if not isinstance(settings, Mapping):
                raise ConfigError(path, skey, "must be a mapping of settings")
            _no_unknown(settings, SETTING_KEYS - {"direction"}, path, skey + ".")
            _check_settings(settings, path, skey, [kpi], {**fam, **entry})
        entry["segments"] = dict(segments)
        kpis[str(kpi)] = entry
    return BandsConfig(path=path, defaults=defaults, families=families, kpis=kpis)


def _no_unknown(d: Mapping[str, Any], allowed: frozenset[str], path: str, prefix: str) -> None:
    for k in d:
        if k not in allowed:
            raise ConfigError(path, f"{prefix}{k}",
                              f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _known(kpi: str, known: frozenset[str], path: str, key: str) -> None:
    if kpi not in known:
        raise ConfigError(path, key, f"unknown KPI id {kpi!r}; see kpilib.list_kpis()")


def _check_settings(d: Mapping[str, Any], path: str, key: str,
                    kpis: list[str] | None = None, family: Mapping[str, Any] | None = None) -> None:
    def bad(k: str, msg: str) -> ConfigError:
        return ConfigError(path, f"{key}.{k}", msg)

    choices = {"chart": CHARTS, "metric": METRICS, "denominator_column": DENOMINATOR_COLUMNS,
               "direction": (*registry.DIRECTIONS, "two_sided"), "mr_rule": MR_RULES}
    for k, allowed in choices.items():
        if k in d and d[k] not in allowed:
            raise bad(k, f"{d[k]!r} is not one of {', '.join(allowed)}")
    for k, low in (("baseline_k", 2), ("baseline_min", 2), ("run_length", 2), ("hysteresis", 0)):
        if k in d and (not isinstance(d[k], int) or isinstance(d[k], bool) or d[k] < low):
            raise bad(k, f"must be an integer >= {low}")
    if "baseline_k" in d and d["baseline_k"] < d.get("baseline_min", DEFAULTS["baseline_min"]):
        raise bad("baseline_k", "must be >= baseline_min (default 12)")
    if "min_denominator" in d and (not _is_num(d["min_denominator"]) or d["min_denominator"] < 0):
        raise bad("min_denominator", "must be a number >= 0")
    if "alert_on_preliminary" in d and not isinstance(d["alert_on_preliminary"], bool):
        raise bad("alert_on_preliminary", "must be true or false")
    for k in ("baseline_start", "baseline_end"):
        if d.get(k) is not None:
            try:
                pd.Timestamp(d[k])
            except (ValueError, TypeError) as err:
                raise bad(k, f"not a date: {d[k]!r}") from err
    if "bounds" in d:
        b = d["bounds"]
        if (not isinstance(b, list) or len(b) != 2
                or any(v is not None and not _is_num(v) for v in b)
                or (None not in b and b[0] >= b[1])):
            raise bad("bounds", "must be [low, high] with numbers or null, low < high")
    if d.get("fixed") is not None:
        for kpi in kpis or []:
            direction = (_direction(d.get("direction")) or _direction((family or {}).get(
                "direction")) or registry.direction_of(kpi))
            _check_fixed(d["fixed"], direction, path, f"{key}.fixed")


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(v)


def _check_fixed(spec: Any, direction: str, path: str, key: str) -> None:
    if not isinstance(spec, Mapping):
        raise ConfigError(path, key, "must be a mapping")
    _no_unknown(spec, FIXED_KEYS, path, key + ".")
    if "metric" in spec and spec["metric"] not in METRICS:
        raise ConfigError(path, f"{key}.metric", f"not one of {', '.join(METRICS)}")
    flat = SIDE_KEYS & set(spec)
    sided = {"lower", "upper"} & set(spec)
    if flat and sided:
        raise ConfigError(path, key, "use either stressed_at/critical_at or lower/upper, not both")
    for side in sided:
        _no_unknown(spec[side] or {}, SIDE_KEYS, path, f"{key}.{side}.")
    vals = {k: spec[k] for k in flat}
    for side in sided:
        vals.update({f"{side}.{k}": v for k, v in (spec[side] or {}).items()})
    for k, v in vals.items():
        if not _is_num(v):
            raise ConfigError(path, f"{key}.{k}", "must be a number")
    if flat:
        if direction not in (registry.HIGHER, registry.LOWER):
            raise ConfigError(path, key, f"direction is {direction!r}: give lower/upper thresholds")
        s, c = vals.get("stressed_at"), vals.get("critical_at")
        if s is not None and c is not None:
            if direction == registry.HIGHER and c > s:
                raise ConfigError(path, f"{key}.critical_at", f"higher is better, so critical_at "
                                  f"({c}) must be <= stressed_at ({s})")
            if direction == registry.LOWER and c < s:
                raise ConfigError(path, f"{key}.critical_at", f"lower is better, so critical_at "
                                  f"({c}) must be >= stressed_at ({s})")
        return
    chain = [vals.get("lower.critical_at"), vals.get("lower.stressed_at"),
             vals.get("upper.stressed_at"), vals.get("upper.critical_at")]
    names = ["lower.critical_at", "lower.stressed_at", "upper.stressed_at", "upper.critical_at"]
    present = [(n, v) for n, v in zip(names, chain, strict=True) if v is not None]
    for (n1, v1), (n2, v2) in zip(present, present[1:], strict=False):
        if v1 > v2:
            raise ConfigError(path, f"{key}.{n2}", f"must be >= {n1} ({v1}); two-sided order: "
                              "lower.critical <= lower.stressed <= upper.stressed <= "
                              "upper.critical")
