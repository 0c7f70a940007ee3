"""A12 order release time and unreleased order age, on hand-built order-node slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib

AS_OF = "2024-01-10T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


def release(order_id, at, node="N1", **kw):
    return {"order_id": order_id, "event_type": "released_to_node", "node_id": node,
            "event_at": at, **kw}


# --------------------------------------------------------------------------- A12 release


def test_release_time_start_fallbacks_and_percentiles():
    ds = build_dataset(
        orders=[{"order_id": "O1", "authorized_at": "2024-01-01T01:00Z"},
                {"order_id": "O2"},                                     # no authorization
                {"order_id": "O3", "earliest_ship_at": "2024-01-01T10:00Z"}],  # pre-order
        order_lines=[{"order_id": o, "assigned_node_id": "N1"} for o in ("O1", "O2", "O3")],
        order_events=[release("O1", "2024-01-01T05:00Z"),   # 05:00 - 01:00 = 4 h
                      release("O2", "2024-01-01T02:00Z"),   # 02:00 - created 00:00 = 2 h
                      release("O3", "2024-01-01T12:00Z")],  # 12:00 - max(00:00, 10:00) = 2 h
        nodes=[{"node_id": "N1"}])
    row = one(ds, "order_release_time_hours")
    # mean (4 + 2 + 2) / 3; p50 = 2; p90 at rank 0.9*2 = 1.8 of [2, 2, 4] -> 2 + 0.8*2 = 3.6
    assert row["value"] == pytest.approx(8 / 3) and row["n"] == 3
    assert row["numerator"] == 8 and row["denominator"] == 3
    assert row["p50"] == pytest.approx(2.0) and row["p90"] == pytest.approx(3.6)
    assert row["status"] == "ok" and row["unit"] == "hours"


def test_release_time_first_release_nodeless_event_and_pending():
    ds = build_dataset(
        orders=[{"order_id": "O1"}, {"order_id": "O2"}, {"order_id": "O3"}],
        order_lines=[{"order_id": o, "assigned_node_id": "N1"} for o in ("O1", "O2", "O3")],
        order_events=[release("O1", "2024-01-01T03:00Z"),
                      release("O1", "2024-01-01T09:00Z"),            # re-release after short
                      release("O2", "2024-01-01T06:00Z", node=None),  # order-level release
                      release("O3", "2024-01-11T00:00Z")],           # after as_of: pending
        nodes=[{"node_id": "N1"}])
    row = one(ds, "order_release_time_hours")
    # O1: first release 3 h; O2: 6 h; O3 pending -> mean (3 + 6) / 2 = 4.5
    assert row["value"] == pytest.approx(4.5) and row["n"] == 2


def test_release_time_exclusions_are_counted():
    ds = build_dataset(
        orders=[{"order_id": "O1"},
                {"order_id": "O2", "is_test": True},
                {"order_id": "O3", "cancelled_at": "2024-01-01T01:00Z",
                 "cancel_initiator": "fraud", "cancel_reason": "other"},
                {"order_id": "O4", "order_type": "transfer"},
                {"order_id": "O5", "cancelled_at": "2024-01-01T01:00Z",
                 "cancel_initiator": "customer", "cancel_reason": "other"},
                {"order_id": "O6", "authorized_at": "2024-01-01T08:00Z"}],
        order_lines=[{"order_id": f"O{i}", "assigned_node_id": "N1"} for i in range(1, 7)],
        order_events=[release(f"O{i}", "2024-01-01T05:00Z") for i in range(1, 7)],
        nodes=[{"node_id": "N1"}])
    row = one(ds, "order_release_time_hours")
    # only O1 (5 h) counts; O5 was cancelled (01:00) before its release (05:00);
    # O6 released (05:00) before its authorization (08:00): negative duration
    assert row["value"] == pytest.approx(5.0) and row["n"] == 1
    assert excluded(row) == {"is_test": 1, "fraud_cancel": 1, "transfer_order": 1,
                             "cancelled_before_release": 1, "negative_duration": 1}


def test_release_time_by_node_uses_each_slice_release():
    ds = build_dataset(
        orders=[{"order_id": "O1", "channel": "web"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "assigned_node_id": "N1"},
                     {"order_line_id": "L2", "order_id": "O1", "assigned_node_id": "N2"}],
        order_events=[release("O1", "2024-01-01T02:00Z", "N1"),
                      release("O1", "2024-01-01T07:00Z", "N2")],
        nodes=[{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}])
    res = kpilib.compute(ds, ["order_release_time_hours"], by=["node"], as_of=AS_OF,
                         allow_future_as_of=True)
    got = res.set_index("node")["value"]
    assert got["N1"] == pytest.approx(2.0) and got["N2"] == pytest.approx(7.0)
    # unsegmented: two slices, (2 + 7) / 2 = 4.5
    assert one(ds, "order_release_time_hours")["value"] == pytest.approx(4.5)
    fm = kpilib.compute(ds, ["order_release_time_hours"], by=["fulfillment_model"],
                        as_of=AS_OF,
                        allow_future_as_of=True).set_index("fulfillment_model")["value"]
    assert fm["owned_dc"] == pytest.approx(2.0) and fm["3pl"] == pytest.approx(7.0)


def test_release_time_empty_population_is_undefined():
    # releases are recorded in this data (O1 is released on 01-20), but none by as_of 01-10
    ds = build_dataset(orders=[{"order_id": "O1"}],
                       order_events=[{"order_id": "O1", "event_type": "created",
                                      "event_at": "2024-01-01T00:00Z"},
                                     {"order_id": "O1", "event_type": "released_to_node",
                                      "node_id": "N1", "event_at": "2024-01-20T00:00Z"}],
                       nodes=[{"node_id": "N1"}])
    row = one(ds, "order_release_time_hours")
    assert np.isnan(row["value"]) and row["status"] == "undefined"


def test_release_kpis_unavailable_when_no_release_is_recorded():
    ds = build_dataset(orders=[{"order_id": "O1"}],
                       order_events=[{"order_id": "O1", "event_type": "created",
                                      "event_at": "2024-01-01T00:00Z"}])
    for kpi in ("order_release_time_hours", "unreleased_order_age_hours"):
        row = one(ds, kpi)
        assert row["status"] == "unavailable" and "released_to_node" in row["note"]


def test_unreleased_order_age_snapshot_at_as_of_and_daily():
    ds = build_dataset(
        orders=[{"order_id": "O1", "created_at": "2024-01-01T00:00Z"},
                {"order_id": "O2", "created_at": "2024-01-01T12:00Z"},
                {"order_id": "O3", "created_at": "2024-01-01T00:00Z",
                 "cancelled_at": "2024-01-02T06:00Z", "cancel_initiator": "customer",
                 "cancel_reason": "other"},
                {"order_id": "O4", "created_at": "2024-01-01T00:00Z", "is_test": True}],
        order_lines=[{"order_id": o, "assigned_node_id": "N1"} for o in
                     ("O1", "O2", "O3", "O4")],
        order_events=[release("O2", "2024-01-02T12:00Z")],
        nodes=[{"node_id": "N1"}])
    as_of = "2024-01-03T00:00Z"
    row = one(ds, "unreleased_order_age_hours", as_of=as_of)
    # at 01-03 00:00 only O1 waits: 48 h (O2 released, O3 cancelled, O4 is a test order)
    assert row["value"] == pytest.approx(48.0) and row["n"] == 1
    assert excluded(row) == {"is_test": 1}
    daily = kpilib.compute(ds, ["unreleased_order_age_hours"], freq="D", as_of=as_of,
                           allow_future_as_of=True)
    v = daily.set_index("period")["value"]
    # snapshot at end of 01-01 (01-02 00:00): O1 24 h, O2 12 h, O3 24 h -> 60 / 3 = 20
    assert v[pd.Timestamp("2024-01-01", tz="UTC")] == pytest.approx(20.0)
    # end of 01-02 (01-03 00:00): O1 only -> 48
    assert v[pd.Timestamp("2024-01-02", tz="UTC")] == pytest.approx(48.0)


# --------------------------------------------------------------------------- scenario recovery


def test_omnichannel_marketplace_release_is_slower_than_own_site():
    """The omnichannel scenario allocates marketplace orders in batches every few hours
    (kpilib.synth.params), so their release time must exceed the own site's."""
    from kpilib.synth import generate

    tables, _truth = generate("omnichannel", seed=3, days=90, scale=0.2)
    ds = kpilib.Dataset.from_frames(**tables)
    res = kpilib.compute(ds, ["order_release_time_hours"], by=["channel"])
    v = res.set_index("channel")["value"]
    assert v["marketplace_a"] > 1.5 * v["web"] and v["marketplace_b"] > 1.5 * v["web"]
    assert (res.loc[res["n"] > 0, "status"] == "ok").all()


