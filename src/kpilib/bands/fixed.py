"""Fixed targets (docs/banding.md).

Lower side (higher is better): normal if ``x ≥ stressed_at``; stressed if
``critical_at ≤ x < stressed_at``; critical if ``x < critical_at``. Upper side (lower is better)
mirrors: stressed if ``stressed_at < x ≤ critical_at``, critical if ``x > critical_at``. A
two-sided KPI has both sides; a missing threshold is simply not checked.
"""

from __future__ import annotations

import numpy as np

from kpilib.bands.settings import FixedTargets
from kpilib.bands.xmr import CRITICAL, STRESSED


def fixed_evaluate(x: np.ndarray, t: FixedTargets) -> tuple[np.ndarray, list[list[str]]]:
    """Level (0/1/2) and signals (``fixed_critical_low`` ...) for each value of ``x``."""
    x = np.asarray(x, dtype=float)
    checks = [
        (t.low_critical, x < (t.low_critical or 0.0), CRITICAL, "fixed_critical_low"),
        (t.low_stressed, x < (t.low_stressed or 0.0), STRESSED, "fixed_stressed_low"),
        (t.high_critical, x > (t.high_critical or 0.0), CRITICAL, "fixed_critical_high"),
        (t.high_stressed, x > (t.high_stressed or 0.0), STRESSED, "fixed_stressed_high"),
    ]
    level = np.zeros(len(x), dtype=int)
    signals: list[list[str]] = [[] for _ in x]
    for threshold, hit, sev, name in checks:
        if threshold is None:
            continue
        new = hit & (level < sev)
        level = np.where(new, sev, level)
        for i in np.flatnonzero(new):
            signals[i] = [s for s in signals[i] if not s.startswith("fixed_stressed")] + [name]
    return level, signals
