"""A7-A10 (order, line and unit fill; backorder rate, age and open units) on tiny datasets.

Defaults (tests/builders.py): orders created 2024-01-01 00:00Z, lines qty 1. Shipments here
are created 01-01 01:00 and shipped 01-02 00:00 unless a row says otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib
from kpilib import schema

AS_OF = "2024-02-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


def build(**tables):
    """build_dataset with timestamp strings turned into Timestamps (null-safe columns)."""
    out = {}
    for name, rows in tables.items():
        ts = {c.name for c in schema.TABLES[name].columns if c.dtype == schema.TS}
        out[name] = None if rows is None else [
            {k: (pd.Timestamp(v) if k in ts and isinstance(v, str) else v) for k, v in r.items()}
            for r in rows]
    return build_dataset(**out)


def ship(sid, line, qty=1.0, order="O1", created="2024-01-01T01:00Z",
         shipped="2024-01-02T00:00Z", **kw):
    row = {"shipment_id": sid, "order_id": order, "created_at": created, "shipped_at": shipped,
           "delivery_status": "in_transit", **kw}
    return row, {"shipment_id": sid, "order_line_id": line, "qty_shipped": qty}


def bo(line, at, order="O1"):
    return {"order_id": order, "order_line_id": line, "event_type": "backordered", "event_at": at}


def make(orders=None, lines=None, ships=(), events=None, **more):
    return build(orders=orders, order_lines=lines, shipments=[s for s, _ in ships],
                 shipment_lines=[sl for _, sl in ships],
                 order_events=events or [{"order_id": "O1", "event_type": "created"}], **more)


def test_order_fill_rate_cases_and_anchors():
    orders = [{"order_id": f"O{i}"} for i in range(1, 8)]
    orders[4].update(cancelled_at="2024-01-02T12:00Z", cancel_initiator="merchant",
                     cancel_reason="stockout")                               # O5
    # O6: every line customer-cancelled, so the order is cancelled too (the contract rule
    # cancelled_without_timestamp); it is excluded either way
    orders[5].update(cancelled_at="2024-01-01T12:00Z", cancel_initiator="customer",
                     cancel_reason="other")
    orders.append({"order_id": "O8", "is_test": True})
    lines = [{"order_line_id": f"L{i}", "order_id": f"O{i}"} for i in range(1, 9)]
    lines[2].update(qty_ordered=2, qty_cancelled_merchant=1)                 # L3
    lines[5].update(qty_cancelled_customer=1)                                # L6: r = 0
    ships = [ship("S1", "L1"),                                               # O1 complete
             ship("S2", "L2", order="O2", created="2024-01-03T00:00Z",
                  shipped="2024-01-04T00:00Z"),                              # after backorder
             ship("S3", "L3", order="O3"),                                   # 1 of 2, rest cm
             ship("S8", "L8", order="O8")]
    events = [bo("L2", "2024-01-01T02:00Z", "O2"), bo("L7", "2024-01-01T03:00Z", "O7")]
    ds = make(orders, lines, ships, events)
    row = one(ds, "order_fill_rate")
    # O1 ok; O2 backordered (first fill 0); O3 merchant short; O4 pending (not shipped, not
    # backordered); O5 fully merchant-cancelled -> failure; O6 customer-cancelled -> excluded;
    # O7 backordered, unshipped -> failure; O8 test -> excluded.  1 of {O1,O2,O3,O5,O7} = 0.2
    assert (row["numerator"], row["denominator"], row["n"]) == (1, 5, 5)
    assert excluded(row) == {"customer_cancel": 1, "is_test": 1}
    daily = kpilib.compute(ds, ["order_fill_rate"], as_of=AS_OF, freq="D",
                           allow_future_as_of=True).set_index("period")
    day = {d: daily.loc[pd.Timestamp(d, tz="UTC")] for d in ("2024-01-01", "2024-01-02",
                                                              "2024-01-04")}
    # anchors: O7 at its backorder 01-01 03:00; O1, O3 first ship 01-02, O5 cancel 01-02 12:00;
    # O2 first ship 01-04
    assert (day["2024-01-01"]["numerator"], day["2024-01-01"]["denominator"]) == (0, 1)
    assert (day["2024-01-02"]["numerator"], day["2024-01-02"]["denominator"]) == (1, 3)
    assert (day["2024-01-04"]["numerator"], day["2024-01-04"]["denominator"]) == (0, 1)


def test_order_fill_by_node_is_judged_per_slice():
    nodes = [{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}]
    lines = [{"order_line_id": "L1", "assigned_node_id": "N1"},
             {"order_line_id": "L2", "assigned_node_id": "N2"}]
    ships = [ship("S1", "L1", node_id="N1"),
             ship("S2", "L2", node_id="N2", created="2024-01-04T00:00Z",
                  shipped="2024-01-05T00:00Z")]
    ds = make(None, lines, ships, [bo("L2", "2024-01-02T00:00Z")], nodes=nodes)
    out = kpilib.compute(ds, ["order_fill_rate"], as_of=AS_OF, by=["node"],
                         allow_future_as_of=True).set_index("node")
    # planned two-node split: N1 slice complete (1/1); N2 slice backordered (0/1)
    assert out.loc["N1", "value"] == 1.0 and out.loc["N2", "value"] == 0.0
    # the order as a whole is not complete -> 0/1 (not the sum of slices)
    assert one(ds, "order_fill_rate")["value"] == 0.0
    fm = kpilib.compute(ds, ["order_fill_rate"], as_of=AS_OF, by=["fulfillment_model"],
                        allow_future_as_of=True)
    assert dict(zip(fm["fulfillment_model"], fm["value"], strict=True)) == {"owned_dc": 1.0,
                                                                           "3pl": 0.0}


def test_line_and_unit_fill():
    lines = [{"order_line_id": "L1", "qty_ordered": 2},
             {"order_line_id": "L2", "qty_ordered": 2},
             {"order_line_id": "L3", "qty_cancelled_customer": 1},       # r = 0
             {"order_line_id": "L4", "qty_cancelled_merchant": 1},       # never shipped
             {"order_line_id": "L5"}]                                    # pending
    ships = [ship("S1", "L1", 2),
             ship("S2", "L2", 1),                                        # before backorder
             ship("S3", "L2", 1, created="2024-01-03T00:00Z", shipped="2024-01-03T06:00Z")]
    events = [bo("L2", "2024-01-02T06:00Z"),
              {"order_id": "O1", "order_line_id": "L4", "event_type": "cancelled",
               "event_at": "2024-01-02T00:00Z"}]
    ds = make(None, lines, ships, events)
    # first fill: L1 2 of 2; L2 1 of 2 (S3 created after the backorder); L4 0 of 1
    row = one(ds, "line_fill_rate")
    assert (row["numerator"], row["denominator"]) == (1, 3)          # L1 only
    assert excluded(row) == {"customer_cancel": 1}
    # units: (2 + 1 + 0) / (2 + 2 + 1) = 3/5
    assert one(ds, "unit_fill_rate")["value"] == pytest.approx(0.6)
    # L4 anchored at its cancellation 01-02 00:00, L1/L2 at first ship 01-02 00:00
    daily = kpilib.compute(ds, ["line_fill_rate"], as_of=AS_OF, freq="D", allow_future_as_of=True)
    assert daily.loc[daily["n"] > 0, "period"].tolist() == [pd.Timestamp("2024-01-02",
                                                                         tz="UTC")]


def test_backorder_rate_with_pre_orders():
    orders = [{"order_id": f"O{i}"} for i in range(1, 7)]
    for i in (2, 3):                                   # O3, O4: pre-orders shippable 01-05
        orders[i]["earliest_ship_at"] = "2024-01-05T00:00Z"
    orders[4]["earliest_ship_at"] = "2024-03-01T00:00Z"                   # O5: after as_of
    lines = [{"order_line_id": f"L{i}", "order_id": f"O{i}"} for i in range(1, 7)]
    lines[5]["qty_cancelled_customer"] = 1                                 # L6: r = 0
    orders[5].update(cancelled_at="2024-01-01T12:00Z", cancel_initiator="customer",
                     cancel_reason="other")          # O6 fully cancelled -> order cancelled
    ships = [ship("S4", "L4", order="O4", created="2024-01-04T00:00Z",
                  shipped="2024-01-05T00:00Z")]
    events = [bo("L1", "2024-01-02T00:00Z", "O1")] + [
        bo(f"L{i}", "2024-01-01T06:00Z", f"O{i}") for i in (3, 4, 5)]
    ds = make(orders, lines, ships, events)
    row = one(ds, "backorder_rate")
    # L1 backordered; L2 never; L3 pre-order still unshipped when 01-05 passed -> backorder;
    # L4 shipped on its ship date -> not; L5 ship date still ahead -> not; L6 excluded.
    assert (row["numerator"], row["denominator"], row["status"]) == (2, 5, "ok")
    assert excluded(row) == {"customer_cancel": 1}
    f = kpilib.facts(ds, "order_lines", as_of=AS_OF,
                     allow_future_as_of=True).set_index("order_line_id")
    assert f.loc["L3", "bo_start_at"] == pd.Timestamp("2024-01-05", tz="UTC")
    # 9 days after creation lines may still backorder -> preliminary (14-day rule)
    assert one(ds, "backorder_rate", as_of="2024-01-10T00:00Z")["status"] == "preliminary"
    # before 01-05 the pre-order L3 is not a backorder yet: 1/5
    assert one(ds, "backorder_rate", as_of="2024-01-04T00:00Z")["numerator"] == 1


def _snapshot_ds():
    orders = [{"order_id": "O1"}, {"order_id": "O2"},
              {"order_id": "O3", "cancelled_at": "2024-01-04T12:00Z",
               "cancel_initiator": "merchant", "cancel_reason": "stockout"}]
    lines = [{"order_line_id": "L1", "order_id": "O1", "qty_ordered": 3},
             {"order_line_id": "L2", "order_id": "O2"},
             {"order_line_id": "L3", "order_id": "O3"}]
    ships = [ship("S1", "L1", 1, created="2024-01-03T00:00Z", shipped="2024-01-04T00:00Z"),
             ship("S2", "L1", 2, created="2024-01-06T00:00Z", shipped="2024-01-06T12:00Z")]
    events = [bo("L1", "2024-01-02T00:00Z", "O1"), bo("L2", "2024-01-03T00:00Z", "O2"),
              bo("L3", "2024-01-02T00:00Z", "O3")]
    return make(orders, lines, ships, events)


def test_backorder_age_and_open_units_at_as_of():
    ds = _snapshot_ds()
    age = one(ds, "backorder_age_hours", as_of="2024-01-05T00:00Z")
    # open at 01-05 00:00: L1 (since 01-02, 1 of 3 shipped) 72 h; L2 (since 01-03) 48 h;
    # L3 closed by the cancellation 01-04 12:00. mean 60, p50 60, p90 48 + 0.9*24 = 69.6
    assert (age["value"], age["n"]) == (60.0, 2)
    assert age["p50"] == pytest.approx(60.0) and age["p90"] == pytest.approx(69.6)
    units = one(ds, "backorder_units_open", as_of="2024-01-05T00:00Z")
    # L1: 3 - 1 shipped = 2; L2: 1 -> 3 units over 2 open lines
    assert (units["value"], units["numerator"], units["denominator"]) == (3.0, 3.0, 2.0)


def test_backorder_snapshots_at_each_day_end():
    ds = _snapshot_ds()
    res = kpilib.compute(ds, ["backorder_age_hours", "backorder_units_open"],
                         as_of="2024-01-07T00:00Z", start="2024-01-02T00:00Z", freq="D",
                         allow_future_as_of=True)
    got = {(r.kpi, str(r.period.date())): r.value for r in res.itertuples()}
    # day 01-02, snapshot 01-03 00:00: L1 24 h, L2 0 h (backordered at that instant), L3 24 h
    assert got[("backorder_age_hours", "2024-01-02")] == pytest.approx(16.0)
    # units: L1 3 (S1 ships 01-04), L2 1, L3 1 (its cancellation comes later) = 5
    assert got[("backorder_units_open", "2024-01-02")] == 5.0
    # 01-03 (t = 01-04 00:00): ages 48, 24, 48 -> 40; units L1 3-1=2, L2 1, L3 1 = 4
    assert got[("backorder_age_hours", "2024-01-03")] == pytest.approx(40.0)
    assert got[("backorder_units_open", "2024-01-03")] == 4.0
    # 01-04 (t = 01-05): L3 cancelled -> ages 72, 48 -> 60; units 3
    assert got[("backorder_age_hours", "2024-01-04")] == pytest.approx(60.0)
    # 01-06 (t = 01-07): L1 closed 01-06 12:00 -> L2 only, 96 h, 1 unit
    assert got[("backorder_age_hours", "2024-01-06")] == pytest.approx(96.0)
    assert got[("backorder_units_open", "2024-01-06")] == 1.0


def test_no_open_backorder_is_undefined():
    # backorders are recorded in this data (L1 was backordered), but none is open at as_of
    ds = make(None, None, [ship("S1", "L1")], [bo("L1", "2024-01-01T06:00Z")])
    row = one(ds, "backorder_age_hours")
    assert row["status"] == "undefined" and np.isnan(row["value"])
    assert one(ds, "backorder_units_open")["status"] == "undefined"


def test_backorder_kpis_unavailable_when_no_backorder_is_ever_recorded():
    # no backordered event anywhere: "0% backorders" would be a claim the data cannot make
    ds = make(None, None, [ship("S1", "L1")])
    for kpi in ("backorder_rate", "backorder_age_hours", "backorder_units_open"):
        row = one(ds, kpi)
        assert row["status"] == "unavailable" and "backordered" in row["note"]


def test_kit_parent_filled_through_components():
    lines = [{"order_line_id": "K1"},
             {"order_line_id": "C1", "parent_line_id": "K1"},
             {"order_line_id": "C2", "parent_line_id": "K1", "qty_ordered": 2},
             {"order_line_id": "K2", "order_id": "O2"},
             {"order_line_id": "C3", "order_id": "O2", "parent_line_id": "K2"}]
    ships = [ship("S1", "C1"), ship("S2", "C2", 2),
             ship("S3", "C3", order="O2", created="2024-01-03T00:00Z",
                  shipped="2024-01-03T06:00Z")]
    ds = make([{"order_id": "O1"}, {"order_id": "O2"}], lines, ships,
              [bo("C3", "2024-01-02T00:00Z", "O2")])
    f = kpilib.facts(ds, "order_lines", as_of=AS_OF,
                     allow_future_as_of=True).set_index("order_line_id")
    # components leave the A-domain; K1 first fill = min(1/1, 2/2) = 1 kit
    assert sorted(f.index) == ["K1", "K2"] and f.loc["K1", "first_fill_qty"] == 1.0
    # K2's component was backordered before it shipped -> K2 not filled first time: 1/2
    assert one(ds, "line_fill_rate")["value"] == 0.5
    assert one(ds, "backorder_rate")["value"] == 0.5


def test_unavailable_without_tables():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    for k in ("order_fill_rate", "line_fill_rate", "unit_fill_rate", "backorder_rate"):
        assert one(ds, k)["status"] == "unavailable"
    ds = build(shipments=[ship("S1", "L1")[0]], shipment_lines=[ship("S1", "L1")[1]])
    assert one(ds, "backorder_rate")["status"] == "unavailable"        # needs order_events
    assert one(ds, "line_fill_rate")["value"] == 1.0
