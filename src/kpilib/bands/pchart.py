"""p-chart for rates with very different denominators (docs/banding.md).

``p̄ = Σnumerator / Σdenominator`` over the baseline periods; per period
``σ_i = sqrt(p̄(1 − p̄) / n_i)``; a point beyond ``p̄ ± 3σ_i`` on an adverse side is critical,
beyond ``2σ_i`` stressed. Limits are clamped to [0, 1]. Favourable-side excursions give
``favorable_shift``.
"""

from __future__ import annotations

import numpy as np

from kpilib.bands.xmr import CRITICAL, NORMAL, STRESSED


def pchart_center(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """``p̄ = Σnum / Σden`` over the baseline."""
    return float(np.sum(numerator) / np.sum(denominator))


def pchart_evaluate(
    p: np.ndarray, n: np.ndarray, pbar: float, *, adverse: tuple[int, ...]
) -> tuple[np.ndarray, list[list[str]], np.ndarray, np.ndarray]:
    """Levels, signals, and clamped 3σ limits (lcl, ucl) for rates ``p`` with denominators ``n``."""
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    sigma = np.sqrt(pbar * (1.0 - pbar) / n)
    level = np.zeros(len(p), dtype=int)
    signals: list[list[str]] = [[] for _ in p]
    favourable = np.zeros(len(p), dtype=bool)
    for side in (-1, 1):
        dev = side * (p - pbar)
        crit, stress = dev > 3 * sigma, (dev > 2 * sigma) & ~(dev > 3 * sigma)
        if side not in adverse:
            favourable |= dev > 2 * sigma
            continue
        level = np.where(crit, CRITICAL, np.where(stress, np.maximum(level, STRESSED), level))
        for i in np.flatnonzero(crit):
            signals[i].append("pchart_beyond_3sigma")
        for i in np.flatnonzero(stress):
            signals[i].append("pchart_beyond_2sigma")
    for i in np.flatnonzero(favourable & (level == NORMAL)):
        signals[i].append("favorable_shift")
    lcl = np.clip(pbar - 3 * sigma, 0.0, 1.0)
    ucl = np.clip(pbar + 3 * sigma, 0.0, 1.0)
    return level, signals, lcl, ucl
