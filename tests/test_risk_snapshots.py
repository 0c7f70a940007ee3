"""Snapshot risk features (open orders as of a refresh), training rows, the recall threshold
and the early-warning queue that scores unreleased orders too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from test_risk_features import _mutate_after, _ns, tiny, ts

from kpilib import early_warning as ew
from kpilib.asof import restrict
from kpilib.risk.model import recall_threshold
from kpilib.risk.snapshots import NUMERIC, grid, snapshot_features, training_rows


@pytest.fixture(scope="module")
def ds():
    return build_dataset(**tiny())


def test_grid_is_multiples_of_the_step():
    g = grid(ts("00:30"), ts("18:00"), 6)
    assert list(g) == [pd.Timestamp(ts(h)) for h in ("06:00", "12:00")]  # 18:00 excluded


def test_hand_computed_snapshot_at_0330(ds):
    f = snapshot_features(ds, [ts("03:30")]).set_index("order_id")
    # O1, O2 released (01:00, 02:00) and open; O3 created 03:00, released only at 04:00
    assert list(f.index) == ["O1", "O2", "O3"]
    o1 = f.loc["O1"]
    assert o1["node"] == "N1" and o1["released"] == 1.0
    assert o1["hours_left"] == 8.5 and o1["hours_open"] == 3.5
    assert o1["hours_since_release"] == 2.5 and o1["lines_done_share"] == 0.0
    assert o1["node_backlog"] == 1             # O2 open at N1, O1 itself not counted
    assert o1["node_releases_24h"] == 1        # O2 at 02:00
    assert o1["node_open_pick_lines"] == 2     # T1, T2
    assert o1["node_open_waves"] == 1          # W1
    o3 = f.loc["O3"]
    assert o3["node"] == "unreleased" and o3["released"] == 0.0
    assert o3["hours_since_release"] == 0.0 and pd.isna(o3["release_at"])
    assert o3["hours_left"] == 16.5 and o3["hours_open"] == 0.5 and o3["units"] == 2.0
    assert o3["holds"] == 1 and o3["holds_open"] == 1
    assert o3["alloc_attempts"] == 1 and o3["alloc_failures"] == 1  # 03:30 counts (<= t)
    assert np.isnan(o3["node_backlog"])        # no node before release
    # network: O1 00:00, O2 00:30, O3 03:00 created in the last 24 h; 1 failed of 1 attempt
    assert (f["net_orders_24h"] == 3).all() and (f["net_alloc_fail_rate_24h"] == 1.0).all()
    assert (f["net_backorders_24h"] == 0).all()


def test_snapshot_at_noon_sees_the_later_events(ds):
    f = snapshot_features(ds, [ts("12:00")]).set_index("order_id")
    # O1 shipped 10:00 (known), O2's deadline 12:00 is not ahead; O3 open
    assert list(f.index) == ["O3"]
    o3 = f.loc["O3"]
    assert o3["released"] == 1.0 and o3["hours_since_release"] == 8.0
    assert o3["alloc_attempts"] == 2 and o3["alloc_failures"] == 2  # 03:30 and 05:00
    assert o3["node_backlog"] == 1             # O2 (done 14:00); O1 done 10:00
    assert o3["node_releases_24h"] == 2        # O1, O2
    # outcomes known in (2024-01-01 00:00, 12:00]: O1 on time (10:00), O2 late (12:00), both N1
    assert o3["net_late_rate_24h"] == 0.5 and o3["node_late_rate_24h"] == 0.5
    assert o3["hours_left_unreleased"] == 0.0  # released


def test_recent_lateness_before_any_outcome_and_unreleased_hours(ds):
    f = snapshot_features(ds, [ts("03:30")]).set_index("order_id")
    assert f["net_late_rate_24h"].isna().all() and f["node_late_rate_24h"].isna().all()
    assert f.loc["O3", "hours_left_unreleased"] == 16.5
    assert f.loc["O1", "hours_left_unreleased"] == 0.0


def test_training_rows_and_labels(ds):
    # 6 h grid before 2024-01-02 09:00; O4 has no outcome yet
    tr = training_rows(ds, ts("09:00", 2), 6)
    got = list(zip(tr["order_id"], tr["at"].dt.strftime("%H:%M"), tr["late"], strict=True))
    assert sorted(got) == [("O1", "00:00", 0.0), ("O1", "06:00", 0.0), ("O2", "06:00", 1.0),
                           ("O3", "06:00", 0.0), ("O3", "12:00", 0.0), ("O3", "18:00", 0.0)]
    # outcomes known after the cutoff are not training rows: at 11:00 only O1 (10:00) is
    assert set(training_rows(ds, ts("11:00"), 6)["order_id"]) == {"O1"}


@pytest.mark.parametrize("drop_events", [False, True])
def test_leakage_later_events_do_not_change_the_snapshot(ds, drop_events):
    t = pd.Timestamp(ts("03:30"))
    before = snapshot_features(ds, [t])
    mutated = _mutate_after(dict(ds.tables), t, pd.Timedelta(hours=7), drop_events)
    after = snapshot_features(_ns(mutated, ds.data_as_of), [t])
    pd.testing.assert_frame_equal(after[NUMERIC], before[NUMERIC])
    # the mutation did change later facts (the test can fail): O1 now ships 17:00, late
    late = ship_outcomes_late(_ns(mutated, ds.data_as_of))
    assert late["O1"] == 1.0


def ship_outcomes_late(d) -> pd.Series:
    from kpilib.risk.features import ship_outcomes

    return ship_outcomes(d).set_index("order_id")["late"]


def test_training_snapshot_equals_the_refresh_view_on_generated_data():
    # a training row at a past grid time holds what the refresh at that time saw
    from kpilib.dataset import Dataset
    from kpilib.synth import generate

    tables, _ = generate("beauty_stockouts", seed=3, days=20, scale=0.05)
    full = Dataset.from_frames(**tables)
    start = full.orders["created_at"].min().floor("D") + pd.Timedelta(days=8)
    times = pd.date_range(start, periods=10, freq="19h")  # odd hours: all times of day
    past = snapshot_features(full, times)
    live = pd.concat([snapshot_features(restrict(full, t), [t]) for t in times],
                     ignore_index=True)
    assert len(live) > 40 and (live["released"] == 0).sum() > 5
    key = ["at", "order_id"]
    past, live = (f.sort_values(key).reset_index(drop=True) for f in (past, live))
    pd.testing.assert_frame_equal(past[key + NUMERIC], live[key + NUMERIC], check_dtype=False)


def test_recall_threshold_by_hand():
    # per late order the best score: A 0.9, B 0.5, C 0.3, D 0.1; on-time E is ignored.
    # target 0.5 -> 2 of 4 must reach it -> 0.5; target 0.6 -> ceil(2.4) = 3 -> 0.3
    oid = pd.Series(list("AABBCDE"))
    late = pd.Series([1, 1, 1, 1, 1, 1, 0])
    score = np.array([0.2, 0.9, 0.5, 0.4, 0.3, 0.1, 0.99])
    assert recall_threshold(oid, late, score, 0.5) == 0.5
    assert recall_threshold(oid, late, score, 0.6) == 0.3
    assert recall_threshold(oid, late, score, 1.0) == 0.1


def test_no_model_from_fewer_than_three_rows_of_a_class(ds):
    # 6 h grid before 2024-01-02 09:00: one late row (O2 at 06:00), five on time
    cfg = ew.settings({"min_train": 3, "snapshot_hours": 6.0})
    assert ew.fit_model(ds, pd.Timestamp(ts("09:00", 2)), cfg) is None


def test_queue_scores_unreleased_orders_with_the_auto_threshold(ds):
    cfg = ew.settings({"min_train": 3, "snapshot_hours": 1.0})
    model = ew.fit_model(ds, pd.Timestamp(ts("09:00", 2)), cfg)
    assert model is not None and model.population == "open" and 0 < model.threshold < 1
    t = pd.Timestamp(ts("03:30"))
    w = ew.evaluate(restrict(ds, t), t, "ops", cfg, "r1", model)
    assert w.model is model  # fresh: reused
    q = w.queue.set_index("item")
    assert set(q.index) == {"O1", "O2", "O3"}  # O3 not released yet, still scored
    assert q.loc["O3", "node"] == "unreleased" and q.loc["O3", "hours_left"] == 16.5
    assert ew.threshold(model, cfg) == model.threshold
    assert ew.threshold(model, {**cfg, "threshold": 0.4}) == 0.4


def test_training_rows_of_the_last_days_only(ds):
    # 6 h grid, last 0.5 day before 2024-01-02 09:00: grid times 00:00 and 06:00 of day 2;
    # only O4 is open then and its outcome is unknown -> no rows (a full history has six)
    assert training_rows(ds, ts("09:00", 2), 6, days=0.5).empty
    # last day: 12:00 and 18:00 of day 1 add O3's rows
    got = training_rows(ds, ts("09:00", 2), 6, days=1)
    assert sorted(got["at"].dt.strftime("%H:%M")) == ["12:00", "18:00"]
