"""Order snapshot KPIs in a batch refresh: recomputed from P0 on with the stored open orders,
rebuilt empty cells, and the fallbacks to the whole series."""

from __future__ import annotations

import numpy as np
import pandas as pd
from store_helpers import scenario_dataset, short_snapshot

import kpilib
from kpilib import registry
from kpilib.context import Context
from kpilib.refresh import refresh
from kpilib.store import create, incremental, merging, open_records, open_store
from kpilib.store.replay import write_batch

SNAP = ["open_order_age_hours", "backorder_age_hours", "unreleased_order_age_hours"]
W1, W2 = "2024-03-04", "2024-03-11"


def _row(kpi: str, period: str, channel, n: int) -> dict:
    unit = registry.load_all()[kpi].unit
    return {"kpi": kpi, "period": pd.Timestamp(period, tz="UTC"), "channel": channel,
            "value": np.nan if n == 0 else 5.0, "numerator": 5.0 * n, "denominator": float(n),
            "n": n, "p50": np.nan if n == 0 else 5.0, "p90": np.nan if n == 0 else 5.0,
            "status": "undefined" if n == 0 else "ok", "unit": unit, "excluded": "",
            "note": ""}


def test_merge_leaves_no_empty_cells_of_a_segment_gone_since():
    """Stored (week 1 as stored, week 2 recomputed): open order age had records for web in
    both weeks and for b2b only in week 2 (so week 1 holds an empty b2b cell); backorder age
    had one b2b record in week 2 only. The batch closed the b2b orders before week 2's end:
    recomputed week 2 has web only, and no backorder at all (the engine's one empty cell with
    a null segment). Expected, as a full recompute: no b2b cell anywhere; backorder age one
    empty null-segment cell per week."""
    k1, k2 = "open_order_age_hours", "backorder_age_hours"
    old = pd.DataFrame([_row(k1, W1, "b2b", 0), _row(k1, W1, "web", 2),
                        _row(k1, W2, "b2b", 1), _row(k1, W2, "web", 3),
                        _row(k2, W1, "b2b", 0), _row(k2, W2, "b2b", 1)])
    new = pd.DataFrame([_row(k1, W2, "web", 4), _row(k2, W2, np.nan, 0)])
    out = merging.merge_all(old, new, [k1, k2], ("channel",), pd.Timestamp(W2, tz="UTC"))
    pd.testing.assert_frame_equal(out[k1], pd.DataFrame([_row(k1, W1, "web", 2),
                                                         _row(k1, W2, "web", 4)]))
    empty = pd.DataFrame([_row(k2, W1, np.nan, 0), _row(k2, W2, np.nan, 0)])
    pd.testing.assert_frame_equal(out[k2], empty.astype({"channel": object}))


def test_plan_takes_order_snapshots_from_p0_only_with_the_stored_open_orders():
    """Stored rows in weeks 1 and 2; change on 13 Mar: P0 = week 2. Open order age goes from
    P0 on with the stored open orders and a data end (17 Mar) not before P0; without them, or
    with a data end before P0 (rows deleted), it is recomputed whole. Open exception count
    (its denominator counts closed exceptions too) and a period-local KPI keep their rules."""
    ids = ["open_order_age_hours", "exception_open_count", "cancellation_rate_pre_ship"]
    old = pd.DataFrame([_row(k, w, "web", 1) for k in ids for w in (W1, W2)])
    since, end = pd.Timestamp("2024-03-13", tz="UTC"), pd.Timestamp("2024-03-17", tz="UTC")
    known = pd.Series(["o1"], dtype=object)
    p = incremental.plan(ids, ("channel",), "W", since, old, {}, open_orders=known, as_of=end)
    assert (p.start, p.local, p.snap, p.full) == (pd.Timestamp(W2, tz="UTC"), [ids[2]],
                                                  [ids[0]], [ids[1]])
    p = incremental.plan(ids, ("channel",), "W", since, old, {}, open_orders=None, as_of=end)
    assert (p.local, p.snap, p.full) == ([ids[2]], [], ids[:2])
    early = pd.Timestamp("2024-03-10", tz="UTC")
    p = incremental.plan(ids, ("channel",), "W", since, old, {}, open_orders=known, as_of=early)
    assert (p.snap, p.full) == ([], ids[:2])


def test_observed_keeps_the_orders_open_in_the_last_period():
    """Weekly points 4 Mar - 17 Mar: the last period is week 2. Open order age saw o1 in week
    1 and o2, o3, o2 in week 2; backorder age o4 in week 2; open exception count (not an
    order snapshot) o9. Kept: o2, o3, o4. A KPI whose observations lack order_id makes the
    set unknown (None)."""
    registry.load_all()
    ctx = Context(ds=None, as_of=pd.Timestamp("2024-03-17", tz="UTC"), freq="W",
                  start=pd.Timestamp(W1, tz="UTC"))
    w1, w2 = pd.Timestamp(W1, tz="UTC"), pd.Timestamp(W2, tz="UTC")
    seen = open_records.Observed(ctx)
    seen(registry.KPIS["open_order_age_hours"], pd.DataFrame(
        {"order_id": ["o1", "o2", "o3", "o2"], "period": [w1, w2, w2, w2]}))
    seen(registry.KPIS["backorder_age_hours"], pd.DataFrame({"order_id": ["o4"],
                                                             "period": [w2]}))
    seen(registry.KPIS["exception_open_count"], pd.DataFrame({"order_id": ["o9"],
                                                              "period": [w2]}))
    assert open_records.observed([seen]).tolist() == ["o2", "o3", "o4"]
    blind = open_records.Observed(ctx)
    blind(registry.KPIS["open_rma_age_hours"], pd.DataFrame({"period": [w2]}))
    assert open_records.observed([seen, blind]) is None


