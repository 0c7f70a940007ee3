"""B2 picking accuracy and B3 pick productivity on hand-built pick tasks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset, task
from kpi_results import compute_one, excluded

import kpilib

AS_OF = "2024-02-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


DAY1 = pd.Timestamp("2024-01-01", tz="UTC")
DAY2 = pd.Timestamp("2024-01-02", tz="UTC")




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
    res = kpilib.compute(ds, ["line_picking_accuracy"], freq="W", as_of="2024-01-10T00:00Z",
                         allow_future_as_of=True)
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
    by_picker = kpilib.compute(ds, ["line_picking_accuracy"], by=["picker"], as_of=AS_OF,
                               allow_future_as_of=True)
    v = by_picker.set_index("picker")
    # P1 sub-lines: (L1, P1) ok, (L2, P1) ok -> 1.0; P2: (L1, P2) error -> 0.0
    assert v.loc["P1", "value"] == 1.0 and v.loc["P1", "denominator"] == 2
    assert v.loc["P2", "value"] == 0.0
    by_class = kpilib.compute(ds, ["order_picking_accuracy"], by=["product_class"],
                              as_of=AS_OF,
                              allow_future_as_of=True).set_index("product_class")["value"]
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
    by_node = kpilib.compute(ds, ["lines_picked_per_hour"], by=["node"], as_of=AS_OF,
                             allow_future_as_of=True)
    v = by_node.set_index("node")["value"]
    assert v["N1"] == 0.5 and v["N2"] == 0.5    # 2 / 4 and 1 / 2
    daily = kpilib.compute(ds, ["lines_picked_per_hour"], freq="D", as_of="2024-01-03T00:00Z",
                           allow_future_as_of=True)
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
                       as_of=AS_OF, allow_future_as_of=True).set_index("picker")["value"]
    assert v["P1"] == 1.0 and v["P2"] == 0.25     # 2 / 2 and 1 / 4


