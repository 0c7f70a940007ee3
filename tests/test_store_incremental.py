"""Incremental recompute pieces: merging stored and recomputed rows, the touched time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import registry
from kpilib.store import incremental, merging


def _rows(period: str, channel: str, n: int, value: float) -> dict:
    empty = n == 0
    return {"kpi": "cancellation_rate_pre_ship", "period": pd.Timestamp(period, tz="UTC"),
            "channel": channel, "value": np.nan if empty else value,
            "numerator": 0.0 if empty else value * n, "denominator": float(n), "n": n,
            "p50": np.nan, "p90": np.nan, "status": "undefined" if empty else "ok",
            "unit": "fraction", "excluded": "", "note": ""}


def test_merge_keeps_old_periods_and_fills_segments_seen_only_before():
    """Stored: weeks 1-2 for web (records) and b2b (records in week 1, an empty cell in
    week 2). Recomputed from week 2 on: web only (b2b had no record since). Expected: week 1
    as stored; weeks 2 and 3 as recomputed plus an empty b2b cell each, because b2b was seen
    (in week 1), as a full recompute's grid would have it."""
    registry.load_all()
    w1, w2, w3 = "2024-03-04", "2024-03-11", "2024-03-18"
    old = pd.DataFrame([_rows(w1, "b2b", 2, 0.5), _rows(w1, "web", 4, 0.25),
                        _rows(w2, "b2b", 0, 0), _rows(w2, "web", 4, 0.5)])
    new = pd.DataFrame([_rows(w2, "web", 5, 0.2), _rows(w3, "web", 1, 1.0)])
    kdef = registry.KPIS["cancellation_rate_pre_ship"]
    out = merging.merge(old, new, kdef, ("channel",), pd.Timestamp(w2, tz="UTC"))
    expected = pd.DataFrame([_rows(w1, "b2b", 2, 0.5), _rows(w1, "web", 4, 0.25),
                             _rows(w2, "b2b", 0, 0), _rows(w2, "web", 5, 0.2),
                             _rows(w3, "b2b", 0, 0), _rows(w3, "web", 1, 1.0)])
    pd.testing.assert_frame_equal(out, expected, check_exact=True)


def test_touched_since_takes_the_order_creation_of_a_changed_child_row():
    """A shipment of an order created on the 2nd changes on the 9th: the batch reaches back to
    the 2nd (order KPIs anchor on the order); the previous data end (10th) is later."""
    orders = pd.DataFrame({"order_id": ["o1", "o2"],
                           "created_at": pd.to_datetime(["2024-03-02", "2024-03-08"], utc=True)})
    old_sh = pd.DataFrame({"shipment_id": ["s1"], "order_id": ["o1"],
                           "created_at": pd.to_datetime(["2024-03-03"], utc=True),
                           "shipped_at": pd.to_datetime([None], utc=True)})
    new_sh = old_sh.assign(shipped_at=pd.to_datetime(["2024-03-09"], utc=True))
    since = incremental.touched_since({"orders": orders, "shipments": old_sh},
                                      {"orders": orders, "shipments": new_sh}, ["shipments"],
                                      pd.Timestamp("2024-03-10", tz="UTC"))
    assert since == pd.Timestamp("2024-03-02", tz="UTC")
    # an unchanged table reaches back no further than the previous data end
    same = incremental.touched_since({"orders": orders}, {"orders": orders}, ["orders"],
                                     pd.Timestamp("2024-03-10", tz="UTC"))
    assert same == pd.Timestamp("2024-03-10", tz="UTC")


