"""Date-only deadlines (``promise_is_date``, ``ship_by_is_date``): end of the local calendar day.

The rule (kpilib.contracts.dates): a flagged ``YYYY-MM-DD`` is the last instant before local
midnight of the next day in the ship-to zone (ship-by: the assigned node's zone first).
"""

from __future__ import annotations

import pandas as pd
import pytest
from builders import build_frames

import kpilib
from kpilib import Dataset


def _lines(frames):
    return Dataset.from_frames(**frames).order_lines


def test_date_only_promise_is_end_of_day_in_ship_to_zone():
    # Chicago is UTC-6 in January: end of 2024-01-05 local = 2024-01-06 06:00Z - 1 ns.
    # 2024-03-10 is the spring-forward day: end of day = 2024-03-11 00:00 CDT (UTC-5) = 05:00Z.
    frames = build_frames(
        orders=[{"order_id": "O1", "ship_to_timezone": "America/Chicago"},
                {"order_id": "O2"}],
        order_lines=[
            {"order_id": "O1", "promise_is_date": True,
             "promised_delivery_at_original": "2024-01-05"},
            {"order_id": "O1", "promise_is_date": "true",
             "promised_delivery_at_original": "2024-03-10"},
            {"order_id": "O2", "promise_is_date": True,  # no ship-to zone: UTC
             "promised_delivery_at_original": "2024-01-05"}])
    got = _lines(frames)["promised_delivery_at_original"].tolist()
    ns = pd.Timedelta(1, "ns")
    assert got == [pd.Timestamp("2024-01-06T06:00Z") - ns,
                   pd.Timestamp("2024-03-11T05:00Z") - ns,
                   pd.Timestamp("2024-01-06T00:00Z") - ns]


def test_date_only_without_flag_is_still_naive():
    frames = build_frames(order_lines=[{"promise_is_date": False,
                                        "promised_delivery_at_original": "2024-01-05"}])
    rules = {(p.table, p.column, p.rule) for p in kpilib.validate(frames)}
    assert ("order_lines", "promised_delivery_at_original", "naive_timestamp") in rules


def test_ship_by_date_uses_node_zone_then_ship_to_zone():
    # L1: node N1 in Tokyo (UTC+9): end of 2024-01-03 = 2024-01-03T15:00Z - 1 ns.
    # L2: no node, ship-to Berlin (UTC+1): 2024-01-03T23:00Z - 1 ns.
    # L3: flagged full timestamp 2024-01-03T10:00Z, Berlin -> end of that Berlin day.
    # L4: not flagged: kept as written.
    frames = build_frames(
        orders=[{"order_id": "O1", "ship_to_timezone": "Europe/Berlin"}],
        nodes=[{"node_id": "N1", "timezone": "Asia/Tokyo"}],
        order_lines=[
            {"assigned_node_id": "N1", "ship_by_is_date": True,
             "planned_ship_by_at": "2024-01-03"},
            {"ship_by_is_date": True, "planned_ship_by_at": "2024-01-03"},
            {"ship_by_is_date": True, "planned_ship_by_at": "2024-01-03T10:00Z"},
            {"ship_by_is_date": False, "planned_ship_by_at": "2024-01-03T10:00Z"}])
    got = _lines(frames)["planned_ship_by_at"].tolist()
    ns = pd.Timedelta(1, "ns")
    assert got == [pd.Timestamp("2024-01-03T15:00Z") - ns, pd.Timestamp("2024-01-03T23:00Z") - ns,
                   pd.Timestamp("2024-01-03T23:00Z") - ns, pd.Timestamp("2024-01-03T10:00Z")]


def _local_source(zone: str):
    """Four orders with local clock times and local date deadlines (promise 01-05, ship 01-03).

    shipped (local)        delivered (local)    on time: ship / delivery
    2024-01-03 09:00       2024-01-05 08:00     yes / yes
    2024-01-03 23:00       2024-01-05 22:30     yes / yes (late evening: the case that broke)
    2024-01-04 00:10       2024-01-06 00:30     no  / no
    2024-01-02 15:00       2024-01-04 23:00     yes / yes
    -> on-time shipment 3/4, on-time delivery 3/4 in every zone.
    """
    times = [("2024-01-03 09:00", "2024-01-05 08:00"), ("2024-01-03 23:00", "2024-01-05 22:30"),
             ("2024-01-04 00:10", "2024-01-06 00:30"), ("2024-01-02 15:00", "2024-01-04 23:00")]
    ids = [f"O{i}" for i in range(1, 5)]
    frames = build_frames(
        orders=[{"order_id": o, "created_at": "2024-01-02 08:00", "ship_to_timezone": zone}
                for o in ids],
        order_lines=[{"order_line_id": f"L{i}", "order_id": o, "created_at": "2024-01-02 08:00",
                      "promise_is_date": True, "promised_delivery_at_original": "2024-01-05",
                      "ship_by_is_date": True, "planned_ship_by_at": "2024-01-03"}
                     for i, o in enumerate(ids, 1)],
        shipments=[{"shipment_id": f"S{i}", "order_id": o, "node_id": "N1",
                    "created_at": "2024-01-02 09:00", "shipped_at": s, "delivered_at": d,
                    "delivery_status": "delivered"}
                   for i, (o, (s, d)) in enumerate(zip(ids, times, strict=True), 1)],
        shipment_lines=[{"shipment_id": f"S{i}", "order_line_id": f"L{i}", "qty_shipped": 1.0}
                        for i in range(1, 5)])
    return Dataset.from_frames(assume_tz=zone, **frames)


@pytest.mark.parametrize("kpi", ["on_time_delivery_rate", "on_time_shipment_rate"])
def test_on_time_is_the_same_in_utc_and_chicago(kpi):
    values = {}
    for zone in ("UTC", "America/Chicago"):
        res = kpilib.compute(_local_source(zone), kpis=[kpi])
        values[zone] = float(res["value"].iloc[0])
    assert values == {"UTC": 0.75, "America/Chicago": 0.75}


def test_date_promise_ignores_assume_tz():
    # assume_tz reads clock times; a flagged date stays a date of the ship-to zone. Before the
    # rule, "2024-01-05" read with assume_tz="UTC" became 2024-01-05T00:00Z, i.e. 2024-01-04 in
    # Chicago, and a delivery at 20:00 Chicago time on 01-05 counted as a day late.
    frames = build_frames(
        orders=[{"order_id": "O1", "ship_to_timezone": "America/Chicago"}],
        order_lines=[{"promise_is_date": True, "promised_delivery_at_original": "2024-01-05"}],
        shipments=[{"shipped_at": "2024-01-03T10:00-06:00",
                    "delivered_at": "2024-01-05T20:00-06:00", "delivery_status": "delivered"}],
        shipment_lines=[{}])
    ds = Dataset.from_frames(assume_tz="UTC", **frames)
    res = kpilib.compute(ds, kpis=["on_time_delivery_rate"], as_of="2024-01-10T00:00Z",
                         allow_future_as_of=True)
    assert float(res["value"].iloc[0]) == 1.0
