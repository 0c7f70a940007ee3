"""Headline rows turned into decisions: band story, target gap, owner, next step, where.

``annotate(head, results, ...)`` adds to a ``views.headline`` frame (one row per KPI):

- ``state``, ``why``, ``since``, ``alerted`` (``story.tell`` on the KPI's banded series);
- ``target_display``, ``vs_target`` (signed, in pp for rates), ``target_note``;
- ``owner_label`` (the human label of the owning role, ``roles.yaml``) and ``action``
  (``playbook.action_for``);
- ``where``: the segments of ``seg_head`` (the same KPIs by one dimension) that are stressed or
  critical in the same period, e.g. ``channel web, marketplace``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kpilib.bands.targets import Target, gap
from kpilib.reports import story, units
from kpilib.reports.playbook import action_for

COLUMNS = ("state", "why", "since", "alerted", "target_display", "vs_target", "target_note",
           "owner", "owner_label", "action", "where")


def _where(seg_head: pd.DataFrame | None, dim: str | None, kpi: str, period: Any) -> str:
    if seg_head is None or dim is None or seg_head.empty or dim not in seg_head:
        return ""
    g = seg_head[(seg_head["kpi"] == kpi) & (seg_head["period"] == period)
                 & seg_head["band"].isin(story.BAD)]
    if g.empty:
        return ""
    g = g.assign(_o=g["band"].map({"critical": 0, "stressed": 1})).sort_values(["_o", dim])
    return f"{dim.replace('_', ' ')} " + ", ".join(g[dim].astype(str))


def _target_cells(t: Target | None, row: pd.Series, currency: str) -> tuple[str, str]:
    if t is None:
        return "", ""
    unit = str(row["unit"])
    goal = (units.fmt(t.target, unit, currency) if t.target is not None else
            f"{units.fmt(t.lower, unit, currency)} to {units.fmt(t.upper, unit, currency)}")
    g = gap(t, row["value"], str(row["direction"]))
    if g is None:
        return goal, ""
    if unit in units.RATE_UNITS:
        return goal, units.pp(g)
    return goal, ("+" if g >= 0 else "−") + units.fmt(abs(g), unit, currency)


def annotate(head: pd.DataFrame, results: pd.DataFrame, *, targets: dict[str, Target],
             roles: Any, currency: str = "", bands: Any = None,
             seg_head: pd.DataFrame | None = None, dim: str | None = None) -> pd.DataFrame:
    """``head`` plus the decision columns (module docstring)."""
    out = head.copy()
    cells: dict[str, list] = {c: [] for c in COLUMNS}
    for _, row in out.iterrows():
        kpi = str(row["kpi"])
        series = results[results["kpi"] == kpi].sort_values("period") if len(results) else results
        m = bands.settings_for(kpi, str(row["unit"])).hysteresis if bands is not None else 2
        st = story.tell(series, row, hysteresis=m, target=targets.get(kpi), currency=currency)
        goal, vs = _target_cells(targets.get(kpi), row, currency)
        owner = roles.owner_of(kpi)
        for c, v in (("state", st.state), ("why", st.why), ("since", st.since),
                     ("alerted", st.alerted), ("target_display", goal), ("vs_target", vs),
                     ("target_note", st.target), ("owner", owner),
                     ("owner_label", roles.label_of(owner)), ("action", action_for(kpi)),
                     ("where", _where(seg_head, dim, kpi, row["period"]))):
            cells[c].append(v)
    for c, v in cells.items():
        out[c] = v if len(out) else pd.Series(dtype=object)
    return out


def perfect_order_apqc(head: pd.DataFrame) -> float:
    """APQC-style perfect order: the product of the four component rates of ``head``
    (on time × in full × documents × condition); NaN when one is missing. The SCOR figure
    (``perfect_order_rate``) counts the orders that pass every test at once instead."""
    parts = ["on_time_delivery_rate", "in_full_rate", "documentation_accuracy_rate",
             "perfect_condition_rate"]
    vals = head.set_index("kpi")["value"].reindex(parts)
    return float(np.prod(vals.to_numpy())) if vals.notna().all() else float("nan")
