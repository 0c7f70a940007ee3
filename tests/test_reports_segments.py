"""``plan_segments``: which ``--per`` values get a report set (no customer orders: none)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from kpilib.reports.segments import plan_segments

T = "2024-01-{:02d}T12:00:00Z".format


def dataset():
    # web: 1 customer order on Jan 3 and 1 on Jan 20; internal: 2 transfers; qa: 1 test order;
    # late: 1 customer order on Jan 25 (after end=Jan 21); all created in January 2024.
    orders = pd.DataFrame({
        "channel": ["web", "web", "internal", "internal", "qa", "late"],
        "order_type": ["standard", "standard", "transfer", "transfer", "standard", "standard"],
        "is_test": [False, False, False, False, True, False],
        "created_at": pd.to_datetime([T(3), T(20), T(4), T(5), T(6), T(25)], utc=True),
    })
    nodes = pd.DataFrame({"node_id": ["DC-1", "DC-2"]})
    return SimpleNamespace(orders=orders, nodes=nodes, dimensions=None,
                           tables={"orders": orders, "nodes": nodes},
                           data_as_of=pd.Timestamp(T(31)))


def test_a_channel_without_customer_orders_gets_no_report_set():
    kept, skipped = plan_segments(dataset(), "channel", end="2024-01-21")
    # web has 2 customer orders before Jan 21; internal only transfers; qa only a test order;
    # late's only order is after the end
    assert kept == ["web"]
    assert skipped == {
        "internal": "no customer orders in the period range (only 2 transfer orders between "
                    "nodes), so every customer KPI would be n/a",
        "late": "no customer orders in the period range (no orders at all), so every customer "
                "KPI would be n/a",
        "qa": "no customer orders in the period range (only 1 test order), so every customer "
              "KPI would be n/a",
    }


def test_the_range_comes_from_start_end_and_as_of():
    ds = dataset()
    assert plan_segments(ds, "channel")[0] == ["late", "web"]  # to data_as_of Jan 31
    assert plan_segments(ds, "channel", as_of=T(10))[0] == ["web"]  # Jan 3 only
    # an order created at the as_of instant counts (as_of is inclusive, end exclusive)
    assert plan_segments(ds, "channel", as_of=T(25))[0] == ["late", "web"]
    assert plan_segments(ds, "channel", end=T(25))[0] == ["web"]
    # from Jan 4 to Jan 21: web's Jan 20 order remains; to Jan 19 nothing of web remains
    assert plan_segments(ds, "channel", start="2024-01-04", end="2024-01-21")[0] == ["web"]
    kept, skipped = plan_segments(ds, "channel", start="2024-01-04", end="2024-01-19")
    assert kept == ["internal", "late", "qa", "web"] and skipped == {}  # all empty: none cut


def test_dimensions_not_read_from_orders_are_never_skipped():
    assert plan_segments(dataset(), "node") == (["DC-1", "DC-2"], {})
