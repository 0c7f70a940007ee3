"""Findings, headline and formatting helpers on hand-built result frames (no engine needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpilib.reports import findings as fnd
from kpilib.reports import units, views

W1 = pd.Timestamp("2024-08-12", tz="UTC")  # ISO week 33
W2 = pd.Timestamp("2024-08-19", tz="UTC")  # ISO week 34


def head_row(**kw):
    base = {"kpi": "perfect_order_rate", "name": "Perfect order rate", "unit": "fraction",
            "direction": "higher", "period": W2, "value": 0.912, "previous": 0.95,
            "previous_period": W1, "change": 0.912 - 0.95, "band": "critical", "signals": "",
            "status": "ok", "display": "91.2%", "change_display": "-3.8 pp"}
    base.update(kw)
    return base


def test_contributions_split_the_change_exactly():
    # Week 1: DC-1 90/100 perfect, DC-2 95/100 -> total 185/200 = 0.925
    # Week 2: DC-1 90/100,          DC-2 80/100 -> total 170/200 = 0.850   (change -0.075)
    # c(DC-1) = 90/200 - 90/200 = 0;  c(DC-2) = 80/200 - 95/200 = -0.075 -> share 100%
    seg = pd.DataFrame({
        "kpi": ["perfect_order_rate"] * 4, "period": [W1, W1, W2, W2],
        "node": ["DC-1", "DC-2", "DC-1", "DC-2"],
        "numerator": [90.0, 95.0, 90.0, 80.0], "denominator": [100.0, 100.0, 100.0, 100.0]})
    c = fnd.contributions(seg, kpi="perfect_order_rate", dim="node", period=W2, previous=W1)
    got = dict(zip(c["node"], c["contribution"], strict=True))
    assert got["DC-2"] == pytest.approx(-0.075)
    assert got["DC-1"] == pytest.approx(0.0)
    assert c["contribution"].sum() == pytest.approx(170 / 200 - 185 / 200)
    assert c.iloc[0]["node"] == "DC-2" and c.iloc[0]["share"] == pytest.approx(1.0)


def test_critical_finding_names_the_segment_that_explains_the_drop():
    seg = pd.DataFrame({
        "kpi": ["perfect_order_rate"] * 4, "period": [W1, W1, W2, W2],
        "node": ["DC-1", "DC-2", "DC-1", "DC-2"],
        "numerator": [90.0, 95.0, 89.0, 80.0], "denominator": [100.0] * 4})
    # change = 169/200 - 185/200 = -0.08; DC-2 contributes -0.075 (93.75%), DC-1 -0.005
    head = pd.DataFrame([head_row()])
    out = fnd.findings(head, freq="W", segments={"node": seg})
    assert out[0].severity == "critical"
    assert out[0].text == (
        "Perfect order rate is critical: 91.2% in week 34 of 2024 (from 2024-08-19) "
        "(-3.8 pp vs the previous period); node DC-2 explains most of it (94% of the change).")


def test_no_driver_for_a_favourable_move_and_all_of_it_over_100_percent():
    # Week 1: DC-1 90/100, DC-2 95/100 (0.925); week 2: DC-1 92/100, DC-2 80/100 (0.86)
    # change -0.065; c(DC-1) = +0.01, c(DC-2) = -0.075 -> share 0.075/0.065 = 115%
    seg = pd.DataFrame({
        "kpi": ["perfect_order_rate"] * 4, "period": [W1, W1, W2, W2],
        "node": ["DC-1", "DC-2", "DC-1", "DC-2"],
        "numerator": [90.0, 95.0, 92.0, 80.0], "denominator": [100.0] * 4})
    out = fnd.findings(pd.DataFrame([head_row(change=-0.065)]), segments={"node": seg})
    assert out[0].text.endswith(
        "; node DC-2 accounts for all of it (other segments moved the other way).")
    # the same numbers read as a rise of a higher-is-better KPI: no driver is named
    rise = head_row(change=0.02, change_display="+2.0 pp", status="preliminary")
    out = fnd.findings(pd.DataFrame([rise]), segments={"node": seg})
    # a rise shown as critical always says why (here the band story of an annotated head)
    assert out[0].text == (
        "Perfect order rate is critical: 91.2% in week 34 of 2024 (from 2024-08-19) "
        "(+2.0 pp vs the previous period) (preliminary: still inside its maturity window, no "
        "alert yet).")
    story = head_row(change=0.02, change_display="+2.0 pp",
                     state="critical, recovering: 1 of 2 periods back within limits",
                     why="held after it was outside its usual range (93.0% to 97.0%)",
                     owner_label="Head of customer service", action="check carriers")
    out = fnd.findings(pd.DataFrame([story]), segments={"node": seg})
    assert out[0].text == (
        "Perfect order rate is critical, recovering: 1 of 2 periods back within limits: 91.2% "
        "in week 34 of 2024 (from 2024-08-19) (+2.0 pp vs the previous period), held after it "
        "was outside its usual range (93.0% to 97.0%). Owner: Head of customer service. "
        "Next step: check carriers.")


def test_stressed_after_critical_and_no_driver_without_segments():
    head = pd.DataFrame([
        head_row(kpi="otif_rate", name="OTIF", band="stressed", display="93.0%",
                 change=0.01, change_display="+1.0 pp"),
        head_row(),
    ])
    out = fnd.findings(head, freq="W")
    assert [f.kpi for f in out[:2]] == ["perfect_order_rate", "otif_rate"]
    assert out[1].text.startswith("OTIF is stressed: 93.0% in week 34")
    assert "explains" not in out[0].text


def test_all_normal_and_largest_improvement():
    head = pd.DataFrame([
        head_row(band="normal", value=0.96, previous=0.95, change=0.01, display="96.0%",
                 change_display="+1.0 pp"),
        head_row(kpi="order_cycle_time_hours", name="Order cycle time", unit="hours",
                 direction="lower", band="normal", value=40.0, previous=50.0, change=-10.0,
                 display="40.0 h", change_display="-10.0 h"),
    ])
    out = fnd.findings(head, freq="W")
    assert out[0].text == ("All 2 headline KPIs are within their normal bands in "
                           "week 34 of 2024 (from 2024-08-19).")
    # relative improvements: +1/95 = 1.05% vs 10/50 = 20% -> cycle time
    assert out[1].text == "Largest improvement: Order cycle time at 40.0 h (-10.0 h)."


def test_kpis_without_a_band_are_not_called_normal():
    head = pd.DataFrame([head_row(band="normal", change=0.0),
                         head_row(kpi="otif_rate", band="insufficient_data", change=0.0)])
    out = fnd.findings(head, freq="W")
    assert out[0].text == ("No headline KPI is stressed or critical in week 34 of 2024 (from "
                           "2024-08-19): 1 in their normal band, 1 without a band (too little "
                           "data to judge).")


def test_missing_values_are_listed():
    head = pd.DataFrame([head_row(band="no band", value=np.nan, change=np.nan,
                                  display="n/a", change_display="n/a")])
    out = fnd.findings(head, freq="W")
    assert out[-1].text == "No value for: Perfect order rate."


def test_malicious_names_stay_plain_text(capsys):
    head = pd.DataFrame([head_row(name="<script>alert(1)</script>")])
    fnd.print_findings(fnd.findings(head, freq="W"))
    # printed as text: nbconvert escapes stream output; nothing here builds HTML
    assert "<script>alert(1)</script>" in capsys.readouterr().out


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.91234, "fraction", "91.2%"), (0.9956, "fraction", "99.56%"), (12.345, "hours", "12.3 h"),
    (4.56, "days", "4.6 d"), (6183.0, "units", "6,183 units"), (3.5, "units", "3.50 units"),
    (8.28, "turns/year", "8.28 turns/yr"), (np.nan, "fraction", "n/a"), (None, "hours", "n/a"),
])
def test_fmt(value, unit, text):
    assert units.fmt(value, unit) == text


def test_money_always_has_a_currency():
    assert units.fmt(7.891, "currency/order", "USD") == "$7.89"
    assert units.fmt(1234.5, "currency/order", "CHF") == "1,234.50 CHF"
    assert units.fmt(7.891, "currency/order") == "7.89 (currency unknown)"
    assert units.fmt_change(-0.57, "currency/order", "USD") == "−$0.57"


def test_fmt_change():
    assert units.fmt_change(-0.038, "fraction") == "−3.8 pp"
    assert units.fmt_change(0.0004, "fraction") == "+0.04 pp"  # small gaps keep 2 decimals
    assert units.fmt_change(0.0, "fraction") == "±0.0 pp"
    assert units.fmt_change(2.5, "hours") == "+2.5 h"
    assert units.fmt_change(-2.5, "hours") == "−2.5 h"


def test_complete_periods_drop_the_running_week():
    res = pd.DataFrame({"kpi": ["k"] * 3, "period": [W1, W2, W2 + pd.Timedelta(days=7)],
                        "value": [1.0, 2.0, 3.0]})
    as_of = W2 + pd.Timedelta(days=9)  # Wednesday of the third week
    done = views.complete_periods(res, "W", as_of)
    assert list(done["value"]) == [1.0, 2.0]


def test_period_label():
    assert fnd.period_label(W2, "W") == "week 34 of 2024 (from 2024-08-19)"
    assert fnd.period_label(W2, "M") == "2024-08"
    assert fnd.period_label(pd.Timestamp("2024-07-01", tz="UTC"), "Q") == "2024-Q3"
    assert fnd.period_label(pd.NaT, "W") == "the whole range"


def test_print_table_is_fixed_width(capsys):
    frame = pd.DataFrame({"name": ["Perfect order rate", "OTIF"], "value": [0.9123456, np.nan],
                          "period": [W1, W2]})
    views.print_table(frame, ["name", "value", "period"])
    assert capsys.readouterr().out.splitlines() == [
        "name                 value      period",
        "Perfect order rate  0.9123  2024-08-12",
        "OTIF                   n/a  2024-08-19",
    ]


def test_the_calm_finding_names_the_same_week_as_the_summary():
    # a KPI whose data ends two weeks earlier must not move the finding's week back
    head = pd.DataFrame([head_row(kpi="otif_rate", band="insufficient_data", change=0.0,
                                  period=pd.Timestamp("2024-08-05", tz="UTC")),
                         head_row(band="normal", change=0.0)])
    out = fnd.findings(head, freq="W")
    assert "in week 34 of 2024 (from 2024-08-19)" in out[0].text
    assert fnd.headline_period(head, "W") == "week 34 of 2024 (from 2024-08-19)"
