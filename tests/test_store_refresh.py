"""The KPI store and `refresh`: exact equality with a full recompute, upserts, deletions,
rejected batches, atomic generations, idempotent reruns."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from store_helpers import daily_batches, scenario_dataset, short_snapshot

import kpilib
from kpilib.refresh import BatchRejected, refresh
from kpilib.store import create, incremental, open_store
from kpilib.store.batch import DELETED, upsert
from kpilib.store.replay import write_batch

SET = {"kpis": "all", "by": ["channel"], "freq": "W"}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["omnichannel", "beauty_stockouts", "apparel_surge"])
def test_daily_replay_equals_full_recompute(tmp_path, scenario, monkeypatch):
    """Replaying a scenario day by day as batches gives exactly compute() on the full data,
    for every KPI, weekly by channel, and every row names the last batch and its data.

    The lookback is 2 days so that the later batches take the incremental path (period-local
    KPIs from the week of the change on, on the restricted data; the 61-day default reaches
    before the start of a 14-day history, which means a full recompute). That is exact on
    this data: no record of a 14-day history gets older than the shortest window that moves
    with as_of alone (14 days), which is what the default lookback covers in general."""
    plans, sinces = [], []
    real_plan, real_since = incremental.plan, incremental.touched_since
    monkeypatch.setattr(incremental, "plan", lambda *a, **k: plans.append(
        real_plan(*a, **k)) or plans[-1])

    def since_both_ways(old, new, tables, old_as_of, batch=None):
        """The since-value found through the batch's keys and (on omnichannel, to keep the
        suite's time) by hashing every row."""
        by_key = real_since(old, new, tables, old_as_of, batch)
        hashed = real_since(old, new, tables, old_as_of) if scenario == "omnichannel" else by_key
        sinces.append((by_key, hashed))
        return by_key

    monkeypatch.setattr(incremental, "touched_since", since_both_ways)
    ds = scenario_dataset(scenario)
    paths = daily_batches(ds, tmp_path / "batches")
    assert len(paths) >= 5  # snapshot at day 10, daily batches, the final batch
    create(tmp_path / "st", [SET], early_warning={"enabled": False},
           refresh={"lookback_days": 2})
    statuses = [refresh(tmp_path / "st", p).status for p in paths]
    # the non-local KPIs are always recomputed whole; on omnichannel later batches take the
    # incremental path for the local ones (on the other two, each day changes some rows
    # reaching back to the history's first week, so the whole set is recomputed)
    assert all(p.full for p in plans)
    assert any(p.local for p in plans) or scenario != "omnichannel"
    # ...and the order snapshot KPIs from the same period on, with the stored open orders
    assert any(p.snap for p in plans) or scenario != "omnichannel"
    # a day that changes no row records the batch and keeps the results
    assert set(statuses) <= {"applied", "unchanged"} and statuses[0] == "applied"
    # finding the changed rows through the batch keys reaches back exactly as far as hashing
    assert sinces and all(by_key == hashed for by_key, hashed in sinces)
    last_applied = [p.name for p, s in zip(paths, statuses, strict=True) if s == "applied"][-1]
    store = open_store(tmp_path / "st")
    expected = kpilib.compute(ds, "all", by=["channel"], freq="W")
    pd.testing.assert_frame_equal(store.results("all", by=["channel"], freq="W"), expected,
                                  check_exact=True)
    sub = ["order_cycle_time_hours", "on_time_shipment_rate"]
    pd.testing.assert_frame_equal(store.results(sub, by=["channel"], freq="W"),
                                  kpilib.compute(ds, sub, by=["channel"], freq="W"),
                                  check_exact=True)
    banded = store.results("all", by=["channel"], freq="W", banded=True)
    assert set(banded["run_id"]) == {last_applied}
    assert set(banded["fingerprint"]) == {ds.fingerprint()}
    assert store.manifest["batches"] == [p.name for p in paths]
    stored = store.dataset()
    assert stored.fingerprint() == ds.fingerprint()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A store after the snapshot batch of a short omnichannel run, plus the dataset."""
    return short_snapshot(tmp_path_factory.mktemp("small"))


def _store(tmp_path, small, kpis=("order_cycle_time_hours", "cancellation_rate_pre_ship")):
    root, ds = small
    create(tmp_path / "st", [{"kpis": list(kpis), "by": [], "freq": "D"}],
           early_warning={"enabled": False})
    refresh(tmp_path / "st", root / "full")
    return tmp_path / "st", ds


def test_upsert_and_delete_by_primary_key():
    """Changed rows replace theirs in place, new rows are appended, _deleted rows vanish."""
    stored = pd.DataFrame({"order_id": ["a", "b", "c"], "channel": ["web", "web", "b2b"]})
    batch = pd.DataFrame({"order_id": ["b", "d", "c"], "channel": ["app", "web", None],
                          DELETED: [False, False, True]})
    out = upsert(stored, batch, "orders")
    assert out["order_id"].tolist() == ["a", "b", "d"]
    assert out["channel"].tolist() == ["web", "app", "web"]


def test_upsert_by_a_key_holding_a_date():
    """inventory_snapshots is keyed by (snapshot_date, node_id, sku): the batch's row for
    (2 Mar, n1, A) replaces the stored one, (3 Mar, n1, A) is new, (1 Mar, n1, A) is kept."""
    days = pd.to_datetime(["2024-03-01", "2024-03-02"])
    stored = pd.DataFrame({"snapshot_date": days, "node_id": ["n1", "n1"], "sku": ["A", "A"],
                           "qty_on_hand": [5.0, 6.0]})
    batch = pd.DataFrame({"snapshot_date": pd.to_datetime(["2024-03-03", "2024-03-02"]),
                          "node_id": ["n1", "n1"], "sku": ["A", "A"], "qty_on_hand": [8.0, 7.0],
                          DELETED: [False, False]})
    out = upsert(stored, batch, "inventory_snapshots")
    assert out["snapshot_date"].dt.day.tolist() == [1, 2, 3]
    assert out["qty_on_hand"].tolist() == [5.0, 7.0, 8.0]


def test_batch_with_changed_order_matches_compute(tmp_path, small):
    """A batch cancelling one order (changed row) gives the same numbers as compute on the
    data edited the same way."""
    st, ds = _store(tmp_path, small)
    orders = ds.orders.copy()
    victim = orders.loc[orders["cancelled_at"].isna()].iloc[0]
    row = victim.to_frame().T
    row["cancelled_at"] = victim["created_at"] + pd.Timedelta(hours=1)
    row["cancel_initiator"], row["cancel_reason"] = "customer", "other"
    write_batch(tmp_path / "b1", {"orders": row.astype(orders.dtypes.to_dict())}, False)
    assert refresh(st, tmp_path / "b1").status == "applied"
    mask = orders["order_id"] == victim["order_id"]
    orders.loc[mask, "cancelled_at"] = row["cancelled_at"].iloc[0]
    orders.loc[mask, ["cancel_initiator", "cancel_reason"]] = ["customer", "other"]
    edited = kpilib.Dataset.from_frames(**{**ds.tables, "orders": orders})
    kp = ["order_cycle_time_hours", "cancellation_rate_pre_ship"]
    pd.testing.assert_frame_equal(open_store(st).results(kp, freq="D"),
                                  kpilib.compute(edited, kp, freq="D"), check_exact=True)


def test_the_running_period_is_never_judged_in_the_store(tmp_path, small):
    """The week still running at the data's end is judged as the reports judge it: band
    insufficient_data, signal status_partial, not alertable (so it raises no alert); the stored
    band columns equal apply_bands at the data's end, the result columns stay compute's."""
    root, ds = small
    kp = ["order_cycle_time_hours", "cancellation_rate_pre_ship"]
    create(tmp_path / "st", [{"kpis": kp, "by": [], "freq": "W"}],
           early_warning={"enabled": False})
    refresh(tmp_path / "st", root / "full")
    store = open_store(tmp_path / "st")
    banded = store.results(kp, freq="W", banded=True)
    last = banded["period"] == banded["period"].max()
    assert ds.data_as_of < banded["period"].max() + pd.Timedelta(days=7)  # still running
    assert set(banded.loc[last, "band"]) == {"insufficient_data"}
    assert set(banded.loc[last, "signals"]) == {"status_partial"}
    assert not banded.loc[last, "alertable"].any()
    computed = kpilib.compute(ds, kp, freq="W")
    expected = kpilib.apply_bands(computed, as_of=ds.data_as_of, freq="W")
    bands = [c for c in expected.columns if c not in computed.columns]
    pd.testing.assert_frame_equal(banded[bands], expected[bands], check_exact=True)
    pd.testing.assert_frame_equal(store.results(kp, freq="W"), computed, check_exact=True)


def test_bad_batch_is_rejected_whole_and_store_unchanged(tmp_path, small):
    """A batch whose order lines point at an unknown order is rejected with the rule named;
    the pointer, the generation and the results stay as they were."""
    st, ds = _store(tmp_path, small)
    before = open_store(st)
    gen, res = before.generation, before.results(["cancellation_rate_pre_ship"], freq="D")
    line = ds.order_lines.iloc[[0]].copy()
    line["order_line_id"], line["order_id"] = "L-new", "O-missing"
    good = ds.orders.iloc[[1]].copy()
    good["channel"] = "web"
    write_batch(tmp_path / "bad", {"order_lines": line, "orders": good}, False)
    with pytest.raises(BatchRejected) as err:
        refresh(st, tmp_path / "bad")
    assert "foreign_key" in str(err.value) and "order_lines" in str(err.value)
    after = open_store(st)
    assert after.generation == gen
    pd.testing.assert_frame_equal(after.results(["cancellation_rate_pre_ship"], freq="D"), res)
    assert "bad" not in after.manifest["batches"]


def test_rerun_of_a_batch_is_skipped(tmp_path, small):
    """Applying the same batch id twice changes nothing the second time."""
    st, ds = _store(tmp_path, small)
    gen = open_store(st).generation
    root, _ = small
    assert refresh(st, root / "full").status == "already_applied"
    assert open_store(st).generation == gen


def test_crash_before_pointer_swap_keeps_previous_generation(tmp_path, small, monkeypatch):
    """An error after the new generation was written but before the swap leaves CURRENT and
    the previous results; the unfinished folder is swept."""
    st, ds = _store(tmp_path, small)
    gen = open_store(st).generation
    orders = ds.orders.iloc[[0]].copy()
    orders["channel"] = "b2b" if orders["channel"].iloc[0] != "b2b" else "web"
    write_batch(tmp_path / "b2", {"orders": orders}, False)

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr("kpilib.store.generations.commit", boom)
    with pytest.raises(OSError, match="simulated"):
        refresh(st, tmp_path / "b2")
    assert open_store(st).generation == gen
    assert [p for p in os.listdir(st / "generations") if p.startswith(".")] == []
    monkeypatch.undo()
    assert refresh(st, tmp_path / "b2").status == "applied"


def test_results_of_an_unmaintained_cut_is_a_clear_error(tmp_path, small):
    st, _ = _store(tmp_path, small)
    with pytest.raises(kpilib.ParameterError, match="does not maintain"):
        open_store(st).results(["cancellation_rate_pre_ship"], by=["node"], freq="D")
    cfg = json.loads((st / "store.json").read_text())
    assert cfg["sets"][0]["by"] == [] and cfg["sets"][0]["freq"] == "D"


def test_the_store_keeps_the_dataset_declarations_across_batches(tmp_path):
    """A source declared without delivery scans (``dataset.json`` in its first batch) stays so
    in every later batch and in ``Store.dataset()``: its delivery KPIs are unavailable, as
    ``compute`` on the declared dataset says, instead of being computed from absent scans."""
    ds = scenario_dataset("omnichannel")
    declared = kpilib.Dataset.from_frames(delivery_events="none", **ds.tables)
    paths = daily_batches(ds, tmp_path / "batches")
    (paths[0] / "dataset.json").write_text(json.dumps({"delivery_events": "none"}))
    kpis = ["on_time_delivery_rate", "order_cycle_time_hours", "on_time_shipment_rate"]
    create(tmp_path / "st", [{"kpis": kpis, "by": [], "freq": "W"}],
           early_warning={"enabled": False})
    for p in paths:  # only the first batch carries the declaration
        refresh(tmp_path / "st", p)
    store = open_store(tmp_path / "st")
    assert store.dataset().delivery_events == "none"
    got = store.results(kpis, by=[], freq="W")
    pd.testing.assert_frame_equal(got, kpilib.compute(declared, kpis, freq="W"),
                                  check_exact=True)
    assert set(got.loc[got["kpi"] == "on_time_delivery_rate", "status"]) == {"unavailable"}