def _with_stuck_order(ds):
    """``ds`` plus order STUCK: a copy of the first order with one line, created 4 Mar, every
    time of it on 4 Mar, never shipped nor cancelled: open at every snapshot from then on."""
    o = ds.orders.sort_values("created_at").iloc[[0]].copy()
    t0 = o["created_at"].iloc[0]
    o["order_id"], o["cancelled_at"] = "STUCK", pd.NaT
    o[["cancel_initiator", "cancel_reason"]] = None
    o["authorized_at"], o["earliest_ship_at"], o["is_test"] = t0, pd.NaT, False
    o["order_type"], o["parent_order_id"] = "standard", None
    line = ds.order_lines[ds.order_lines["parent_line_id"].isna()].iloc[[0]].copy()
    line["order_line_id"], line["order_id"] = "STUCK-1", "STUCK"
    for c in ("created_at", "requested_delivery_at", "promised_delivery_at_original",
              "promised_delivery_at_current", "planned_ship_by_at"):
        line[c] = t0
    line[["qty_cancelled_customer", "qty_cancelled_merchant"]] = 0
    return kpilib.Dataset.from_frames(**{**ds.tables,
                                         "orders": pd.concat([ds.orders, o]),
                                         "order_lines": pd.concat([ds.order_lines, line])})


def test_a_stuck_order_is_kept_through_the_stored_open_orders():
    """STUCK (all its times on 4 Mar) is open at every weekly snapshot. A change on 16 Mar
    12:00 with a 3-day lookback: P0 = week of 11 Mar, the subset holds orders active from 9
    Mar, so STUCK is in it only through the open orders a full recompute stored. With them
    the result equals compute; without STUCK the last week's open order count is one short."""
    ds = _with_stuck_order(scenario_dataset("omnichannel"))
    old = kpilib.compute(ds, SNAP, by=["channel"], freq="W")
    _, first = incremental.recompute_set(ds, SNAP, ("channel",), "W", None, None, None)
    assert "STUCK" in set(first.open_orders)
    args = ds, SNAP, ("channel",), "W", None, old, pd.Timestamp("2024-03-16 12:00", tz="UTC"),
    out, plan = incremental.recompute_set(*args, pd.Timedelta(days=3), first.open_orders)
    assert plan.start == pd.Timestamp(W2, tz="UTC") and plan.snap == SNAP
    pd.testing.assert_frame_equal(out, old, check_exact=True)
    assert "STUCK" in set(plan.open_orders)
    without = first.open_orders[first.open_orders != "STUCK"]
    out, _ = incremental.recompute_set(*args, pd.Timedelta(days=3), without)
    sel = (out["kpi"] == "open_order_age_hours") & (out["period"] == pd.Timestamp(W2, tz="UTC"))
    assert out.loc[sel, "n"].sum() == old.loc[sel, "n"].sum() - 1


def _batch_store(tmp_path):
    root, ds = short_snapshot(tmp_path)
    create(tmp_path / "st", [{"kpis": SNAP, "by": ["channel"], "freq": "W"}],
           early_warning={"enabled": False}, refresh={"lookback_days": 2})
    refresh(tmp_path / "st", root / "full")
    return tmp_path / "st", ds


def _apply(tmp_path, st, ds, name: str, orders: pd.DataFrame, monkeypatch):
    """Refresh with the changed ``orders`` rows; (plan of the set, store results, compute on
    the edited data)."""
    plans = []
    real = incremental.plan
    monkeypatch.setattr(incremental, "plan", lambda *a, **k: plans.append(real(*a, **k))
                        or plans[-1])
    write_batch(tmp_path / name, {"orders": orders}, False)
    assert refresh(st, tmp_path / name).status == "applied"
    merged = ds.orders.set_index("order_id")
    merged.update(orders.set_index("order_id"))
    edited = kpilib.Dataset.from_frames(**{**ds.tables, "orders": merged.reset_index()})
    got = open_store(st).results(SNAP, by=["channel"], freq="W")
    return plans[-1], got, kpilib.compute(edited, SNAP, by=["channel"], freq="W")


def test_a_recent_change_recomputes_order_snapshots_from_p0(tmp_path, monkeypatch):
    """A batch cancelling the last order (created 17 Mar; since - 2 days in week 2): the
    order snapshots are recomputed from week 2 with the stored open orders, as compute."""
    st, ds = _batch_store(tmp_path)
    assert open_store(st).open_orders(open_store(st).sets[0].name) is not None
    row = ds.orders.sort_values("created_at").iloc[[-1]].copy()
    row["cancelled_at"] = row["created_at"] + pd.Timedelta(minutes=5)
    row["cancel_initiator"], row["cancel_reason"] = "customer", "other"
    plan, got, expected = _apply(tmp_path, st, ds, "b1", row, monkeypatch)
    assert plan.snap == SNAP and plan.start == pd.Timestamp(W2, tz="UTC")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_changed_created_at_in_week_1_recomputes_the_whole_series(tmp_path, monkeypatch):
    """A batch moving an order created 6 Mar back to 4 Mar 01:00 reaches week 1 (the old
    and the new creation time both count): no stored row before P0 to keep, so the order
    snapshots are recomputed whole, as compute."""
    st, ds = _batch_store(tmp_path)
    o = ds.orders
    row = o[o["created_at"].dt.day.eq(6) & o["authorized_at"].notna()].iloc[[0]].copy()
    row["created_at"] = pd.Timestamp("2024-03-04 01:00", tz="UTC")
    plan, got, expected = _apply(tmp_path, st, ds, "b2", row, monkeypatch)
    assert plan.snap == [] and plan.full == SNAP
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
