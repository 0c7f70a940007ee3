"""E5 RMA decision delay, auto-decision share and open RMA age, on tiny datasets."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import pick as one

import kpilib

AS_OF = "2024-03-15T00:00Z"  # after the fixtures' data ends (allow_future_as_of)
E5 = ["rma_decision_delay_hours", "auto_decision_share"]


def day(d: str) -> pd.Timestamp:
    return pd.Timestamp(d, tz="UTC")


# --- E5 --------------------------------------------------------------------------------------


def rma(line, requested, decided=None, decision=None, oid="O1", reason="other"):
    row = {"order_id": oid, "order_line_id": line, "rma_requested_at": requested,
           "return_reason": reason}
    if decided is not None:
        row["rma_decided_at"] = decided
        row["rma_decision"] = decision or "approved"
    return row


def e5_ds():
    return build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}, {"order_id": "O2", "channel": "app"},
                {"order_id": "T", "is_test": True}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"},
                     {"order_line_id": "L2", "order_id": "O1"},
                     {"order_line_id": "L3", "order_id": "O2"},
                     {"order_line_id": "LT", "order_id": "T"}],
        returns=[
            # auto decision after 30 s
            rma("L1", "2024-01-05T00:00Z", "2024-01-05T00:00:30Z", reason="damaged"),
            # 24 h, rejected
            rma("L2", "2024-01-05T00:00Z", "2024-01-06T00:00Z", "rejected"),
            # exactly 60 s: still an auto decision; 1/60 h
            rma("L3", "2024-01-06T00:00Z", "2024-01-06T00:01Z", oid="O2"),
            # withdrawn by the customer: excluded
            rma("L2", "2024-01-05T00:00Z", "2024-01-05T12:00Z", "withdrawn"),
            # test order: excluded
            rma("LT", "2024-01-05T00:00Z", "2024-01-05T06:00Z", oid="T"),
            # still waiting
            rma("L3", "2024-01-06T12:00Z", oid="O2")])


def test_rma_decision_delay_and_auto_share():
    res = kpilib.compute(e5_ds(), E5, as_of="2024-01-08T00:00Z", allow_future_as_of=True)
    d = one(res, "rma_decision_delay_hours")
    # decided, kept: 30 s (1/120 h), 24 h, 60 s (1/60 h)
    x = [1 / 120, 24.0, 1 / 60]
    assert d["n"] == 3 and d["value"] == pytest.approx(sum(x) / 3)
    assert d["p50"] == pytest.approx(1 / 60)
    assert d["p90"] == pytest.approx(1 / 60 + 0.8 * (24 - 1 / 60))   # rank 0.9 * 2 = 1.8
    assert json.loads(d["excluded"]) == {"is_test": 1, "withdrawn": 1}
    a = one(res, "auto_decision_share")
    assert (a["numerator"], a["denominator"]) == (2, 3)     # 30 s and 60 s


def test_rma_delay_anchor_is_decision_and_segments():
    res = kpilib.compute(e5_ds(), ["rma_decision_delay_hours"], freq="D",
                         as_of="2024-01-08T00:00Z", start="2024-01-05", end="2024-01-07",
                         allow_future_as_of=True)
    got = res.set_index("period")
    # decided 01-05: L1 (30 s); 01-06: L2 (24 h) and L3 (60 s)
    assert got.loc[day("2024-01-05"), "n"] == 1
    assert got.loc[day("2024-01-06"), "value"] == pytest.approx((24 + 1 / 60) / 2)
    by = kpilib.compute(e5_ds(), ["auto_decision_share"], by=["channel"],
                        as_of="2024-01-08T00:00Z", allow_future_as_of=True)
    assert one(by, "auto_decision_share", channel="web")["value"] == 0.5   # L1 of L1, L2
    assert one(by, "auto_decision_share", channel="app")["value"] == 1.0   # L3
    rr = kpilib.compute(e5_ds(), ["rma_decision_delay_hours"], by=["return_reason"],
                        freq="D", as_of="2024-01-08T00:00Z", start="2024-01-05",
                        end="2024-01-06", allow_future_as_of=True)
    dmg = rr[(rr["return_reason"] == "damaged") & (rr["period"] == day("2024-01-05"))]
    assert dmg.iloc[0]["value"] == pytest.approx(1 / 120)


def test_rma_decision_after_as_of_is_pending():
    res = kpilib.compute(e5_ds(), ["rma_decision_delay_hours"], as_of="2024-01-05T23:00Z")
    r = one(res, "rma_decision_delay_hours")
    # at 01-05 23:00 only L1 is decided (L2's 01-06 decision is in the future)
    assert r["n"] == 1 and r["value"] == pytest.approx(1 / 120)


def test_open_rma_age_snapshots():
    res = kpilib.compute(e5_ds(), ["open_rma_age_hours"], as_of="2024-01-08T00:00Z",
                         allow_future_as_of=True)
    r = one(res, "open_rma_age_hours")
    # at 01-08 00:00 only the 01-06 12:00 request is undecided: 36 h
    assert r["n"] == 1 and r["value"] == pytest.approx(36.0)
    daily = kpilib.compute(e5_ds(), ["open_rma_age_hours"], freq="D", start="2024-01-04",
                           as_of="2024-01-08T00:00Z", allow_future_as_of=True)
    got = daily.set_index("period")
    # end of 01-04 (01-05 00:00): the four requests of 01-05 00:00 exist: L1, L2 open (0 h),
    # the withdrawn one and the test order's excluded (counted)
    assert got.loc[day("2024-01-04"), "n"] == 2 and got.loc[day("2024-01-04"), "value"] == 0
    assert json.loads(got.loc[day("2024-01-04"), "excluded"]) == {"is_test": 1, "withdrawn": 1}
    # end of 01-05 (01-06 00:00): L1 and the test order's request are decided, L2 is decided
    # exactly at 01-06 00:00 (closed), the withdrawn one is excluded; L3's request of
    # 01-06 00:00 is open, 0 h old (decided at 00:01)
    assert got.loc[day("2024-01-05"), "n"] == 1
    assert got.loc[day("2024-01-05"), "value"] == pytest.approx(0.0)
    # end of 01-06 (01-07 00:00): the 01-06 12:00 request, 12 h
    assert got.loc[day("2024-01-06"), "value"] == pytest.approx(12.0)


def test_open_rma_age_excludes_withdrawn_while_waiting():
    ds = build_dataset(returns=[rma("L1", "2024-01-05T00:00Z", "2024-01-07T00:00Z",
                                    "withdrawn"),
                                rma("L1", "2024-01-05T12:00Z")])
    r = one(kpilib.compute(ds, ["open_rma_age_hours"], as_of="2024-01-06T00:00Z"),
            "open_rma_age_hours")
    # at 01-06 the withdrawal (01-07) is not known yet: both wait -> (24 + 12) / 2
    assert r["value"] == pytest.approx(18.0) and r["n"] == 2
    res = kpilib.compute(ds, ["open_rma_age_hours"], freq="D", start="2024-01-05",
                         end="2024-01-06", as_of="2024-01-08T00:00Z", allow_future_as_of=True)
    r = one(res[res["period"] == day("2024-01-05")], "open_rma_age_hours")
    # seen from 01-08, the first request was withdrawn: excluded (counted) at 01-06 00:00
    assert r["n"] == 1 and r["value"] == pytest.approx(12.0)
    assert json.loads(r["excluded"]) == {"withdrawn": 1}


def test_rma_unavailable_without_returns():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    r = one(kpilib.compute(ds, ["open_rma_age_hours"], as_of=AS_OF,
                           allow_future_as_of=True), "open_rma_age_hours")
    assert r["status"] == "unavailable" and "returns" in r["note"]


def test_open_rma_age_by_channel():
    res = kpilib.compute(e5_ds(), ["open_rma_age_hours"], by=["channel"],
                         as_of="2024-01-07T00:00Z", allow_future_as_of=True)
    # at 01-07 00:00 only O2's (app) 01-06 12:00 request waits: 12 h; web has none open
    assert one(res, "open_rma_age_hours", channel="app")["value"] == pytest.approx(12.0)
    assert set(res["channel"]) == {"app"}


