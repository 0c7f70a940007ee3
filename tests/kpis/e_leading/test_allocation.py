"""E2 allocation failure rates, on tiny hand-built datasets."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import pick as one

import kpilib

AS_OF = "2024-03-15T00:00Z"  # after the fixtures' data ends (allow_future_as_of)
NODES = [{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}]
E2 = ["allocation_failure_rate", "allocation_attempt_failure_rate"]


def day(d: str) -> pd.Timestamp:
    return pd.Timestamp(d, tz="UTC")


# --- E2 --------------------------------------------------------------------------------------


def attempt(eid, oid, line, node, at, qty=None, confirmed=None):
    row = {"event_id": eid, "order_id": oid, "order_line_id": line, "node_id": node,
           "event_type": "allocation_attempt", "event_at": at}
    if qty is not None:
        row["qty"] = qty
    if confirmed is not None:
        row["qty_confirmed"] = confirmed
    return row


def e2_ds():
    return build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}, {"order_id": "O2", "channel": "app"},
                {"order_id": "F", "cancelled_at": "2024-01-03T00:00Z",
                 "cancel_initiator": "fraud", "channel": "web"},
                {"order_id": "T", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "sku": "A"},
                     {"order_line_id": "L2", "order_id": "O1", "sku": "B", "qty_ordered": 3},
                     {"order_line_id": "L3", "order_id": "O2", "sku": "A", "qty_ordered": 2},
                     {"order_line_id": "L4", "order_id": "O2", "sku": "B"},
                     {"order_line_id": "L5", "order_id": "F", "sku": "A"},
                     {"order_line_id": "LT", "order_id": "T", "sku": "A"}],
        products=[{"sku": "A", "product_class": "shoes"}, {"sku": "B", "product_class": "hats"}],
        order_events=[
            # L1: first attempt 01-01 01:00 at N1 fully confirmed -> success
            attempt("E1", "O1", "L1", "N1", "2024-01-01T01:00Z", 1, 1),
            # L2: partial at N1 (1 of 3) -> failed; re-sourced to N2 the next day (success):
            # the first attempt stays a failure
            attempt("E2", "O1", "L2", "N1", "2024-01-01T01:00Z", 3, 1),
            attempt("E3", "O1", "L2", "N2", "2024-01-02T01:00Z", 2, 2),
            # L3: qty missing -> the line's 2 units; 2 confirmed -> success
            attempt("E4", "O2", "L3", "N1", "2024-01-01T02:00Z", confirmed=2),
            # L4: two attempts at the same time: tie broken by event_id (E5 first, failed:
            # confirmation missing = nothing confirmed)
            attempt("E5", "O2", "L4", "N2", "2024-01-01T03:00Z", 1),
            attempt("E6", "O2", "L4", "N1", "2024-01-01T03:00Z", 1, 1),
            # fraud order: leading indicators keep it (work happened), failed
            attempt("E7", "F", "L5", "N1", "2024-01-01T04:00Z", 1, 0),
            # test order: excluded
            attempt("E8", "T", "LT", "N1", "2024-01-01T04:00Z", 1, 0),
            {"event_id": "E9", "order_id": "O1", "event_type": "hold_placed",
             "event_at": "2024-01-01T00:30Z"}],
        nodes=NODES)


def test_allocation_failure_rates():
    res = kpilib.compute(e2_ds(), E2, as_of=AS_OF, allow_future_as_of=True)
    first = one(res, "allocation_failure_rate")
    # first attempts: L1 ok, L2 failed (partial), L3 ok, L4 failed (E5), L5 failed (fraud
    # order kept); LT is a test order -> 3 of 5
    assert (first["numerator"], first["denominator"]) == (3, 5)
    assert json.loads(first["excluded"]) == {"is_test": 1}
    every = one(res, "allocation_attempt_failure_rate")
    # all attempts E1..E7: failed E2, E5, E7 -> 3 of 7
    assert (every["numerator"], every["denominator"]) == (3, 7)
    assert every["value"] == pytest.approx(3 / 7)


def test_allocation_anchor_is_attempt_time():
    res = kpilib.compute(e2_ds(), E2, freq="D", as_of="2024-01-02T12:00Z")
    first = res[res["kpi"] == "allocation_failure_rate"].set_index("period")
    # every first attempt is on 01-01; the 01-02 retry is not a first attempt
    assert first.loc[day("2024-01-01"), "denominator"] == 5
    assert first.loc[day("2024-01-02"), "status"] == "undefined"
    every = res[res["kpi"] == "allocation_attempt_failure_rate"].set_index("period")
    assert (every.loc[day("2024-01-02"), "numerator"],
            every.loc[day("2024-01-02"), "denominator"]) == (0, 1)      # E3


def test_allocation_by_attempted_node_and_product_class():
    res = kpilib.compute(e2_ds(), E2, by=["node"], as_of=AS_OF, allow_future_as_of=True)
    # first attempts by attempted node: N1 L1 ok, L2 failed, L3 ok, L5 failed -> 2/4;
    # N2: L4 (E5) failed -> 1/1. Attempts: N2 has E3 ok and E5 failed -> 1/2
    n1 = one(res, "allocation_failure_rate", node="N1")
    assert (n1["numerator"], n1["denominator"]) == (2, 4)
    assert one(res, "allocation_failure_rate", node="N2")["value"] == 1.0
    assert one(res, "allocation_attempt_failure_rate", node="N2")["value"] == 0.5
    pc = kpilib.compute(e2_ds(), ["allocation_failure_rate"], by=["product_class"],
                        as_of=AS_OF, allow_future_as_of=True)
    # shoes (sku A): L1 ok, L3 ok, L5 failed -> 1/3; hats (B): L2, L4 failed -> 2/2
    assert one(pc, "allocation_failure_rate", product_class="shoes")["value"] == \
        pytest.approx(1 / 3)
    assert one(pc, "allocation_failure_rate", product_class="hats")["value"] == 1.0


def test_allocation_by_channel_sums_back():
    seg = kpilib.compute(e2_ds(), ["allocation_failure_rate"], by=["channel"], as_of=AS_OF,
                         allow_future_as_of=True)
    # web: L1 ok, L2 failed, L5 failed -> 2/3; app: L3 ok, L4 failed -> 1/2
    assert one(seg, "allocation_failure_rate", channel="web")["value"] == pytest.approx(2 / 3)
    assert one(seg, "allocation_failure_rate", channel="app")["value"] == 0.5
    assert seg["numerator"].sum() == 3 and seg["denominator"].sum() == 5


def test_allocation_unavailable_without_events():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    r = one(kpilib.compute(ds, E2, as_of=AS_OF, allow_future_as_of=True), "allocation_failure_rate")
    assert r["status"] == "unavailable" and "order_events" in r["note"]


def test_allocation_failures_per_sku_day():
    res = kpilib.compute(e2_ds(), ["allocation_failures_per_sku_day"], as_of=AS_OF,
                         allow_future_as_of=True)
    r = one(res, "allocation_failures_per_sku_day")
    # cells (sku, attempted node, day) with attempts: (A,N1,01-01) E1 E4 E7; (B,N1,01-01) E2
    # E6; (B,N2,01-02) E3; (B,N2,01-01) E5 -> 4 cells; failures E2, E5, E7 -> 3 / 4
    # (the test order's E8 is excluded)
    assert (r["numerator"], r["denominator"]) == (3, 4) and r["n"] == 4
    assert json.loads(r["excluded"]) == {"is_test": 1}
    by = kpilib.compute(e2_ds(), ["allocation_failures_per_sku_day"], by=["sku"], as_of=AS_OF,
                        allow_future_as_of=True)
    # A: 1 failure (E7) in 1 cell; B: 2 failures (E2, E5) in 3 cells
    assert one(by, "allocation_failures_per_sku_day", sku="A")["value"] == 1.0
    assert one(by, "allocation_failures_per_sku_day", sku="B")["value"] == pytest.approx(2 / 3)
