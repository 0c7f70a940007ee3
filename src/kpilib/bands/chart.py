"""Fit a control chart to a baseline and judge points against it (XmR or p-chart).

``fit(x, numerator, denominator, base, s)`` returns the :class:`Chart` of the baseline points
``base`` (XmR: ``CL ± 2.66·MR̄``; p-chart: ``p̄ = Σnum / Σden``), or the reason there is none
(``baseline_lt_<min>`` for fewer than ``baseline_min`` points, ``baseline_no_variation`` for an
XmR baseline with MR̄ = 0). ``judge(chart, ..., idx)`` gives the level and signals of the points
``idx`` as one sequence (every rule), or each point alone (``alone=True``: only the per-point
rules, i.e. XmR rule 1 or the p-chart limits; used for periods inside a calendar window, which
take no part in runs or moving ranges).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kpilib.bands.pchart import pchart_center, pchart_evaluate
from kpilib.bands.settings import KpiBandSettings
from kpilib.bands.xmr import XmrLimits, xmr_evaluate, xmr_limits


@dataclass(frozen=True)
class Chart:
    """Fitted limits: ``xmr`` set for an XmR chart, else ``pbar`` for a p-chart."""

    xmr: XmrLimits | None = None
    pbar: float = float("nan")


def metric_name(cols: Mapping[str, Any], metric: str) -> str:
    """``metric`` if the series has values in that column, else ``value``."""
    return metric if metric in cols and not np.isnan(cols[metric]).all() else "value"


def fit(x: np.ndarray, num: np.ndarray | None, den: np.ndarray, base: np.ndarray,
        s: KpiBandSettings) -> Chart | str:
    """The chart of the baseline points ``base`` (a boolean mask), or why there is none."""
    if base.sum() < s.baseline_min:
        return f"baseline_lt_{s.baseline_min}"
    if s.chart == "xmr":
        if np.ptp(x[base]) == 0:  # MR̄ = 0: no spread to set limits from (a count stuck at 0)
            return "baseline_no_variation"
        return Chart(xmr=xmr_limits(x[base], s.bounds))
    return Chart(pbar=pchart_center(num[base], den[base]))


def judge(chart: Chart, x: np.ndarray, den: np.ndarray, idx: np.ndarray, s: KpiBandSettings,
          adverse: tuple[int, ...], *, alone: bool = False
          ) -> tuple[np.ndarray, list[list[str]], np.ndarray, np.ndarray]:
    """Levels (0/1/2), signals and (lcl, ucl) of the points ``idx`` against ``chart``."""
    if chart.xmr is None:
        return pchart_evaluate(x[idx], den[idx], chart.pbar, adverse=adverse)
    lim = chart.xmr
    lo, hi = np.full(len(idx), lim.lcl), np.full(len(idx), lim.ucl)
    if not alone:
        lv, ss = xmr_evaluate(x[idx], lim, adverse=adverse, run_length=s.run_length,
                              mr_rule=s.mr_rule)
        return lv, ss, lo, hi
    # one point at a time: no previous point (no moving range) and no run, so only rule 1
    pairs = [xmr_evaluate(x[[i]], lim, adverse=adverse, run_length=s.run_length,
                          mr_rule=s.mr_rule) for i in idx]
    lv = np.array([p[0][0] for p in pairs], dtype=int)
    return lv, [p[1][0] for p in pairs], lo, hi
