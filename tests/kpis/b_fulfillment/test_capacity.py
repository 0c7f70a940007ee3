"""B6 warehouse capacity utilization (average and peak) on hand-built capacity rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib

AS_OF = "2024-02-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


DAY1 = pd.Timestamp("2024-01-01", tz="UTC")
DAY2 = pd.Timestamp("2024-01-02", tz="UTC")


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
                             as_of=AS_OF,
                             allow_future_as_of=True).set_index(["kpi", "node"])["value"]
    assert by_node["warehouse_capacity_utilization_avg", "N1"] == pytest.approx(0.65)
    assert by_node["warehouse_capacity_utilization_avg", "N2"] == pytest.approx(0.6)
    assert by_node["warehouse_capacity_utilization_peak", "N1"] == pytest.approx(0.8)
    daily = kpilib.compute(ds, ["warehouse_capacity_utilization_avg"], freq="D",
                           as_of="2024-01-03T00:00Z",
                           allow_future_as_of=True).set_index("period")["value"]
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


