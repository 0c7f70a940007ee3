"""Validation of a parsed bands configuration (loaded by ``kpilib.bands.config``).

Every problem raises ``ConfigError(path, key, message)``: unknown keys, unknown KPI ids, values
of the wrong type or range, and thresholds in the wrong order for the KPI's direction (also the
``fixed`` targets of a ``calendar`` window, whose other checks are in
:func:`kpilib.bands.calendar.parse_calendar`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kpilib.bands import registry
from kpilib.bands.calendar import parse_calendar
from kpilib.bands.settings import (
    CHARTS,
    DEFAULTS,
    DENOMINATOR_COLUMNS,
    FAMILY_KEYS,
    FIXED_KEYS,
    KPI_KEYS,
    METRICS,
    MR_RULES,
    SETTING_KEYS,
    SIDE_KEYS,
    TOP_KEYS,
    BandsConfig,
    _direction,
    parse_segment,
)
from kpilib.configfile import check_kpi_id, reject_unknown_keys
from kpilib.errors import ConfigError


def validate_mapping(raw: Any, path: str, known: frozenset[str]) -> BandsConfig:
    """Check a parsed bands file; return the BandsConfig or raise ConfigError(path, key)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(path, "-", "top level must be a mapping")
    reject_unknown_keys(raw, TOP_KEYS, path, "")
    defaults = dict(raw.get("defaults") or {})
    reject_unknown_keys(defaults, SETTING_KEYS - {"fixed"}, path, "defaults.")
    _check_settings(defaults, path, "defaults")
    families: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for name, fam in (raw.get("families") or {}).items():
        key = f"families.{name}"
        if not isinstance(fam, Mapping):
            raise ConfigError(path, key, "must be a mapping")
        reject_unknown_keys(fam, FAMILY_KEYS, path, key + ".")
        members = list(fam.get("kpis") or [])
        for kpi in members:
            check_kpi_id(kpi, known, path, f"{key}.kpis")
            if kpi in owner:
                raise ConfigError(path, f"{key}.kpis", f"{kpi!r} already in family {owner[kpi]!r}")
            owner[kpi] = name
        _check_settings(fam, path, key, members)
        families[str(name)] = {**fam, "kpis": tuple(members)}
    kpis: dict[str, dict[str, Any]] = {}
    for kpi, entry in (raw.get("kpis") or {}).items():
        key = f"kpis.{kpi}"
        check_kpi_id(kpi, known, path, key)
        entry = dict(entry or {})
        reject_unknown_keys(entry, KPI_KEYS, path, key + ".")
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
            reject_unknown_keys(settings, SETTING_KEYS - {"direction"}, path, skey + ".")
            _check_settings(settings, path, skey, [kpi], {**fam, **entry})
        entry["segments"] = dict(segments)
        kpis[str(kpi)] = entry
    calendar = parse_calendar(raw.get("calendar"), path, known)
    cfg = BandsConfig(path=path, defaults=defaults, families=families, kpis=kpis,
                      calendar=calendar)
    for i, w in enumerate(calendar):
        for kpi in sorted(w.kpis or ()) if w.fixed is not None else ():
            _check_fixed(w.fixed, cfg.settings_for(kpi).direction, path, f"calendar[{i}].fixed")
    return cfg


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
    reject_unknown_keys(spec, FIXED_KEYS, path, key + ".")
    if "metric" in spec and spec["metric"] not in METRICS:
        raise ConfigError(path, f"{key}.metric", f"not one of {', '.join(METRICS)}")
    flat = SIDE_KEYS & set(spec)
    sided = {"lower", "upper"} & set(spec)
    if flat and sided:
        raise ConfigError(path, key, "use either stressed_at/critical_at or lower/upper, not both")
    for side in sided:
        reject_unknown_keys(spec[side] or {}, SIDE_KEYS, path, f"{key}.{side}.")
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
