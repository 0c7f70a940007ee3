"""A14 split shipments and A15 order touches, on tiny hand-built datasets; expectations
worked out in the comments."""

from __future__ import annotations

import json

import numpy as np
import pytest
from builders import NO_SHIPMENTS, NODES, build_dataset, build_with_empty, ship
from kpi_results import check_ratio
from kpi_results import pick as one

import kpilib

AS_OF = "2024-03-15T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


# --- A14 split_shipment_rate, split_node_rate, shipments_per_order ---------------------------


def split_ds():
    late = "2024-01-09T00:00Z"
    return build_dataset(
        orders=[*({"order_id": o} for o in ("SPLIT", "ONE", "CU", "OPEN", "NODES", "MER")),
                {"order_id": "TEST", "is_test": True}],
        order_lines=[{"order_line_id": "A1", "order_id": "SPLIT"},
                     {"order_line_id": "A2", "order_id": "SPLIT"},
                     {"order_line_id": "B1", "order_id": "ONE"},
                     {"order_line_id": "C1", "order_id": "CU"},
                     {"order_line_id": "C2", "order_id": "CU",
                      "promised_delivery_at_original": late},
                     {"order_line_id": "D1", "order_id": "OPEN"},
                     {"order_line_id": "D2", "order_id": "OPEN"},
                     {"order_line_id": "E1", "order_id": "NODES"},
                     {"order_line_id": "E2", "order_id": "NODES"},
                     {"order_line_id": "F1", "order_id": "MER", "qty_ordered": 2},
                     {"order_line_id": "F2", "order_id": "MER", "qty_cancelled_merchant": 1},
                     {"order_line_id": "T1", "order_id": "TEST"}],
        shipments=[ship("S1", "SPLIT", "2024-01-02T00:00Z"),
                   ship("S2", "SPLIT", "2024-01-09T00:00Z"),
                   ship("S3", "ONE", "2024-01-02T00:00Z"),
                   ship("S4", "CU", "2024-01-02T00:00Z"),
                   ship("S5", "CU", "2024-01-03T00:00Z"),
                   ship("S6", "OPEN", "2024-01-02T00:00Z"),
                   ship("S7", "NODES", "2024-01-02T00:00Z"),
                   ship("S8", "NODES", "2024-01-02T00:00Z", node="N2"),
                   ship("S9", "MER", "2024-01-02T00:00Z"),
                   ship("S10", "TEST", "2024-01-02T00:00Z")],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "A1"},
                        {"shipment_id": "S2", "order_line_id": "A2"},
                        {"shipment_id": "S3", "order_line_id": "B1"},
                        {"shipment_id": "S4", "order_line_id": "C1"},
                        {"shipment_id": "S5", "order_line_id": "C2"},
                        {"shipment_id": "S6", "order_line_id": "D1"},
                        {"shipment_id": "S7", "order_line_id": "E1"},
                        {"shipment_id": "S8", "order_line_id": "E2"},
                        {"shipment_id": "S9", "order_line_id": "F1", "qty_shipped": 2},
                        {"shipment_id": "S10", "order_line_id": "T1"}],
        nodes=NODES)


A14 = ["split_shipment_rate", "split_node_rate", "shipments_per_order",
       "multi_unit_order_share"]


def test_split_rates_default_commit_units():
    res = kpilib.compute(split_ds(), A14, as_of=AS_OF, allow_future_as_of=True)
    # fully shipped: SPLIT, ONE, CU, NODES, MER (F2 merchant-cancelled; F1's 2 units in one
    # shipment = multi-package, not a split); OPEN has D2 unshipped -> pending; TEST excluded
    s = one(res, "split_shipment_rate")
    # split within one commit unit: SPLIT (S1, S2), NODES (S7, S8); CU's two shipments carry
    # two different promises (customer-requested split) -> not counted by default
    assert (s["numerator"], s["denominator"]) == (2, 5)
    assert json.loads(s["excluded"]) == {"is_test": 1}
    n = one(res, "split_node_rate")
    assert (n["numerator"], n["denominator"]) == (1, 5)        # NODES only
    m = one(res, "shipments_per_order")
    assert m["value"] == pytest.approx((2 + 1 + 2 + 2 + 1) / 5)  # 1.6
    u = one(res, "multi_unit_order_share")
    # units shipped: SPLIT 2, ONE 1, CU 2, NODES 2, MER 2 -> 4 of 5
    assert (u["numerator"], u["denominator"]) == (4, 5)


