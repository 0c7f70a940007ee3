"""A16 order exception rate, on tiny hand-built datasets."""

from __future__ import annotations

import json

import pytest
from builders import build_dataset
from kpi_results import pick as one

import kpilib

AS_OF = "2024-03-15T00:00Z"  # after the fixtures' data ends (allow_future_as_of)
NODES = [{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}]
A16 = ["exception_rate", "exceptions_per_100_orders"]


# --- A16 -------------------------------------------------------------------------------------


def a16_ds(delivered: bool = True):
    status = {"delivery_status": "delivered", "delivered_at": "2024-01-03T00:00Z"} if \
        delivered else {"delivery_status": "in_transit"}
    orders = ["O1", "O2", "O3", "O4"]
    return build_dataset(
        orders=[*({"order_id": o, "channel": "web" if o in ("O1", "O2") else "app"}
                  for o in orders), {"order_id": "T", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O2"},
                     {"order_line_id": "L3", "order_id": "O3"},
                     {"order_line_id": "L3b", "order_id": "O3"},
                     {"order_line_id": "L4", "order_id": "O4"},
                     {"order_line_id": "LT", "order_id": "T"}],
        exceptions=[{"order_id": "O1", "exception_type": "address"},
                    {"order_id": "O2", "exception_type": "address", "is_informational": True},
                    {"order_id": "O3", "exception_type": "address"},
                    {"order_id": "O3", "order_line_id": "L3b", "exception_type": "payment",
                     "node_id": "N2"},
                    {"exception_type": "inbound"},
                    {"order_id": "T", "exception_type": "address"}],
        shipments=[{"shipment_id": f"S{i}", "order_id": o, "node_id": n,
                    "shipped_at": "2024-01-02T00:00Z", **status}
                   for i, (o, n) in enumerate((("O1", "N1"), ("O2", "N1"), ("O3", "N1"),
                                               ("O3", "N2"), ("O4", "N1"), ("T", "N1")))],
        shipment_lines=[{"shipment_id": f"S{i}", "order_line_id": ln}
                        for i, ln in enumerate(("L1", "L2", "L3", "L3b", "L4", "LT"))],
        nodes=NODES)


def test_exception_rate_and_per_100():
    res = kpilib.compute(a16_ds(), A16, as_of=AS_OF, allow_future_as_of=True)
    r = one(res, "exception_rate")
    # cohort O1..O4 (T is a test order, excluded). O1: 1 actionable exception; O2: only an
    # informational one (no); O3: 2; O4: none. The inbound exception has no order.
    assert (r["numerator"], r["denominator"], r["value"]) == (2, 4, 0.5)
    assert json.loads(r["excluded"]) == {"is_test": 1} and r["status"] == "ok"
    p = one(res, "exceptions_per_100_orders")
    # 100 x (1 + 0 + 2 + 0) / 4 = 75
    assert p["value"] == pytest.approx(75.0) and p["denominator"] == 4
    assert p["numerator"] == pytest.approx(300.0)


def test_exception_rate_preliminary_until_terminal_or_30_days():
    ds = a16_ds(delivered=False)
    # as_of 01-20: orders in transit and 19 days old -> preliminary
    r = one(kpilib.compute(ds, ["exception_rate"], as_of="2024-01-20T00:00Z",
                           allow_future_as_of=True), "exception_rate")
    assert r["status"] == "preliminary" and r["value"] == 0.5
    # as_of 02-01: 31 days old -> final even though not delivered
    r = one(kpilib.compute(ds, ["exception_rate"], as_of="2024-02-01T00:00Z",
                           allow_future_as_of=True), "exception_rate")
    assert r["status"] == "ok"
    # delivered on 01-03: terminal -> final at 01-20 already
    r = one(kpilib.compute(a16_ds(), ["exception_rate"], as_of="2024-01-20T00:00Z",
                           allow_future_as_of=True),
            "exception_rate")
    assert r["status"] == "ok"


def test_exception_rate_by_type_shares_the_cohort():
    res = kpilib.compute(a16_ds(), A16, by=["exception_type"], as_of=AS_OF, allow_future_as_of=True)
    a = one(res, "exception_rate", exception_type="address")
    assert (a["numerator"], a["denominator"]) == (2, 4)             # O1, O3
    b = one(res, "exception_rate", exception_type="payment")
    assert (b["numerator"], b["denominator"]) == (1, 4)             # O3
    per = res[res["kpi"] == "exceptions_per_100_orders"]
    # per-type numerators add up to the total (300): address 200, payment 100
    assert per["numerator"].sum() == pytest.approx(300.0)
    assert set(per["exception_type"]) == {"address", "payment"}   # informational/inbound out


def test_exception_rate_by_node_uses_the_line_of_the_exception():
    res = kpilib.compute(a16_ds(), ["exception_rate"], by=["node"], as_of=AS_OF,
                         allow_future_as_of=True)
    n1, n2 = one(res, "exception_rate", node="N1"), one(res, "exception_rate", node="N2")
    # N1 sub-units: O1 (exception), O2, O3's L3 (order-level 'address' exception), O4 -> 2/4
    # N2 sub-units: O3's L3b (line-level 'payment' + order-level 'address') -> 1/1
    assert (n1["numerator"], n1["denominator"]) == (2, 4)
    assert (n2["numerator"], n2["denominator"]) == (1, 1)


def test_exception_rate_by_channel_sums_back_and_by_day():
    res = kpilib.compute(a16_ds(), ["exception_rate"], by=["channel"], as_of=AS_OF,
                         allow_future_as_of=True)
    assert one(res, "exception_rate", channel="web")["value"] == 0.5        # O1 of O1, O2
    assert one(res, "exception_rate", channel="app")["value"] == 0.5        # O3 of O3, O4
    assert res["numerator"].sum() == 2 and res["denominator"].sum() == 4
    daily = kpilib.compute(a16_ds(), ["exception_rate"], freq="D", as_of="2024-01-03T00:00Z")
    # anchor = creation (01-01); as_of 01-03 gives periods 01-01..01-03
    assert daily["denominator"].tolist() == [4.0, 0.0, 0.0]


def test_exception_rate_unavailable_without_exceptions_table():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    r = one(kpilib.compute(ds, A16, as_of=AS_OF, allow_future_as_of=True), "exception_rate")
    assert r["status"] == "unavailable" and "exceptions" in r["note"]


