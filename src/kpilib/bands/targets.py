"""Fixed targets (goals) per KPI, next to the control limits: how far from *good*, not *usual*.

``load_targets("benchmarks")`` reads the packaged ``config/targets.yaml`` (published industry
figures, each with its source); a path reads your own file in that format; None or ``"none"`` gives
no targets. A file with an unknown key or KPI id, or an entry without a number, is a ``ConfigError``
naming the file and the key. ``gap(target, value, direction)`` is the signed distance to the target
in the KPI's favourable direction (negative = short of it); a two-sided target (lower/upper) has no
gap inside its range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kpilib.configfile import check_kpi_id, read_config, reject_unknown_keys
from kpilib.errors import ConfigError

PRESETS = ("benchmarks",)
NONE = "none"  # no targets: control limits only
TOP_KEYS = frozenset({"version", "targets"})
ENTRY_KEYS = frozenset({"target", "lower", "upper", "source"})


@dataclass(frozen=True)
class Target:
    """One KPI's goal: ``target`` (one-sided) or ``lower``/``upper`` (a range), and its source."""

    kpi: str
    target: float | None = None
    lower: float | None = None
    upper: float | None = None
    source: str = ""

    def lines(self) -> list[float]:
        """Values to draw on a chart."""
        return [v for v in (self.target, self.lower, self.upper) if v is not None]


def preset_path(name: str) -> Path:
    """The packaged file of a preset (``benchmarks`` -> ``config/targets.yaml``)."""
    return Path(str(resources.files("kpilib") / "config" / "targets.yaml"))


def load_targets(config: str | Path | Mapping[str, Any] | None) -> dict[str, Target]:
    """``{kpi: Target}`` from a preset name, a YAML path or a mapping; ``{}`` for None or
    ``"none"``."""
    from kpilib import registry

    if config is None or config in ("", NONE):
        return {}
    if isinstance(config, str) and config in PRESETS:
        config = preset_path(config)
    path, raw = read_config(config)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("targets", {}), Mapping):
        raise ConfigError(path, "targets", "must be a mapping of KPI id -> {target, source}")
    reject_unknown_keys(raw, TOP_KEYS, path, "")
    known = frozenset(registry.load_all())
    out: dict[str, Target] = {}
    for kpi, entry in (raw.get("targets") or {}).items():
        check_kpi_id(kpi, known, path, f"targets.{kpi}")
        if not isinstance(entry, Mapping) or set(entry) - ENTRY_KEYS:
            raise ConfigError(path, f"targets.{kpi}", "use keys target, lower, upper, source")
        try:
            vals = {k: None if entry.get(k) is None else float(entry[k])
                    for k in ("target", "lower", "upper")}
        except (TypeError, ValueError) as err:
            raise ConfigError(path, f"targets.{kpi}", f"not a number: {err}") from err
        if all(v is None for v in vals.values()):
            raise ConfigError(path, f"targets.{kpi}", "needs target, or lower and/or upper")
        out[str(kpi)] = Target(str(kpi), source=str(entry.get("source", "")), **vals)
    return out


def gap(target: Target | None, value: float | None, direction: str) -> float | None:
    """Signed distance from ``value`` to the target in the good direction (< 0 = short).

    higher is better: ``value - target``; lower is better: ``target - value``; a range:
    0 inside ``[lower, upper]``, else minus the distance to the nearer bound. None when there
    is no target or no value.
    """
    if target is None or value is None or value != value:
        return None
    if target.target is not None:
        if direction == "lower":
            return target.target - value
        if direction == "higher":
            return value - target.target
        return -abs(value - target.target)
    lo = -float("inf") if target.lower is None else target.lower
    hi = float("inf") if target.upper is None else target.upper
    return 0.0 if lo <= value <= hi else -min(abs(value - lo), abs(value - hi))
