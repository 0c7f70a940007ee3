"""p-chart (§7.3), guards (§7.4), fixed targets (§7.1) and worse-band-wins."""

from __future__ import annotations

import pandas as pd
import pytest
from bands_helpers import BASELINE, CFG12, series

from kpilib.bands import apply_bands


def cfg(**kpis):
    return {"defaults": dict(CFG12["defaults"]), "kpis": kpis}


# --- p-chart -------------------------------------------------------------------------------

def test_pchart_limits_follow_denominator():
    # split_shipment_rate (lower is better), baseline 12 weeks of 10/100 -> p̄ = 120/1200 = 0.10
    # week A: n=100, p=0.17: σ = sqrt(.1*.9/100) = 0.03 -> 2σ 0.16 < 0.17 < 3σ 0.19 -> stressed
    # week B: n=400, p=0.17: σ = sqrt(.09/400) = 0.015 -> 3σ line 0.145 < 0.17 -> critical
    # week C: n=400, p=0.04: below p̄ - 3σ (0.055), favourable -> normal
    res = series([0.10] * 12 + [0.17, 0.17, 0.04], "split_shipment_rate",
                 denominator=[100.0] * 13 + [400.0, 400.0])
    out = apply_bands(res, cfg(split_shipment_rate={"chart": "pchart"})).iloc[12:]
    assert list(out["band"]) == ["stressed", "critical", "normal"]
    assert list(out["signals"]) == ["pchart_beyond_2sigma", "pchart_beyond_3sigma",
                                    "favorable_shift"]
    assert out["cl"].iloc[0] == pytest.approx(0.10)
    assert out["ucl"].iloc[0] == pytest.approx(0.19)
    assert out["ucl"].iloc[1] == pytest.approx(0.145)
    assert out["lcl"].iloc[0] == pytest.approx(0.01)


# --- min_denominator ---------------------------------------------------------------------

def test_min_denominator_gives_insufficient_data_without_touching_status():
    # week 13 has denominator 20 < 30: no band, status stays ok; the chart skips it, so the
    # moving range of week 14 is |0.88 - 0.92| (not |0.88 - 0.70|)
    res = series(BASELINE + [0.70, 0.88], denominator=[100.0] * 12 + [20.0, 100.0])
    out = apply_bands(res, CFG12)
    assert out["band"].iloc[12] == "insufficient_data"
    assert out["signals"].iloc[12] == "below_min_denominator"
    assert out["status"].iloc[12] == "ok"
    assert out["band"].iloc[13] == "normal"
    assert not out["alertable"].iloc[12]


def test_min_denominator_is_configurable():
    res = series(BASELINE + [0.85], denominator=20.0)
    assert apply_bands(res, CFG12)["band"].iloc[-1] == "insufficient_data"
    out = apply_bands(res, {"defaults": {**CFG12["defaults"], "min_denominator": 10}})
    assert out["band"].iloc[-1] == "critical"


# --- preliminary --------------------------------------------------------------------------

def test_preliminary_is_banded_but_not_alertable():
    # 0.92 -> 0.85: beyond LCL 0.8568 and MR .07 > .06536 downwards
    res = series(BASELINE + [0.85], status=["ok"] * 12 + ["preliminary"])
    out = apply_bands(res, CFG12)
    assert out["band"].iloc[-1] == "critical"
    assert out["signals"].iloc[-1] == "rule1_beyond_3sigma;mr_above_ucl;preliminary"
    assert not out["alertable"].iloc[-1]
    out = apply_bands(res, {"defaults": {**CFG12["defaults"], "alert_on_preliminary": True}})
    assert out["alertable"].iloc[-1]


def test_preliminary_points_stay_out_of_the_baseline():
    # 12 preliminary + 12 ok points: the baseline is the 12 ok ones (0.50/0.52 -> CL 0.51)
    res = series(BASELINE + [0.50, 0.52] * 6, status=["preliminary"] * 12 + ["ok"] * 12)
    out = apply_bands(res, CFG12)
    assert out["cl"].iloc[0] == pytest.approx(0.51)


# --- hysteresis ---------------------------------------------------------------------------

def test_hysteresis_needs_two_better_periods_to_leave_critical():
    # 0.88 normal, 0.85 critical (rule 1), then two normal weeks: the first is held critical
    res = series(BASELINE + [0.88, 0.85, 0.91, 0.91])
    held = apply_bands(res, {"defaults": {"baseline_k": 12, "hysteresis": 2}}).iloc[12:]
    assert list(held["band"]) == ["normal", "critical", "critical", "normal"]
    assert held["signals"].iloc[2] == "hysteresis_hold"
    free = apply_bands(res, CFG12).iloc[12:]  # hysteresis 0 = off
    assert list(free["band"]) == ["normal", "critical", "normal", "normal"]


def test_hysteresis_m_3_and_reset_on_new_critical():
    # C, N(hold), C again, N(hold), N(hold), N -> leaves only after 3 better in a row
    res = series(BASELINE + [0.85, 0.91, 0.85, 0.91, 0.91, 0.91])
    out = apply_bands(res, {"defaults": {"baseline_k": 12, "hysteresis": 3}}).iloc[12:]
    assert list(out["band"]) == ["critical"] * 5 + ["normal"]


# --- fixed targets ------------------------------------------------------------------------

def test_fixed_higher_is_better():
    # stressed_at .95, critical_at .90: .96 N, .95 N (x >= stressed), .92 S, .90 S, .89 C
    res = series([0.96, 0.95, 0.92, 0.90, 0.89])
    out = apply_bands(res, cfg(perfect_order_rate={
        "chart": "none", "fixed": {"stressed_at": 0.95, "critical_at": 0.90}}))
    assert list(out["band"]) == ["normal", "normal", "stressed", "stressed", "critical"]
    assert out["signals"].iloc[4] == "fixed_critical_low"