def test_touched_since_through_the_batch_keys():
    """Stored orders o1 (1 Mar), o2 (5 Mar), o3 (7 Mar); the batch deletes o2 and adds o4
    (9 Mar); validation moved o3's cancellation time from 8 Mar to 6 Mar (a row the batch does not
    carry). Through the keys: o2 (deleted, 5 Mar), o4 (9 Mar) and o3 (6 Mar, found by
    position) changed, o1 did not: since = 5 Mar, as hashing every row finds."""
    ts = lambda *d: pd.to_datetime(list(d), utc=True)  # noqa: E731
    old = pd.DataFrame({"order_id": ["o1", "o2", "o3"],
                        "created_at": ts("2024-03-01", "2024-03-05", "2024-03-07"),
                        "cancelled_at": ts("2024-03-09", "2024-03-09", "2024-03-08")})
    new = pd.DataFrame({"order_id": ["o1", "o3", "o4"],
                        "created_at": ts("2024-03-01", "2024-03-07", "2024-03-09"),
                        "cancelled_at": ts("2024-03-09", "2024-03-06", "2024-03-12")})
    batch = pd.DataFrame({"order_id": ["o2", "o4"], "_deleted": [True, False]})
    as_of = pd.Timestamp("2024-03-10", tz="UTC")
    args = {"orders": old}, {"orders": new}, ["orders"], as_of
    assert incremental.touched_since(*args, {"orders": batch}) == pd.Timestamp("2024-03-05",
                                                                               tz="UTC")
    assert incremental.touched_since(*args) == pd.Timestamp("2024-03-05", tz="UTC")
    # without the deletion and o3's move, only o4 (9 Mar) changed...
    keep = new.assign(cancelled_at=ts("2024-03-09", "2024-03-08", "2024-03-12"))
    only_new = {"orders": pd.concat([old, keep.iloc[[2]]], ignore_index=True)}
    got = incremental.touched_since({"orders": old}, only_new, ["orders"], as_of,
                                    {"orders": batch.iloc[[1]]})
    assert got == pd.Timestamp("2024-03-09", tz="UTC")
    # ...and o3 moved to 6 Mar is found although the batch does not carry it
    moved = only_new["orders"].assign(cancelled_at=ts("2024-03-09", "2024-03-09",
                                                              "2024-03-06", "2024-03-12"))
    got = incremental.touched_since({"orders": old}, {"orders": moved}, ["orders"], as_of,
                                    {"orders": batch.iloc[[1]]})
    assert got == pd.Timestamp("2024-03-06", tz="UTC")


def test_row_times_span_timestamps_and_dates():
    """A forecast for the week of 5 Mar (a date: midnight UTC) made 4 Mar 22:00 in Berlin
    (21:00 UTC): earliest 4 Mar 21:00, latest 5 Mar 00:00; a row with no time: NaT."""
    frame = pd.DataFrame({
        "target_period_start": pd.to_datetime(["2024-03-05", None]),
        "forecast_made_at": pd.to_datetime(["2024-03-04 22:00", None]).tz_localize(
            "Europe/Berlin"),
    })
    early, late = incremental._times(frame, "forecasts"), incremental._latest(frame, "forecasts")
    assert early.iloc[0] == pd.Timestamp("2024-03-04 21:00", tz="UTC")
    assert late.iloc[0] == pd.Timestamp("2024-03-05", tz="UTC")
    assert early.isna().iloc[1] and late.isna().iloc[1]


def test_snapshot_and_rolling_kpis_are_not_local():
    registry.load_all()
    k = registry.KPIS
    assert incremental.is_local(k["cancellation_rate_pre_ship"])
    assert not incremental.is_local(k["open_order_age_hours"])  # snapshot
    assert not incremental.is_local(k["tracking_signal"])  # rolling window
    assert not incremental.is_local(k["inventory_turnover"])  # stock days


