"""A1-A6 (perfect order and its components) on tiny hand-built datasets.

Defaults (tests/builders.py): orders created 2024-01-01 00:00Z, each line promised for
2024-01-04 00:00Z (a timestamp promise, so D_u = 2024-01-04 00:00Z), qty 1. AS_OF is far
enough after every delivery that no maturity window is open unless a test says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib
from kpilib import schema

AS_OF = "2024-03-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


A = ["perfect_order_rate", "in_full_rate", "on_time_delivery_rate",
     "documentation_accuracy_rate", "perfect_condition_rate", "otif_rate"]


def ship(sid, line, qty=1.0, at="2024-01-03T00:00Z", order="O1", status="delivered", **kw):
    """One shipment of one line: (shipment row, shipment_line row)."""
    row = {"shipment_id": sid, "order_id": order, "created_at": "2024-01-01T01:00Z",
           "shipped_at": "2024-01-02T00:00Z", "delivery_status": status,
           "delivered_at": at if status == "delivered" else None, **kw}
    return row, {"shipment_id": sid, "order_line_id": line, "qty_shipped": qty}


def build(**tables):
    """build_dataset with timestamp strings turned into Timestamps (null-safe columns)."""
    out = {}
    for name, rows in tables.items():
        if rows is None:
            out[name] = None
            continue
        ts = {c.name for c in schema.TABLES[name].columns if c.dtype == schema.TS}
        out[name] = [{k: (pd.Timestamp(v) if k in ts and isinstance(v, str) else v)
                      for k, v in row.items()} for row in rows]
    return build_dataset(**out)


def make(orders=None, lines=None, ships=(), events=None, returns=None, **more):
    """Dataset with shipments, and harmless order_events / returns rows so A1/A4/A5 run."""
    return build(
        orders=orders, order_lines=lines,
        shipments=[s for s, _ in ships], shipment_lines=[sl for _, sl in ships],
        order_events=events or [{"order_id": "O1", "event_type": "created"}],
        # a non-defect return never makes an order imperfect (A1 edge case)
        returns=returns or [{"order_id": "O1", "order_line_id": "L1",
                             "return_reason": "changed_mind"}],
        **more)


def test_in_full_short_over_and_merchant_cancel():
    orders = [{"order_id": f"O{i}"} for i in range(1, 5)]
    lines = [{"order_line_id": f"L{i}", "order_id": f"O{i}", "qty_ordered": 2} for i in range(1, 5)]
    lines[2].update(qty_ordered=3, qty_cancelled_customer=1)      # L3: r = 2
    lines[3]["qty_cancelled_merchant"] = 1
    ships = [ship("S1", "L1", 2), ship("S2", "L2", 1, order="O2"),
             ship("S3", "L3", 3, order="O3"), ship("S4", "L4", 1, order="O4")]
    ds = make(orders, lines, ships)
    # O1 2/2 ok; O2 1 of 2 short; O3 3 delivered for r=2: over; O4 merchant-cancelled 1 -> 1/4
    row = one(ds, "in_full_rate")
    assert (row["numerator"], row["denominator"], row["status"]) == (1, 4, "ok")
    # tol_units=1: O2 |1-2|=1 ok, O3 |3-2|=1 ok, O4 still fails on cm -> 3/4
    assert one(ds, "in_full_rate", params={"tol_units": 1})["value"] == 0.75
    # on time (delivered 01-03 <= D 01-04): O1 ok; O2 1 unit still open at D -> late;
    # O3 nothing open -> ok; O4: r=2, cm=1, d=1 -> nothing open (cm fails A2 only) -> 3/4
    assert one(ds, "on_time_delivery_rate")["value"] == 0.75
    # OTIF = in full and on time = O1 only -> 1/4
    assert one(ds, "otif_rate")["value"] == 0.25


def test_late_undelivered_pending_and_completeness_after_deadline():
    orders = [{"order_id": f"O{i}"} for i in range(1, 5)]
    lines = [{"order_line_id": f"L{i}", "order_id": f"O{i}"} for i in range(1, 5)]
    # O4 is promised after AS_OF: not yet due -> pending, in no period
    lines[3]["promised_delivery_at_original"] = "2024-03-05T00:00Z"
    ships = [ship("S1", "L1"),                                  # on time, in full
             ship("S2", "L2", at="2024-01-06T00:00Z", order="O2"),  # late, in full
             ship("S3", "L3", order="O3", status="in_transit")]  # past due, still moving
    ds = make(orders, lines, ships)
    a3 = one(ds, "on_time_delivery_rate")
    # population O1..O3 (O4 pending); on time only O1 -> 1/3
    assert (a3["numerator"], a3["denominator"], a3["n"]) == (1, 3, 3)
    # in full judged on all deliveries (O2 late but complete): O1, O2 -> 2/3
    assert one(ds, "in_full_rate")["value"] == pytest.approx(2 / 3)
    assert one(ds, "perfect_order_rate")["value"] == pytest.approx(1 / 3)


def test_as_of_sees_shipment_in_transit():
    # delivered 01-06, deadline 01-04; evaluated 01-05: in transit past due -> late, not
    # in full (restated once delivered); n = 1
    ds = make(ships=[ship("S1", "L1", at="2024-01-06T00:00Z")])
    row = one(ds, "on_time_delivery_rate", as_of="2024-01-05T00:00Z")
    assert (row["value"], row["n"]) == (0.0, 1)
    assert one(ds, "in_full_rate", as_of="2024-01-05T00:00Z")["value"] == 0.0
    assert one(ds, "in_full_rate", as_of=AS_OF)["value"] == 1.0


def test_customer_cancellation_and_population_exclusions():
    orders = [{"order_id": "O1"},
              {"order_id": "O2", "cancelled_at": "2024-01-01T02:00Z",   # its only line
               "cancel_initiator": "customer", "cancel_reason": "other"},  # cancelled
              {"order_id": "O3", "is_test": True},
              {"order_id": "O4", "cancel_initiator": "fraud", "cancelled_at": "2024-01-01T02:00Z"},
              {"order_id": "O5", "cancel_initiator": "customer", "cancel_reason": "duplicate",
               "cancelled_at": "2024-01-01T02:00Z"},
              {"order_id": "O6", "order_type": "transfer"},
              {"order_id": "O7", "order_type": "replacement", "parent_order_id": "O1"}]
    lines = [{"order_line_id": "L1", "order_id": "O1", "qty_ordered": 2,
              "qty_cancelled_customer": 1},                       # r = 1
             {"order_line_id": "L2", "order_id": "O2", "qty_cancelled_customer": 1}]  # r = 0
    lines += [{"order_line_id": f"L{i}", "order_id": f"O{i}"} for i in range(3, 8)]
    ships = [ship("S1", "L1", 1)] + [ship(f"S{i}", f"L{i}", order=f"O{i}") for i in (3, 6, 7)]
    ds = make(orders, lines, ships)
    row = one(ds, "in_full_rate")
    # only O1 counts (1 of r=1 delivered -> in full); O2 fully customer-cancelled
    assert (row["value"], row["n"]) == (1.0, 1)
    assert excluded(row) == {"customer_cancel": 1, "is_test": 1, "fraud_cancel": 1,
                             "duplicate": 1, "transfer_order": 1, "replacement_order": 1}


def test_commit_units_and_customer_reschedule():
    lines = [
        # unit 1 (promise 01-04): L1 delivered 01-03; L2 rescheduled by the customer to 01-06
        # and delivered 01-05 -> D_u = latest line deadline = 01-06 -> on time
        {"order_line_id": "L1"},
        {"order_line_id": "L2", "promised_delivery_at_current": "2024-01-06T00:00Z",
         "promise_change_initiator": "customer"},
        # unit 2 (promise 01-10) delivered 01-11 -> late
        {"order_line_id": "L3", "promised_delivery_at_original": "2024-01-10T00:00Z"},
    ]
    ships = [ship("S1", "L1"), ship("S2", "L2", at="2024-01-05T00:00Z"),
             ship("S3", "L3", at="2024-01-11T00:00Z")]
    ds = make(None, lines, ships)
    units = kpilib.facts(ds, "commit_units", as_of=AS_OF, allow_future_as_of=True)
    assert len(units) == 2
    assert list(units["due_at"]) == [pd.Timestamp("2024-01-06", tz="UTC"),
                                     pd.Timestamp("2024-01-10", tz="UTC")]
    assert one(ds, "on_time_delivery_rate")["value"] == 0.5        # 1 of 2 units


def test_merchant_reschedule_keeps_original_unless_basis_current():
    lines = [{"order_line_id": "L1", "promised_delivery_at_current": "2024-01-06T00:00Z",
              "promise_change_initiator": "merchant",
              "requested_delivery_at": "2024-01-02T00:00Z"}]
    ds = make(None, lines, [ship("S1", "L1", at="2024-01-05T00:00Z")])
    # original basis: D = 01-04 (merchant change ignored), delivered 01-05 -> late
    assert one(ds, "on_time_delivery_rate")["value"] == 0.0
    # current basis: D = 01-06 -> on time; requested basis: D = 01-02 -> late
    assert one(ds, "on_time_delivery_rate", params={"commit_basis": "current"})["value"] == 1.0
    assert one(ds, "on_time_delivery_rate",
               params={"commit_basis": "requested"})["value"] == 0.0


def test_date_promise_ends_at_local_midnight_of_ship_to_zone():
    ny = "America/New_York"
    orders = [{"order_id": "O1", "ship_to_timezone": ny}, {"order_id": "O2",
                                                           "ship_to_timezone": ny}]
    # 2024-01-04 05:00Z is 2024-01-04 00:00 in New York: promised day = Jan 4 (NY);
    # deadline = Jan 5 00:00 NY = 2024-01-05 05:00Z (minus 1 ns)
    p = {"promised_delivery_at_original": "2024-01-04T05:00Z", "promise_is_date": True}
    lines = [{"order_line_id": "L1", "order_id": "O1", **p},
             {"order_line_id": "L2", "order_id": "O2", **p}]
    ships = [ship("S1", "L1", at="2024-01-05T03:00Z"),            # Jan 4 22:00 NY: on time
             ship("S2", "L2", at="2024-01-05T06:00Z", order="O2")]  # Jan 5 01:00 NY: late
    ds = make(orders, lines, ships)
    assert one(ds, "on_time_delivery_rate")["value"] == 0.5
    # the anchor D_u lies on Jan 4 in New York -> daily bucket Jan 4 (NY) holds both units
    out = kpilib.compute(ds, ["on_time_delivery_rate"], as_of=AS_OF, freq="D", tz=ny,
                         allow_future_as_of=True)
    hit = out.loc[out["n"] > 0]
    assert len(hit) == 1 and hit.iloc[0]["period"] == pd.Timestamp("2024-01-04", tz=ny)
    assert hit.iloc[0]["n"] == 2


def test_open_quantity_at_deadline_and_nothing_delivered():
    orders = [{"order_id": f"O{i}"} for i in range(1, 4)]
    # O3's only line is merchant-cancelled, so the order is cancelled (before its deadline)
    orders[2].update(cancelled_at="2024-01-02T00:00Z", cancel_initiator="merchant",
                     cancel_reason="stockout")
    lines = [{"order_line_id": "L1", "order_id": "O1", "qty_ordered": 2},
             {"order_line_id": "L2", "order_id": "O2", "qty_ordered": 2,
              "qty_cancelled_merchant": 1},
             {"order_line_id": "L3", "order_id": "O3", "qty_cancelled_merchant": 1}]
    ships = [ship("S1", "L1", 1), ship("S2", "L1", 1, at="2024-01-05T00:00Z"),
             ship("S3", "L2", 1, order="O2")]
    ds = make(orders, lines, ships)
    # O1: 1 of 2 open at D (second unit 01-05) -> late; O2: 1 delivered + 1 merchant-cancelled,
    # nothing open -> on time; O3: all merchant-cancelled, nothing delivered -> not on time
    row = one(ds, "on_time_delivery_rate")
    assert (row["numerator"], row["denominator"]) == (1, 3)
    # in full: O1 2/2 (cumulative) ok; O2, O3 merchant-cancelled -> 1/3
    assert one(ds, "in_full_rate")["numerator"] == 1


def test_failed_attempt_by_customer_option_and_lost_shipment():
    orders = [{"order_id": "O1"}, {"order_id": "O2"}]
    lines = [{"order_line_id": "L1", "order_id": "O1"}, {"order_line_id": "L2", "order_id": "O2"}]
    ships = [ship("S1", "L1", status="failed", first_delivery_attempt_at="2024-01-03T10:00Z",
                  delivery_failure_reason="customer_unavailable"),
             ship("S2", "L2", order="O2", status="lost")]
    ds = make(orders, lines, ships)
    # default: failed and lost shipments deliver nothing -> both past due -> 0/2
    assert one(ds, "on_time_delivery_rate")["value"] == 0.0
    # option: the failed attempt at 01-03 10:00 <= D counts for timing -> O1 on time, 1/2
    opt = {"count_failed_attempt_by_customer": True}
    assert one(ds, "on_time_delivery_rate", params=opt)["value"] == 0.5
    # reading: the goods never reached the customer, so in-full stays 0/2
    assert one(ds, "in_full_rate", params=opt)["value"] == 0.0


def test_early_tolerance():
    ds = make(ships=[ship("S1", "L1", at="2024-01-02T00:00Z")])   # 48 h before D
    assert one(ds, "on_time_delivery_rate")["value"] == 1.0       # early is on time
    p = {"early_tolerance_hours": 24}
    assert one(ds, "on_time_delivery_rate", params=p)["value"] == 0.0   # 48 h > 24 h
    p = {"early_tolerance_hours": 72}
    assert one(ds, "on_time_delivery_rate", params=p)["value"] == 1.0


def test_missing_delivery_scan_is_excluded_and_counted():
    orders = [{"order_id": "O1"}, {"order_id": "O2"}]
    lines = [{"order_line_id": "L1", "order_id": "O1"}, {"order_line_id": "L2", "order_id": "O2"}]
    s1, sl1 = ship("S1", "L1")
    s1["delivered_at"] = None                                    # delivered, no scan
    ds = make(orders, lines, [(s1, sl1), ship("S2", "L2", order="O2")])
    for k in ("on_time_delivery_rate", "in_full_rate", "perfect_order_rate"):
        row = one(ds, k)
        assert (row["value"], row["n"]) == (1.0, 1)
        assert excluded(row) == {"missing_delivery_scan": 1}


def test_wrong_item_evidence_and_window():
    n = 8
    orders = [{"order_id": f"O{i}"} for i in range(1, n + 1)]
    lines = [{"order_line_id": f"L{i}", "order_id": f"O{i}"} for i in range(1, n + 1)]
    lines[5]["substitution_approved"] = True                     # L6
    ships = [ship(f"S{i}", f"L{i}", order=f"O{i}") for i in range(1, n + 1)]  # all 01-03
    returns = [
        # L1 wrong_item 5 days after delivery -> fails in full
        {"order_id": "O1", "order_line_id": "L1", "return_reason": "wrong_item",
         "rma_requested_at": "2024-01-08T00:00Z"},
        # L2 missing_item 20 days after delivery -> outside A2's 14 days (inside A1's 30)
        {"order_id": "O2", "order_line_id": "L2", "return_reason": "missing_item",
         "rma_requested_at": "2024-01-23T00:00Z"},
        # L3 changed mind -> not a defect
        {"order_id": "O3", "order_line_id": "L3", "return_reason": "changed_mind"},
    ]
    picks = [
        # L4 pick error detected by the customer
        {"order_line_id": "L4", "error_detected": True, "error_detection_point": "customer",
         "error_type": "wrong_sku", "error_detected_at": "2024-01-04T00:00Z",
         "status": "picked", "picked_at": "2024-01-01T12:00Z", "qty_picked": 1},
        # L5 substituted SKU (picked SKU2 for SKU1), not approved -> wrong item
        {"order_line_id": "L5", "sku": "SKU2", "status": "picked",
         "picked_at": "2024-01-01T12:00Z", "qty_picked": 1},
        # L6 same substitution but approved -> fine
        {"order_line_id": "L6", "sku": "SKU2", "status": "picked",
         "picked_at": "2024-01-01T12:00Z", "qty_picked": 1},
    ]
    # O9 replaces O7 with reason wrong_item (reason_code on the replacement's event)
    orders.append({"order_id": "O9", "order_type": "replacement", "parent_order_id": "O7",
                   "created_at": "2024-01-06T00:00Z"})
    lines.append({"order_line_id": "L9", "order_id": "O9"})
    events = [{"order_id": "O9", "event_type": "created", "reason_code": "wrong_item",
               "event_at": "2024-01-06T00:00Z"}]
    ds = make(orders, lines, ships, events=events, returns=returns, pick_tasks=picks,
              products=[{"sku": "SKU1"}, {"sku": "SKU2"}])
    # failures: L1, L4, L5, O7 (replacement) -> in full 4 of 8 (O9 itself excluded)
    row = one(ds, "in_full_rate")
    assert (row["numerator"], row["denominator"]) == (4, 8)
    assert excluded(row) == {"replacement_order": 1}
    # A1 window 30 days also catches L2 -> perfect 3 of 8
    assert one(ds, "perfect_order_rate")["numerator"] == 3
    # maturity_days=3 overrides: only evidence by 01-06 counts: L4 (01-04), L5 (pick),
    # O7 replacement (01-06) -> in full 5 of 8
    assert one(ds, "in_full_rate", params={"maturity_days": 3})["numerator"] == 5


def test_documentation_defects_line_and_order_level():
    lines = [{"order_line_id": "L1", "order_id": "O1"},
             {"order_line_id": "L2", "order_id": "O1",
              "promised_delivery_at_original": "2024-01-05T00:00Z"},   # 2nd unit of O1
             {"order_line_id": "L3", "order_id": "O2"},
             {"order_line_id": "L4", "order_id": "O3"}]
    ships = [ship("S1", "L1"), ship("S2", "L2"), ship("S3", "L3", order="O2"),
             ship("S4", "L4", order="O3")]
    events = [
        # order-level defect on O1 -> both units of O1 fail
        {"order_id": "O1", "event_type": "doc_defect", "event_at": "2024-01-05T00:00Z"},
        # line defect on L3 after 01-03 + 14 d = 01-17 -> outside the window
        {"order_id": "O2", "order_line_id": "L3", "event_type": "doc_defect",
         "event_at": "2024-01-20T00:00Z"},
    ]
    ds = make(None, lines, ships, events=events)
    row = one(ds, "documentation_accuracy_rate")
    # units: O1/01-04 bad, O1/01-05 bad, O2 ok, O3 ok -> 2/4
    assert (row["numerator"], row["denominator"], row["status"]) == (2, 4, "ok")
    # 10 days after delivery the 14-day window is open -> preliminary
    assert one(ds, "documentation_accuracy_rate", as_of="2024-01-13T00:00Z")["status"] == \
        "preliminary"


def test_perfect_condition_population_and_evidence():
    n = 6
    orders = [{"order_id": f"O{i}"} for i in range(1, n + 1)]
    lines = [{"order_line_id": f"L{i}", "order_id": f"O{i}"} for i in range(1, n + 1)]
    ships = [ship(f"S{i}", f"L{i}", order=f"O{i}") for i in range(1, 5)]
    # O5 refused at the door because damaged (counts as a claim and as delivered contact)
    ships.append(ship("S5", "L5", order="O5", status="returned_to_sender",
                      first_delivery_attempt_at="2024-01-03T00:00Z",
                      delivery_failure_reason="refused_damaged"))
    # O6 nothing shipped: not in A5's population
    events = [{"order_id": "O1", "order_line_id": "L1", "event_type": "damage_claim",
               "event_at": "2024-01-04T00:00Z"}]
    returns = [{"order_id": "O2", "order_line_id": "L2", "return_reason": "defective",
                "rma_requested_at": "2024-01-25T00:00Z"},   # 22 days: inside 30
               {"order_id": "O3", "order_line_id": "L3", "return_reason": "changed_mind"}]
    ds = make(orders, lines, ships, events=events, returns=returns)
    row = one(ds, "perfect_condition_rate")
    # population O1..O5; bad: O1 claim, O2 defective, O5 refused damaged -> 2/5
    assert (row["numerator"], row["denominator"]) == (2, 5)
    assert excluded(row) == {"not_delivered": 1}
    # 20 days after delivery the 30-day window is still open -> preliminary
    assert one(ds, "perfect_condition_rate", as_of="2024-01-23T00:00Z")["status"] == \
        "preliminary"


def test_maturity_status_per_kpi():
    # delivered 2024-01-03; a documentation defect recorded 17 days later is outside A4's
    # 14-day window (so A4 stays ok) and shows that defects are captured in this data
    late_defect = [{"order_id": "O1", "order_line_id": "L1", "event_type": "doc_defect",
                    "event_at": "2024-01-20T00:00Z"}]
    ds = make(ships=[ship("S1", "L1")], events=late_defect)
    # 20 days later: A2/A4/A6 windows (14 d) closed, A1/A5 (30 d) open; A3 has none
    status = {k: one(ds, k, as_of="2024-01-23T00:00Z")["status"] for k in A}
    assert status == {"perfect_order_rate": "preliminary", "in_full_rate": "ok",
                      "on_time_delivery_rate": "ok", "documentation_accuracy_rate": "ok",
                      "perfect_condition_rate": "preliminary", "otif_rate": "ok"}
    # an undelivered past-due unit is a failure, not preliminary
    ds = make(ships=[ship("S1", "L1", status="in_transit")])
    assert one(ds, "in_full_rate", as_of="2024-01-05T00:00Z")["status"] == "ok"


def test_delivered_cohort_anchor():
    orders = [{"order_id": "O1"}, {"order_id": "O2"}]
    lines = [{"order_line_id": "L1", "order_id": "O1"},
             {"order_line_id": "L2", "order_id": "O2"}]
    ships = [ship("S1", "L1", at="2024-01-09T00:00Z"),                  # late, delivered
             ship("S2", "L2", order="O2", status="in_transit")]        # still open
    ds = make(orders, lines, ships)
    p = {"cohort": "delivered"}
    out = kpilib.compute(ds, ["on_time_delivery_rate"], as_of=AS_OF, freq="D", params=p,
                         allow_future_as_of=True)
    hit = out.loc[out["n"] > 0]
    # only O1, anchored at its delivery day 01-09 (open O2 invisible) -> 0/1
    assert len(hit) == 1 and hit.iloc[0]["period"] == pd.Timestamp("2024-01-09", tz="UTC")
    assert hit.iloc[0]["value"] == 0.0
    # due cohort: both units anchored on 01-04 -> 0/2
    assert one(ds, "on_time_delivery_rate")["denominator"] == 2


def test_kit_parent_judged_at_parent_line():
    lines = [{"order_line_id": "K1", "sku": "KIT"},
             {"order_line_id": "C1", "sku": "A", "parent_line_id": "K1"},
             {"order_line_id": "C2", "sku": "B", "parent_line_id": "K1", "qty_ordered": 2},
             {"order_line_id": "L1", "order_id": "O2"}]
    ships = [ship("S1", "C1"), ship("S2", "C2", 1), ship("S3", "L1", order="O2")]
    products = [{"sku": s} for s in ("KIT", "A", "B", "SKU1")]
    ds = make([{"order_id": "O1"}, {"order_id": "O2"}], lines, ships, products=products,
              returns=[{"order_id": "O2", "order_line_id": "L1",
                        "return_reason": "changed_mind"}])
    f = kpilib.facts(ds, "commit_unit_lines", as_of=AS_OF, allow_future_as_of=True)
    # components leave the A-domain: K1 and L1 only; K1 delivered = min(1/1, 1/2) = 0.5 kit
    assert sorted(f["order_line_id"]) == ["K1", "L1"]
    assert f.set_index("order_line_id").loc["K1", "d"] == 0.5
    # O1 kit short (C2 1 of 2) -> not in full; O2 in full -> 1/2
    assert one(ds, "in_full_rate")["value"] == 0.5


def test_sub_unit_by_product_class_shoes():
    products = [{"sku": "SHOE", "product_class": "Shoes"},
                {"sku": "SHIRT", "product_class": "Apparel"}]
    lines = [{"order_line_id": "L1", "sku": "SHOE"},
             {"order_line_id": "L2", "sku": "SHIRT", "qty_ordered": 2},
             {"order_line_id": "L3", "order_id": "O2", "sku": "SHOE"}]
    ships = [ship("S1", "L1"), ship("S2", "L2", 1),
             ship("S3", "L3", order="O2", at="2024-01-06T00:00Z")]
    ds = make([{"order_id": "O1"}, {"order_id": "O2", "channel": "mkt"}], lines, ships,
              products=products, returns=[{"order_line_id": "L1", "sku": "SHOE",
                                           "return_reason": "changed_mind"}])
    out = kpilib.compute(ds, ["in_full_rate", "on_time_delivery_rate"], as_of=AS_OF,
                         by=["product_class"],
                         allow_future_as_of=True).set_index(["kpi", "product_class"])
    # in full: shoe sub-units O1 (1/1) and O2 (1/1) -> Shoes 2/2; shirt of O1 1 of 2 -> 0/1
    assert out.loc[("in_full_rate", "Shoes"), "value"] == 1.0
    assert out.loc[("in_full_rate", "Apparel"), "value"] == 0.0
    # unsegmented: O1 fails (its shirt), O2 ok -> 1/2 (not the weighted sum of segments)
    assert one(ds, "in_full_rate")["value"] == 0.5
    # on time: Shoes O1 01-03 ok, O2 01-06 late -> 1/2; Apparel O1 01-03 but 1 unit open
    # at D -> 0/1
    assert out.loc[("on_time_delivery_rate", "Shoes"), "value"] == 0.5
    assert out.loc[("on_time_delivery_rate", "Apparel"), "value"] == 0.0
    by_ch = kpilib.compute(ds, ["in_full_rate"], as_of=AS_OF, by=["channel"],
                           allow_future_as_of=True).set_index(
        "channel")
    assert by_ch.loc["web", "value"] == 0.0 and by_ch.loc["mkt", "value"] == 1.0


def test_store_pickup_ready_event_is_delivery():
    events = [{"order_id": "O1", "event_type": "ready_for_pickup",
               "event_at": "2024-01-03T12:00Z"}]
    # the shipment to the store is not the customer delivery; the ready event is
    ds = make(ships=[ship("S1", "L1", status="in_transit")], events=events)
    assert one(ds, "on_time_delivery_rate")["value"] == 1.0
    assert one(ds, "in_full_rate")["value"] == 1.0


def test_unavailable_and_undefined():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    row = one(ds, "in_full_rate")
    assert row["status"] == "unavailable" and "shipments" in row["note"]
    ds = build_dataset(shipments=[ship("S1", "L1")[0]], shipment_lines=[ship("S1", "L1")[1]])
    assert one(ds, "documentation_accuracy_rate")["status"] == "unavailable"
    # every unit pending (promise after as_of) -> empty population -> undefined, never 0/1
    row = one(ds, "in_full_rate", as_of="2024-01-02T00:00Z")
    assert row["status"] == "undefined" and np.isnan(row["value"])
