"""kpilib.plotting: every chart draws into the given Axes, returns it and never shows."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from kpilib import plotting


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("plotting must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)


def banded(n: int = 8) -> pd.DataFrame:
    periods = pd.date_range("2024-01-01", periods=n, freq="W-MON", tz="UTC")
    bands = ["normal"] * (n - 2) + ["stressed", "critical"]
    return pd.DataFrame({
        "kpi": "perfect_order_rate", "period": periods, "value": np.linspace(0.95, 0.90, n),
        "unit": "fraction", "band": bands, "cl": 0.94, "lcl": 0.91, "ucl": 0.97,
        "band_value": np.linspace(0.95, 0.90, n), "band_metric": "value"})


def test_control_chart_draws_points_in_band_colours_and_limits():
    fig, ax = plt.subplots()
    out = plotting.control_chart(banded(), kpi="perfect_order_rate", ax=ax)
    assert out is ax
    colours = {to_hex(c.get_facecolor()[0]) for c in ax.collections if hasattr(c, "get_offsets")
               and len(c.get_offsets())}
    assert {plotting.BAND_COLOURS[b] for b in ("normal", "stressed", "critical")} <= colours
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "centre line" in labels and "critical" in labels
    assert ax.get_yticklabels()[0].get_text().endswith("%")  # rates as percentages


def test_control_chart_without_values_says_so():
    empty = banded().assign(value=np.nan, band_value=np.nan)
    ax = plotting.control_chart(empty, kpi="perfect_order_rate")
    assert any("no values" in t.get_text() for t in ax.texts)


def test_control_grid_hides_unused_axes():
    axes = plotting.control_grid(banded(), kpis=["perfect_order_rate", "missing_kpi"], ncols=2)
    assert axes.shape == (1, 2)
    assert axes[0, 0].get_visible() and not axes[0, 1].get_visible()


def test_distribution_marks_median_and_p90():
    data = pd.DataFrame({"hours": np.arange(1.0, 101.0)})
    ax = plotting.distribution(data, x="hours")
    texts = [t.get_text() for t in ax.texts]
    # median of 1..100 = 50.5, p90 (linear) = 90.1
    assert " p50 50.5" in texts and " p90 90.1" in texts


def test_segment_comparison_one_bar_per_segment_sorted():
    res = pd.DataFrame({"kpi": "k", "channel": ["web", "app", "store"], "value": [0.9, 0.7, 0.8],
                        "unit": "fraction", "band": ["normal", "critical", "normal"]})
    ax = plotting.segment_comparison(res, kpi="k", by="channel")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["app", "store", "web"]
    assert to_hex(ax.patches[0].get_facecolor()) == plotting.BAND_COLOURS["critical"]


def test_heatmap_annotates_cells():
    table = pd.DataFrame([[10, 2], [3, 4]], index=["A", "B"], columns=["X", "Y"])
    ax = plotting.heatmap(table, title="ABC x XYZ")
    assert sorted(t.get_text() for t in ax.texts) == ["10", "2", "3", "4"]


def test_driver_bars_weakest_first():
    ax = plotting.driver_bars(pd.Series({"on time": 0.9, "in full": 0.99, "damage free": 0.97}))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["on time", "damage free", "in full"]


def test_chartable_needs_two_judged_points():
    from kpilib.plotting import chartable

    rows = pd.DataFrame({
        "kpi": ["a", "a", "a", "a"],
        "value": [0.5, 0.6, 0.7, float("nan")],
        "status": ["partial", "ok", "ok", "ok"],
        "signals": ["", "below_min_denominator", "", ""],
    })
    # judged: only row 3 (row 1 is the running period, row 2 too thin, row 4 has no value)
    assert not chartable(rows, "a")
    more = pd.concat([rows, rows.iloc[[2]]], ignore_index=True)
    assert chartable(more, "a")  # two judged points
    assert not chartable(rows, "b") and not chartable(rows.iloc[:0], "a")
