"""B2 picking accuracy, B3 pick productivity, B4 dock-to-stock, B6 capacity utilization and
E4 wave backlog on hand-built fixtures; expectations worked out in the comments."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib

AS_OF = "2024-02-01T00:00Z"


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, **kw)


DAY1 = pd.Timestamp("2024-01-01", tz="UTC")
DAY2 = pd.Timestamp("2024-01-02", tz="UTC")


def task(tid, line, picked="2024-01-02T10:00Z", **kw):
    row = {"task_id": tid, "order_line_id": line, "released_at": "2024-01-01T00:00Z",
           "picked_at": picked, "qty_picked": kw.pop("qty_picked", 1.0),
           "status": "picked" if picked else "open"}
    if picked is None:
        row.pop("picked_at")
        row["qty_picked"] = None
    row.update(kw)
    return row


ERR = {"error_detected": True, "error_type": "wrong_sku", "error_detection_point": "pack_verify",
       "error_detected_at": "2024-01-02T11:00Z"}


# --------------------------------------------------------------------------- B2 accuracy


def _accuracy_ds(returns=None):
    return build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}, {"order_id": "O3",
                                                          "order_type": "transfer"},
                {"order_id": "O4", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O1"},
                     {"order_line_id": "L3", "order_id": "O2"},
                     {"order_line_id": "L4", "order_id": "O3"},
                     {"order_line_id": "L5", "order_id": "O4"}],
        nodes=[{"node_id": "N1"}],
        pick_tasks=[task("T1", "L1"),
                    task("T2", "L2", **ERR),                      # caught at pack: counts
                    task("T3", "L3", short_reported=True, error_detected=True,
                         error_type="wrong_qty", error_detection_point="pack_verify",
                         error_detected_at="2024-01-02T11:00Z"),  # reported short: no error
                    task("T4", "L4"),                             # transfer: included
                    task("T5", "L5", **ERR),                      # test order: excluded
                    task("T6", "L1", picked=None, status="cancelled")],  # ignored
        returns=returns)


def test_picking_accuracy_line_and_order():
    ds = _accuracy_ds()
    line = one(ds, "line_picking_accuracy")
    # lines L1 ok, L2 error, L3 ok (short reported), L4 ok -> 3 / 4; L5 test excluded
    assert line["value"] == 0.75 and line["numerator"] == 3 and line["denominator"] == 4
    assert excluded(line) == {"is_test": 1}
    assert line["status"] == "ok"          # picks on 01-02, as_of 02-01: 30 days > 14
    order = one(ds, "order_picking_accuracy")
    # slices O1 (has L2 error), O2 ok, O3 ok -> 2 / 3
    assert order["value"] == pytest.approx(2 / 3) and order["denominator"] == 3


def test_picking_accuracy_wrong_item_returns_within_maturity():
    ds = _accuracy_ds(returns=[
        {"order_id": "O2", "order_line_id": "L3", "return_reason": "wrong_item",
         "rma_requested_at": "2024-01-10T00:00Z"},                # 8 days after pick: error
        {"order_id": "O1", "order_line_id": "L1", "return_reason": "missing_item",
         "rma_requested_at": "2024-01-20T00:00Z"},                # 18 days: outside 14 d
        {"order_id": "O3", "order_line_id": "L4", "return_reason": "damaged",
         "rma_requested_at": "2024-01-05T00:00Z"}])               # not a picking error
    # lines: L1 ok, L2 error, L3 error (return), L4 ok -> 2 / 4
    assert one(ds, "line_picking_accuracy")["value"] == 0.5
    # with a 30-day window the L1 return counts too -> 1 / 4
    row = one(ds, "line_picking_accuracy", params={"maturity_days": 30})
    assert row["value"] == 0.25
    # as_of 02-01 is < 01-02 + 30 days (02-01 10:00): preliminary under the longer window
    assert row["status"] == "preliminary"


def test_picking_accuracy_preliminary_open_tasks_and_weekly_anchor():
    ds = build_dataset(
        orders=[{"order_id": "O1"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O1"},
                     {"order_line_id": "L3", "order_id": "O1"}],
        nodes=[{"node_id": "N1"}],
        pick_tasks=[task("T1", "L1", picked="2024-01-05T10:00Z"),
                    task("T2", "L1", picked="2024-01-08T10:00Z"),  # last pick: next week
                    task("T3", "L2", picked="2024-01-03T10:00Z"),
                    task("T4", "L3", picked=None)])               # open: pending
    res = kpilib.compute(ds, ["line_picking_accuracy"], freq="W", as_of="2024-01-10T00:00Z")
    n = res.set_index("period")["n"]
    # L2 in the week of 01-01, L1 (anchor = last pick 01-08) in the week of 01-08; L3 pending
    assert n[DAY1] == 1 and n[pd.Timestamp("2024-01-08", tz="UTC")] == 1
    assert set(res["status"]) == {"preliminary"}   # picks younger than 14 days
    order = one(ds, "order_picking_accuracy", as_of="2024-01-10T00:00Z")
    assert order["status"] == "undefined"          # the slice still has an open task


def test_picking_accuracy_by_picker_and_product_class():
    ds = build_dataset(
        orders=[{"order_id": "O1"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "sku": "A"},
                     {"order_line_id": "L2", "order_id": "O1", "sku": "B"}],
        products=[{"sku": "A", "product_class": "shoes"}, {"sku": "B", "product_class": "toys"}],
        nodes=[{"node_id": "N1"}],
        pick_tasks=[task("T1", "L1", sku="A", picker_id="P1"),
                    task("T2", "L1", sku="A", picker_id="P2", **ERR),
                    task("T3", "L2", sku="B", picker_id="P1")])
    by_picker = kpilib.compute(ds, ["line_picking_accuracy"], by=["picker"], as_of=AS_OF)
    v = by_picker.set_index("picker")
    # P1 sub-lines: (L1, P1) ok, (L2, P1) ok -> 1.0; P2: (L1, P2) error -> 0.0
    assert v.loc["P1", "value"] == 1.0 and v.loc["P1", "denominator"] == 2
    assert v.loc["P2", "value"] == 0.0
    by_class = kpilib.compute(ds, ["order_picking_accuracy"], by=["product_class"],
                              as_of=AS_OF).set_index("product_class")["value"]
    # shoe sub-slice has the error, toy sub-slice is clean
    assert by_class["shoes"] == 0.0 and by_class["toys"] == 1.0
    assert one(ds, "order_picking_accuracy")["value"] == 0.0   # whole slice has an error


# --------------------------------------------------------------------------- B3 productivity


def _productivity_ds(labor):
    return build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O2"}],
        nodes=[{"node_id": "N1"}, {"node_id": "N2"}],
        pick_tasks=[task("T1", "L1", qty_picked=1.0, picked="2024-01-01T10:00Z"),
                    task("T2", "L1", qty_picked=2.0, picked="2024-01-01T11:00Z"),
                    task("T3", "L1", qty_picked=3.0, picked="2024-01-02T10:00Z",
                         node_id="N2"),
                    task("T4", "L1", qty_picked=0.0, short_reported=True,
                         picked="2024-01-01T12:00Z"),              # nothing picked: no line
                    task("T5", "L1", picked=None),                 # open
                    task("T6", "L2", qty_picked=5.0, picked="2024-01-01T10:00Z")],  # test
        labor_hours=labor)


LABOR = [{"node_id": "N1", "work_date": "2024-01-01", "activity": "pick", "hours": 4.0},
         {"node_id": "N2", "work_date": "2024-01-02", "activity": "pick", "hours": 2.0},
         {"node_id": "N1", "work_date": "2024-01-01", "activity": "indirect", "hours": 5.0},
         {"node_id": "N1", "work_date": "2024-01-01", "activity": "pack", "hours": 3.0}]


def test_lines_and_units_picked_per_hour():
    ds = _productivity_ds(LABOR)
    row = one(ds, "lines_picked_per_hour")
    # pick lines T1, T2, T3 = 3; pick hours 4 + 2 = 6 (indirect, pack left out) -> 0.5
    assert row["value"] == 0.5 and row["numerator"] == 3 and row["denominator"] == 6
    assert excluded(row) == {"is_test": 1}
    units = one(ds, "units_picked_per_hour")
    assert units["value"] == 1.0            # (1 + 2 + 3) / 6
    by_node = kpilib.compute(ds, ["lines_picked_per_hour"], by=["node"], as_of=AS_OF)
    v = by_node.set_index("node")["value"]
    assert v["N1"] == 0.5 and v["N2"] == 0.5    # 2 / 4 and 1 / 2
    daily = kpilib.compute(ds, ["lines_picked_per_hour"], freq="D", as_of="2024-01-03T00:00Z")
    d = daily.set_index("period")
    assert d.loc[DAY1, "value"] == 0.5 and d.loc[DAY2, "value"] == 0.5


def test_lines_picked_per_hour_zero_hours_is_undefined_and_table_needed():
    ds = _productivity_ds([{"node_id": "N1", "work_date": "2024-01-01", "activity": "indirect",
                            "hours": 8.0}])
    row = one(ds, "lines_picked_per_hour")
    assert np.isnan(row["value"]) and row["status"] == "undefined"
    ds2 = build_dataset(orders=[{"order_id": "O1"}], nodes=[{"node_id": "N1"}],
                        pick_tasks=[task("T1", "L1")])
    assert one(ds2, "lines_picked_per_hour")["status"] == "unavailable"


def test_lines_picked_per_hour_by_picker_matches_worker():
    labor = [{"node_id": "N1", "work_date": "2024-01-01", "activity": "pick", "hours": 2.0,
              "worker_id": "P1"},
             {"node_id": "N1", "work_date": "2024-01-01", "activity": "pick", "hours": 4.0,
              "worker_id": "P2"}]
    ds = build_dataset(
        orders=[{"order_id": "O1"}], nodes=[{"node_id": "N1"}],
        pick_tasks=[task("T1", "L1", picker_id="P1", picked="2024-01-01T10:00Z"),
                    task("T2", "L1", picker_id="P1", picked="2024-01-01T11:00Z"),
                    task("T3", "L1", picker_id="P2", picked="2024-01-01T11:00Z")],
        labor_hours=labor)
    v = kpilib.compute(ds, ["lines_picked_per_hour"], by=["picker"],
                       as_of=AS_OF).set_index("picker")["value"]
    assert v["P1"] == 1.0 and v["P2"] == 0.25     # 2 / 2 and 1 / 4


# --------------------------------------------------------------------------- B4 dock-to-stock


RECEIPTS = [
    {"receipt_line_id": "R1", "dock_arrival_at": "2024-01-01T01:00Z",
     "received_at": "2024-01-01T02:00Z", "putaway_completed_at": "2024-01-01T05:00Z",
     "supplier_id": "SUP1"},                                               # 4 h
    {"receipt_line_id": "R2", "received_at": "2024-01-01T02:00Z",
     "putaway_completed_at": "2024-01-01T04:00Z"},                         # fallback: 2 h
    {"receipt_line_id": "R3", "dock_arrival_at": "2024-01-01T00:00Z",
     "received_at": "2024-01-01T01:00Z", "putaway_completed_at": "2024-01-01T02:00Z",
     "is_crossdock": True},                                                # excluded
    {"receipt_line_id": "R4", "dock_arrival_at": "2024-01-01T20:00Z",
     "received_at": "2024-01-01T22:00Z", "qa_hold": True},                 # not put away
]


def test_dock_to_stock_fallback_crossdock_and_pending():
    ds = build_dataset(receipts=RECEIPTS, nodes=[{"node_id": "N1"}],
                       products=[{"sku": "SKU1", "supplier_id": "SUP9"}])
    row = one(ds, "dock_to_stock_hours")
    # R1 4 h, R2 2 h (from received_at) -> mean 3; R3 cross-dock; R4 pending
    assert row["value"] == 3.0 and row["n"] == 2 and row["p50"] == 3.0
    assert excluded(row) == {"crossdock": 1, "fallback_received_at": 1}
    by_sup = kpilib.compute(ds, ["dock_to_stock_hours"], by=["supplier"],
                            as_of=AS_OF).set_index("supplier")["value"]
    # R1 has its own supplier SUP1; R2 falls back to the product's primary supplier SUP9
    assert by_sup["SUP1"] == 4.0 and by_sup["SUP9"] == 2.0


def test_dock_to_stock_negative_duration_is_excluded():
    ds = build_dataset(receipts=RECEIPTS[:2], nodes=[{"node_id": "N1"}])
    bad = ds.receipts.copy()
    # clock skew: putaway stamped before dock arrival (the contract rejects this on load,
    # so the table is swapped in after validation)
    bad.loc[0, "putaway_completed_at"] = pd.Timestamp("2024-01-01T00:30Z")
    ds = ds.replace(receipts=bad)
    row = one(ds, "dock_to_stock_hours")
    assert row["value"] == 2.0 and excluded(row) == {"negative_duration": 1,
                                                     "fallback_received_at": 1}


def test_open_receipt_age_snapshots():
    ds = build_dataset(receipts=RECEIPTS, nodes=[{"node_id": "N1"}])
    row = one(ds, "open_receipt_age_hours", as_of="2024-01-02T20:00Z")
    # only R4 open: 01-02 20:00 - dock arrival 01-01 20:00 = 24 h
    assert row["value"] == 24.0 and row["n"] == 1
    daily = kpilib.compute(ds, ["open_receipt_age_hours"], freq="D", as_of="2024-01-02T20:00Z")
    v = daily.set_index("period")["value"]
    # end of 01-01 (01-02 00:00): R4 open for 4 h; 01-02 snapshot capped at as_of: 24 h
    assert v[DAY1] == 4.0 and v[DAY2] == 24.0


# --------------------------------------------------------------------------- B6 capacity


CAPACITY = [
    {"node_id": "N1", "capacity_date": "2024-01-01", "usable_capacity": 100.0, "occupied": 50.0},
    {"node_id": "N1", "capacity_date": "2024-01-02", "usable_capacity": 100.0, "occupied": 80.0},
    {"node_id": "N2", "capacity_date": "2024-01-01", "usable_capacity": 50.0, "occupied": 30.0},
    {"node_id": "N2", "capacity_date": "2024-01-02", "usable_capacity": 0.0, "occupied": 0.0},
]


def test_capacity_utilization_rollup_per_day():
    ds = build_dataset(node_capacity_daily=CAPACITY,
                       nodes=[{"node_id": "N1"}, {"node_id": "N2"}])
    avg = one(ds, "warehouse_capacity_utilization_avg")
    # day 1: (50 + 30) / (100 + 50) = 0.5333; day 2: 80 / 100 = 0.8 (N2 usable 0 excluded)
    # avg = (0.5333 + 0.8) / 2 = 0.6667
    assert avg["value"] == pytest.approx((80 / 150 + 0.8) / 2)
    assert avg["value"] == pytest.approx(avg["numerator"] / avg["denominator"])
    assert avg["n"] == 3 and excluded(avg) == {"usable_capacity_zero": 1}
    peak = one(ds, "warehouse_capacity_utilization_peak")
    assert peak["value"] == pytest.approx(0.8) and peak["numerator"] == 80
    assert peak["denominator"] == 100
    by_node = kpilib.compute(ds, ["warehouse_capacity_utilization_avg",
                                  "warehouse_capacity_utilization_peak"], by=["node"],
                             as_of=AS_OF).set_index(["kpi", "node"])["value"]
    assert by_node["warehouse_capacity_utilization_avg", "N1"] == pytest.approx(0.65)
    assert by_node["warehouse_capacity_utilization_avg", "N2"] == pytest.approx(0.6)
    assert by_node["warehouse_capacity_utilization_peak", "N1"] == pytest.approx(0.8)
    daily = kpilib.compute(ds, ["warehouse_capacity_utilization_avg"], freq="D",
                           as_of="2024-01-03T00:00Z").set_index("period")["value"]
    assert daily[DAY1] == pytest.approx(80 / 150) and daily[DAY2] == pytest.approx(0.8)


def test_capacity_utilization_does_not_mix_units():
    rows = [{"node_id": "N1", "capacity_date": "2024-01-01", "usable_capacity": 100.0,
             "occupied": 90.0},
            {"node_id": "N2", "capacity_date": "2024-01-01", "capacity_unit": "m3",
             "usable_capacity": 1000.0, "occupied": 500.0}]
    ds = build_dataset(node_capacity_daily=rows, nodes=[{"node_id": "N1"}, {"node_id": "N2"}])
    # per-unit ratios 0.9 (positions) and 0.5 (m3), averaged: 0.7 (a Σ would give 590/1100)
    row = one(ds, "warehouse_capacity_utilization_avg")
    assert row["value"] == pytest.approx(0.7)


def test_capacity_utilization_absent_table_and_empty_window():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    assert one(ds, "warehouse_capacity_utilization_avg")["status"] == "unavailable"
    ds = build_dataset(node_capacity_daily=CAPACITY[3:], nodes=[{"node_id": "N2"}])
    row = one(ds, "warehouse_capacity_utilization_peak")
    assert row["status"] == "undefined" and np.isnan(row["value"])


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
    res = kpilib.compute(ds, E4, as_of="2024-01-01T13:00Z").set_index("kpi")
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
    res = kpilib.compute(ds, E4, as_of="2024-01-01T11:30Z").set_index("kpi")
    # no pick in (10:30, 11:30], no planned rate: rate 0 -> W1 (1 open line) at risk,
    # its hours undefined (excluded), not late yet (11:30 < 12:00)
    assert res.loc["waves_at_risk", "value"] == 1.0 and res.loc["waves_late", "value"] == 0.0
    hours = res.loc["wave_backlog_hours"]
    assert json.loads(hours["excluded"]) == {"zero_rate": 1}
    assert hours["value"] == 0.0 and hours["n"] == 0   # W1 is the only open wave


def test_wave_backlog_daily_snapshots_and_channel_split():
    ds = _wave_ds()
    daily = kpilib.compute(ds, ["wave_backlog"], freq="D", as_of="2024-01-02T12:00Z")
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
    by_node = kpilib.compute(ds, ["waves_late"], by=["node"], as_of="2024-01-01T11:30Z")
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
    later = kpilib.compute(ds, ["wave_backlog"], as_of="2024-01-02T09:30Z").iloc[0]
    # 09:30: the line now sits in W1 (1 open line), no longer in UNWAVED
    assert later["value"] == 1.0 and later["n"] == 1
