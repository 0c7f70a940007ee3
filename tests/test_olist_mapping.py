"""`kpilib import olist` runs kpilib/mappings/olist.yaml: a hand-made Olist folder meeting each
rule of the mapping (cancelled before or after the carrier hand-off, unavailable, two sellers,
an order without items, an item without its order), expected tables worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from cli_import import imported_folder

ORDERS = """\
order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,\
order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date
o1,c1,delivered,2018-03-01 10:00:00,2018-03-01 11:00:00,2018-03-02 09:00:00,\
2018-03-05 15:00:00,2018-03-10 00:00:00
o2,c2,canceled,2018-03-03 08:00:00,2018-03-03 09:00:00,,,2018-03-15 00:00:00
o3,c3,canceled,2018-03-04 08:00:00,2018-03-04 09:00:00,2018-03-05 10:00:00,,\
2018-03-20 00:00:00
o4,c4,unavailable,2018-03-06 08:00:00,2018-03-06 09:30:00,,,2018-03-25 00:00:00
o5,c5,created,2018-03-07 08:00:00,,,,2018-03-30 00:00:00
"""
ITEMS = """\
order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value
o1,1,p1,sB,2018-03-03 10:00:00,10.50,2.00
o1,2,p2,sA,2018-03-03 10:00:00,5.25,1.00
o1,3,p2,sA,2018-03-03 10:00:00,5.25,1.00
o2,1,p1,sB,2018-03-05 08:00:00,10.50,3.00
o3,1,p3,sA,2018-03-06 08:00:00,20.00,4.00
o4,1,p4,sC,2018-03-08 08:00:00,7.00,1.50
o9,1,p1,sD,2018-03-08 08:00:00,1.00,1.00
"""


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture()
def imported(tmp_path):
    return imported_folder("olist", {"olist_orders_dataset.csv": ORDERS,
                                     "olist_order_items_dataset.csv": ITEMS}, tmp_path)


def test_orders_amounts_and_cancellations(imported):
    orders = imported[0].orders.set_index("order_id")
    assert orders.index.tolist() == ["o1", "o2", "o3", "o4", "o5"]
    # o1: 10.50 + 5.25 + 5.25 and freight 2 + 1 + 1; o5 has no items: no amount (not 0)
    assert orders["merchandise_amount"].tolist()[:4] == [21.0, 10.5, 20.0, 7.0]
    assert orders["shipping_amount_charged"].tolist()[:4] == [4.0, 3.0, 4.0, 1.5]
    assert orders[["merchandise_amount", "shipping_amount_charged"]].loc["o5"].isna().all()
    # São Paulo in March 2018 is UTC-3. cancelled_at = the order's last timestamp: o2 its
    # approval 09:00, o3 its carrier hand-off 2018-03-05 10:00, o4 its approval 09:30
    assert orders["cancelled_at"].tolist() == [
        pd.NaT, utc("2018-03-03 12:00"), utc("2018-03-05 13:00"), utc("2018-03-06 12:30"), pd.NaT]
    assert orders["cancel_initiator"].tolist() == [None, None, None, "merchant", None]
    assert orders["cancel_reason"].tolist() == [None, None, None, "stockout", None]
    assert orders["created_at"].iloc[0] == utc("2018-03-01 13:00")
    assert orders["authorized_at"].isna().all()


def test_lines_one_unit_per_item_cancelled_before_the_hand_off_only(imported):
    lines = imported[0].order_lines.set_index("order_line_id")
    assert lines.index.tolist() == ["o1-1", "o1-2", "o1-3", "o2-1", "o3-1", "o4-1"]
    assert (lines["qty_ordered"] == 1.0).all()
    # o2 cancelled before the hand-off; o3 after it (nothing cancelled before shipment)
    assert lines["qty_cancelled_customer"].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert lines["qty_cancelled_merchant"].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert lines["assigned_node_id"].tolist() == ["sB", "sA", "sA", "sB", "sA", "sC"]
    # a date promise: 2018-03-10 00:00 São Paulo, flagged as a date
    assert lines.loc["o1-1", "promised_delivery_at_original"] == utc("2018-03-10 03:00")
    assert lines["promise_is_date"].all()
    assert lines.loc["o1-1", "planned_ship_by_at"] == utc("2018-03-03 13:00")
    assert lines["unit_price"].tolist() == [10.5, 5.25, 5.25, 10.5, 20.0, 7.0]


def test_nodes_shipments_and_release_events(imported):
    ds, report = imported
    # every seller of the items file, the one of the orphan item too, in id order
    assert ds.nodes["node_id"].tolist() == ["sA", "sB", "sC", "sD"]
    assert set(ds.nodes["fulfillment_model"]) == {"dropship"}
    ships = ds.shipments.set_index("shipment_id")
    # one per order and seller handed to the carrier, in order of first item
    assert ships.index.tolist() == ["o1-sB", "o1-sA", "o3-sA"]
    assert ships["delivery_status"].tolist() == ["delivered", "delivered", "in_transit"]
    assert ships.loc["o1-sA", "shipped_at"] == utc("2018-03-02 12:00")
    assert ships.loc["o1-sA", "delivered_at"] == utc("2018-03-05 18:00")
    assert ships.loc["o1-sA", "created_at"] == utc("2018-03-01 14:00")  # the approval
    assert ds.shipment_lines[["shipment_id", "order_line_id"]].values.tolist() == [
        ["o1-sB", "o1-1"], ["o1-sA", "o1-2"], ["o1-sA", "o1-3"], ["o3-sA", "o3-1"]]
    # released to each seller of a live order (not cancelled, or handed to the carrier)
    assert ds.order_events["event_id"].tolist() == ["REL-o1-sB", "REL-o1-sA", "REL-o3-sA"]
    assert set(ds.order_events["event_type"]) == {"released_to_node"}
    assert [(r["table"], r["reason"], r["rows"]) for r in report["set_aside"]] == [
        ("olist_order_items_dataset", "order_not_in_orders_file", 1)]
