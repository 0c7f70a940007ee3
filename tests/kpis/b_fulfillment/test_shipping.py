"""B1 on-time shipment and B5 dock-to-ship time, on hand-built order-node slices."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import build_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_results import compute_one, excluded

import kpilib

AS_OF = "2024-01-10T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


def check_ratio(row):
    assert row["value"] == pytest.approx(row["numerator"] / row["denominator"])


def release(order_id, at, node="N1", **kw):
    return {"order_id": order_id, "event_type": "released_to_node", "node_id": node,
            "event_at": at, **kw}


# --------------------------------------------------------------------------- B1 on time


def _ship(sid, order, at, node="N1", **kw):
    return {"shipment_id": sid, "order_id": order, "node_id": node, "created_at": at,
            "shipped_at": at, "delivery_status": "in_transit", **kw}


def _line(lid, order, due="2024-01-03T00:00Z", node="N1", **kw):
    return {"order_line_id": lid, "order_id": order, "assigned_node_id": node,
            "planned_ship_by_at": due, **kw}


def test_on_time_shipment_basic_late_open_and_pending():
    ds = build_dataset(
        orders=[{"order_id": f"O{i}"} for i in range(1, 5)],
        order_lines=[_line("L1", "O1"), _line("L2", "O2"), _line("L3", "O3"),
                     _line("L4", "O4", due="2024-01-12T00:00Z")],
        shipments=[_ship("S1", "O1", "2024-01-02T10:00Z"),    # before 01-03: on time
                   _ship("S2", "O2", "2024-01-03T10:00Z")],   # after the deadline: late
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L2"}],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "on_time_shipment_rate")
    # O3 never shipped and past due -> late; O4 due after as_of -> pending. 1 / 3
    assert row["value"] == pytest.approx(1 / 3) and row["denominator"] == 3
    check_ratio(row)


def test_on_time_shipment_last_shipment_decides_and_partial_is_late():
    ds = build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}],
        order_lines=[_line("L1", "O1"), _line("L2", "O1", due="2024-01-05T00:00Z"),
                     _line("L3", "O2"), _line("L4", "O2")],
        shipments=[_ship("S1", "O1", "2024-01-02T00:00Z"),
                   _ship("S2", "O1", "2024-01-04T00:00Z"),   # last one after min deadline
                   _ship("S3", "O2", "2024-01-02T00:00Z")],  # L4 never ships
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L2"},
                        {"shipment_id": "S3", "order_line_id": "L3"}],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "on_time_shipment_rate")
    # O1: deadline = min(01-03, 01-05) = 01-03, last shipment 01-04 -> late.
    # O2: L4 still open past the deadline -> late.  0 / 2
    assert row["value"] == 0.0 and row["denominator"] == 2


def test_on_time_shipment_cancellations():
    ds = build_dataset(
        # O1 and O2 have every line cancelled, so the orders are cancelled (before the
        # 01-03 deadline); O4's cancellation comes after it
        orders=[{"order_id": "O1", "cancelled_at": "2024-01-02T00:00Z",
                 "cancel_initiator": "customer", "cancel_reason": "other"},
                {"order_id": "O2", "cancelled_at": "2024-01-02T00:00Z",
                 "cancel_initiator": "merchant", "cancel_reason": "stockout"},
                {"order_id": "O3"},
                {"order_id": "O4", "cancelled_at": "2024-01-04T00:00Z",
                 "cancel_initiator": "customer", "cancel_reason": "other"},
                {"order_id": "O5"}],
        order_lines=[_line("L1", "O1", qty_ordered=2, qty_cancelled_customer=2),
                     _line("L2", "O2", qty_cancelled_merchant=1),
                     _line("L3", "O3", qty_ordered=2, qty_cancelled_merchant=1),
                     _line("L4", "O4", qty_cancelled_customer=1),
                     _line("L5", "O5")],
        shipments=[_ship("S3", "O3", "2024-01-02T00:00Z"), _ship("S5", "O5",
                                                               "2024-01-02T00:00Z")],
        shipment_lines=[{"shipment_id": "S3", "order_line_id": "L3", "qty_shipped": 1},
                        {"shipment_id": "S5", "order_line_id": "L5"}],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "on_time_shipment_rate")
    # O1 fully customer-cancelled -> excluded; O2 fully merchant-cancelled -> excluded;
    # O3 ships its 1 remaining unit on time (the other unit merchant-cancelled) -> on time;
    # O4 cancelled by the customer on 01-04, after its deadline 01-03, unshipped -> late;
    # O5 on time.  2 / 3
    assert row["value"] == pytest.approx(2 / 3) and row["n"] == 3
    assert excluded(row) == {"customer_cancel": 1, "merchant_cancel": 1}


def test_on_time_shipment_merchant_hold_extends_deadline_unless_counted():
    ds = build_dataset(
        orders=[{"order_id": "O1"}],
        order_lines=[_line("L1", "O1")],
        order_events=[{"order_id": "O1", "event_type": "hold_placed", "actor_type": "user",
                       "event_at": "2024-01-01T00:00Z", "reason_code": "fraud_review"},
                      {"order_id": "O1", "event_type": "hold_released", "actor_type": "user",
                       "event_at": "2024-01-01T10:00Z"}],
        shipments=[_ship("S1", "O1", "2024-01-03T05:00Z")],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"}],
        nodes=[{"node_id": "N1"}])
    # hold of 10 h moves the deadline from 01-03 00:00 to 10:00; shipped 05:00 -> on time
    assert one(ds, "on_time_shipment_rate")["value"] == 1.0
    row = one(ds, "on_time_shipment_rate", params={"hold_counts_against_node": True})
    assert row["value"] == 0.0          # planned deadline stands: 05:00 > 00:00 -> late


def test_on_time_shipment_customer_population_and_segments():
    ds = build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}, {"order_id": "O2", "channel": "mkt"},
                {"order_id": "O3", "order_type": "transfer"},
                {"order_id": "O4", "is_test": True},
                {"order_id": "O5", "order_type": "replacement", "parent_order_id": "O1"},
                {"order_id": "O6", "channel": "mkt"}],
        order_lines=[_line(f"L{i}", f"O{i}") for i in range(1, 7)],
        shipments=[_ship("S1", "O1", "2024-01-02T00:00Z", carrier="DHL"),
                   _ship("S2", "O2", "2024-01-05T00:00Z", carrier="UPS"),
                   _ship("S6", "O6", "2024-01-02T00:00Z", carrier="UPS")],
        shipment_lines=[{"shipment_id": s, "order_line_id": f"L{s[1]}"}
                        for s in ("S1", "S2", "S6")],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "on_time_shipment_rate")
    # O1 on time, O2 late, O6 on time: 2/3; O3, O4, O5 excluded by reason
    assert row["value"] == pytest.approx(2 / 3)
    assert excluded(row) == {"transfer_order": 1, "is_test": 1, "replacement_order": 1}
    by_ch = kpilib.compute(ds, ["on_time_shipment_rate"], by=["channel"], as_of=AS_OF,
                           allow_future_as_of=True)
    v = by_ch.set_index("channel")["value"]
    assert v["web"] == 1.0 and v["mkt"] == 0.5
    # re-summing channel numerators and denominators gives the total
    assert by_ch["numerator"].sum() == row["numerator"]
    assert by_ch["denominator"].sum() == row["denominator"]
    by_car = kpilib.compute(ds, ["on_time_shipment_rate"], by=["carrier"], as_of=AS_OF,
                            allow_future_as_of=True)
    c = by_car.set_index("carrier")["value"]
    assert c["DHL"] == 1.0 and c["UPS"] == 0.5


def test_on_time_shipment_weekly_anchor_is_deadline_and_no_deadline_is_out():
    ds = build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}, {"order_id": "O3"}],
        order_lines=[_line("L1", "O1", due="2024-01-03T00:00Z"),
                     _line("L2", "O2", due="2024-01-09T00:00Z"),
                     _line("L3", "O3", due=None)],
        shipments=[_ship("S1", "O1", "2024-01-02T00:00Z"),
                   _ship("S2", "O2", "2024-01-08T00:00Z")],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L2"}],
        nodes=[{"node_id": "N1"}])
    res = kpilib.compute(ds, ["on_time_shipment_rate"], freq="W", as_of=AS_OF,
                         allow_future_as_of=True)
    # deadlines 01-03 (week of 01-01) and 01-09 (week of 01-08); O3 has no deadline
    assert list(res["denominator"]) == [1.0, 1.0] and list(res["value"]) == [1.0, 1.0]
    assert list(res["period"]) == [pd.Timestamp("2024-01-01", tz="UTC"),
                                   pd.Timestamp("2024-01-08", tz="UTC")]


def test_on_time_shipment_without_shipments_table_is_unavailable():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    row = one(ds, "on_time_shipment_rate")
    assert row["status"] == "unavailable" and "shipments" in row["note"]


# --------------------------------------------------------------------------- B5 dock-to-ship


def test_dock_to_ship_last_and_first_ship_with_backorder():
    ds = build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}],
        order_lines=[_line("L1", "O1"), _line("L2", "O1"), _line("L3", "O2"),
                     _line("L4", "O2")],
        order_events=[release("O1", "2024-01-01T02:00Z"), release("O2", "2024-01-01T00:00Z")],
        shipments=[_ship("S1", "O1", "2024-01-01T10:00Z"),
                   _ship("S2", "O1", "2024-01-01T14:00Z"),
                   _ship("S3", "O2", "2024-01-01T06:00Z")],   # L4 backordered, not shipped
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L2"},
                        {"shipment_id": "S3", "order_line_id": "L3"}],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "dock_to_ship_hours")
    # O1 complete: last ship 14:00 - release 02:00 = 12 h; O2 not complete -> pending
    assert row["value"] == pytest.approx(12.0) and row["n"] == 1
    first = one(ds, "dock_to_first_ship_hours")
    # O1: 10:00 - 02:00 = 8 h; O2: 06:00 - 00:00 = 6 h -> mean 7
    assert first["value"] == pytest.approx(7.0) and first["n"] == 2


def test_dock_to_ship_population_and_exclusions():
    ds = build_dataset(
        orders=[{"order_id": "O1", "order_type": "transfer"}, {"order_id": "O2",
                                                                "is_test": True},
                {"order_id": "O3"}, {"order_id": "O4"}],
        order_lines=[_line(f"L{i}", f"O{i}") for i in range(1, 5)],
        order_events=[release("O1", "2024-01-01T00:00Z"), release("O2", "2024-01-01T00:00Z"),
                      release("O4", "2024-01-01T09:00Z")],
        shipments=[_ship(f"S{i}", f"O{i}", "2024-01-01T04:00Z") for i in range(1, 5)],
        shipment_lines=[{"shipment_id": f"S{i}", "order_line_id": f"L{i}"}
                        for i in range(1, 5)],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "dock_to_ship_hours")
    # transfer O1 counts (4 h); O2 test; O3 has no release; O4 shipped before its release
    assert row["value"] == pytest.approx(4.0) and row["n"] == 1
    assert excluded(row) == {"is_test": 1, "missing_release": 1, "negative_duration": 1}


def test_dock_to_ship_by_node_and_channel():
    ds = build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}, {"order_id": "O2", "channel": "mkt"}],
        order_lines=[_line("L1", "O1", node="N1"), _line("L2", "O1", node="N2"),
                     _line("L3", "O2", node="N1")],
        order_events=[release("O1", "2024-01-01T00:00Z", "N1"),
                      release("O1", "2024-01-01T00:00Z", "N2"),
                      release("O2", "2024-01-01T00:00Z", "N1")],
        shipments=[_ship("S1", "O1", "2024-01-01T02:00Z", node="N1"),
                   _ship("S2", "O1", "2024-01-01T10:00Z", node="N2"),
                   _ship("S3", "O2", "2024-01-01T04:00Z", node="N1")],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L2"},
                        {"shipment_id": "S3", "order_line_id": "L3"}],
        nodes=[{"node_id": "N1"}, {"node_id": "N2"}])
    by_node = kpilib.compute(ds, ["dock_to_ship_hours"], by=["node"], as_of=AS_OF,
                             allow_future_as_of=True)
    v = by_node.set_index("node")["value"]
    # N1 slices: O1 2 h, O2 4 h -> 3; N2: O1 10 h
    assert v["N1"] == pytest.approx(3.0) and v["N2"] == pytest.approx(10.0)
    by_ch = kpilib.compute(ds, ["dock_to_ship_hours"], by=["channel"], as_of=AS_OF,
                           allow_future_as_of=True)
    c = by_ch.set_index("channel")["value"]
    assert c["web"] == pytest.approx(6.0) and c["mkt"] == pytest.approx(4.0)


# --------------------------------------------------------------------------- properties

SLICE = st.tuples(st.sampled_from(["web", "mkt"]),              # channel
                  st.integers(0, 5),                            # deadline: day of January
                  st.one_of(st.none(), st.integers(-30, 30)),   # ship time vs deadline (h)
                  st.sampled_from(["N1", "N2"]))                # node


def _slice_ds(specs, extra=()):
    orders, lines, ships, slines = [], [], [], []
    for i, (channel, day, offset, node) in enumerate([*specs, *extra], start=1):
        due = pd.Timestamp("2024-01-03T00:00Z") + pd.Timedelta(days=day)
        orders.append({"order_id": f"O{i}", "channel": channel,
                       **({"is_test": True} if channel == "test" else {}),
                       **({"order_type": "transfer"} if channel == "transfer" else {}),
                       **({"cancelled_at": "2024-01-01T01:00Z", "cancel_initiator": "fraud",
                           "cancel_reason": "other", "channel": "web"}
                          if channel == "fraud" else {})})
        lines.append(_line(f"L{i}", f"O{i}", due=due.isoformat(), node=node))
        if offset is not None:
            at = (due + pd.Timedelta(hours=offset)).isoformat()
            ships.append(_ship(f"S{i}", f"O{i}", at, node=node, carrier="DHL"))
            slines.append({"shipment_id": f"S{i}", "order_line_id": f"L{i}"})
    return build_dataset(orders=orders, order_lines=lines, shipments=ships or None,
                         shipment_lines=slines or None,
                         nodes=[{"node_id": "N1"}, {"node_id": "N2"}])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SLICE, min_size=1, max_size=6))
def test_on_time_shipment_invariants(specs):
    # a shipped transfer order is always present (so the shipments table exists); it is
    # excluded from this customer KPI and must not move it either
    base = [("transfer", 0, 1, "N1")]
    ds = _slice_ds(specs, extra=base)
    total = one(ds, "on_time_shipment_rate")
    if total["denominator"] > 0:
        assert total["value"] == pytest.approx(total["numerator"] / total["denominator"])
    else:
        assert total["status"] == "undefined"
    # channel is an order attribute: its segments re-sum to the total
    by_ch = kpilib.compute(ds, ["on_time_shipment_rate"], by=["channel"], as_of=AS_OF,
                           allow_future_as_of=True)
    assert by_ch["numerator"].sum() == total["numerator"]
    assert by_ch["denominator"].sum() == total["denominator"]
    assert excluded(total)["transfer_order"] == 1
    # a test order and a fraud cancellation (both shipped late) change nothing
    noisy = _slice_ds(specs, extra=[*base, ("test", 0, 20, "N1"), ("fraud", 0, 20, "N2")])
    again = one(noisy, "on_time_shipment_rate")
    assert (again["numerator"], again["denominator"]) == (total["numerator"],
                                                         total["denominator"])
    assert excluded(again) == {**excluded(total), "is_test": 1, "fraud_cancel": 1}
