"""Alert records, reasons, de-duplication across runs and closing on recovery."""

from __future__ import annotations

import json

import pandas as pd
from bands_helpers import BASELINE, CFG12, series

from kpilib.alerts import AlertStore, from_bands, latest_per_series
from kpilib.alerts.records import kpi_name
from kpilib.bands import apply_bands

AS_OF = "2024-04-01T06:00Z"


def banded(web_tail, app_tail=(0.91,), kpi="perfect_order_rate"):
    res = pd.concat([series(BASELINE + list(web_tail), kpi, channel="web"),
                     series(BASELINE + list(app_tail), kpi, channel="app")], ignore_index=True)
    return apply_bands(res, CFG12)


def test_records_only_latest_stressed_or_critical():
    # web: 0.88 normal then 0.85 critical (rule 1; LCL 0.8568); app: normal
    alerts = from_bands(banded([0.88, 0.85]), None, run_id="r1", as_of=AS_OF)
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert (a["kpi"], a["segment"], a["band"]) == ("perfect_order_rate", "channel=web", "critical")
    assert a["owner_role"] == "customer_service"  # packaged roles.yaml
    assert a["signals"] == "rule1_beyond_3sigma"
    assert a["period"] == pd.Timestamp("2024-04-01", tz="UTC")  # 2024-01-01 + 13 weeks
    assert a["reason"] == (f"{kpi_name('perfect_order_rate')} 85.0% is critical (beyond the "
                           "3σ lower limit 85.7%) for channel=web in week of 2024-04-01")


def test_older_breaches_not_alerted_by_default():
    # web critical at week 13, normal at week 14: latest only -> no alert
    b = banded([0.85, 0.91])
    b = apply_bands(b.drop(columns=["band", "signals", "cl", "lcl", "ucl", "alertable",
                                    "band_metric", "band_value"]),
                    {"defaults": {"baseline_k": 12, "hysteresis": 0}})
    assert from_bands(b, None, "r", AS_OF).empty
    assert len(from_bands(b, None, "r", AS_OF, latest_only=False)) == 1


def test_preliminary_does_not_alert_unless_configured():
    res = series(BASELINE + [0.85], status=["ok"] * 12 + ["preliminary"])
    assert from_bands(apply_bands(res, CFG12), None, "r", AS_OF).empty
    cfg = {"defaults": {**CFG12["defaults"], "alert_on_preliminary": True}}
    assert len(from_bands(apply_bands(res, cfg), None, "r", AS_OF)) == 1


def test_duration_reason_names_metric_and_owner():
    res = series([30.0] * 14, "order_cycle_time_hours", unit="hours")
    res["p90"] = [50.0, 54.0] * 6 + [56.0, 70.0]  # CL 52, UCL 62.64 (see test_bands_xmr)
    a = from_bands(apply_bands(res, CFG12), None, "r", AS_OF).iloc[0]
    name = kpi_name("order_cycle_time_hours")  # registry name, or the id in words
    assert a["reason"] == (f"{name} p90 70.0 h is critical (beyond the 3σ upper "
                           "limit 62.6 h and after a jump larger than the moving-range limit) "
                           "overall in week of 2024-04-01")
    assert a["value"] == 70.0 and a["metric"] == "p90"


def run(store, b, run_id):
    alerts = from_bands(b, None, run_id, AS_OF)
    return store.update(alerts, latest_per_series(b), run_id, AS_OF)


def test_store_dedups_escalates_and_closes(tmp_path):
    store = AlertStore(tmp_path)
    # run 1: web stressed (rule 2: 0.87, 0.90, 0.86 vs 2σ line 0.8745)
    s1 = run(store, banded([0.87, 0.90, 0.86]), "r1")
    assert s1.counts() == {"opened": 1} and s1.suppressed == 0
    # run 2: same breach still stressed -> not re-sent
    s2 = run(store, banded([0.87, 0.90, 0.86]), "r2")
    assert s2.emitted.empty and s2.suppressed == 1
    # run 3: worse -> escalated to critical (0.86 -> 0.85 beyond LCL 0.8568)
    s3 = run(store, banded([0.87, 0.90, 0.86, 0.85]), "r3")
    assert s3.counts() == {"escalated": 1}
    # run 4: a series not in this run stays open (no evidence of recovery)
    s4 = run(store, banded([0.87, 0.90, 0.86, 0.85], kpi="otif_rate"), "r4")
    assert len(store.open_alerts()) == 2 and s4.counts() == {"opened": 1}
    # run 5: perfect order rate recovered (hysteresis off): closed record
    s5 = run(store, banded([0.87, 0.90, 0.86, 0.85, 0.91, 0.92]), "r5")
    assert s5.counts() == {"closed": 1}
    closed = s5.emitted.iloc[0]
    assert closed["state"] == "closed" and closed["band"] == "normal"
    assert closed["reason"].startswith(f"{kpi_name('perfect_order_rate')} recovered to 92.0% "
                                       "(normal) for "
                                       "channel=web; alert opened in run r1")
    assert list(store.open_alerts()["kpi"]) == ["otif_rate"]
    # files of every run, and state survives a reload
    lines = (tmp_path / "runs" / "r5" / "alerts.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["event"] == "closed"
    assert pd.read_csv(tmp_path / "runs" / "r3" / "alerts.csv")["event"].tolist() == ["escalated"]
    assert (tmp_path / "runs" / "r2" / "alerts.jsonl").read_text() == ""
    assert len(AlertStore(tmp_path).open_alerts()) == 1


def test_store_rejects_path_like_run_id(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="run_id"):
        run(AlertStore(tmp_path), banded([0.85]), "../escape")
