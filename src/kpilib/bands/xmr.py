"""XmR (individuals and moving range) chart (docs/banding.md).

Limits from a fixed baseline x_1..x_k: ``CL = mean(x)``, ``MR_i = |x_i - x_{i-1}|``,
``MR̄ = mean(MR)``, ``σ̂ = MR̄ / 1.128``, natural limits ``CL ± 2.66·MR̄`` (= ±3σ̂) clamped to the
feasible range, moving-range limit ``3.268·MR̄``. Rules are evaluated on the adverse side only:

- critical: rule 1 (point beyond the 3σ limit) or the moving range above ``3.268·MR̄`` while the
  point moved in the adverse direction;
- stressed: rule 2 (2 of the last 3 beyond 2σ), rule 3 (4 of the last 5 beyond 1σ), rule 4
  (``run_length`` consecutive points beyond CL; 8 by default, Nelson uses 9).

Rules 2 and 3 count the current point only when it is itself in the zone (the band describes the
point's own period). The same rules on a favourable side give ``favorable_shift`` and no band.

``mr_rule``: ``"adverse_move"`` (default: a large moving range with the point
moving in the adverse direction), ``"adverse_side"`` (additionally the point must lie on the
adverse side of CL, so the return from a favourable excursion does not fire) or ``"off"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

D2 = 1.128
E2 = 2.66  # 3 / d2
D4 = 3.268

NORMAL, STRESSED, CRITICAL = 0, 1, 2


@dataclass(frozen=True)
class XmrLimits:
    """Centre line, limits (clamped), moving-range statistics and σ̂ of one baseline."""

    cl: float
    mr_bar: float
    sigma: float
    lcl: float
    ucl: float
    mr_ucl: float
    n_baseline: int


def xmr_limits(baseline: np.ndarray, bounds: tuple[float, float] = (-np.inf, np.inf)) -> XmrLimits:
    """Limits from baseline values (needs >= 2 points): ``CL ± 2.66·MR̄``, clamped to ``bounds``."""
    x = np.asarray(baseline, dtype=float)
    cl = float(x.mean())
    mr_bar = float(np.abs(np.diff(x)).mean())
    lo, hi = bounds
    return XmrLimits(
        cl=cl, mr_bar=mr_bar, sigma=mr_bar / D2,
        lcl=max(cl - E2 * mr_bar, lo), ucl=min(cl + E2 * mr_bar, hi),
        mr_ucl=D4 * mr_bar, n_baseline=len(x),
    )


def _window_count(flags: np.ndarray, width: int) -> np.ndarray:
    """Number of True in the trailing window of ``width`` ending at each point (-1 if short)."""
    c = np.concatenate([[0], np.cumsum(flags.astype(int))])
    out = np.full(len(flags), -1)
    if len(flags) >= width:
        out[width - 1:] = c[width:] - c[:-width]
    return out


def _side_rules(x: np.ndarray, lim: XmrLimits, side: int, run_length: int,
                mr_rule: str = "adverse_move") -> dict[str, np.ndarray]:
    """Boolean arrays per rule for one side (+1 upper, -1 lower)."""
    dev = side * (x - lim.cl)
    beyond3 = x > lim.ucl if side > 0 else x < lim.lcl
    beyond2 = dev > 2 * lim.sigma
    beyond1 = dev > lim.sigma
    above = dev > 0
    step = np.concatenate([[np.nan], np.diff(x)])
    mr_hit = (np.abs(step) > lim.mr_ucl) & (side * step > 0)
    if mr_rule == "adverse_side":
        mr_hit &= above
    elif mr_rule == "off":
        mr_hit &= False
    return {
        "rule1_beyond_3sigma": beyond3,
        "mr_above_ucl": mr_hit,
        "rule2_2of3_beyond_2sigma": beyond2 & (_window_count(beyond2, 3) >= 2),
        "rule3_4of5_beyond_1sigma": beyond1 & (_window_count(beyond1, 5) >= 4),
        f"rule4_run_{run_length}": _window_count(above, run_length) == run_length,
    }


def xmr_evaluate(
    x: np.ndarray, lim: XmrLimits, *, adverse: tuple[int, ...], run_length: int = 8,
    mr_rule: str = "adverse_move",
) -> tuple[np.ndarray, list[list[str]]]:
    """Level (0 normal, 1 stressed, 2 critical) and signal names for each point of ``x``.

    ``adverse`` lists the adverse sides: ``(-1,)`` higher-is-better, ``(1,)`` lower-is-better,
    ``(-1, 1)`` two-sided.
    """
    x = np.asarray(x, dtype=float)
    level = np.zeros(len(x), dtype=int)
    signals: list[list[str]] = [[] for _ in x]
    favourable = np.zeros(len(x), dtype=bool)
    for side in (-1, 1):
        rules = _side_rules(x, lim, side, run_length, mr_rule)
        if side not in adverse:
            for name, hit in rules.items():
                if name != "mr_above_ucl":
                    favourable |= hit
            continue
        for name, hit in rules.items():
            sev = CRITICAL if name in ("rule1_beyond_3sigma", "mr_above_ucl") else STRESSED
            level = np.where(hit, np.maximum(level, sev), level)
            for i in np.flatnonzero(hit):
                signals[i].append(name)
    for i in np.flatnonzero(favourable & (level == NORMAL)):
        signals[i].append("favorable_shift")
    return level, signals
