"""Risk features: hand-computed values, outcomes, and explicit leakage tests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset

from kpilib.risk.features import NUMERIC, release_features, ship_outcomes
from kpilib.risk.model import time_split


def ts(hhmm: str, day: int = 1) -> str:
    return f"2024-01-{day:02d}T{hhmm}:00Z"


def tiny():
    """Three orders at node N1 on 2024-01-01 (times UTC), one open order O4.

    O1 released 01:00, deadline 12:00, shipped 10:00            -> on time, known 10:00
    O2 released 02:00, deadline 12:00, shipped 14:00            -> late, known 12:00
    O3 created 03:00: hold 03:10, allocation 03:30 (2 asked, 1 confirmed), released 04:00,
       deadline 20:00, 2 units, shipped 19:00; a failed allocation at 05:00 is after release
    O4 released 2024-01-02 08:00, deadline 2024-01-03 12:00, data end 2024-01-02 09:00 -> open
    Picks: T1 (O1) 01:30 -> 09:00, T2 (O2) 02:30 -> 13:00, T3 (O3) 05:00 -> 18:00.
    Wave W1 released 01:15, closed 13:30.
    """
    return dict(
        nodes=[{"node_id": "N1"}],
        orders=[
            {"order_id": "O1", "created_at": ts("00:00")},
            {"order_id": "O2", "created_at": ts("00:30"), "channel": "marketplace"},
            {"order_id": "O3", "created_at": ts("03:00")},
            {"order_id": "O4", "created_at": ts("07:00", 2)},
        ],
        order_lines=[
            {"order_line_id": "L1", "order_id": "O1", "created_at": ts("00:00"),
             "assigned_node_id": "N1", "planned_ship_by_at": ts("12:00")},
            {"order_line_id": "L2", "order_id": "O2", "created_at": ts("00:30"),
             "assigned_node_id": "N1", "planned_ship_by_at": ts("12:00")},
            {"order_line_id": "L3", "order_id": "O3", "created_at": ts("03:00"),
             "assigned_node_id": "N1", "planned_ship_by_at": ts("20:00"), "qty_ordered": 2.0},
            {"order_line_id": "L4", "order_id": "O4", "created_at": ts("07:00", 2),
             "assigned_node_id": "N1", "planned_ship_by_at": ts("12:00", 3)},
        ],
        order_events=[
            {"order_id": "O1", "event_type": "released_to_node", "node_id": "N1",
             "event_at": ts("01:00")},
            {"order_id": "O2", "event_type": "released_to_node", "node_id": "N1",
             "event_at": ts("02:00")},
            {"order_id": "O3", "event_type": "hold_placed", "event_at": ts("03:10")},
            {"order_id": "O3", "order_line_id": "L3", "event_type": "allocation_attempt",
             "node_id": "N1", "event_at": ts("03:30"), "qty": 2.0, "qty_confirmed": 1.0},
            {"order_id": "O3", "event_type": "released_to_node", "node_id": "N1",
             "event_at": ts("04:00")},
            {"order_id": "O3", "order_line_id": "L3", "event_type": "allocation_attempt",
             "node_id": "N1", "event_at": ts("05:00"), "qty": 2.0, "qty_confirmed": 0.0},
            {"order_id": "O4", "event_type": "released_to_node", "node_id": "N1",
             "event_at": ts("08:00", 2)},
        ],
        shipments=[
            {"shipment_id": "S1", "order_id": "O1", "created_at": ts("09:30"),
             "shipped_at": ts("10:00"), "delivery_status": "in_transit"},
            {"shipment_id": "S2", "order_id": "O2", "created_at": ts("13:30"),
             "shipped_at": ts("14:00"), "delivery_status": "in_transit"},
            {"shipment_id": "S3", "order_id": "O3", "created_at": ts("18:30"),
             "shipped_at": ts("19:00"), "delivery_status": "in_transit"},
        ],
        shipment_lines=[
            {"shipment_id": "S1", "order_line_id": "L1", "qty_shipped": 1.0},
            {"shipment_id": "S2", "order_line_id": "L2", "qty_shipped": 1.0},
            {"shipment_id": "S3", "order_line_id": "L3", "qty_shipped": 2.0},
        ],
        pick_tasks=[
            {"task_id": "T1", "order_line_id": "L1", "released_at": ts("01:30"),
             "picked_at": ts("09:00"), "wave_id": "W1"},
            {"task_id": "T2", "order_line_id": "L2", "released_at": ts("02:30"),
             "picked_at": ts("13:00"), "wave_id": "W1"},
            {"task_id": "T3", "order_line_id": "L3", "sku": "SKU1", "released_at": ts("05:00"),
             "picked_at": ts("18:00"), "qty_requested": 2.0},
        ],
        waves=[{"wave_id": "W1", "released_at": ts("01:15"), "closed_at": ts("13:30")}],
        exceptions=[{"exception_id": "X1", "opened_at": ts("09:00", 2)}],  # data end
    )


@pytest.fixture(scope="module")
def ds():
    return build_dataset(**tiny())


def test_hand_computed_features(ds):
    f = release_features(ds).set_index("order_id")
    o3 = f.loc["O3"]
    assert o3["release_at"] == pd.Timestamp(ts("04:00"))
    # backlog at 04:00: O1 (done 10:00) and O2 (done 14:00) open, O3 itself not counted
    assert o3["node_backlog"] == 2
    assert o3["node_releases_24h"] == 2          # O1 01:00, O2 02:00
    assert o3["node_open_pick_lines"] == 2       # T1, T2 released, not picked by 04:00
    assert o3["node_open_waves"] == 1            # W1
    assert o3["alloc_attempts"] == 1 and o3["alloc_failures"] == 1  # 05:00 attempt is later
    assert o3["holds"] == 1
    assert o3["node_alloc_fail_rate_24h"] == 1.0  # 1 failed of 1 attempt in (r-24h, r]
    assert o3["slack_hours"] == 16.0 and o3["hours_created_to_release"] == 1.0
    assert o3["units"] == 2.0 and o3["lines"] == 1.0
    assert o3["release_dow"] == "Mon" and o3["release_hour"] == 4.0
    # O1 at 01:00: nothing else released yet
    assert f.loc["O1", "node_backlog"] == 0 and f.loc["O1", "node_open_pick_lines"] == 0
    # O4 (next day 08:00): every earlier slice is done
    assert f.loc["O4", "node_backlog"] == 0 and f.loc["O4", "node_open_waves"] == 0


def test_outcomes_and_when_known(ds):
    o = ship_outcomes(ds).set_index("order_id")
    assert o.loc["O1", "late"] == 0 and o.loc["O1", "known_at"] == pd.Timestamp(ts("10:00"))
    assert o.loc["O2", "late"] == 1 and o.loc["O2", "known_at"] == pd.Timestamp(ts("12:00"))
    assert o.loc["O3", "late"] == 0 and o.loc["O3", "known_at"] == pd.Timestamp(ts("19:00"))
    assert np.isnan(o.loc["O4", "late"]) and pd.isna(o.loc["O4", "known_at"])


# Deadlines and promises are attributes fixed when the order is taken (known at release), not
# events; everything else with a timestamp is an event that happens at that time.
PROMISES = {"planned_ship_by_at", "promised_delivery_at_original", "promised_delivery_at_current",
            "requested_delivery_at", "earliest_ship_at", "cutoff_at"}


def _mutate_after(tables: dict[str, pd.DataFrame], t: pd.Timestamp, shift: pd.Timedelta,
                  drop_events: bool) -> dict[str, pd.DataFrame]:
    """Move every event timestamp later than ``t`` by ``shift``; optionally drop later events."""
    out = {}
    for name, frame in tables.items():
        if frame is None:
            continue
        frame = frame.copy()
        for col in frame.columns:
            if col not in PROMISES and isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                late = frame[col] > t
                frame.loc[late, col] = frame.loc[late, col] + shift
        out[name] = frame
    if drop_events:
        ev = out["order_events"]
        out["order_events"] = ev[ev["event_at"] <= t]
    return out


def _ns(tables, as_of):
    return SimpleNamespace(**tables, data_as_of=as_of)


@pytest.mark.parametrize("drop_events", [False, True])
def test_leakage_post_release_events_do_not_change_features(ds, drop_events):
    t = pd.Timestamp(ts("04:00"))  # O3's release; O1 and O2 were released before
    before = release_features(ds).set_index("order_id").loc[["O1", "O2", "O3"]]
    mutated = _mutate_after(dict(ds.tables), t, pd.Timedelta(hours=7), drop_events)
    after = release_features(_ns(mutated, ds.data_as_of)).set_index("order_id")
    pd.testing.assert_frame_equal(after.loc[["O1", "O2", "O3"], NUMERIC], before[NUMERIC])
    # the mutation did change later facts (the test can fail): O3's shipment moved
    assert (ship_outcomes(_ns(mutated, ds.data_as_of)).set_index("order_id").loc["O3", "late"]
            == 1.0)


def test_leakage_line_added_after_release_is_not_a_feature(ds):
    # an edit at 06:00 adds a line to O3 (released 04:00) with an earlier deadline and promise
    before = release_features(ds).set_index("order_id").loc["O3"]
    tables = {k: v for k, v in ds.tables.items()}
    extra = tables["order_lines"].iloc[[2]].copy()
    extra["order_line_id"] = "L3b"
    extra["created_at"] = pd.Timestamp(ts("06:00"))
    extra["planned_ship_by_at"] = pd.Timestamp(ts("08:00"))
    extra["promised_delivery_at_original"] = pd.Timestamp(ts("09:00"))
    extra["qty_ordered"] = 5.0
    tables["order_lines"] = pd.concat([tables["order_lines"], extra], ignore_index=True)
    after = release_features(_ns(tables, ds.data_as_of)).set_index("order_id").loc["O3"]
    pd.testing.assert_series_equal(after[NUMERIC], before[NUMERIC])
    assert after["deadline"] == before["deadline"] == pd.Timestamp(ts("20:00"))
    # ...but the outcome counts it: L3b was never shipped by 08:00, so O3 is late
    out = ship_outcomes(_ns(tables, ds.data_as_of)).set_index("order_id")
    assert out.loc["O3", "late"] == 1.0


def test_leakage_on_generated_data():
    from kpilib.synth import generate

    tables, _ = generate("omnichannel", seed=3, days=30, scale=0.05)
    as_of = max(f[c].max() for f in tables.values() for c in f.columns
                if isinstance(f[c].dtype, pd.DatetimeTZDtype))
    base = release_features(_ns(tables, as_of))
    cut = base["release_at"].quantile(0.5)
    mutated = _mutate_after(tables, cut, pd.Timedelta(hours=13), drop_events=True)
    after = release_features(_ns(mutated, as_of)).set_index("order_id")
    keep = base[base["release_at"] <= cut].set_index("order_id")
    assert len(keep) > 50
    pd.testing.assert_frame_equal(after.loc[keep.index, NUMERIC], keep[NUMERIC])


def test_time_split_uses_only_outcomes_known_before_cutoff(ds):
    from kpilib.risk.model import labelled

    frame = labelled(ds)
    train, test, cut = time_split(frame, cutoff=ts("11:00"))
    # O1 known 10:00 -> train; O2 released 02:00 but known 12:00 -> neither;
    # O3 released 04:00, known 19:00 -> neither; O4 unknown -> neither
    assert list(train["order_id"]) == ["O1"]
    assert list(test["order_id"]) == []
    train, test, _ = time_split(frame, cutoff=ts("03:00"))
    assert list(train["order_id"]) == [] and list(test["order_id"]) == ["O3"]
    assert (train["known_at"] < cut).all()