def test_split_rate_on_whole_orders():
    res = kpilib.compute(split_ds(), ["split_shipment_rate"], as_of=AS_OF,
                         params={"exclude_customer_requested": False}, allow_future_as_of=True)
    r = one(res, "split_shipment_rate")
    assert (r["numerator"], r["denominator"]) == (3, 5)         # SPLIT, CU, NODES


def test_split_anchor_is_last_ship_confirm():
    res = kpilib.compute(split_ds(), ["split_shipment_rate"], freq="W", as_of=AS_OF,
                         start="2024-01-01", end="2024-01-15", allow_future_as_of=True)
    got = res.set_index("period")
    # SPLIT becomes fully shipped on 01-09 (week of 01-08); the rest on 01-02/01-03
    assert (got.iloc[0]["numerator"], got.iloc[0]["denominator"]) == (1, 4)   # NODES
    assert (got.iloc[1]["numerator"], got.iloc[1]["denominator"]) == (1, 1)   # SPLIT


def test_split_by_fulfillment_model_evaluates_sub_units():
    res = kpilib.compute(split_ds(), ["split_shipment_rate", "split_node_rate"],
                         by=["fulfillment_model"], as_of=AS_OF, allow_future_as_of=True)
    r = one(res, "split_shipment_rate", fulfillment_model="owned_dc")
    # owned_dc sub-units: SPLIT (both lines from N1: split), ONE, CU, MER, NODES' E1 (alone)
    # and OPEN's D1: D2 (never shipped, no node) is in the "(unknown)" sub-unit, so the
    # owned_dc part of OPEN is fully shipped (sub-unit rule)
    assert (r["numerator"], r["denominator"]) == (1, 6)
    t = one(res, "split_node_rate", fulfillment_model="3pl")
    assert (t["numerator"], t["denominator"]) == (0, 1)          # NODES' E2 alone at N2


# --- A15 order_touch_count, touchless_order_rate ---------------------------------------------


def touch_ds():
    def ev(oid, etype, actor, at="2024-01-01T03:00Z", **kw):
        return {"order_id": oid, "event_type": etype, "actor_type": actor, "event_at": at,
                **kw}

    cancel = {"cancelled_at": "2024-01-01T05:00Z", "cancel_initiator": "customer"}
    return build_dataset(
        orders=[{"order_id": "T2"}, {"order_id": "T0"}, {"order_id": "UC", **cancel},
                {"order_id": "CC", **cancel}, {"order_id": "OPEN"}, {"order_id": "AFTER"},
                {"order_id": "SCAN"}],
        order_lines=[{"order_line_id": "L1", "order_id": "T2"},
                     {"order_line_id": "L1b", "order_id": "T2"},
                     {"order_line_id": "L2", "order_id": "T0"},
                     {"order_line_id": "L3", "order_id": "UC"},
                     {"order_line_id": "L4", "order_id": "CC"},
                     {"order_line_id": "L5", "order_id": "OPEN"},
                     {"order_line_id": "L6", "order_id": "AFTER"},
                     {"order_line_id": "L7", "order_id": "SCAN"}],
        order_events=[ev("T2", "manual_touch", "user"),
                      ev("T2", "manual_allocation", "user", order_line_id="L1b"),
                      ev("T2", "order_edited", "customer"),
                      ev("T2", "address_corrected", "system"),
                      ev("T2", "hold_placed", "user"),
                      ev("UC", "cancelled", "user", at="2024-01-01T05:00Z"),
                      ev("CC", "cancelled", "customer", at="2024-01-01T05:00Z"),
                      ev("OPEN", "manual_touch", "user"),
                      ev("AFTER", "manual_touch", "user", at="2024-01-05T00:00Z"),
                      ev("SCAN", "manual_touch", "user")],
        shipments=[ship("S1", "T2", "2024-01-01T06:00Z", "2024-01-02T00:00Z"),
                   ship("S1b", "T2", "2024-01-01T06:00Z", "2024-01-02T00:00Z", node="N2"),
                   ship("S2", "T0", "2024-01-01T06:00Z", "2024-01-02T00:00Z"),
                   ship("S5", "OPEN", "2024-01-01T06:00Z"),
                   ship("S6", "AFTER", "2024-01-01T06:00Z", "2024-01-03T00:00Z"),
                   ship("S7", "SCAN", "2024-01-01T06:00Z", status="delivered")],
        shipment_lines=[{"shipment_id": s, "order_line_id": ln} for s, ln in
                        (("S1", "L1"), ("S1b", "L1b"), ("S2", "L2"), ("S5", "L5"),
                         ("S6", "L6"), ("S7", "L7"))],
        nodes=NODES)


