"""Order-node slices come from SQL (``slice_lines``, ``node_slices``): hand-computed slices.

A line belongs to the node of its latest shipment, else to its assigned node; kit parents
are left out; a node that only shipped (no line of the order is there) still forms a slice;
each slice is keyed by order position x (nodes + 1) + node position + 1, rows in key order.
"""

from __future__ import annotations

import pandas as pd
from builders import build_dataset, ship

import kpilib
from kpilib.engine import make_context
from kpilib.fact_tables import slices


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _dataset():
    # O1: L1 (assigned N1) shipped last by N2 (S1); L2 waits at N2; kit K (N1) with component
    # C1 (N1), cancelled by the customer. N3 shipped part of L1 earlier on S2 (DHL) and S3
    # (FedEx) and has S4 unconfirmed, but holds no line.
    # O2: M1 shipped by N1 (S5). Releases: O1 at N2 at 03:00 and 05:00, O1 without node at 08:00.
    line = {"qty_cancelled_customer": 0.0}
    return build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}],
        nodes=[{"node_id": "N1"}, {"node_id": "N2"}, {"node_id": "N3"}],
        order_lines=[
            {**line, "order_line_id": "L1", "assigned_node_id": "N1", "qty_ordered": 4.0,
             "planned_ship_by_at": "2024-01-03T00:00Z"},
            {**line, "order_line_id": "L2", "assigned_node_id": "N2",
             "planned_ship_by_at": "2024-01-02T00:00Z"},
            {**line, "order_line_id": "K", "assigned_node_id": "N1"},
            {"order_line_id": "C1", "assigned_node_id": "N1", "parent_line_id": "K",
             "qty_cancelled_customer": 1.0},
            {**line, "order_line_id": "M1", "order_id": "O2", "assigned_node_id": "N1"}],
        shipments=[
            ship("S1", "O1", "2024-01-05T10:00Z", node="N2", carrier="UPS"),
            ship("S2", "O1", "2024-01-03T00:00Z", node="N3", carrier="DHL"),
            ship("S3", "O1", "2024-01-04T00:00Z", node="N3", carrier="FedEx"),
            {"shipment_id": "S4", "order_id": "O1", "node_id": "N3", "carrier": "GLS"},
            ship("S5", "O2", "2024-01-02T00:00Z", node="N1")],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1"},
                        {"shipment_id": "S2", "order_line_id": "L1"},
                        {"shipment_id": "S3", "order_line_id": "L1"},
                        {"shipment_id": "S4", "order_line_id": "L1"},
                        {"shipment_id": "S5", "order_line_id": "M1"}],
        order_events=[
            {"order_id": "O1", "node_id": "N2", "event_type": "released_to_node",
             "event_at": "2024-01-01T05:00Z"},
            {"order_id": "O1", "node_id": "N2", "event_type": "released_to_node",
             "event_at": "2024-01-01T03:00Z"},
            {"order_id": "O1", "event_type": "released_to_node",
             "event_at": "2024-01-01T08:00Z"}])


def test_slices_group_lines_by_shipping_node_and_keep_shipment_only_nodes():
    ds = _dataset()
    got = kpilib.facts(ds, "order_node_slices")
    assert list(zip(got["order_id"], got["node"], strict=True)) == [
        ("O1", "N1"), ("O1", "N2"), ("O1", "N3"), ("O2", "N1")]
    assert got["key"].tolist() == [1, 2, 3, 5]          # width 4: O1 = 0, O2 = 1
    assert got["n_lines"].tolist() == [1, 2, 0, 1]      # N1: C1 only (K is a kit)
    assert got["all_customer_cancelled"].tolist() == [True, False, False, False]
    assert got["all_cancelled"].tolist() == [True, False, False, False]
    assert got["planned_ship_by"].iloc[1] == ts("2024-01-02")
    assert got["n_shipped"].tolist() == [0, 1, 2, 1]
    assert got["n_unshipped"].tolist() == [0, 0, 1, 0]
    assert got["first_shipped_at"].tolist()[1:3] == [ts("2024-01-05T10:00"), ts("2024-01-03")]
    assert got["last_shipped_at"].iloc[2] == ts("2024-01-04")
    assert got["carrier"].tolist()[1:3] == ["UPS", "FedEx"]   # the last confirmed one
    # N2: L1 has 3 of 4 units on confirmed shipments, L2 none; N3: S4 is unconfirmed
    assert got["complete"].tolist() == [False, False, False, True]
    assert got["released_at"].tolist()[:3] == [ts("2024-01-01T08:00"), ts("2024-01-01T03:00"),
                                               ts("2024-01-01T08:00")]
    assert pd.isna(got["released_at"].iloc[3])


def test_leaf_lines_carry_their_slice_key_and_line_position():
    ctx = make_context(_dataset())
    lines = slices.leaf_lines(ctx)
    assert lines["line_pos"].tolist() == [0, 1, 3, 4]   # K (row 2) is a kit parent
    assert lines["node"].tolist() == ["N2", "N2", "N1", "N1"]
    assert lines["key"].tolist() == [2, 2, 1, 5]
    assert lines["nc"].tolist() == [1, 1, 0, 0]
