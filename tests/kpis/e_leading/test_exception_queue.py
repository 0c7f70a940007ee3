"""E1 exception queue snapshots, on tiny hand-built datasets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import pick as one

import kpilib

NODES = [{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}]
E1 = ["exception_queue_age_hours", "exception_share_over_sla", "exception_open_count"]


def day(d: str) -> pd.Timestamp:
    return pd.Timestamp(d, tz="UTC")


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
    res = kpilib.compute(e1_ds(), E1, as_of="2024-01-10T00:00Z", allow_future_as_of=True)
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
    res = kpilib.compute(e1_ds(), E1, freq="D", start="2024-01-08", as_of="2024-01-10T00:00Z",
                         allow_future_as_of=True)
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
                          params={"min_age_minutes": 0}, allow_future_as_of=True)
    row = keep.set_index("period").loc[day("2024-01-08")]
    # with min_age_minutes=0, E (2 min = 1/30 h) stays: (6 + 4 + 1/30) / 3
    assert row["n"] == 3 and row["value"] == pytest.approx((10 + 1 / 30) / 3)


def test_queue_empty_snapshot_counts_zero_but_age_is_undefined():
    res = kpilib.compute(e1_ds(), E1, freq="D", start="2024-01-07", end="2024-01-08",
                         as_of="2024-01-10T00:00Z", allow_future_as_of=True)
    first = res[res["period"] == day("2024-01-07")].set_index("kpi")
    # end of 01-07 (01-08 00:00): nothing opened yet (D is informational)
    assert first.loc["exception_queue_age_hours", "status"] == "undefined"
    assert np.isnan(first.loc["exception_open_count", "value"])      # no history at all
    later = kpilib.compute(e1_ds(), ["exception_open_count"], by=["exception_type"],
                           as_of="2024-01-10T00:00Z", allow_future_as_of=True)
    # payment: C was opened (history) but is resolved -> an empty queue reads 0, status ok
    pay = one(later, "exception_open_count", exception_type="payment")
    assert pay["value"] == 0 and pay["status"] == "ok"
    assert one(later, "exception_open_count", exception_type="inbound")["value"] == 1


def test_queue_sla_mapping_and_segments():
    res = kpilib.compute(e1_ds(), ["exception_share_over_sla"], by=["exception_type"],
                         as_of="2024-01-10T00:00Z",
                         params={"sla_hours": {"address": 8.0}}, allow_future_as_of=True)
    # address SLA 8 h: A is 10 h old -> over; inbound default 24 h: B 30 h -> over
    assert one(res, "exception_share_over_sla", exception_type="address")["value"] == 1.0
    assert one(res, "exception_share_over_sla", exception_type="inbound")["value"] == 1.0
    by_channel = kpilib.compute(e1_ds(), ["exception_queue_age_hours"], by=["channel"],
                                freq="D", start="2024-01-09", end="2024-01-10",
                                as_of="2024-01-10T00:00Z", allow_future_as_of=True)
    got = by_channel[by_channel["period"] == day("2024-01-09")].set_index("channel")["value"]
    # web: A (order O1) 10 h; B has no order -> "(unknown)" 30 h
    assert got["web"] == pytest.approx(10.0) and got["(unknown)"] == pytest.approx(30.0)
    sev = kpilib.compute(e1_ds(), ["exception_open_count"], by=["severity", "node"],
                         as_of="2024-01-10T00:00Z", allow_future_as_of=True)
    assert one(sev, "exception_open_count", severity="high", node="N1")["value"] == 1
    assert one(sev, "exception_open_count", severity="low", node="N2")["value"] == 1


def test_queue_age_buckets():
    res = kpilib.compute(e1_ds(), ["exception_open_count"], by=["age_bucket"],
                         as_of="2024-01-10T00:00Z", allow_future_as_of=True)
    got = res.set_index("age_bucket")["value"]
    # A 10 h -> [4,24); B 30 h -> [24,72); the other buckets are empty (0, shared population)
    assert got.to_dict() == {"[0,4)": 0, "[24,72)": 1, "[4,24)": 1, "[72,inf)": 0}
    assert set(res["denominator"]) == {3.0}


def test_share_over_sla_daily():
    res = kpilib.compute(e1_ds(), ["exception_share_over_sla"], freq="D", start="2024-01-08",
                         end="2024-01-09T12:00Z", as_of="2024-01-10T00:00Z",
                         allow_future_as_of=True)
    got = res.set_index("period")
    # end of 01-08 (01-09 00:00): B 6 h, C 4 h -> 0 of 2 over 24 h
    assert (got.loc[day("2024-01-08"), "numerator"], got.loc[day("2024-01-08"), "denominator"]) \
        == (0, 2)
    # end of 01-09 (01-10 00:00): A 10 h, B 30 h -> 1 of 2
    assert got.loc[day("2024-01-09"), "value"] == 0.5


def test_open_count_mean_of_daily_counts():
    res = kpilib.compute(e1_ds(), ["exception_open_count_daily_mean"], freq="W",
                         start="2024-01-07", end="2024-01-10", as_of="2024-01-10T00:00Z",
                         allow_future_as_of=True)
    got = res.set_index("period")
    # days 01-07, 01-08, 01-09 (end exclusive). End-of-day open counts: 01-07 (01-08 00:00):
    # 0; 01-08 (01-09 00:00): B, C = 2 (E auto-resolved, F test); 01-09 (01-10 00:00): A, B
    # = 2. Week of 01-01 holds 01-07 only -> 0 / 1; week of 01-08: (2 + 2) / 2 = 2
    assert (got.iloc[0]["numerator"], got.iloc[0]["denominator"]) == (0, 1)
    assert got.iloc[0]["value"] == 0 and got.iloc[0]["status"] == "ok"
    assert (got.iloc[1]["numerator"], got.iloc[1]["denominator"]) == (4, 2)
    one_value = kpilib.compute(e1_ds(), ["exception_open_count_daily_mean"], by=["channel"],
                               start="2024-01-08", end="2024-01-10",
                               as_of="2024-01-10T00:00Z", allow_future_as_of=True)
    web = one(one_value, "exception_open_count_daily_mean", channel="web")
    # web (O1): 01-08 end: C = 1; 01-09 end: A = 1 -> 2 / 2 days
    assert (web["numerator"], web["denominator"]) == (2, 2)
