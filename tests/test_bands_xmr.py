"""XmR banding (kpi-spec §7.2) on hand-built series; limits worked out in bands_helpers."""

from __future__ import annotations

import pandas as pd
import pytest
from bands_helpers import BASELINE, CFG12, series

from kpilib.bands import apply_bands


def tail(values, kpi="perfect_order_rate", cfg=CFG12, **kw):
    """Band BASELINE + values and return the rows after the baseline."""
    out = apply_bands(series(BASELINE + list(values), kpi, **kw), cfg)
    return out.iloc[len(BASELINE):].reset_index(drop=True)


def test_limits_by_hand():
    out = apply_bands(series(BASELINE + [0.91]), CFG12)
    assert out["cl"].iloc[0] == pytest.approx(0.91)
    assert out["lcl"].iloc[0] == pytest.approx(0.8568)  # 0.91 - 2.66*0.02
    assert out["ucl"].iloc[0] == pytest.approx(0.9632)  # 0.91 + 2.66*0.02
    # the quiet baseline itself is normal with no signals
    assert (out["band"] == "normal").all()
    assert (out["signals"] == "").all()
    assert out["alertable"].all()


def test_rule1_beyond_lower_limit_is_critical():
    # 0.92 -> 0.88 (MR .04) -> 0.85 (MR .03 < .06536; 0.85 < LCL 0.8568)
    out = tail([0.88, 0.85])
    assert list(out["band"]) == ["normal", "critical"]
    assert out["signals"].iloc[1] == "rule1_beyond_3sigma"


def test_rule1_not_fired_on_favourable_side():
    # 0.97 > UCL 0.9632 but higher is better -> normal + favorable_shift
    out = tail([0.94, 0.97])
    assert out["band"].iloc[1] == "normal"
    assert out["signals"].iloc[1] == "favorable_shift"


def test_moving_range_rule_adverse_jump():
    # 0.95 (inside UCL), then 0.88: MR .07 > .06536 and moved down (adverse); 0.88 > LCL
    out = tail([0.95, 0.88])
    assert out["band"].iloc[1] == "critical"
    assert out["signals"].iloc[1] == "mr_above_ucl"


def test_moving_range_rule_not_fired_on_favourable_jump():
    # 0.88 -> 0.95: MR .07 but upward, favourable
    out = tail([0.88, 0.95])
    assert out["band"].iloc[1] == "normal"
    assert "mr_above_ucl" not in out["signals"].iloc[1]


def test_rule2_two_of_three_beyond_2sigma():
    # 2σ lower line 0.874539: 0.87 beyond, 0.90 not, 0.86 beyond (and > LCL 0.8568)
    out = tail([0.87, 0.90, 0.86])
    assert list(out["band"]) == ["normal", "normal", "stressed"]
    assert out["signals"].iloc[2] == "rule2_2of3_beyond_2sigma"


def test_rule2_favourable_mirror_is_normal():
    # 2σ upper line 0.945461: 0.95, 0.92, 0.955 -> favourable
    out = tail([0.95, 0.92, 0.955])
    assert out["band"].iloc[2] == "normal"
    assert out["signals"].iloc[2] == "favorable_shift"


def test_rule3_four_of_five_beyond_1sigma():
    # 1σ lower line 0.892270, 2σ 0.874539: 0.88 is between -> beyond 1σ only
    # window at 5th new point = (0.88, 0.88, 0.90, 0.88, 0.88) -> 4 of 5
    out = tail([0.88, 0.88, 0.90, 0.88, 0.88])
    assert list(out["band"]) == ["normal"] * 4 + ["stressed"]
    assert out["signals"].iloc[4] == "rule3_4of5_beyond_1sigma"


def test_rule4_run_of_8_below_cl():
    # 0.90 < CL 0.91 but inside 1σ; the baseline ends on 0.92, so the run starts fresh
    out = tail([0.90] * 8)
    assert list(out["band"]) == ["normal"] * 7 + ["stressed"]
    assert out["signals"].iloc[7] == "rule4_run_8"


def test_rule4_nelson_run_length_9():
    cfg = {"defaults": {**CFG12["defaults"], "run_length": 9}}
    out = tail([0.90] * 9, cfg=cfg)
    assert list(out["band"]) == ["normal"] * 8 + ["stressed"]
    assert out["signals"].iloc[8] == "rule4_run_9"


def test_rule4_favourable_run_is_normal():
    out = tail([0.92] * 8)
    assert out["band"].iloc[7] == "normal"
    assert out["signals"].iloc[7] == "favorable_shift"


def test_lower_is_better_mirrors():
    # split_shipment_rate: baseline 0.10/0.08 alternating -> CL 0.09, MR̄ 0.02,
    # UCL 0.09 + 0.0532 = 0.1432, LCL 0.0368. 0.12 -> 0.15 beyond UCL (MR .03) -> critical;
    # 0.02 below LCL is favourable.
    base = [0.10, 0.08] * 6
    out = apply_bands(series(base + [0.12, 0.15, 0.09, 0.06, 0.02], "split_shipment_rate"),
                      CFG12).iloc[12:]
    assert list(out["band"]) == ["normal", "critical", "normal", "normal", "normal"]
    assert out["ucl"].iloc[0] == pytest.approx(0.1432)
    assert out["signals"].iloc[1] == "rule1_beyond_3sigma"
    assert out["signals"].iloc[4] == "favorable_shift"


