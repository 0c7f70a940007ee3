"""Early-warning flags and closures, the live page, and the report index's link to it."""

from __future__ import annotations

import pandas as pd
from test_reports_index import manifest

from kpilib import early_warning as ew
from kpilib.reports.index import render_index

T = pd.Timestamp("2024-03-10 12:00", tz="UTC")


def _queue() -> pd.DataFrame:
    # item  risk  hours_left  value -> alert?  (threshold 0.5, near 12 h, high value = top 10 %)
    # A     0.9   30          10    -> no: risky but neither near nor high value
    # B     0.6   5           10    -> yes, near the deadline: critical
    # C     0.7   40          1000  -> yes, high value (>= the 0.9 quantile 910): stressed
    # D     0.2   2           1000  -> no: below the threshold
    return pd.DataFrame({
        "item": list("ABCD"), "item_type": "order", "owner_role": "ops", "node": "DC1",
        "channel": "web", "deadline": [T + pd.Timedelta(hours=h) for h in (30, 5, 40, 2)],
        "hours_left": [30.0, 5.0, 40.0, 2.0], "risk": [0.9, 0.6, 0.7, 0.2],
        "order_value": [10.0, 10.0, 1000.0, 1000.0], "reasons": "x"})


def test_alert_needs_risk_and_high_value_or_near_deadline():
    cfg = ew.settings({"threshold": 0.5})  # the default "auto" is the model's (test_risk_snapshots)
    q = _queue()
    q["alert"] = ew.alert_flags(q, cfg)
    assert q["alert"].tolist() == [False, True, True, False]
    recs = ew.alert_records(q, cfg, "b1", T)
    assert recs["alert_key"].tolist() == ["early_warning|order=B", "early_warning|order=C"]
    assert recs["band"].tolist() == ["critical", "stressed"]
    assert "60% risk" in recs["reason"].iloc[0] and "5.0 h left" in recs["reason"].iloc[0]
    assert recs["reason"].iloc[1].startswith("Order C at DC1 (web) has a 70% risk")
    assert "order value 1,000.00" in recs["reason"].iloc[1]


def test_an_unreleased_order_alert_says_so():
    cfg = ew.settings({"threshold": 0.5})
    q = _queue().assign(node="unreleased")
    q["alert"] = ew.alert_flags(q, cfg)
    reason = ew.alert_records(q, cfg, "b1", T)["reason"].iloc[0]
    assert reason.startswith("Order B not yet released (web) has a 60% risk")


def test_items_leaving_the_queue_close_their_alert():
    state = {"early_warning|order=A": {"kpi": "early_warning"},
             "early_warning|order=B": {"kpi": "early_warning"},
             "perfect_order_rate|": {"kpi": "perfect_order_rate"}}
    still = pd.DataFrame({"alert_key": ["early_warning|order=B"]})
    out = ew.closures(state, still, T)
    assert out["alert_key"].tolist() == ["early_warning|order=A"]  # KPI alerts untouched
    assert out["band"].tolist() == ["normal"] and out["period"].tolist() == [T]


def test_index_links_live_page_only_when_present():
    m = manifest()
    assert 'href="../live.html"' in render_index(m, [], [m], live=True)
    assert "live.html" not in render_index(m, [], [m])


def test_live_page_speaks_plainly():
    """Column labels instead of field names, KPI names, alert flag as a word, UTC times."""
    from kpilib.reports.live import page

    m = {"run_id": "b7", "data_as_of": "2024-03-10T12:00:00+00:00", "batches": ["b7"],
         "created_at": "2024-03-10T12:05:31.123456+00:00", "early_warning": 4}
    alerts = pd.DataFrame({"band": ["stressed", "critical"], "owner_role": "ops",
                           "kpi": ["early_warning", "unreleased_order_age_hours"], "segment": "",
                           "reason": "r"})
    q = _queue().assign(alert=[False, True, True, False])
    html = page(m, "g000007", alerts, q)
    assert "<th>Ship-by (UTC)</th>" in html and "<th>hours_left</th>" not in html
    assert "<td>raised</td>" in html and "<td>False</td>" not in html
    assert "<td>Early warning</td>" in html and "<td>Unreleased order age (snapshot)</td>" in html
    assert "data as of <b>2024-03-10 12:00 UTC</b>" in html
    assert "written 2024-03-10 12:05 UTC" in html
    assert "top 4 of 4 open order(s)" in html
    # critical before stressed, as the page sorts them
    assert html.index("Unreleased order age") < html.index("<td>Early warning</td>")
