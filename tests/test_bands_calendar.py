"""Calendar windows (peak seasons, disruptions): out of the normal baseline, own limits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from bands_helpers import series

from kpilib.alerts import from_bands
from kpilib.bands import apply_bands, load_bands_config
from kpilib.bands.config import default_config_path
from kpilib.errors import ConfigError
from kpilib.reports import render, story

ROOT = Path(__file__).resolve().parents[1]
# 25 weekly periods from 2024-09-16, a rate alternating 0.94 / 0.96 (even / odd index); index 10
# is the week of 2024-11-25 (Black Friday 11-29), set to 0.80 below.
START = "2024-09-16"
BF = 10
BF_WEEK = pd.Timestamp("2024-11-25", tz="UTC")
DEFAULTS = {"baseline_k": 20, "baseline_min": 12, "hysteresis": 0}
PEAK = {"name": "black-friday", "kind": "peak_season", "start": "2024-11-29",
        "end": "2024-12-02", "kpis": ["perfect_order_rate"],
        "fixed": {"stressed_at": 0.85, "critical_at": 0.75}}


def _values(bf: float) -> list[float]:
    v = [0.94 if i % 2 == 0 else 0.96 for i in range(25)]
    v[BF] = bf
    return v


def _band(values, calendar=None, **defaults):
    cfg = {"defaults": {**DEFAULTS, **defaults}}
    if calendar is not None:
        cfg["calendar"] = calendar
    return apply_bands(series(values, start=START), cfg)


def test_black_friday_is_stressed_within_peak_limits_not_critical():
    # without a calendar the 0.80 week is in the baseline and still critical: the first 20
    # weeks have CL = (10*0.96 + 9*0.94 + 0.80)/20 = 0.943, MR̄ = (2*0.16 + 17*0.02)/19
    # = 0.034737, LCL = 0.943 - 2.66*0.034737 = 0.850600 > 0.80
    plain = _band(_values(0.80))
    assert plain.loc[BF, "band"] == "critical"
    assert plain.loc[BF, "lcl"] == pytest.approx(0.943 - 2.66 * 0.66 / 19)
    banded = _band(_values(0.80), [PEAK])
    row = banded.loc[BF]
    assert row["period"] == BF_WEEK
    assert row["band"] == "stressed"
    # beyond the normal limits (rule 1) and below the window's stressed_at 0.85, above its
    # critical_at 0.75
    assert row["signals"] == ("window:peak_season:black-friday;rule1_beyond_3sigma;"
                              "window_fixed_stressed_low")
    assert row["note"] == "stressed (peak season, within peak limits)"
    assert row["alertable"]
    # the other weeks are untouched: no window signal, no note
    assert (banded.drop(index=BF)["band"] == "normal").all()
    assert not banded.drop(index=BF)["signals"].str.contains("window").any()
    assert (banded.drop(index=BF)["note"] == "").all()


def test_baseline_leaves_out_the_window_periods():
    # the first 20 weeks outside the window: indexes 0-9 and 11-20, ten 0.94 and ten 0.96
    #   CL = 0.95; moving ranges: 9 x 0.02, |0.96 (i=9) - 0.96 (i=11)| = 0, 9 x 0.02
    #   MR̄ = 0.36/19; LCL = 0.95 - 2.66*0.36/19 = 0.8996; UCL = 1.0004 clamped to 1
    banded = _band(_values(0.80), [PEAK])
    assert banded["cl"].iloc[0] == pytest.approx(0.95)
    assert banded["lcl"].iloc[0] == pytest.approx(0.8996)
    assert banded["ucl"].iloc[0] == pytest.approx(1.0)
    # the return from 0.80 to 0.96 after the window is no moving-range jump: week 11 is
    # compared with week 9, across the window
    assert banded.loc[BF + 1, "signals"] == ""


def test_breach_of_the_peak_limits_escalates_and_alerts():
    banded = _band(_values(0.70), [PEAK])
    row = banded.loc[BF]
    assert row["band"] == "critical"  # 0.70 < critical_at 0.75
    assert "window_fixed_critical_low" in row["signals"]
    assert row["note"] == "critical (peak season, beyond peak limits)"
    alerts = from_bands(banded, latest_only=False)
    assert list(alerts["period"]) == [BF_WEEK] and list(alerts["band"]) == ["critical"]
    assert alerts["reason"].iloc[0].startswith(
        "Perfect order rate 70.0% is critical (peak season black-friday, beyond peak limits; "
        "below the window's critical target and beyond the 3σ lower limit 90.0%) overall")


def test_window_without_limits_is_capped_at_stressed():
    peak = {k: v for k, v in PEAK.items() if k != "fixed"}
    row = _band(_values(0.70), [peak]).loc[BF]
    assert row["band"] == "stressed"
    assert row["signals"] == ("window:peak_season:black-friday;rule1_beyond_3sigma;"
                              "window_no_limits")
    assert row["note"] == "stressed (peak season, no peak limits)"


def test_limits_from_past_periods_of_the_same_kind():
    # 12 normal weeks at 0.94/0.96, then a 13-week peak at 0.80/0.82 whose 13th week is x,
    # then 2 normal weeks. baseline_k = 12: normal CL 0.95, LCL 0.95 - 2.66*0.02 = 0.8968;
    # peak chart from the first 12 peak weeks: CL 0.81, LCL 0.81 - 0.0532 = 0.7568
    def run(x):
        v = [0.94, 0.96] * 6 + [0.80, 0.82] * 6 + [x] + [0.94, 0.96]
        peak = {"name": "peak-2024", "kind": "peak_season", "start": "2024-03-25",
                "end": "2024-06-24"}
        cfg = {"defaults": {"baseline_k": 12, "hysteresis": 0}, "calendar": [peak]}
        return apply_bands(series(v), cfg)

    banded = run(0.78)
    inside = banded.iloc[12:25]
    assert banded["lcl"].iloc[0] == pytest.approx(0.8968)
    # every peak week is beyond the normal LCL but within the peak chart: stressed; no run
    # rule fires in the window (13 weeks below CL would be rule 4 otherwise)
    assert (inside["band"] == "stressed").all()
    assert (inside["note"] == "stressed (peak season, within peak limits)").all()
    assert not inside["signals"].str.contains("rule4|rule2|rule3|mr_above").any()
    assert (banded.iloc[25:]["band"] == "normal").all()
    row = run(0.70).iloc[24]  # 0.70 < 0.7568: beyond the peak chart's own limit
    assert row["band"] == "critical"
    assert "window_rule1_beyond_3sigma" in row["signals"]


def test_a_period_overlapping_the_window_end_is_in_it_and_kpis_restrict():
    # end 2024-12-03 (exclusive) reaches into the week of 2024-12-02 (Cyber Monday)
    peak = {**PEAK, "end": "2024-12-03"}
    banded = _band(_values(0.80), [peak])
    assert banded.loc[BF + 1, "signals"].startswith("window:peak_season:black-friday")
    assert banded.loc[BF + 1, "note"] == "normal (peak season, within peak limits)"
    # a window for another KPI does not touch this one
    other = {**PEAK, "kpis": ["otif_rate"]}
    assert _band(_values(0.80), [other]).loc[BF, "band"] == "critical"


def test_story_and_table_say_within_peak_limits():
    banded = _band(_values(0.80), [PEAK])
    row = banded.loc[BF]
    st = story.tell(banded.iloc[: BF + 1], row, hysteresis=0)
    assert st.state == "stressed (peak season, within peak limits)"
    assert st.why == "below its peak threshold; outside its usual range (90.0% to 100.0%)"
    assert st.alerted
    head = banded.iloc[[BF]].assign(name="Perfect order rate", display="80.0%",
                                    change_display="", state=st.state)
    page = render.kpi_table(head, freq="W")
    assert ">stressed</span>" in page
    assert "peak season, within peak limits" in page


@pytest.mark.parametrize(("window", "key", "words"), [
    ({**PEAK, "kind": "peak_seasn"}, "calendar[0].kind", "did you mean 'peak_season'"),
    ({**PEAK, "end": "2024-11-29"}, "calendar[0].end", "must be after start"),
    ({**PEAK, "end": "2024-11-01"}, "calendar[0].end", "end is exclusive"),
    ({**PEAK, "start": "not a date"}, "calendar[0].start", "not a date"),
    ({k: v for k, v in PEAK.items() if k != "end"}, "calendar[0].end", "missing"),
    ({**PEAK, "limits": {}}, "calendar[0].limits", "unknown key"),
    ({**PEAK, "kpis": ["perfect_ordr_rate"]}, "calendar[0].kpis", "unknown KPI id"),
    ({k: v for k, v in PEAK.items() if k != "kpis"}, "calendar[0].fixed", "list the KPIs"),
    ({**PEAK, "fixed": {"stressed_at": 0.75, "critical_at": 0.85}},
     "calendar[0].fixed.critical_at", "higher is better"),
    ({**PEAK, "name": "a;b"}, "calendar[0].name", "without ';'"),
])
def test_invalid_window_names_the_key(window, key, words):
    with pytest.raises(ConfigError) as info:
        load_bands_config({"calendar": [window]})
    assert info.value.key == key
    assert words in str(info.value)


def test_overlapping_windows_and_duplicate_names_are_rejected():
    cyber = {"name": "cyber-week", "kind": "carrier_disruption", "start": "2024-12-01",
             "end": "2024-12-08"}
    with pytest.raises(ConfigError) as info:
        load_bands_config({"calendar": [PEAK, cyber]})
    assert info.value.key == "calendar[1]"
    assert "overlaps calendar[0] ('black-friday') for perfect_order_rate" in str(info.value)
    # the same dates for KPIs that do not overlap are fine
    cfg = load_bands_config({"calendar": [PEAK, {**cyber, "kpis": ["otif_rate"]}]})
    assert [w.name for w in cfg.windows_for("otif_rate")] == ["cyber-week"]
    with pytest.raises(ConfigError, match="already the name"):
        load_bands_config({"calendar": [PEAK, {**cyber, "name": "black-friday",
                                               "start": "2025-01-01", "end": "2025-01-02"}]})
    with pytest.raises(ConfigError, match="must be a list"):
        load_bands_config({"calendar": {"black-friday": PEAK}})


def test_packaged_config_has_an_empty_calendar():
    assert load_bands_config().calendar == ()


def _docs_calendar() -> tuple[list, str]:
    """The ``calendar`` YAML block of docs/banding.md and the section's text (one line)."""
    text = (ROOT / "docs" / "banding.md").read_text(encoding="utf-8")
    section = text.split("## Calendar windows", 1)[1].split("\n## ", 1)[0]
    block = section.split("```yaml", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)["calendar"], " ".join(section.split())


