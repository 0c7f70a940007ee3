"""The records behind a finding, as a CSV a manager can forward, embedded in the report.

``failing_records(rep, kpi, period)`` selects the failing records of ``kpi`` in one period
from its fact table (``kpilib.facts``); ``csv_link(frame, name)`` turns them into a
``data:text/csv`` link, so the CSV travels inside the report's HTML (offline, no extra file to
lose). Supported: the perfect-order family on commit units (perfect order, on time in full,
on-time delivery, in full, documentation, condition); other KPIs return None.

This is a small stand-in for a library drill-down (``kpilib.drill(ds, kpi, period=...,
outcome="failed")``): when that exists, ``failing_records`` should call it.
"""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd

from kpilib.periods import bucket

MAX_ROWS = 5000
PERFECT = ("in_full", "on_time", "doc_ok", "condition_ok")
# kpi -> the commit-unit flags that must all hold for a unit to pass
COMMIT_UNIT_TESTS = {
    "perfect_order_rate": PERFECT,
    "otif_rate": ("in_full", "on_time"),
    "on_time_delivery_rate": ("on_time",),
    "in_full_rate": ("in_full",),
    "documentation_accuracy_rate": ("doc_ok",),
    "perfect_condition_rate": ("condition_ok",),
}
COLUMNS = ["order_id", "unit_id", "due_at", "last_delivery_at", *PERFECT]


def failing_records(rep: Any, kpi: str, period: Any) -> pd.DataFrame | None:
    """Failing records of ``kpi`` in ``period`` (anchored in it, not excluded), or None."""
    tests = COMMIT_UNIT_TESTS.get(kpi)
    if tests is None or period is None or pd.isna(period) or rep.freq is None:
        return None
    units = rep.facts("commit_units")
    if units is None or units.empty:
        return None
    keep = units["excluded"].isna() if "excluded" in units else pd.Series(True, units.index)
    in_period = bucket(units["anchor"], rep.freq, str(pd.Timestamp(period).tz or "UTC"))
    keep &= (in_period == pd.Timestamp(period)).fillna(False)
    passed = units[list(tests)].fillna(False).astype(bool).all(axis=1)
    out = units.loc[keep & ~passed, [c for c in COLUMNS if c in units]]
    return out.sort_values(["order_id", "unit_id"]).reset_index(drop=True)


def csv_link(frame: pd.DataFrame, name: str) -> str:
    """A ``data:text/csv;base64`` URI of ``frame`` (at most ``MAX_ROWS`` rows)."""
    text = frame.head(MAX_ROWS).to_csv(index=False)
    return "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")


def links(rep: Any, head: pd.DataFrame) -> dict[str, tuple[str, str, int]]:
    """``{kpi: (file name, data URI, rows)}`` for the critical KPIs of ``head`` (cached on
    the report, so the summary and the findings share one selection)."""
    key = ("records", tuple(head.loc[head["band"] == "critical", "kpi"]))
    if key in rep._cache:
        return rep._cache[key]
    out = {}
    for _, row in head[head["band"] == "critical"].iterrows():
        frame = failing_records(rep, str(row["kpi"]), row["period"])
        if frame is not None and len(frame):
            name = f"{row['kpi']}_{pd.Timestamp(row['period']):%Y-%m-%d}_failed.csv"
            out[str(row["kpi"])] = (name, csv_link(frame, name), len(frame))
    rep._cache[key] = out
    return out
