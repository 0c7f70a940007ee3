"""Point-in-time view (kpilib.asof.restrict): cancelled line quantities follow their times."""

from __future__ import annotations

import pandas as pd
from builders import build_dataset

from kpilib import Dataset
from kpilib.asof import restrict


def _ds():
    # O1: L1 cancelled by its own event on 01-02, L2 by the whole-order cancellation on 01-05;
    # O2: L3 cancelled (1 of 2) with no time anywhere (no event, order not cancelled)
    return build_dataset(
        orders=[{"order_id": "O1", "cancelled_at": pd.Timestamp("2024-01-05", tz="UTC"),
                 "cancel_initiator": "merchant", "cancel_reason": "stockout"},
                {"order_id": "O2"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "qty_cancelled_merchant": 1.0},
                     {"order_line_id": "L2", "order_id": "O1", "qty_cancelled_merchant": 1.0},
                     {"order_line_id": "L3", "order_id": "O2", "qty_ordered": 2.0,
                      "qty_cancelled_customer": 1.0}],
        order_events=[{"order_id": "O1", "order_line_id": "L1", "event_type": "cancelled",
                       "event_at": pd.Timestamp("2024-01-02", tz="UTC")}])


def _cancelled(view):
    lines = view.tables["order_lines"].set_index("order_line_id")
    return (lines["qty_cancelled_customer"] + lines["qty_cancelled_merchant"]).to_dict()


def test_line_cancelled_only_after_as_of_is_not_cancelled_in_the_view():
    view = restrict(_ds(), pd.Timestamp("2024-01-03", tz="UTC"))
    # 01-03: L1's cancellation (01-02) happened; L2's only time is the order's 01-05: not yet;
    # L3 has no time at all: kept as given
    assert _cancelled(view) == {"L1": 1.0, "L2": 0.0, "L3": 1.0}
    assert view.tables["orders"]["cancelled_at"].isna().all()
    # the view is a valid dataset: no order with every line cancelled and no cancelled_at
    Dataset.from_frames(**view.tables)


def test_line_cancellations_all_known_after_the_order_cancellation():
    view = restrict(_ds(), pd.Timestamp("2024-01-06", tz="UTC"))
    assert _cancelled(view) == {"L1": 1.0, "L2": 1.0, "L3": 1.0}
    assert view.tables["orders"]["cancelled_at"].notna().sum() == 1
