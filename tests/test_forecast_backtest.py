"""The baseline backtest never reads demand after a forecast's origin, and its methods give
the hand-computed values on a tiny weekly history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset

import kpilib
from kpilib.forecast import backtest, with_backtest

WEEKS = pd.date_range("2024-01-01", periods=30, freq="W-MON")


def _ds(qty: list[float], as_of_week: int = 30):
    orders, lines = [], []
    for i, (w, q) in enumerate(zip(WEEKS, qty, strict=False)):
        if q > 0:
            orders.append({"order_id": f"O{i}", "created_at": f"{w.date()}T12:00Z"})
            lines.append({"order_line_id": f"L{i}", "order_id": f"O{i}", "sku": "SKU1",
                          "qty_ordered": q, "assigned_node_id": "N1"})
    # an order after the history fixes data_as_of at the end of the last full week
    end = WEEKS[as_of_week - 1] + pd.Timedelta(days=7, hours=1)
    orders.append({"order_id": "OEND", "created_at": end.isoformat() + "Z"})
    lines.append({"order_line_id": "LEND", "order_id": "OEND", "sku": "SKU9",
                  "qty_ordered": 1})
    return build_dataset(orders=orders, order_lines=lines, nodes=[{"node_id": "N1"}])


def test_naive_forecast_uses_the_period_before_the_lag():
    qty = [5, 7, 9, 11] + [1] * 26
    fc = backtest(_ds(qty), method="naive", lag=1)
    s = fc[fc["sku"] == "SKU1"].set_index("target_period_start")["qty_forecast"]
    # lag 1: target week 3 (01-15) is forecast on 01-08 from week 1 (01-01) = 5
    assert s[pd.Timestamp("2024-01-15")] == 5
    assert s[pd.Timestamp("2024-01-22")] == 7
    made = fc.loc[fc["target_period_start"] == pd.Timestamp("2024-01-22"), "forecast_made_at"]
    assert made.iloc[0] == pd.Timestamp("2024-01-15", tz="UTC")


@pytest.mark.parametrize("method", ["ets", "seasonal_naive", "naive"])
def test_no_forecast_reads_the_future(method):
    rng = np.random.default_rng(7)
    qty = list(rng.integers(1, 20, size=30).astype(float))
    base = backtest(_ds(qty), method=method, lag=1)
    changed = qty.copy()
    changed[25:] = [500.0] * 5      # rewrite weeks 26-30
    after = backtest(_ds(changed), method=method, lag=1)
    cutoff = pd.Timestamp(WEEKS[25], tz="UTC")   # start of week 26
    # every forecast made by then (origin <= start of week 26) is unchanged
    b = base[base["forecast_made_at"] <= cutoff].reset_index(drop=True)
    a = after[after["forecast_made_at"] <= cutoff].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    later = after[after["forecast_made_at"] > cutoff]
    assert not later.empty


def test_ets_used_after_training_window_and_feeds_forecast_kpis():
    qty = [10.0] * 30
    ds = with_backtest(_ds(qty), method="ets", lag=1, min_train=13)
    fc = ds.forecasts[ds.forecasts["sku"] == "SKU1"]
    assert set(fc["forecast_version"]) == {"backtest:naive", "backtest:ets"}
    # a flat history forecasts itself: bias 0 and WAPE 0 on SKU1
    res = kpilib.compute(ds, ["forecast_bias_ratio", "forecast_wape"], by=["sku"])
    sku1 = res[res["sku"] == "SKU1"].set_index("kpi")
    assert sku1.loc["forecast_bias_ratio", "value"] == pytest.approx(0.0)
    assert sku1.loc["forecast_wape", "value"] == pytest.approx(0.0)


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="method"):
        backtest(_ds([1.0] * 30), method="prophet")


def test_grid_ets_matches_statsmodels_fit():
    # same model, two optimisers: forecasts agree closely on a noisy series
    rng = np.random.default_rng(11)
    qty = list((20 + rng.normal(0, 4, size=30)).round().clip(1))
    grid = backtest(_ds(qty), method="ets", lag=1)
    exact = backtest(_ds(qty), method="ets_statsmodels", lag=1)
    g = grid.loc[grid["forecast_version"] == "backtest:ets", "qty_forecast"].to_numpy()
    e = exact.loc[exact["forecast_version"] == "backtest:ets_statsmodels",
                  "qty_forecast"].to_numpy()
    assert len(g) == len(e) > 0
    # statsmodels also estimates the initial level; forecasts stay within 10% of each other
    assert np.allclose(g, e, rtol=0.10)
