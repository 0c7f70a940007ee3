"""Rules that live once, in SQL: the order rollup, store-pickup ready times, fake orders.

Callers that need such a rule on rows of their own (sub-units of an order, every order line,
the whole source) read the one SQL definition through :func:`kpilib.sql.run.frame_given` or
:func:`kpilib.sql.run.frame`; these tests pin the hand-computed results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import build_dataset, ship

import kpilib
from kpilib.engine import make_context, recorded
from kpilib.fact_tables import line_base, orders, population
from kpilib.sql import definitions, run


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


NAT = pd.Series([pd.NaT], dtype="datetime64[ns, UTC]").iloc[0]


def _units() -> pd.DataFrame:
    """Three requirement lines of units 5 (two lines) and 3 (one line)."""
    return pd.DataFrame({
        "unit": [5, 3, 5],
        "required": [2.0, 1.0, 0.0],           # unit 5's second line was cancelled
        "delivered_ok": [True, False, False],
        "delivered_first_at": [ts("2024-01-03T10:00"), NAT, ts("2024-01-02T08:00")],
        "delivered_last_at": [ts("2024-01-04T10:00"), NAT, ts("2024-01-05T08:00")],
        "missing_scan": [False, True, False],
        "shipped_ok": [True, False, True],
        "shipped_qty": [2.0, 0.0, 0.0],
        "first_shipped_at": [ts("2024-01-02T09:00"), NAT, NAT],
        "last_shipped_at": [ts("2024-01-02T09:00"), NAT, NAT],
    })


def test_unit_rollup_reads_rows_the_caller_gives_in_order_of_first_line():
    ctx = make_context(build_dataset(orders=[{}]))
    got = run.frame_given(ctx, "unit_rollup", {"order_units": _units()})
    assert got["unit"].tolist() == [5, 3]
    assert got["n_need"].tolist() == [1, 1]
    # unit 5: its only needed line is delivered; the cancelled line's later delivery
    # does not move the final delivery, but counts for the first one
    assert got["delivered"].tolist() == [True, False]
    assert got["final_delivery_at"].tolist() == [ts("2024-01-04T10:00"), NAT]
    assert got["first_delivery_at"].tolist() == [ts("2024-01-02T08:00"), NAT]
    assert got["fully_shipped"].tolist() == [True, False]
    assert got["missing_scan"].tolist() == [False, True]
    assert got["last_shipped_at"].tolist() == [ts("2024-01-02T09:00"), NAT]


def test_a_given_frame_feeds_what_reads_it_and_leaves_the_session_alone():
    # order_flow_lines given: order_units and unit_rollup are computed anew from it; the
    # orders fact of the same context still reads the dataset's own requirement lines
    ds = build_dataset(orders=[{"order_id": "O1"}],
                       order_lines=[{"order_line_id": "L1", "order_id": "O1"}])
    ctx = make_context(ds)
    assert not ctx.fact("orders")["delivered"].iloc[0]
    lines = _units().rename(columns={"unit": "order_id"})
    got = run.frame_given(ctx, "unit_rollup", {"order_flow_lines": lines})
    assert got["unit"].tolist() == [5, 3] and got["delivered"].tolist() == [True, False]
    assert run.frame(ctx, "orders_fact")["delivered"].tolist() == [False]
    assert definitions.plan("unit_rollup", frozenset({"order_units"})) == ["unit_rollup"]
    assert definitions.base_tables("unit_rollup", frozenset({"order_units"})) == set()


def test_subunits_roll_each_node_of_an_order_by_the_orders_rule():
    # O1: L1 shipped from N1 and delivered, L2 shipped from N2 and lost. Per node the N1 part
    # is delivered, the N2 part is not; the whole order is not.
    ds = build_dataset(
        orders=[{"order_id": "O1"}],
        nodes=[{"node_id": "N1"}, {"node_id": "N2"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O1"}],
        shipments=[{"shipment_id": "S1", "node_id": "N1", "shipped_at": "2024-01-02T00:00Z",
                    "delivery_status": "delivered", "delivered_at": "2024-01-03T00:00Z"},
                   {"shipment_id": "S2", "node_id": "N2", "shipped_at": "2024-01-02T06:00Z",
                    "delivery_status": "lost"}],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L2"}])
    kpilib.registry.load_all()
    ctx = make_context(ds, by="node")
    u = orders.subunits(ctx).set_index("node")
    assert u.loc["N1", "delivered"] and not u.loc["N2", "delivered"]
    assert u.loc["N1", "final_delivery_at"] == ts("2024-01-03")
    assert u.loc["N2", "fully_shipped"] and u.loc["N2", "last_shipped_at"] == ts("2024-01-02T06:00")
    assert not ctx.fact("orders")["delivered"].iloc[0]


def test_ready_times_of_every_line_kit_lines_included_come_from_sql():
    # K is a kit line of O1 with components C1, C2; P is a plain line of O1; Q is O2's line,
    # ready by an order-level event. C1's own event joins its kit line's.
    ds = build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}],
        order_lines=[{"order_line_id": "K", "order_id": "O1", "qty_ordered": 1},
                     {"order_line_id": "C1", "order_id": "O1", "parent_line_id": "K"},
                     {"order_line_id": "C2", "order_id": "O1", "parent_line_id": "K"},
                     {"order_line_id": "P", "order_id": "O1"},
                     {"order_line_id": "Q", "order_id": "O2"}],
        order_events=[
            {"order_id": "O1", "order_line_id": "K", "event_type": "ready_for_pickup",
             "event_at": "2024-01-02T06:00Z"},
            {"order_id": "O1", "order_line_id": "K", "event_type": "ready_for_pickup",
             "event_at": "2024-01-02T09:00Z"},
            {"order_id": "O1", "order_line_id": "C1", "event_type": "ready_for_pickup",
             "event_at": "2024-01-02T07:00Z"},
            {"order_id": "O2", "event_type": "ready_for_pickup",
             "event_at": "2024-01-02T05:00Z"}])
    ctx = make_context(ds)
    first, last = line_base.ready_times(ctx)
    as_text = [str(t)[:16] if not np.isnat(t) else "-" for t in (*first, *last)]
    assert as_text == ["2024-01-02T06:00", "2024-01-02T06:00", "2024-01-02T06:00", "-",
                       "2024-01-02T05:00",
                       "2024-01-02T09:00", "2024-01-02T09:00", "2024-01-02T09:00", "-",
                       "2024-01-02T05:00"]
    flow = kpilib.facts(ds, "order_flow_lines").set_index("order_line_id")
    assert flow.loc[["C1", "C2", "Q"], "is_pickup"].all() and not flow.loc["P", "is_pickup"]
    assert flow.loc["C1", "delivered_last_at"] == ts("2024-01-02T09:00")


def test_fake_orders_are_the_populations_first_three_reasons_over_the_whole_source():
    # O1 (channel store) is cancelled as fraud after as_of: the as-of view does not know it
    # yet, but the source does, so O1's rows prove nothing about what the source records
    ds = build_dataset(
        orders=[{"order_id": "O1", "channel": "store", "cancelled_at": "2024-01-05T00:00Z",
                 "cancel_initiator": "fraud"},
                {"order_id": "O2", "channel": "web"},
                {"order_id": "O3", "channel": "web", "order_type": "transfer"}])
    ctx = make_context(ds, as_of="2024-01-03")
    assert ctx.ds.orders["cancel_initiator"].isna().all()
    fake = ctx.keys.decode(population.fake_orders(ctx).to_frame())["order_id"]
    assert fake.tolist() == ["O1"]
    assert not recorded(ctx, "orders.channel=store")
    assert recorded(ctx, "orders.channel=web")


def test_required_quantities_of_lines_raise_cancellations_to_the_unshipped_rest():
    # O1 cancelled by the customer: L1 (3 ordered, 0.5 merchant-cancelled, 1 shipped on a
    # confirmed shipment, 1 on an unconfirmed one) -> customer-cancelled max(0, 3-0.5-1) =
    # 1.5, r = 1.5. O2 cancelled by the system: L2 (2 ordered, 1 customer-cancelled) ->
    # cm = max(0, 2-1-0) = 1. O3 is not cancelled: L3 keeps r = 2 - 0.5, cm = 0.
    ds = build_dataset(
        orders=[{"order_id": "O1", "cancelled_at": "2024-01-03T00:00Z",
                 "cancel_initiator": "customer"},
                {"order_id": "O2", "cancelled_at": "2024-01-03T00:00Z",
                 "cancel_initiator": "system"},
                {"order_id": "O3"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "qty_ordered": 3.0,
                      "qty_cancelled_merchant": 0.5},
                     {"order_line_id": "L2", "order_id": "O2", "qty_ordered": 2.0,
                      "qty_cancelled_customer": 1.0},
                     {"order_line_id": "L3", "order_id": "O3", "qty_ordered": 2.0,
                      "qty_cancelled_customer": 0.5}],
        shipments=[ship("S1", "O1", "2024-01-02T00:00Z"),
                   {"shipment_id": "S2", "order_id": "O1"}],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L1"}])
    ctx = make_context(ds)
    req = run.frame(ctx, "line_required")
    assert req["r"].tolist() == [1.5, 1.0, 1.5]
    assert req["cm"].tolist() == [0.5, 1.0, 0.0]
    base = line_base.lines(ctx)
    assert base["r"].tolist() == [1.5, 1.0, 1.5] and base["cm"].tolist() == [0.5, 1.0, 0.0]