def test_docs_worked_example_is_what_the_code_does():
    calendar, section = _docs_calendar()
    row = _band(_values(0.80), calendar).loc[BF]
    assert row["band"] == "stressed" and row["note"] in section
    assert f"`{row['signals']}`" in section
    assert f"`LCL` = 0.95 − 2.66 · 0.36 / 19 = {row['lcl']:.2%}" in section
    alert = from_bands(_band(_values(0.70), calendar), latest_only=False).iloc[0]
    assert f'"{alert["reason"]}"' in section


def test_packaged_header_example_loads():
    # the commented example in the packaged bands.yaml header is a valid calendar
    lines = default_config_path().read_text(encoding="utf-8").splitlines()
    start = lines.index("#   calendar:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#   "):
            break
        block.append(line[4:])
    cfg = load_bands_config({"calendar": yaml.safe_load("\n".join(block))["calendar"]})
    (w,) = cfg.windows_for("on_time_shipment_rate")
    assert (w.kind, w.start, w.end) == ("peak_season", pd.Timestamp("2024-11-29"),
                                        pd.Timestamp("2024-12-03"))


def test_naive_window_dates_are_wall_clock_in_the_periods_zone():
    # weeks starting Monday 00:00 in Berlin (23:00 UTC the day before). A naive end
    # 2024-12-02 is Monday 00:00 Berlin: the week of 12-02 is not in the window. An end of
    # 2024-12-02 00:00 UTC is 01:00 Berlin: that week overlaps it by an hour.
    frame = series(_values(0.80), start=START)
    frame["period"] = pd.date_range(START, periods=25, freq="W-MON", tz="Europe/Berlin")
    cfg = {"defaults": DEFAULTS}
    naive = apply_bands(frame, {**cfg, "calendar": [PEAK]})
    assert naive.loc[BF, "band"] == "stressed" and naive.loc[BF + 1, "note"] == ""
    utc = apply_bands(frame, {**cfg, "calendar": [{**PEAK, "end": "2024-12-02T00:00:00Z"}]})
    assert utc.loc[BF + 1, "note"] == "normal (peak season, within peak limits)"


def test_pchart_window_period_is_capped_too():
    # p-chart, 1000 orders a week. Normal baseline (first 20 outside the window):
    # p̄ = 0.95, σ = sqrt(0.95*0.05/1000) = 0.006892, LCL = 0.95 - 3σ = 0.929324;
    # 0.80 is far below it, but in the window without own limits: stressed
    frame = series(_values(0.80), start=START, denominator=1000.0)
    peak = {k: v for k, v in PEAK.items() if k != "fixed"}
    cfg = {"defaults": {**DEFAULTS, "chart": "pchart"}}
    assert apply_bands(frame, cfg).loc[BF, "band"] == "critical"
    row = apply_bands(frame, {**cfg, "calendar": [peak]}).loc[BF]
    assert row["band"] == "stressed"
    assert row["lcl"] == pytest.approx(0.95 - 3 * (0.95 * 0.05 / 1000) ** 0.5)
    assert row["signals"] == ("window:peak_season:black-friday;pchart_beyond_3sigma;"
                              "window_no_limits")
