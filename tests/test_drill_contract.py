"""The drill contract, for every KPI of ``list_kpis()`` on the CI dataset, by channel and week.

For each (period, channel) cell of ``compute``: the rows of ``drill(outcome="all")`` add up to
its denominator (one row per unit of a count rate), their numerators to its numerator; the
``failed`` rows to ``denominator - numerator`` (higher-is-better rate) or ``numerator``
(lower-is-better: the numerator counts adverse events); the ``excluded`` rows to the counts
in ``excluded``; duration rows reproduce mean, p50 and p90. KPIs without a channel cut are
checked by week only; KPIs without records say so.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import kpilib
from kpilib import registry
from kpilib.drilldown import NoRecordsError, records
from kpilib.engine import compute_one, make_context
from kpilib.errors import ParameterError

KEYS = ["period", "channel"]
IDS = list(kpilib.list_kpis()["id"])


@pytest.fixture(scope="module")
def ci():
    from kpilib.reports.cidata import ensure_ci_data

    return kpilib.load_dataset(str(ensure_ci_data()))


@pytest.fixture(scope="module")
def contexts(ci):
    """One context per cut, shared by every KPI (facts are built once)."""
    return {"channel": make_context(ci, by="channel", freq="W"),
            None: make_context(ci, freq="W")}


def _cells(res: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return res.loc[(res["n"] > 0) | (res["denominator"] > 0)].set_index(keys)


def _sums(rows: pd.DataFrame, keys: list[str], col: str, mask=None) -> pd.Series:
    part = rows if mask is None else rows.loc[mask]
    return part.groupby(keys, dropna=False)[col].sum()


def _aligned(expected: pd.Series, got: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    got = got.reindex(expected.index, fill_value=0.0)
    return expected.to_numpy(dtype=float), got.to_numpy(dtype=float)


@pytest.mark.parametrize("kpi", IDS)
def test_drill_reproduces_compute(kpi, contexts):
    kdef = registry.KPIS[kpi]
    dim = "channel" if "channel" in kdef.dims else None
    ctx = contexts[dim]
    keys = ["period", *([dim] if dim else [])]
    res = compute_one(kdef, ctx)
    if kdef.kind == "custom":
        with pytest.raises(NoRecordsError, match="no records to list"):
            records(kdef, ctx)
        return
    if (res["status"] == "unavailable").all():
        with pytest.raises(ParameterError, match=re.escape(res["note"].iloc[0])):
            records(kdef, ctx)
        return
    rows = records(kdef, ctx)
    cells = _cells(res, keys)
    if not len(cells):  # nothing in this data (e.g. no open wave at as_of): no rows either
        assert len(rows) == 0 and (res["denominator"] == 0).all()
        return
    if kdef.kind == "mean":
        g = rows.groupby(keys, dropna=False)["value"]
        assert g.size().reindex(cells.index).tolist() == cells["n"].tolist()
        for stat, col in ((g.mean(), "value"), (g.quantile(0.5), "p50"),
                          (g.quantile(0.9), "p90")):
            np.testing.assert_allclose(stat.reindex(cells.index), cells[col], rtol=1e-9)
    else:
        for col in ("numerator", "denominator"):
            np.testing.assert_allclose(*_aligned(cells[col], _sums(rows, keys, col)),
                                       rtol=1e-9, atol=1e-9)
        if kdef.kind == "rate" and rows["denominator"].eq(1).all():  # a count rate
            counts = rows.groupby(keys, dropna=False).size()
            assert counts.reindex(cells.index).tolist() == cells["denominator"].tolist()
    shares = kdef.kind == "rate" and rows["numerator"].between(0, rows["denominator"]).all()
    if kdef.kind == "rate" and not shares:  # rows add to numerator and denominator separately
        with pytest.raises(ParameterError, match="no row passes or fails"):
            records(kdef, ctx, outcome="failed")
    elif kdef.kind == "rate" and kdef.direction in ("higher", "lower"):
        failed = records(kdef, ctx, outcome="failed")
        passed = records(kdef, ctx, outcome="passed")
        assert len(failed) + len(passed) == len(rows)
        if kdef.direction == "higher":
            want = cells["denominator"] - cells["numerator"]
            got = _sums(failed.assign(short=failed["denominator"] - failed["numerator"]),
                        keys, "short")
        else:
            want, got = cells["numerator"], _sums(failed, keys, "numerator")
        np.testing.assert_allclose(*_aligned(want, got), rtol=1e-9, atol=1e-9)
    excluded = res.loc[res["excluded"] != ""]
    if len(excluded):
        want = excluded.set_index(keys)["excluded"].map(lambda t: sum(json.loads(t).values()))
        got = records(kdef, ctx, outcome="excluded").groupby(keys, dropna=False).size()
        assert got.reindex(want.index).tolist() == want.tolist()
        assert records(kdef, ctx, outcome="excluded")["excluded"].notna().all()


def test_one_week_of_web_otif_both_ways(ci):
    res = kpilib.compute(ci, "otif_rate", by="channel", freq="W")
    week = res[(res["channel"] == "web") & (res["status"] == "ok")].iloc[-1]
    # any time inside the week selects it
    inside = week["period"] + pd.Timedelta(days=3, hours=5)
    failed = kpilib.drill(ci, "otif_rate", period=inside, freq="W",
                          segment={"channel": "web"}, outcome="failed")
    everything = kpilib.drill(ci, "otif_rate", period=week["period"], freq="W",
                              segment={"channel": "web"})
    assert len(everything) == week["denominator"]
    assert len(failed) == week["denominator"] - week["numerator"] > 0
    assert set(failed["outcome"]) == {"failed"} and (failed["channel"] == "web").all()
    assert failed["anchor"].is_monotonic_increasing  # oldest first


def test_drill_errors(ci):
    with pytest.raises(ParameterError, match="outcome 'late' is not one of"):
        kpilib.drill(ci, "otif_rate", outcome="late")
    with pytest.raises(ParameterError, match="no record passes or fails"):
        kpilib.drill(ci, "order_cycle_time_hours", outcome="failed")
    with pytest.raises(ParameterError, match="period given but freq is None"):
        kpilib.drill(ci, "otif_rate", period="2024-03-01")
    with pytest.raises(ParameterError, match="'wbe' is not a channel"):
        kpilib.drill(ci, "otif_rate", segment={"channel": "web"}, filters={"channel": "wbe"})
    with pytest.raises(kpilib.UnknownKpiError):
        kpilib.drill(ci, "otif")