def test_restriction_is_derived_once_from_the_first_recomputed_period(monkeypatch):
    """History 4-17 Mar 2024, lookback 3 days, change on Sat 16 Mar 12:00: since - lookback =
    Wed 13 Mar, so P0 is the week of Mon 11 Mar. The data is restricted to orders active from
    P0 - ANCHOR_SLACK (2 days) = Sat 9 Mar, not from P0 - lookback again (Fri 8 Mar), and the
    result still equals a full compute."""
    from store_helpers import scenario_dataset

    import kpilib

    ds = scenario_dataset("omnichannel")
    ids = ["cancellation_rate_pre_ship", "order_cycle_time_hours"]
    old = kpilib.compute(ds, ids, by=["channel"], freq="W")
    cutoffs = []
    real = incremental.restrict
    monkeypatch.setattr(incremental, "restrict",
                        lambda d, cutoff, extra=None: cutoffs.append(cutoff)
                        or real(d, cutoff, extra))
    out, plan = incremental.recompute_set(ds, ids, ("channel",), "W", None, old,
                                          pd.Timestamp("2024-03-16 12:00", tz="UTC"),
                                          pd.Timedelta(days=3))
    assert plan.start == pd.Timestamp("2024-03-11", tz="UTC") and plan.local == ids
    assert cutoffs == [pd.Timestamp("2024-03-09", tz="UTC")]
    pd.testing.assert_frame_equal(out, old, check_exact=True)


def test_merge_all_fills_each_kpi_on_its_own_grid_with_its_own_unit():
    """Two KPIs merged at once from week 2 on. Cancellation (fraction): b2b seen in week 1
    only, so week 2 gets an empty b2b cell. Touch count (a unit of its own, not "fraction"):
    web only, so it gets no b2b cell, and a filled cell never takes the other KPI's unit."""
    registry.load_all()
    w1, w2 = "2024-03-04", "2024-03-11"
    touch = registry.KPIS["order_touch_count"]

    def other(period: str, n: int) -> dict:
        return {**_rows(period, "web", n, 2.0), "kpi": touch.id, "unit": touch.unit}

    old = pd.DataFrame([_rows(w1, "b2b", 2, 0.5), _rows(w1, "web", 4, 0.25), other(w1, 3)])
    new = pd.DataFrame([_rows(w2, "web", 5, 0.2), other(w2, 1)])
    ids = ["cancellation_rate_pre_ship", touch.id]
    out = merging.merge_all(old, new, ids, ("channel",), pd.Timestamp(w2, tz="UTC"))
    assert list(out) == ids
    pd.testing.assert_frame_equal(out[ids[0]], pd.DataFrame(
        [_rows(w1, "b2b", 2, 0.5), _rows(w1, "web", 4, 0.25), _rows(w2, "b2b", 0, 0),
         _rows(w2, "web", 5, 0.2)]), check_exact=True)
    pd.testing.assert_frame_equal(out[touch.id], pd.DataFrame([other(w1, 3), other(w2, 1)]),
                                  check_exact=True)


def test_a_changed_node_or_timeless_product_reaches_every_period():
    """A node row has no time: changing its fulfillment model re-attributes every period, so
    the batch reaches back to MIN_TIME (a whole recompute). A product with a launch date
    reaches back to that date only; without dates, to MIN_TIME."""
    from kpilib.contracts.plausibility import MIN_TIME

    as_of = pd.Timestamp("2024-03-10", tz="UTC")
    nodes = pd.DataFrame({"node_id": ["n1"], "fulfillment_model": ["dc"]})
    since = incremental.touched_since({"nodes": nodes},
                                      {"nodes": nodes.assign(fulfillment_model="store")},
                                      ["nodes"], as_of)
    assert since == MIN_TIME
    products = pd.DataFrame({"sku": ["A", "B"], "product_class": ["x", "x"],
                             "launch_date": pd.to_datetime(["2024-02-01", None]),
                             "discontinue_date": pd.to_datetime([None, None])})
    a_only = products.assign(product_class=["y", "x"])
    got = incremental.touched_since({"products": products}, {"products": a_only}, ["products"],
                                    as_of)
    assert got == pd.Timestamp("2024-02-01", tz="UTC")
    both = products.assign(product_class="y")
    assert incremental.touched_since({"products": products}, {"products": both}, ["products"],
                                     as_of) == MIN_TIME