A15 = ["order_touch_count", "touchless_order_rate"]


def test_touch_count_and_touchless_rate():
    res = kpilib.compute(touch_ds(), A15, as_of=AS_OF, allow_future_as_of=True)
    # terminal orders: T2 (delivered; user manual_touch + manual_allocation = 2; customer
    # edit, system correction and hold_placed are not touches), T0 (0), UC (user cancel =
    # manual_cancel: 1), CC (customer cancel: 0), AFTER (touch after delivery: 0).
    # OPEN is not terminal (pending); SCAN has a missing delivery scan (excluded)
    c = one(res, "order_touch_count")
    assert c["n"] == 5 and c["value"] == pytest.approx(3 / 5)
    assert json.loads(c["excluded"]) == {"missing_delivery_scan": 1}
    t = one(res, "touchless_order_rate")
    assert (t["numerator"], t["denominator"]) == (3, 5)        # T0, CC, AFTER
    check_ratio(t)


def test_touch_anchor_is_terminal_time():
    res = kpilib.compute(touch_ds(), ["touchless_order_rate"], freq="D", as_of=AS_OF,
                         start="2024-01-01", end="2024-01-04", allow_future_as_of=True)
    got = res.set_index("period")["denominator"]
    # cancelled UC, CC on 01-01; T2, T0 delivered 01-02; AFTER delivered 01-03
    assert got.tolist() == [2.0, 2.0, 1.0]


def test_touch_by_node_counts_line_touches_in_their_sub_unit():
    res = kpilib.compute(touch_ds(), ["order_touch_count"], by=["node"], freq="D",
                         as_of=AS_OF, start="2024-01-02", end="2024-01-03", allow_future_as_of=True)
    got = res.set_index("node")["value"]
    # 01-02: T2 sub-unit at N1 (L1): order-level manual_touch = 1; T0 at N1: 0 -> mean 0.5
    # T2 sub-unit at N2 (L1b): manual_touch + manual_allocation on L1b = 2
    assert got["N1"] == pytest.approx(0.5) and got["N2"] == pytest.approx(2.0)


def test_touch_unavailable_without_events():
    ds = build_with_empty(NO_SHIPMENTS, orders=[{"order_id": "O1"}])
    r = one(kpilib.compute(ds, ["touchless_order_rate"], as_of=AS_OF,
                           allow_future_as_of=True), "touchless_order_rate")
    assert r["status"] == "unavailable" and "order_events" in r["note"]
    assert np.isnan(r["value"])


def test_shipments_per_order_and_multi_unit_by_fulfillment_model():
    res = kpilib.compute(split_ds(), ["shipments_per_order", "multi_unit_order_share"],
                         by=["fulfillment_model"], freq="D", as_of=AS_OF,
                         start="2024-01-01", end="2024-01-10", allow_future_as_of=True)
    own = res[(res["fulfillment_model"] == "owned_dc") & (res["n"] > 0)]
    # owned_dc sub-units (shipments, units): SPLIT (2, 2) on 01-09; ONE (1, 1), CU (2, 2),
    # MER (1, 2), NODES' E1 (1, 1), OPEN's D1 (1, 1) on 01-02 / 01-03
    spo = own[own["kpi"] == "shipments_per_order"]
    assert spo["numerator"].sum() == 8 and spo["denominator"].sum() == 6
    mu = own[own["kpi"] == "multi_unit_order_share"]
    assert mu["numerator"].sum() == 3 and mu["denominator"].sum() == 6   # SPLIT, CU, MER


def test_touchless_by_channel_sums_back():
    ds = touch_ds()
    seg = kpilib.compute(ds, A15, by=["channel"], as_of=AS_OF, allow_future_as_of=True)
    tot = kpilib.compute(ds, A15, as_of=AS_OF, allow_future_as_of=True)
    for k in A15:
        assert seg[seg["kpi"] == k]["numerator"].sum() == one(tot, k)["numerator"]
        assert seg[seg["kpi"] == k]["denominator"].sum() == one(tot, k)["denominator"]


