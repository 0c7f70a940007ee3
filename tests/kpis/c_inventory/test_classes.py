"""C8 ABC and C9 XYZ classes on hand-built data (C9)."""

from __future__ import annotations

import pandas as pd
from builders import build_dataset

import kpilib
from kpilib.fact_tables.classes import abc_classes, xyz_classes


def test_abc_share_before_item_rule():
    # values 50, 30, 15, 5 (V = 100). cum_before: a 0, b .50, c .80, d .95
    # a: 0 < .8 -> A; b: .5 < .8 -> A (it crosses 80%, joins the higher class);
    # c: .80 not < .80 -> B (.80 < .95); d: .95 not < .95 -> C
    v = pd.Series({"d": 5.0, "c": 15.0, "a": 50.0, "b": 30.0})
    assert abc_classes(v).to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_abc_ties_break_by_sku_and_zero_total_is_n():
    # equal values 1,1: sku "x" before "y"; cum_before x 0 -> A, y .5 -> A; z 0 -> cum 1 -> C
    v = pd.Series({"y": 1.0, "x": 1.0, "z": 0.0})
    assert abc_classes(v).to_dict() == {"x": "A", "y": "A", "z": "C"}
    assert set(abc_classes(pd.Series({"a": 0.0, "b": 0.0}))) == {"N"}


def test_xyz_cv_thresholds_min_periods_and_zero_mean():
    nan = float("nan")
    demand = pd.DataFrame.from_dict({
        "stable": [10, 10, 10, 10, 10, 10],      # cv 0 -> X
        "varied": [0, 20, 0, 20, 0, 20],         # mean 10, std 10 -> cv 1.0 -> Z
        "mid": [5, 15, 5, 15, 5, 15],            # mean 10, std 5 -> cv .5 -> Y
        "young": [nan, nan, 5, 5, 5, 5],         # 4 active periods < 6 -> new
        "dead": [0, 0, 0, 0, 0, 0],              # mean 0 -> N
    }, orient="index", dtype=float)
    assert xyz_classes(demand).to_dict() == {
        "stable": "X", "varied": "Z", "mid": "Y", "young": "new", "dead": "N"}


def test_sku_classes_fact_from_order_lines():
    # Revenue basis on one year of lines; as_of 2024-12-31.
    # SKU1: 12 monthly lines of qty 10 at 1.0 -> revenue 120; SKU2: one line qty 1 at 30 -> 30
    # SKU3: no demand. V=150; SKU1 cum_before 0 -> A, SKU2 .8 -> B, SKU3 1.0 -> C (no_demand)
    lines = [{"order_line_id": f"L{m}", "order_id": f"O{m}", "sku": "SKU1",
              "qty_ordered": 10, "unit_price": 1.0} for m in range(1, 13)]
    lines.append({"order_line_id": "L13", "order_id": "O13", "sku": "SKU2",
                  "qty_ordered": 1, "unit_price": 30.0})
    orders = [{"order_id": f"O{m}", "created_at": f"2024-{m:02d}-05T00:00Z"} for m in range(1, 13)]
    orders.append({"order_id": "O13", "created_at": "2024-06-10T00:00Z"})
    products = [{"sku": s, "launch_date": "2023-01-01"} for s in ("SKU1", "SKU2", "SKU3")]
    ds = build_dataset(orders=orders, order_lines=lines, products=products)
    f = kpilib.facts(ds, "sku_classes", as_of="2024-12-31T12:00Z",
                     params={"abc_basis": "revenue"}, allow_future_as_of=True).set_index("sku")
    assert f["abc_class"].to_dict() == {"SKU1": "A", "SKU2": "B", "SKU3": "C"}
    assert bool(f.loc["SKU3", "no_demand"]) and not f.loc["SKU1", "no_demand"]
    # XYZ over the 12 complete months Dec-2023..Nov-2024 (December 2024 is not complete):
    # SKU1 demand: Dec 0, Jan..Nov 10 each -> mean 110/12, std = sqrt(mean of squares - m^2)
    # = sqrt(1100/12 - (110/12)^2) = 2.764; cv = .3015 -> X
    assert f.loc["SKU1", "xyz_class"] == "X"
    assert abs(f.loc["SKU1", "xyz_cv"] - 0.30151) < 1e-4
    # SKU2: one 1 in June among 12 -> mean 1/12, std sqrt(1/12 - 1/144) = .2764, cv 3.317 -> Z
    assert f.loc["SKU2", "xyz_class"] == "Z"
    assert f.loc["SKU3", "xyz_class"] == "N"
