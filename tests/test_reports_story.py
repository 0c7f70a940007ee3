"""One band story per KPI: recovering, targets, owners, the HTML that shows them."""

from __future__ import annotations

import pandas as pd
import pytest
from bands_helpers import BASELINE, CFG12, series

from kpilib.bands import apply_bands
from kpilib.bands.targets import Target, gap, load_targets
from kpilib.errors import ConfigError
from kpilib.reports import render, story, views
from kpilib.reports.actions import annotate, perfect_order_apqc
from kpilib.roles import load_roles_config

# 12 baseline weeks (CL 0.91, LCL 0.8568), a crash to 0.80 (critical), then 0.91: with
# hysteresis 2 the recovered week is held critical (1 of 2 periods back within limits).
VALUES = [*BASELINE, 0.80, 0.91]
CFG = {"defaults": {**CFG12["defaults"], "hysteresis": 2}}


def _head(values, as_of="2024-04-08"):
    banded = apply_bands(series(values), CFG)
    head = views.headline(banded, freq="W", as_of=as_of)
    return banded, head


def test_held_critical_says_recovering_and_why():
    banded, head = _head(VALUES)
    row = head.iloc[0]
    assert row["band"] == "critical" and "hysteresis_hold" in row["signals"]
    st = story.tell(banded, row, hysteresis=2)
    assert st.state == "critical, recovering: 1 of 2 periods back within limits"
    # the reason is the breach that started it (week 13: 0.80 < LCL 0.8568, and the moving
    # range |0.80 - 0.92| = 0.12 > 3.268 * 0.02 = 0.065)
    assert st.why == ("held after it was outside its usual range (85.7% to 96.3%); an "
                      "unusually large jump from the period before")
    assert st.since == pd.Timestamp("2024-03-25", tz="UTC")  # week 13, the crash
    assert st.alerted  # final value, critical: alerted, like `kpilib alerts`


def test_back_to_normal_after_two_better_periods():
    banded, head = _head([*VALUES, 0.91], as_of="2024-04-15")
    st = story.tell(banded, head.iloc[0], hysteresis=2)
    assert st.state == "normal" and st.why == "" and st.since is None


def test_in_control_but_below_target():
    # week 13 (from 03-25) normal at 0.91 against a 99.7% target: 8.7 pp short, in control
    banded, head = _head(BASELINE + [0.91], as_of="2024-04-01")
    t = Target("perfect_order_rate", target=0.997)
    st = story.tell(banded, head.iloc[0], target=t)
    assert st.state == "normal"
    assert st.target == "in control but 8.7 pp below target 99.70%"


def test_targets_preset_and_gap():
    t = load_targets("benchmarks")
    ots = t["on_time_shipment_rate"]
    assert ots.target == 0.997 and "WERC" in ots.source
    assert t["tracking_signal"].lower == -4 and t["tracking_signal"].upper == 4
    assert gap(t["on_time_shipment_rate"], 0.837, "higher") == pytest.approx(-0.16)
    assert gap(Target("x", target=5.0), 7.0, "lower") == pytest.approx(-2.0)
    assert gap(t["tracking_signal"], -8.08, "target") == pytest.approx(-4.08)
    assert gap(t["tracking_signal"], 1.0, "target") == 0.0
    assert load_targets(None) == {}
    with pytest.raises(ConfigError):
        load_targets({"targets": {"otif_rate": {"goal": 1}}})


def test_apqc_is_the_product_of_the_components():
    head = pd.DataFrame({"kpi": ["on_time_delivery_rate", "in_full_rate",
                                 "documentation_accuracy_rate", "perfect_condition_rate"],
                         "value": [0.9, 0.8, 1.0, 0.5]})
    assert perfect_order_apqc(head) == pytest.approx(0.36)  # 0.9 * 0.8 * 1.0 * 0.5


def test_summary_html_names_owner_action_and_no_ids():
    banded, head = _head(VALUES)
    head = annotate(head, banded, targets={}, roles=load_roles_config())
    page = render.summary(head, freq="W", context="ctx") + render.kpi_table(head, freq="W")
    assert "Head of customer service" in page  # owner of perfect_order_rate, by label
    assert "recovering: 1 of 2 periods back within limits" in page
    assert "perfect_order_rate" not in page and "customer_service" not in page
    assert '<td class="num">' in page  # numbers right-aligned


def test_html_escapes_data():
    _, head = _head(VALUES)
    head["name"] = "<script>alert(1)</script>"
    page = render.kpi_table(head, freq="W")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_calm_summary_says_how_many_headline_kpis_it_could_not_judge():
    _, head = _head(VALUES)
    head = head.assign(band="normal")
    assert "could not be judged" not in render.summary(head, freq="W", context="")
    head.loc[head.index[0], "band"] = "insufficient_data"
    page = render.summary(head, freq="W", context="")
    assert f"1 of {len(head)} headline KPIs could not be judged" in page
    assert "no value in this data" not in page
    head.loc[head.index[0], "value"] = float("nan")  # unavailable: no value, not unjudged
    page = render.summary(head, freq="W", context="")
    assert "could not be judged" not in page
    assert f"1 of {len(head)} have no value in this data" in page


def test_calm_totals_still_name_the_open_segment_alerts_on_the_first_screen():
    _, head = _head(VALUES)
    head = head.assign(band="normal")
    alerts = [{"name": "Order cycle time", "where": "channel web", "band": "critical"},
              {"name": "Allocation failure rate", "where": "channel b2b", "band": "stressed"}]
    page = render.summary(head, freq="W", context="", segment_alerts=alerts)
    assert "Nothing needs action" not in page
    assert "No headline total needs action in" in page
    assert "2 segment alerts open (1 critical)" in page
    assert "Order cycle time in channel web" in page
    assert "Allocation failure rate in channel b2b" in page


def test_a_summary_with_nothing_judged_does_not_say_nothing_needs_action():
    _, head = _head(VALUES)
    page = render.summary(head.assign(band="insufficient_data"), freq="W", context="")
    assert "No headline KPI could be judged in" in page and "Nothing needs action" not in page


def test_the_usual_level_is_quoted_once():
    # Days of supply 25.4 d against a centre line of 34.2 d, two run rules at once
    row = pd.Series({"signals": "rule2_2of3_beyond_2sigma;rule4_run_8", "unit": "d",
                     "value": 25.4, "cl": 34.2})
    assert story.why(row) == ("recent periods well below the usual level (34.2 d); "
                              "8 periods in a row below the usual level")
    alone = pd.Series({"signals": "rule4_run_8", "unit": "d", "value": 40.0, "cl": 34.2})
    assert story.why(alone) == "8 periods in a row above the usual level (34.2 d)"
    no_centre = pd.Series({"signals": "rule4_run_8", "unit": "d", "value": 40.0})
    assert story.why(no_centre) == "8 periods in a row above the usual level"
