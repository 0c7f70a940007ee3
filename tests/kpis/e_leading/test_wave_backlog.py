"""E4 warehouse backlog by wave on hand-built waves and pick tasks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from builders import build_dataset, task
from kpi_results import compute_one

import kpilib

AS_OF = "2024-02-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


DAY1 = pd.Timestamp("2024-01-01", tz="UTC")
DAY2 = pd.Timestamp("2024-01-02", tz="UTC")




# --------------------------------------------------------------------------- E4 wave backlog


def _wave_ds():
    return build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}, {"order_id": "O2", "channel": "mkt"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O2"},
                     {"order_line_id": "L3", "order_id": "O2"}],
        nodes=[{"node_id": "N1"}],
        waves=[{"wave_id": "W1", "released_at": "2024-01-01T08:00Z",
                "cutoff_at": "2024-01-01T12:00Z", "planned_lines_per_hour": 2.0},
               {"wave_id": "W2", "released_at": "2024-01-01T08:00Z",
                "closed_at": "2024-01-01T09:00Z"}],
        pick_tasks=[
            {"task_id": "T1", "order_line_id": "L1", "wave_id": "W1", "qty_requested": 2.0,
             "released_at": "2024-01-01T08:00Z", "picked_at": "2024-01-01T09:00Z",
             "qty_picked": 2.0, "status": "picked"},
            {"task_id": "T2", "order_line_id": "L2", "wave_id": "W1", "qty_requested": 3.0,
             "released_at": "2024-01-01T08:00Z", "status": "open"},
            {"task_id": "T3", "order_line_id": "L3", "qty_requested": 1.0,   # unwaved
             "released_at": "2024-01-01T08:00Z", "picked_at": "2024-01-01T10:00Z",
             "qty_picked": 1.0, "status": "picked"},
            {"task_id": "T4", "order_line_id": "L1", "wave_id": "W1", "qty_requested": 9.0,
             "released_at": "2024-01-01T08:00Z", "status": "cancelled"},
            {"task_id": "T5", "order_line_id": "L1", "wave_id": "W2", "qty_requested": 1.0,
             "released_at": "2024-01-01T08:00Z", "status": "open"}])


E4 = ["wave_backlog", "wave_units_open", "wave_backlog_hours", "waves_at_risk", "waves_late"]


def test_wave_backlog_snapshot_at_as_of():
    ds = _wave_ds()
    res = kpilib.compute(ds, E4, as_of="2024-01-01T09:30Z").set_index("kpi")
    # at 09:30: W1 open with T2 open (T1 picked 09:00, T4 cancelled); W2 closed at 09:00;
    # UNWAVED bucket holds T3 (picked only at 10:00)  -> 2 open lines in 2 records
    assert res.loc["wave_backlog", "value"] == 2.0 and res.loc["wave_backlog", "n"] == 2
    assert res.loc["wave_units_open", "value"] == 4.0            # 3 (T2) + 1 (T3)
    # rate at N1 in (08:30, 09:30] = 1 pick (T1) -> W1 1 h, UNWAVED 1 h
    assert res.loc["wave_backlog_hours", "value"] == 2.0
    # W1 projected finish 09:30 + 1 h = 10:30 <= cutoff 12:00: not at risk, not late
    assert res.loc["waves_at_risk", "value"] == 0.0 and res.loc["waves_late", "value"] == 0.0
    assert res.loc["wave_backlog", "unit"] == "lines"


def test_wave_backlog_planned_rate_fallback_risk_and_late():
    ds = _wave_ds()
    res = kpilib.compute(ds, E4, as_of="2024-01-01T13:00Z",
                         allow_future_as_of=True).set_index("kpi")
    # at 13:00: W1 holds T2; UNWAVED empty (T3 picked); no pick in (12:00, 13:00]
    # -> planned rate 2 lines/h -> 0.5 h; finish 13:30 > cutoff 12:00: at risk, and late
    assert res.loc["wave_backlog", "value"] == 1.0
    assert res.loc["wave_backlog_hours", "value"] == 0.5
    assert res.loc["waves_at_risk", "value"] == 1.0 and res.loc["waves_late", "value"] == 1.0


def test_wave_backlog_zero_rate_is_at_risk_and_excluded_from_hours():
    ds = _wave_ds()
    w = ds.waves.copy()
    w["planned_lines_per_hour"] = np.nan
    ds = ds.replace(waves=w)
    res = kpilib.compute(ds, E4, as_of="2024-01-01T11:30Z",
                         allow_future_as_of=True).set_index("kpi")
    # no pick in (10:30, 11:30], no planned rate: rate 0 -> W1 (1 open line) at risk,
    # its hours undefined (excluded), not late yet (11:30 < 12:00)
    assert res.loc["waves_at_risk", "value"] == 1.0 and res.loc["waves_late", "value"] == 0.0
    hours = res.loc["wave_backlog_hours"]
    assert json.loads(hours["excluded"]) == {"zero_rate": 1}
    assert hours["value"] == 0.0 and hours["n"] == 0   # W1 is the only open wave


def test_wave_backlog_daily_snapshots_and_channel_split():
    ds = _wave_ds()
    daily = kpilib.compute(ds, ["wave_backlog"], freq="D", as_of="2024-01-02T12:00Z",
                           allow_future_as_of=True)
    v = daily.set_index("period")["value"]
    # end of 01-01 (01-02 00:00): W1 still holds T2 -> 1; 01-02 12:00: still 1
    assert v[DAY1] == 1.0 and v[DAY2] == 1.0
    by_ch = kpilib.compute(ds, ["wave_backlog", "waves_at_risk"], by=["channel"],
                           as_of="2024-01-01T09:30Z").set_index(["kpi", "channel"])
    # W1 splits into web (T1 picked: 0 open) and mkt (T2: 1 open); UNWAVED mkt (T3: 1 open)
    assert by_ch.loc[("wave_backlog", "web"), "value"] == 0.0
    assert by_ch.loc[("wave_backlog", "mkt"), "value"] == 2.0
    # sub-units: web 1 (W1), mkt 2 (W1, UNWAVED)
    assert by_ch.loc[("wave_backlog", "mkt"), "n"] == 2


def test_wave_backlog_needs_waves_and_no_open_wave_reads_zero():
    ds = _wave_ds()
    row = one(ds, "wave_backlog", as_of="2024-01-01T07:00Z")   # before any wave exists
    assert row["status"] == "undefined"
    w = ds.waves.copy()
    w["closed_at"] = pd.Timestamp("2024-01-01T11:00Z")
    ds = ds.replace(waves=w)
    # at 11:30 both waves are closed and the unwaved T3 was picked at 10:00: the backlog is
    # empty -> 0 lines (a measurement), n = 0 open-wave records
    row = one(ds, "wave_backlog", as_of="2024-01-01T11:30Z")
    assert row["value"] == 0.0 and row["status"] == "ok" and row["n"] == 0
    by_node = kpilib.compute(ds, ["waves_late"], by=["node"], as_of="2024-01-01T11:30Z",
                             allow_future_as_of=True)
    assert list(by_node["node"]) == ["N1"] and list(by_node["value"]) == [0.0]
    ds2 = build_dataset(orders=[{"order_id": "O1"}], nodes=[{"node_id": "N1"}],
                        pick_tasks=[task("T1", "L1")])
    assert one(ds2, "wave_backlog")["status"] == "unavailable"


def test_wave_backlog_unwaved_bucket_holds_released_lines_without_tasks():
    ds = build_dataset(
        orders=[{"order_id": "O1", "created_at": "2024-01-01T00:00Z"},
                {"order_id": "O2", "created_at": "2024-01-02T06:00Z"},
                {"order_id": "O3", "created_at": "2024-01-02T06:00Z", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "assigned_node_id": "N1"},
                     {"order_line_id": "L2", "order_id": "O2", "assigned_node_id": "N1",
                      "qty_ordered": 3.0},
                     {"order_line_id": "L3", "order_id": "O3", "assigned_node_id": "N1"}],
        order_events=[{"order_id": o, "event_type": "released_to_node", "node_id": "N1",
                       "event_at": "2024-01-02T07:00Z"} for o in ("O2", "O3")],
        nodes=[{"node_id": "N1"}],
        waves=[{"wave_id": "W0", "released_at": "2024-01-01T08:00Z",
                "closed_at": "2024-01-01T10:00Z"},
               {"wave_id": "W1", "released_at": "2024-01-02T09:00Z"}],
        pick_tasks=[{"task_id": "T0", "order_line_id": "L1", "wave_id": "W0",
                     "released_at": "2024-01-01T08:00Z", "picked_at": "2024-01-01T09:00Z",
                     "qty_picked": 1.0, "status": "picked"},
                    {"task_id": "T1", "order_line_id": "L2", "wave_id": "W1",
                     "qty_requested": 3.0, "released_at": "2024-01-02T09:00Z",
                     "status": "open"}])
    row = one(ds, "wave_units_open", as_of="2024-01-02T08:00Z")
    # 08:00: L2 released at 07:00, its task only comes with W1 at 09:00 -> UNWAVED holds
    # 1 line of 3 units; the test order's line is left out; W0 closed
    assert row["value"] == 3.0 and row["n"] == 1
    later = kpilib.compute(ds, ["wave_backlog"], as_of="2024-01-02T09:30Z",
                           allow_future_as_of=True).iloc[0]
    # 09:30: the line now sits in W1 (1 open line), no longer in UNWAVED
    assert later["value"] == 1.0 and later["n"] == 1


def test_a_source_wave_named_like_the_unwaved_bucket_stays_its_own_wave():
    named = _wave_ds()
    for table in ("waves", "pick_tasks"):
        frame = getattr(named, table)
        frame["wave_id"] = frame["wave_id"].replace({"W1": "UNWAVED"})
    for as_of in ("2024-01-01T09:30Z", "2024-01-01T13:00Z"):
        want = kpilib.compute(_wave_ds(), E4, as_of=as_of, allow_future_as_of=True)[
            ["kpi", "value", "n"]]
        got = kpilib.compute(named, E4, as_of=as_of, allow_future_as_of=True)[
            ["kpi", "value", "n"]]
        pd.testing.assert_frame_equal(got, want, check_exact=True)
