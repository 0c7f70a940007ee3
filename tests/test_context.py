"""Context caching: least-recently-used eviction past a byte budget, and event-type masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import build_dataset

import kpilib
from kpilib import context
from kpilib.engine import make_context


def _ctx():
    ds = build_dataset(order_events=[
        {"event_id": "E1", "order_id": "O1", "event_type": "created"},
        {"event_id": "E2", "order_id": "O1", "event_type": "backordered"},
        {"event_id": "E3", "order_id": "O1", "event_type": "cancelled"},
        {"event_id": "E4", "order_id": "O1", "event_type": "backordered"}])
    return make_context(ds)


def test_memo_evicts_least_recently_used_past_the_budget_and_rebuilds():
    ctx = _ctx()
    ctx.cache_bytes = 2 * 800          # room for two arrays of 100 float64
    built = []

    def make(name):
        def build():
            built.append(name)
            return np.zeros(100)
        return build

    a = ctx.memo("a", make("a"))
    ctx.memo("b", make("b"))
    assert ctx.memo("a", make("a")) is a       # hit: no rebuild, "a" is now most recent
    ctx.memo("c", make("c"))                   # over budget: "b" (least recent) goes
    assert built == ["a", "b", "c"]
    ctx.memo("a", make("a"))
    ctx.memo("b", make("b"))                   # rebuilt, evicting "c"
    assert built == ["a", "b", "c", "b"]
    assert set(ctx._cache) == {"a", "b"}


def test_small_results_are_never_evicted():
    ctx = _ctx()
    ctx.cache_bytes = 0
    ctx.memo("flag", lambda: True)
    ctx.memo("big", lambda: np.zeros(10))
    assert "flag" in ctx._cache and "big" in ctx._cache  # the newest entry stays


def test_results_do_not_depend_on_the_cache_budget(monkeypatch):
    from kpilib.synth import generate

    frames, _truth = generate("omnichannel", seed=3, days=45, scale=0.05)
    ds = kpilib.Dataset.from_frames(**frames)
    full = kpilib.compute(ds, ["order", "fulfillment", "leading"], by=["channel"], freq="W")
    monkeypatch.setattr(context, "CACHE_BYTES", 0)   # evict everything but the newest entry
    tight = kpilib.compute(ds, ["order", "fulfillment", "leading"], by=["channel"], freq="W")
    pd.testing.assert_frame_equal(full, tight)


def test_event_mask_matches_event_type_rows():
    ctx = _ctx()
    assert ctx.event_mask("backordered").tolist() == [False, True, False, True]
    assert ctx.event_mask("cancelled", "created").tolist() == [True, False, True, False]
    assert not ctx.event_mask("no_such_type").any()


def test_ready_times_of_a_line_whose_order_is_unknown_stay_empty():
    # unvalidated data: L2 belongs to an order missing from `orders`. The order-level ready
    # event of O1 (the last order) must not leak to it through a -1 position.
    from kpilib.fact_tables import line_base

    ds = build_dataset(
        orders=[{"order_id": "O1"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"}],
        order_events=[{"event_id": "E1", "order_id": "O1", "event_type": "ready_for_pickup",
                       "event_at": "2024-01-01T06:00Z"}])
    orphan = ds.order_lines.assign(order_line_id="L2", order_id="O9")
    ds = ds.replace(order_lines=pd.concat([ds.order_lines, orphan], ignore_index=True))
    ctx = make_context(ds)
    first, last = line_base.ready_times(ctx)
    assert str(first[0]) == str(last[0]) == "2024-01-01T06:00:00.000000000"
    assert np.isnat(first[1]) and np.isnat(last[1])


def test_flow_line_of_an_unknown_order_gets_no_order_level_ready_time():
    # unvalidated data: L2 belongs to an order missing from `orders`. O1's order-level
    # ready event makes L1 a pickup delivered at 06:00; it must not reach L2.
    ds = build_dataset(
        orders=[{"order_id": "O1"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1"}],
        order_events=[{"event_id": "E1", "order_id": "O1", "event_type": "ready_for_pickup",
                       "event_at": "2024-01-01T06:00Z"}])
    orphan = ds.order_lines.assign(order_line_id="L2", order_id="O9")
    ds = ds.replace(order_lines=pd.concat([ds.order_lines, orphan], ignore_index=True))
    got = kpilib.facts(ds, "order_flow_lines").set_index("order_line_id")
    assert got.loc["L1", "is_pickup"] and got.loc["L1", "delivered_ok"]
    assert got.loc["L1", "delivered_last_at"] == pd.Timestamp("2024-01-01T06:00Z")
    assert not got.loc["L2", "is_pickup"] and not got.loc["L2", "delivered_ok"]
    assert pd.isna(got.loc["L2", "delivered_first_at"])
