"""A16 exception rate and E1 exception queue snapshot, on tiny hand-built datasets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import pick as one

import kpilib

AS_OF = "2024-03-15T00:00Z"
NODES = [{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}]
A16 = ["exception_rate", "exceptions_per_100_orders"]
E1 = ["exception_queue_age_hours", "exception_share_over_sla", "exception_open_count"]


def day(d: str) -> pd.Timestamp:
    return pd.Timestamp(d, tz="UTC")


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
    res = kpilib.compute(a16_ds(), A16, as_of=AS_OF)
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
    r = one(kpilib.compute(ds, ["exception_rate"], as_of="2024-01-20T00:00Z"), "exception_rate")
    assert r["status"] == "preliminary" and r["value"] == 0.5
    # as_of 02-01: 31 days old -> final even though not delivered
    r = one(kpilib.compute(ds, ["exception_rate"], as_of="2024-02-01T00:00Z"), "exception_rate")
    assert r["status"] == "ok"
    # delivered on 01-03: terminal -> final at 01-20 already
    r = one(kpilib.compute(a16_ds(), ["exception_rate"], as_of="2024-01-20T00:00Z"),
            "exception_rate")
    assert r["status"] == "ok"


def test_exception_rate_by_type_shares_the_cohort():
    res = kpilib.compute(a16_ds(), A16, by=["exception_type"], as_of=AS_OF)
    a = one(res, "exception_rate", exception_type="address")
    assert (a["numerator"], a["denominator"]) == (2, 4)             # O1, O3
    b = one(res, "exception_rate", exception_type="payment")
    assert (b["numerator"], b["denominator"]) == (1, 4)             # O3
    per = res[res["kpi"] == "exceptions_per_100_orders"]
    # per-type numerators add up to the total (300): address 200, payment 100
    assert per["numerator"].sum() == pytest.approx(300.0)
    assert set(per["exception_type"]) == {"address", "payment"}   # informational/inbound out


def test_exception_rate_by_node_uses_the_line_of_the_exception():
    res = kpilib.compute(a16_ds(), ["exception_rate"], by=["node"], as_of=AS_OF)
    n1, n2 = one(res, "exception_rate", node="N1"), one(res, "exception_rate", node="N2")
    # N1 sub-units: O1 (exception), O2, O3's L3 (order-level 'address' exception), O4 -> 2/4
    # N2 sub-units: O3's L3b (line-level 'payment' + order-level 'address') -> 1/1
    assert (n1["numerator"], n1["denominator"]) == (2, 4)
    assert (n2["numerator"], n2["denominator"]) == (1, 1)


def test_exception_rate_by_channel_sums_back_and_by_day():
    res = kpilib.compute(a16_ds(), ["exception_rate"], by=["channel"], as_of=AS_OF)
    assert one(res, "exception_rate", channel="web")["value"] == 0.5        # O1 of O1, O2
    assert one(res, "exception_rate", channel="app")["value"] == 0.5        # O3 of O3, O4
    assert res["numerator"].sum() == 2 and res["denominator"].sum() == 4
    daily = kpilib.compute(a16_ds(), ["exception_rate"], freq="D", as_of="2024-01-03T00:00Z")
    # anchor = creation (01-01); as_of 01-03 gives periods 01-01..01-03
    assert daily["denominator"].tolist() == [4.0, 0.0, 0.0]


def test_exception_rate_unavailable_without_exceptions_table():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    r = one(kpilib.compute(ds, A16, as_of=AS_OF), "exception_rate")
    assert r["status"] == "unavailable" and "exceptions" in r["note"]


# --- E1 --------------------------------------------------------------------------------------


def e1_ds():
    return build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}, {"order_id": "T", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "LT", "order_id": "T"}],
        exceptions=[
            # open since 01-09 14:00 (10 h at 01-10 00:00)
            {"exception_id": "A", "order_id": "O1", "exception_type": "address",
             "severity": "high", "opened_at": "2024-01-09T14:00Z", "node_id": "N1"},
            # reopened: keeps its original opened_at 01-08 18:00 (30 h at 01-10 00:00)
            {"exception_id": "B", "exception_type": "inbound", "severity": "low",
             "opened_at": "2024-01-08T18:00Z", "node_id": "N2"},
            # resolved 01-09 06:00 (open at the 01-09 00:00 snapshot only)
            {"exception_id": "C", "order_id": "O1", "exception_type": "payment",
             "opened_at": "2024-01-08T20:00Z", "resolved_at": "2024-01-09T06:00Z"},
            {"exception_id": "D", "order_id": "O1", "exception_type": "payment",
             "opened_at": "2024-01-08T00:00Z", "is_informational": True},
            # auto-resolved after 3 minutes, straddling the 01-09 00:00 snapshot
            {"exception_id": "E", "order_id": "O1", "exception_type": "payment",
             "opened_at": "2024-01-08T23:58Z", "resolved_at": "2024-01-09T00:01Z"},
            {"exception_id": "F", "order_id": "T", "exception_type": "address",
             "opened_at": "2024-01-09T00:00Z"}],
        nodes=NODES)


def test_queue_snapshot_at_as_of():
    res = kpilib.compute(e1_ds(), E1, as_of="2024-01-10T00:00Z")
    age = one(res, "exception_queue_age_hours")
    # open at 01-10 00:00: A (10 h), B (30 h); C resolved, D informational, E resolved,
    # F belongs to a test order (excluded, counted)
    assert age["n"] == 2 and age["value"] == pytest.approx(20.0)
    assert age["p50"] == pytest.approx(20.0) and age["p90"] == pytest.approx(28.0)
    assert json.loads(age["excluded"]) == {"is_test": 1}
    sla = one(res, "exception_share_over_sla")
    assert (sla["numerator"], sla["denominator"]) == (1, 2)          # B > 24 h
    cnt = one(res, "exception_open_count")
    # value = 2 open; denominator = actionable exceptions opened by then: A, B, C (E is
    # auto-resolved, D informational, F test)
    assert cnt["value"] == 2 and cnt["denominator"] == 3 and cnt["status"] == "ok"


def test_queue_daily_snapshots_and_auto_resolved():
    res = kpilib.compute(e1_ds(), E1, freq="D", start="2024-01-08", as_of="2024-01-10T00:00Z")
    age = res[res["kpi"] == "exception_queue_age_hours"].set_index("period")
    # end of 01-08 (01-09 00:00): B 6 h, C 4 h (E open 2 min but auto-resolved: excluded;
    # F, of a test order, opened exactly at 01-09 00:00: open, excluded)
    assert age.loc[day("2024-01-08"), "value"] == pytest.approx(5.0)
    assert json.loads(age.loc[day("2024-01-08"), "excluded"]) == {"auto_resolved": 1,
                                                                  "is_test": 1}
    # end of 01-09 (01-10 00:00): A 10 h, B 30 h; the 01-10 snapshot is also at as_of
    assert age.loc[day("2024-01-09"), "value"] == pytest.approx(20.0)
    assert age.loc[day("2024-01-10"), "value"] == pytest.approx(20.0)
    cnt = res[res["kpi"] == "exception_open_count"].set_index("period")["value"]
    assert cnt[day("2024-01-08")] == 2 and cnt[day("2024-01-09")] == 2
    keep = kpilib.compute(e1_ds(), ["exception_queue_age_hours"], freq="D",
                          start="2024-01-08", end="2024-01-09", as_of="2024-01-10T00:00Z",
                          params={"min_age_minutes": 0})
    row = keep.set_index("period").loc[day("2024-01-08")]
    # with min_age_minutes=0, E (2 min = 1/30 h) stays: (6 + 4 + 1/30) / 3
    assert row["n"] == 3 and row["value"] == pytest.approx((10 + 1 / 30) / 3)


def test_queue_empty_snapshot_counts_zero_but_age_is_undefined():
    res = kpilib.compute(e1_ds(), E1, freq="D", start="2024-01-07", end="2024-01-08",
                         as_of="2024-01-10T00:00Z")
    first = res[res["period"] == day("2024-01-07")].set_index("kpi")
    # end of 01-07 (01-08 00:00): nothing opened yet (D is informational)
    assert first.loc["exception_queue_age_hours", "status"] == "undefined"
    assert np.isnan(first.loc["exception_open_count", "value"])      # no history at all
    later = kpilib.compute(e1_ds(), ["exception_open_count"], by=["exception_type"],
                           as_of="2024-01-10T00:00Z")
    # payment: C was opened (history) but is resolved -> an empty queue reads 0, status ok
    pay = one(later, "exception_open_count", exception_type="payment")
    assert pay["value"] == 0 and pay["status"] == "ok"
    assert one(later, "exception_open_count", exception_type="inbound")["value"] == 1


def test_queue_sla_mapping_and_segments():
    res = kpilib.compute(e1_ds(), ["exception_share_over_sla"], by=["exception_type"],
                         as_of="2024-01-10T00:00Z",
                         params={"sla_hours": {"address": 8.0}})
    # address SLA 8 h: A is 10 h old -> over; inbound default 24 h: B 30 h -> over
    assert one(res, "exception_share_over_sla", exception_type="address")["value"] == 1.0
    assert one(res, "exception_share_over_sla", exception_type="inbound")["value"] == 1.0
    by_channel = kpilib.compute(e1_ds(), ["exception_queue_age_hours"], by=["channel"],
                                freq="D", start="2024-01-09", end="2024-01-10",
                                as_of="2024-01-10T00:00Z")
    got = by_channel[by_channel["period"] == day("2024-01-09")].set_index("channel")["value"]
    # web: A (order O1) 10 h; B has no order -> "(unknown)" 30 h
    assert got["web"] == pytest.approx(10.0) and got["(unknown)"] == pytest.approx(30.0)
    sev = kpilib.compute(e1_ds(), ["exception_open_count"], by=["severity", "node"],
                         as_of="2024-01-10T00:00Z")
    assert one(sev, "exception_open_count", severity="high", node="N1")["value"] == 1
    assert one(sev, "exception_open_count", severity="low", node="N2")["value"] == 1


def test_queue_age_buckets():
    res = kpilib.compute(e1_ds(), ["exception_open_count"], by=["age_bucket"],
                         as_of="2024-01-10T00:00Z")
    got = res.set_index("age_bucket")["value"]
    # A 10 h -> [4,24); B 30 h -> [24,72); the other buckets are empty (0, shared population)
    assert got.to_dict() == {"[0,4)": 0, "[24,72)": 1, "[4,24)": 1, "[72,inf)": 0}
    assert set(res["denominator"]) == {3.0}


def test_share_over_sla_daily():
    res = kpilib.compute(e1_ds(), ["exception_share_over_sla"], freq="D", start="2024-01-08",
                         end="2024-01-09T12:00Z", as_of="2024-01-10T00:00Z")
    got = res.set_index("period")
    # end of 01-08 (01-09 00:00): B 6 h, C 4 h -> 0 of 2 over 24 h
    assert (got.loc[day("2024-01-08"), "numerator"], got.loc[day("2024-01-08"), "denominator"]) \
        == (0, 2)
    # end of 01-09 (01-10 00:00): A 10 h, B 30 h -> 1 of 2
    assert got.loc[day("2024-01-09"), "value"] == 0.5


def test_open_count_mean_of_daily_counts():
    res = kpilib.compute(e1_ds(), ["exception_open_count_daily_mean"], freq="W",
                         start="2024-01-07", end="2024-01-10", as_of="2024-01-10T00:00Z")
    got = res.set_index("period")
    # days 01-07, 01-08, 01-09 (end exclusive). End-of-day open counts: 01-07 (01-08 00:00):
    # 0; 01-08 (01-09 00:00): B, C = 2 (E auto-resolved, F test); 01-09 (01-10 00:00): A, B
    # = 2. Week of 01-01 holds 01-07 only -> 0 / 1; week of 01-08: (2 + 2) / 2 = 2
    assert (got.iloc[0]["numerator"], got.iloc[0]["denominator"]) == (0, 1)
    assert got.iloc[0]["value"] == 0 and got.iloc[0]["status"] == "ok"
    assert (got.iloc[1]["numerator"], got.iloc[1]["denominator"]) == (4, 2)
    one_value = kpilib.compute(e1_ds(), ["exception_open_count_daily_mean"], by=["channel"],
                               start="2024-01-08", end="2024-01-10",
                               as_of="2024-01-10T00:00Z")
    web = one(one_value, "exception_open_count_daily_mean", channel="web")
    # web (O1): 01-08 end: C = 1; 01-09 end: A = 1 -> 2 / 2 days
    assert (web["numerator"], web["denominator"]) == (2, 2)
