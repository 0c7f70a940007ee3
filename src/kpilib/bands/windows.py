"""Band the periods of calendar windows against the window's own limits (docs/banding.md).

For a series' periods inside windows (``kpilib.bands.calendar``), after the normal chart and
fixed targets have judged them alone (XmR rule 1 only: they take no part in the normal baseline,
runs or moving ranges):

- the normal judgement is capped at ``stressed``: the period is expected to be unusual;
- the window's own limits may raise it to ``critical``: the chart fitted to the series' periods
  of windows of the same kind (the first ``baseline_k`` ok ones, at least ``baseline_min``;
  rule 1 only, signal ``window_rule1_beyond_3sigma`` / ``window_pchart_beyond_3sigma``) and
  the window's ``fixed`` targets for the KPI (``window_fixed_critical_low`` ...); the worse wins;
- with neither, the period is capped at ``stressed`` and flagged ``window_no_limits``.

Every banded window period gets the signal ``window:<kind>:<name>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from kpilib.bands import chart
from kpilib.bands.calendar import NO_LIMITS, PREFIX, TAG, Window
from kpilib.bands.fixed import fixed_evaluate
from kpilib.bands.settings import KpiBandSettings, _fixed
from kpilib.bands.xmr import CRITICAL, STRESSED


def judge_windows(level: np.ndarray, sig: list[list[str]], cols: Mapping[str, Any],
                  x: np.ndarray, den: np.ndarray, usable: np.ndarray, where: np.ndarray,
                  windows: Sequence[Window], s: KpiBandSettings, adverse: tuple[int, ...],
                  baseline: Callable[[np.ndarray], np.ndarray]) -> None:
    """Cap the window periods of one series at stressed and apply the windows' own limits.

    ``where`` is the window index of each period (-1 outside); ``baseline(mask)`` picks the
    baseline points among ``mask``.
    """
    kind_of = np.array([w.kind for w in windows] + [""], dtype=object)[where]  # -1 -> ""
    status = cols["status"]
    for kind in dict.fromkeys(w.kind for w in windows):
        members = np.flatnonzero(usable & (kind_of == kind))
        if not len(members):
            continue
        own = np.full(len(members), -1)
        own_sig: list[list[str]] = [[] for _ in members]
        if s.chart != "none" and adverse:
            fitted = chart.fit(x, cols.get("numerator"), den,
                               baseline(usable & (status == "ok") & (kind_of == kind)), s)
            if isinstance(fitted, chart.Chart):
                lv, _, _, _ = chart.judge(fitted, x, den, members, s, adverse, alone=True)
                own = np.maximum(own, np.where(lv == CRITICAL, CRITICAL, 0))
                name = "window_rule1_beyond_3sigma" if fitted.xmr else "window_pchart_beyond_3sigma"
                for j in np.flatnonzero(lv == CRITICAL):
                    own_sig[j].append(name)
        for j, i in enumerate(members):
            w = windows[where[i]]
            targets = _fixed(w.fixed, s.direction) if w.fixed is not None else None
            if targets is not None:
                xf = cols[chart.metric_name(cols, targets.metric or s.metric)]
                lv, ss = fixed_evaluate(xf[[i]], targets)
                own[j] = max(own[j], int(lv[0]))
                own_sig[j].extend(PREFIX + name for name in ss[0])
        for j, i in enumerate(members):
            w = windows[where[i]]
            capped = min(int(level[i]), STRESSED)
            level[i] = max(capped, own[j]) if own[j] >= 0 else capped
            sig[i].insert(0, f"{TAG}{w.kind}:{w.name}")
            sig[i].extend(own_sig[j] if own[j] >= 0 else [NO_LIMITS])
