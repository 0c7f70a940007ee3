"""C1 turnover, C2 days of supply, C4 sell-through, C5 stockouts, C7 ATP by hand.

SKU1 at N1 (unit cost 2): receipt 20 (01-01), ships 5 (01-02), 5 (01-04), 10 (01-06),
receipt 10 (01-07). End-of-day on hand 01-01..01-07: 20, 15, 15, 10, 10, 0, 10 (Σ 80).
SKU3: 5 on hand every day, never shipped. SKU4: out of stock 01-01, 01-02, 01-05, in stock
01-03, no snapshot 01-04. SKU2 is dropship (excluded from stockouts).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import build_dataset

import kpilib

AS_OF = "2024-01-08T00:00Z"  # after the fixtures' data ends (allow_future_as_of)
SKU1_ON_HAND = [20, 15, 15, 10, 10, 0, 10]


def _snap(day, sku, qty, on_order=0.0):
    return {"snapshot_date": f"2024-01-{day:02d}", "node_id": "N1", "sku": sku,
            "qty_on_hand": qty, "inventory_value": 2.0 * qty, "qty_on_order": on_order}


def _mv(mid, day, typ, q):
    return {"movement_id": mid, "node_id": "N1", "sku": "SKU1", "movement_type": typ,
            "moved_at": f"2024-01-{day:02d}T10:00Z", "qty_delta": q, "unit_cost": 2.0}


def _ds(extra_moves=(), extra_snaps=(), **tables):
    snaps = [_snap(d + 1, "SKU1", q, 7.0 if d == 6 else 0.0)
             for d, q in enumerate(SKU1_ON_HAND)]
    snaps += [_snap(d, "SKU3", 5) for d in range(1, 8)]
    snaps += [_snap(d, "SKU4", q) for d, q in ((1, 0), (2, 0), (3, 4), (5, 0))]
    snaps += [_snap(d, "SKU2", 0) for d in range(1, 8)]
    snaps += list(extra_snaps)
    moves = [_mv("M1", 1, "receipt", 20), _mv("M2", 2, "ship", -5), _mv("M3", 4, "ship", -5),
             _mv("M4", 6, "ship", -10), _mv("M5", 7, "receipt", 10), *extra_moves]
    products = [{"sku": "SKU1", "unit_cost": 2.0}, {"sku": "SKU3", "unit_cost": 2.0},
                {"sku": "SKU4", "unit_cost": 2.0},
                {"sku": "SKU2", "unit_cost": 2.0, "stocking_policy": "dropship"}]
    return build_dataset(inventory_snapshots=snaps, inventory_movements=moves,
                         products=products, nodes=[{"node_id": "N1"}],
                         orders=[{"order_id": "O1"}], **tables)


def test_turnover_family():
    res = kpilib.compute(_ds(), ["inventory_turnover", "inventory_turnover_annualized",
                                 "unit_turnover"], as_of=AS_OF,
                                 allow_future_as_of=True).set_index("kpi")
    # COGS = 20 units x 2 = 40. Daily average value over the 7 snapshot days, all SKUs:
    # SKU1 2*80/7, SKU3 2*5*7/7 = 10, SKU4 2*4/7 -> 160/7 + 10 + 8/7 = 238/7
    assert res.loc["inventory_turnover", "value"] == pytest.approx(40 / (238 / 7))
    assert res.loc["inventory_turnover_annualized", "value"] == pytest.approx(
        40 / (238 / 7) * 365 / 7)
    by_sku = kpilib.compute(_ds(), ["inventory_turnover", "unit_turnover"], by=["sku"],
                            as_of=AS_OF, allow_future_as_of=True).set_index(["kpi", "sku"])
    # SKU1 alone: 40 / (160/7) = 1.75; units 20 / (80/7) = 1.75
    assert by_sku.loc[("inventory_turnover", "SKU1"), "value"] == pytest.approx(1.75)
    assert by_sku.loc[("unit_turnover", "SKU1"), "value"] == pytest.approx(1.75)
    # SKU3 holds stock but sold nothing: 0 turns (defined: avg inventory > 0)
    assert by_sku.loc[("inventory_turnover", "SKU3"), "value"] == 0.0


def test_days_of_supply_backward():
    res = kpilib.compute(_ds(), ["days_of_supply"], by=["sku"], as_of=AS_OF,
                         allow_future_as_of=True).set_index("sku")
    # SKU1: available 10 on 01-07; demand 20 units in the last 28 days -> 20/28 per day
    # DOS = 10 / (20/28) = 14 days
    assert res.loc["SKU1", "value"] == pytest.approx(14.0)
    # SKU3: stock without demand -> undefined, counted as no_demand (never 9999)
    assert res.loc["SKU3", "status"] == "undefined"
    assert json.loads(res.loc["SKU3", "excluded"]) == {"no_demand": 1}
    # SKU4: qty 0 but no demand either -> 0 / 0 -> undefined
    assert res.loc["SKU4", "status"] == "undefined"
    total = kpilib.compute(_ds(), ["days_of_supply"], as_of=AS_OF, allow_future_as_of=True).iloc[0]
    # roll-up leaves no-demand SKU3 out (value-weighted): (10*2) / (20/28*2) = 14
    assert total["value"] == pytest.approx(14.0)


def test_days_of_supply_negative_stock_means_backlog():
    snaps = [{**_snap(8, "SKU1", -2), "qty_available": -2}]
    res = kpilib.compute(_ds(extra_snaps=snaps), ["days_of_supply"], by=["sku"],
                         as_of="2024-01-09T00:00Z", allow_future_as_of=True).set_index("sku")
    # -2 / (20/28) = -2.8 days of backlog
    assert res.loc["SKU1", "value"] == pytest.approx(-2.8)


def test_sell_through_with_opening_stock_by_week():
    moves = [_mv("M6", 9, "ship", -4)]
    snaps = [_snap(8, "SKU1", 10), _snap(9, "SKU1", 6), _snap(10, "SKU1", 6)]
    res = kpilib.compute(_ds(moves, snaps), ["sell_through_rate", "sell_through_rate_receipts"],
                         by=["sku"], freq="W", as_of="2024-01-11T00:00Z", allow_future_as_of=True)
    sku1 = res[res["sku"] == "SKU1"]
    sku1 = sku1.set_index(["kpi", sku1["period"].dt.strftime("%m-%d")])
    # week 01-01 starts on the dataset's first snapshot day: no snapshot before it, so the
    # opening stock is unknown (not 0) -> undefined, its 20 sold + 30 received rows excluded
    # (before: 20 / 30 = 67%; on the default sample such a week read 2334 / 30 = 7,780%)
    first = sku1.loc[("sell_through_rate", "01-01")]
    assert first["status"] == "undefined" and pd.isna(first["value"])
    # rows: receipts M1 (20) and M5 (10), ships M2, M3, M4 (5 + 5 + 10) -> 5 excluded
    assert json.loads(first["excluded"]) == {"no_opening_snapshot": 5}
    # the receipts variant needs no opening stock: 20 sold / 30 received
    assert sku1.loc[("sell_through_rate_receipts", "01-01"), "value"] == pytest.approx(2 / 3)
    # week 01-08: opening = 01-07 snapshot 10, received 0 -> sold 4 / 10
    assert sku1.loc[("sell_through_rate", "01-08"), "value"] == pytest.approx(0.4)
    # receipts variant in week 01-08: 4 sold / 0 received -> undefined
    assert sku1.loc[("sell_through_rate_receipts", "01-08"), "status"] == "undefined"


def test_stockouts():
    ids = ["stockout_rate", "stockout_events", "mean_stockout_duration_days",
           "stockout_frequency_per_30_days"]
    res = kpilib.compute(_ds(), ids, by=["sku"], as_of=AS_OF, allow_future_as_of=True)
    r = res.set_index(["kpi", "sku"])
    # SKU1: 7 active days, out of stock on 01-06 only -> 1/7, 1 event, 1 day each
    assert r.loc[("stockout_rate", "SKU1"), "value"] == pytest.approx(1 / 7)
    assert r.loc[("stockout_events", "SKU1"), "value"] == 1
    assert r.loc[("mean_stockout_duration_days", "SKU1"), "value"] == 1.0
    assert r.loc[("stockout_frequency_per_30_days", "SKU1"), "value"] == pytest.approx(30 / 7)
    # SKU4: observed days 01-01 (out: first active day opens an event), 01-02 (out),
    # 01-03 (in), 01-05 (out: new event; 01-04 missing is skipped) -> 3/4, 2 events, 1.5 d
    assert r.loc[("stockout_rate", "SKU4"), "value"] == pytest.approx(3 / 4)
    assert r.loc[("stockout_events", "SKU4"), "value"] == 2
    assert r.loc[("mean_stockout_duration_days", "SKU4"), "value"] == 1.5
    # SKU2 is dropship: excluded and counted
    assert r.loc[("stockout_rate", "SKU2"), "status"] == "undefined"
    assert json.loads(r.loc[("stockout_rate", "SKU2"), "excluded"]) == {"not_stocked": 7}


def test_available_to_promise():
    res = kpilib.compute(_ds(), ["available_to_promise", "available_to_promise_with_inbound"],
                         as_of=AS_OF, allow_future_as_of=True).set_index("kpi")
    # latest snapshots: SKU1 10 (on order 7), SKU3 5, SKU4 0 (01-05), SKU2 0 -> 15; +7 -> 22
    assert res.loc["available_to_promise", "value"] == 15
    assert res.loc["available_to_promise_with_inbound", "value"] == 22


def _forecast(day, qty, made="2024-01-06T00:00Z", sku="SKU1"):
    return {"sku": sku, "node_id": "N1", "target_period_start": f"2024-01-{day:02d}",
            "period_granularity": "day", "forecast_made_at": made, "qty_forecast": qty}


def test_days_of_supply_forward_on_daily_forecasts():
    # as_of 01-08 00:00 (latest snapshot 01-07: SKU1 available 10); the horizon is the 4 days
    # from the as_of day (dos_horizon_days=4), 01-08 .. 01-11: forecasts 2 + 2 + 3 + 1 = 8,
    # 2 per day -> DOS = 10 / 2 = 5 days. Left out: the 01-12 target (beyond the horizon),
    # a weekly forecast, and a forecast made after as_of.
    fc = [_forecast(8, 2), _forecast(9, 2), _forecast(10, 3), _forecast(11, 1),
          _forecast(12, 50),
          {**_forecast(8, 90), "period_granularity": "week"},
          _forecast(9, 70, made="2024-01-09T00:00Z"),
          _forecast(8, 5, sku="SKU3")]           # SKU3: 5 on hand / (5 / 4) per day = 4 days
    ds = _ds(forecasts=fc)
    params = {"dos_horizon_days": 4}
    res = kpilib.compute(ds, ["days_of_supply_forward"], by=["sku"], as_of="2024-01-08T00:00Z",
                         params=params).set_index("sku")
    assert res.loc["SKU1", "value"] == pytest.approx(5.0)
    assert res.loc["SKU3", "value"] == pytest.approx(4.0)
    # SKU4 has no forecast and nothing available: 0 / 0 -> undefined
    assert res.loc["SKU4", "status"] == "undefined"
    # roll-up at unit cost 2 for both: (10*2 + 5*2) / (2*2 + 1.25*2) = 30 / 6.5
    total = kpilib.compute(ds, ["days_of_supply_forward"], as_of="2024-01-08T00:00Z",
                           params=params).iloc[0]
    assert total["value"] == pytest.approx(30 / 6.5)