def test_fixed_lower_is_better_on_p90():
    # order_cycle_time_hours p90: 48 N (x <= stressed), 60 S, 72 S (x <= critical), 73 C
    res = series([10.0] * 4, "order_cycle_time_hours", unit="hours")
    res["p90"] = [48.0, 60.0, 72.0, 73.0]
    out = apply_bands(res, cfg(order_cycle_time_hours={
        "chart": "none", "fixed": {"stressed_at": 48, "critical_at": 72}}))
    assert list(out["band"]) == ["normal", "stressed", "stressed", "critical"]
    assert out["signals"].iloc[1] == "fixed_stressed_high"


def test_fixed_two_sided():
    # DOS: lower critical 7 / stressed 14, upper stressed 90 / critical 120
    res = series([5, 10, 30, 100, 130], "days_of_supply", unit="days", denominator=float("nan"))
    out = apply_bands(res, cfg(days_of_supply={"chart": "none", "fixed": {
        "lower": {"critical_at": 7, "stressed_at": 14},
        "upper": {"stressed_at": 90, "critical_at": 120}}}))
    assert list(out["band"]) == ["critical", "stressed", "normal", "stressed", "critical"]


def test_shipped_tracking_signal_limit_is_4():
    # packaged config: D8 fixed ±4, no chart, hysteresis 2; 4.0 is not beyond the limit, and
    # -4.0 right after a critical -4.5 is held critical (first of two better periods)
    res = series([-4.5, -4.0, 0.0, 4.0, 4.1], "tracking_signal", unit="MADs",
                 denominator=float("nan"))
    out = apply_bands(res)
    assert list(out["band"]) == ["critical", "critical", "normal", "normal", "critical"]
    assert out["signals"].iloc[0] == "fixed_critical_low"


def test_worse_band_wins_when_both_methods_apply():
    # XmR (limits as in bands_helpers) + fixed stressed .95 / critical .85
    # .88: XmR normal, fixed stressed -> stressed
    # .85: XmR critical (rule 1), fixed stressed (.85 >= critical_at) -> critical
    res = series(BASELINE + [0.88, 0.85])
    out = apply_bands(res, cfg(perfect_order_rate={
        "fixed": {"stressed_at": 0.95, "critical_at": 0.85}})).iloc[12:]
    assert list(out["band"]) == ["stressed", "critical"]
    assert out["signals"].iloc[1] == "rule1_beyond_3sigma;fixed_stressed_low"


def test_fixed_band_used_when_chart_has_too_short_a_baseline():
    res = series([0.96, 0.89])
    out = apply_bands(res, cfg(perfect_order_rate={
        "fixed": {"stressed_at": 0.95, "critical_at": 0.90}}))
    assert list(out["band"]) == ["normal", "critical"]
    assert out["signals"].iloc[1] == "baseline_lt_12;fixed_critical_low"


def test_kpi_with_no_direction_is_not_banded():
    res = series([5.0] * 13, "available_to_promise", unit="units")
    out = apply_bands(res, CFG12)
    assert (out["band"] == "insufficient_data").all()
    assert (out["signals"] == "not_banded").all()


def test_top_level_kpilib_apply_bands():
    import kpilib

    res = pd.concat([series(BASELINE + [0.85])])
    assert kpilib.apply_bands(res, CFG12)["band"].iloc[-1] == "critical"


# --- per-segment settings and the MR option -----------------------------------------------

def test_segment_specific_fixed_targets():
    # stockout_rate (lower is better): class A stricter than class C; 0.06 is critical for A
    # (> 0.05), stressed for C (0.06 > 0.05 stressed_at, <= 0.20 critical_at)
    res = pd.concat([series([0.06], "stockout_rate", abc_class="A"),
                     series([0.06], "stockout_rate", abc_class="C")], ignore_index=True)
    out = apply_bands(res, cfg(stockout_rate={"chart": "none", "segments": {
        "abc_class=A": {"fixed": {"stressed_at": 0.02, "critical_at": 0.05}},
        "abc_class=C": {"fixed": {"stressed_at": 0.05, "critical_at": 0.20}}}}))
    assert list(out["band"]) == ["critical", "stressed"]


def test_more_specific_segment_key_wins():
    res = pd.concat([series([0.06], "stockout_rate", abc_class="A", node="DC-1"),
                     series([0.06], "stockout_rate", abc_class="A", node="DC-2")],
                    ignore_index=True)
    out = apply_bands(res, cfg(stockout_rate={"chart": "none", "segments": {
        "abc_class=A": {"fixed": {"critical_at": 0.05}},
        "abc_class=A, node=DC-2": {"fixed": {"critical_at": 0.10}}}}))
    assert list(out["band"]) == ["critical", "normal"]


def test_mr_rule_adverse_side_ignores_return_from_favourable_excursion():
    # 0.99 (favourable, above UCL 0.9632) then 0.92: MR .07 > .06536 downwards, but 0.92 is
    # still above CL 0.91. As written (§7.2) the MR rule fires; with adverse_side it does not.
    res = series(BASELINE + [0.99, 0.92])
    literal = apply_bands(res, CFG12)
    assert literal["band"].iloc[-1] == "critical"
    assert literal["signals"].iloc[-1] == "mr_above_ucl"
    side = apply_bands(res, cfg(perfect_order_rate={"mr_rule": "adverse_side"}))
    assert side["band"].iloc[-1] == "normal"