def test_two_sided_both_sides_adverse():
    # days_of_supply: baseline 20/22 -> CL 21, MR̄ 2, limits 21 ± 5.32 = 15.68 / 26.32
    base = [20.0, 22.0] * 6
    out = apply_bands(series(base + [24, 27, 24, 18, 15], "days_of_supply", unit="days"),
                      CFG12).iloc[12:]
    assert list(out["band"]) == ["normal", "critical", "normal", "normal", "critical"]
    assert out["lcl"].iloc[0] == pytest.approx(15.68)
    assert out["ucl"].iloc[0] == pytest.approx(26.32)
    assert "favorable_shift" not in ";".join(out["signals"])


def test_two_sided_run_rule_on_either_side():
    base = [20.0, 22.0] * 6
    above = apply_bands(series(base + [22.0] * 8, "days_of_supply", unit="days"), CFG12)
    below = apply_bands(series(base + [20.0] * 8, "days_of_supply", unit="days"), CFG12)
    assert above["band"].iloc[-1] == "stressed" and below["band"].iloc[-1] == "stressed"


def test_limits_clamped_to_rate_range():
    # baseline 0.00/0.02 -> CL 0.01, MR̄ 0.02, raw LCL 0.01 - 0.0532 < 0 -> clamped to 0
    out = apply_bands(series([0.0, 0.02] * 6, "split_shipment_rate"), CFG12)
    assert out["lcl"].iloc[0] == 0.0
    assert out["ucl"].iloc[0] == pytest.approx(0.0632)


def test_baseline_shorter_than_12_is_insufficient():
    out = apply_bands(series(BASELINE[:11]), CFG12)
    assert (out["band"] == "insufficient_data").all()
    assert (out["signals"] == "baseline_lt_12").all()
    assert not out["alertable"].any()


def test_baseline_is_fixed_first_k_not_rolling():
    # after the 12-point baseline, a slow slide never moves CL
    out = apply_bands(series(BASELINE + [0.89] * 12), CFG12)
    assert out["cl"].nunique() == 1 and out["cl"].iloc[-1] == pytest.approx(0.91)
    # 0.89 is beyond 1σ (0.89227): 4 of 5 from the 4th slide point, run of 8 later
    assert out["band"].iloc[-1] == "stressed"


def test_explicit_baseline_window():
    # 4 noisy weeks, then the calm baseline (weeks 5-16), re-based by config
    values = [0.70, 0.99, 0.70, 0.99] + BASELINE
    cfg = {"defaults": {"baseline_start": "2024-01-29", "baseline_end": "2024-04-22",
                        "hysteresis": 0}}
    out = apply_bands(series(values), cfg)  # periods are Mondays from 2024-01-01
    assert out["cl"].iloc[0] == pytest.approx(0.91)
    assert out["band"].iloc[0] == "critical"  # 0.70 < LCL of the calm baseline


def test_default_k_is_20():
    # 20 baseline points at 0.90/0.92, then 0.50/0.52 ten times: CL must stay 0.91
    out = apply_bands(series([0.90, 0.92] * 10 + [0.5, 0.52] * 5), {})
    assert out["cl"].iloc[0] == pytest.approx(0.91)


def test_duration_charts_p90_by_default():
    # order_cycle_time_hours: mean 29/31 alternating (CL 30, MR̄ 2, UCL 35.32), p90 baseline
    # 50/54 -> CL 52, MR̄ 4, UCL 52 + 10.64 = 62.64; p90 = 70 -> critical, the mean is calm
    res = series([29.0, 31.0] * 7, "order_cycle_time_hours", unit="hours")
    res["p90"] = [50.0, 54.0] * 6 + [56.0, 70.0]
    out = apply_bands(res, CFG12)
    assert out["cl"].iloc[0] == pytest.approx(52.0)
    assert out["ucl"].iloc[0] == pytest.approx(62.64)
    assert out["band"].iloc[-1] == "critical"
    assert out["band_metric"].iloc[-1] == "p90" and out["band_value"].iloc[-1] == 70.0
    # charting the mean instead: nothing fires
    cfg = {"defaults": {**CFG12["defaults"], "metric": "value"}}
    assert apply_bands(res, cfg)["band"].iloc[-1] == "normal"


def test_series_are_per_segment_and_order_preserved():
    web = series(BASELINE + [0.85], channel="web")
    app = series(BASELINE + [0.91], channel="app")
    res = pd.concat([web, app]).sample(frac=1.0, random_state=3)
    out = apply_bands(res, CFG12)
    assert list(out.index) == list(res.index)  # same rows, same order
    last = out[out["period"] == out["period"].max()].set_index("channel")["band"]
    assert last["web"] == "critical" and last["app"] == "normal"


def test_status_undefined_and_unavailable_rows():
    res = series(BASELINE + [0.85, float("nan")])
    res.loc[13, "status"] = "undefined"
    extra = series([float("nan")], "stockout_rate", status="unavailable")
    out = apply_bands(pd.concat([res, extra], ignore_index=True), CFG12)
    assert out.loc[13, "band"] == "insufficient_data"
    assert out.loc[13, "signals"] == "status_undefined"
    assert out.loc[14, "band"] == "insufficient_data"
    assert out.loc[14, "signals"] == "status_unavailable"
    assert out.loc[12, "band"] == "critical"


def test_empty_results():
    out = apply_bands(series([]).iloc[:0], CFG12)
    assert list(out.columns[-8:]) == ["band", "signals", "cl", "lcl", "ucl", "alertable",
                                      "band_metric", "band_value"]
    assert out.empty


def test_constant_baseline_gives_no_chart_band():
    # MR̄ = 0 -> σ̂ = 0: limits would equal CL and any change would be "beyond 3σ"
    out = apply_bands(series([0.0] * 12 + [1.0], "waves_late", unit="count",
                             denominator=float("nan")), CFG12)
    assert (out["band"] == "insufficient_data").all()
    assert out["signals"].iloc[-1] == "baseline_no_variation"
