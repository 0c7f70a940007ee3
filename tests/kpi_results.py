"""Small readers of ``kpilib.compute`` results shared by the KPI tests."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import kpilib


def pick(res: pd.DataFrame, kpi: str, **segment) -> pd.Series:
    """The single result row of ``kpi`` (and of the given segment values)."""
    sel = res[res["kpi"] == kpi]
    for dim, value in segment.items():
        sel = sel[sel[dim] == value]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def compute_one(ds, kpi: str, as_of, **kw) -> pd.Series:
    """Compute one KPI without segments or periods; its single row. For rate, ratio and
    mean KPIs also checks value == numerator / denominator."""
    res = kpilib.compute(ds, [kpi], as_of=as_of, **kw)
    assert len(res) == 1, res
    row = res.iloc[0]
    kind = kpilib.list_kpis().set_index("id").loc[kpi, "kind"]
    if row["denominator"] > 0 and kind in ("rate", "ratio", "mean"):
        assert row["value"] == pytest.approx(row["numerator"] / row["denominator"])
    return row


def excluded(row: pd.Series) -> dict:
    """The ``excluded`` reason counts of a result row as a dict."""
    return json.loads(row["excluded"]) if row["excluded"] else {}


def check_ratio(r: pd.Series) -> None:
    """The row's value is its numerator over its denominator."""
    assert r["value"] == pytest.approx(r["numerator"] / r["denominator"])
