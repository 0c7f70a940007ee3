"""C6 count accuracy by location and its variants, on hand-built counts."""

from __future__ import annotations

import pytest
from builders import build_dataset

import kpilib

AS_OF = "2024-03-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def _counts_ds():
    def c(cid, loc, sku, system, counted, recount=False, day="2024-01-10"):
        return {"count_id": cid, "node_id": "N1", "location_id": loc, "sku": sku,
                "counted_at": f"{day}T09:00Z", "qty_system_at_count": system,
                "qty_counted": counted, "is_recount": recount}

    counts = [
        c("C1", "A1", "SKU1", 10, 10), c("C2", "A1", "SKU2", 5, 4),   # A1: SKU2 off -> bad
        c("C3", "A2", "SKU1", 0, 0),                                   # empty found empty: ok
        c("C4", "A3", "SKU2", 0, 3),                                   # stock where none: bad
        c("C5", "A4", "SKU1", 8, 8),                                   # ok
        c("C6", "A1", "SKU2", 5, 5, recount=True, day="2024-01-11"),   # recount: not scored
    ]
    products = [{"sku": "SKU1", "product_class": "shoes"}, {"sku": "SKU2", "product_class": "bags"}]
    return build_dataset(inventory_counts=counts, products=products, nodes=[{"node_id": "N1"}],
                         orders=[{"order_id": "O1"}])


def test_location_accuracy_first_counts_only():
    res = kpilib.compute(_counts_ds(), ["inventory_count_accuracy_by_location",
                                        "sku_location_accuracy", "inventory_unit_accuracy"],
                         as_of=AS_OF, allow_future_as_of=True).set_index("kpi")
    # events A1 (bad), A2 (ok), A3 (bad), A4 (ok) -> 2/4
    assert res.loc["inventory_count_accuracy_by_location", "value"] == 0.5
    assert res.loc["inventory_count_accuracy_by_location", "denominator"] == 4
    # SKU rows: C1 ok, C2 bad, C3 ok, C4 bad, C5 ok -> 3/5
    assert res.loc["sku_location_accuracy", "value"] == pytest.approx(0.6)
    # unit accuracy: 1 - (0+1+0+3+0)/(10+5+0+0+8) = 1 - 4/23 = 19/23
    assert res.loc["inventory_unit_accuracy", "value"] == pytest.approx(19 / 23)


def test_location_accuracy_sub_unit_by_product_class_and_tolerance():
    res = kpilib.compute(_counts_ds(), ["inventory_count_accuracy_by_location"],
                         by=["product_class"], as_of=AS_OF,
                         allow_future_as_of=True).set_index("product_class")
    # shoes rows: A1/SKU1 ok, A2 ok, A4 ok -> 3/3; bags rows: A1/SKU2 bad, A3 bad -> 0/2
    assert res.loc["shoes", "value"] == 1.0 and res.loc["bags", "value"] == 0.0
    tol = kpilib.compute(_counts_ds(), ["inventory_count_accuracy_by_location"], as_of=AS_OF,
                         params={"count_tol_units": 1}, allow_future_as_of=True).iloc[0]
    # with ±1 unit allowed, A1 (off by 1) becomes accurate: 3/4
    assert tol["value"] == 0.75


def test_unit_accuracy_undefined_when_system_is_zero():
    ds = build_dataset(inventory_counts=[{"count_id": "C1", "sku": "SKU1", "node_id": "N1",
                                          "qty_system_at_count": 0, "qty_counted": 2}],
                       nodes=[{"node_id": "N1"}])
    row = kpilib.compute(ds, ["inventory_unit_accuracy"], as_of=AS_OF,
                         allow_future_as_of=True).iloc[0]
    assert row["status"] == "undefined"



def test_ids_containing_the_key_separator_stay_separate_events():
    # node "N|A" location "B" and node "N" location "A|B" both spell "N|A|B|2024-01-10" as text;
    # they are two count events (one accurate, one not), never one.
    counts = [{"count_id": "C1", "node_id": "N|A", "location_id": "B", "sku": "SKU1",
               "counted_at": "2024-01-10T09:00Z", "qty_system_at_count": 4, "qty_counted": 4,
               "is_recount": False},
              {"count_id": "C2", "node_id": "N", "location_id": "A|B", "sku": "SKU1",
               "counted_at": "2024-01-10T10:00Z", "qty_system_at_count": 4, "qty_counted": 3,
               "is_recount": False}]
    ds = build_dataset(inventory_counts=counts, products=[{"sku": "SKU1"}],
                       nodes=[{"node_id": "N|A"}, {"node_id": "N"}], orders=[{"order_id": "O1"}])
    row = kpilib.compute(ds, ["inventory_count_accuracy_by_location"], as_of=AS_OF,
                         allow_future_as_of=True).iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 2)
