"""Tests of the synthetic ERP generator (kpilib.synth): contract, determinism, ledger
consistency, process time order, and that each scenario's story is visible in the raw tables."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from kpilib.errors import ParameterError
from kpilib.schema import TABLES
from kpilib.synth import SCENARIOS, generate


@pytest.fixture(scope="module")
def small():
    return generate("omnichannel", seed=3, days=60, scale=0.05)


@pytest.fixture(scope="module")
def omni():
    return generate("omnichannel", seed=1, days=90, scale=0.3)


@pytest.fixture(scope="module")
def beauty():
    return generate("beauty_stockouts", seed=1, days=120, scale=0.3)


@pytest.fixture(scope="module")
def apparel():
    return generate("apparel_surge", seed=1, days=120, scale=0.3)


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_every_table_is_produced_with_schema_columns(small):
    tables, _ = small
    assert list(tables) == list(TABLES)
    for name, df in tables.items():
        assert list(df.columns) == list(TABLES[name].column_names), name
        assert len(df) > 0, f"{name} is empty"


@pytest.mark.parametrize("fixture", ["small", "omni", "beauty", "apparel"])
def test_output_passes_the_data_contract(fixture, request):
    from kpilib.dataset import Dataset

    tables, _ = request.getfixturevalue(fixture)
    ds = Dataset.from_frames(**tables)  # raises DataContractError on any violation
    assert set(ds.tables) == set(TABLES)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    kw = {"scenario": "omnichannel", "days": 30, "scale": 0.05}
    generate(seed=7, out=tmp_path / "a", **kw)
    generate(seed=7, out=tmp_path / "b", **kw)
    generate(seed=8, out=tmp_path / "c", **kw)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert len(a) == len(TABLES) + 1  # every table + truth.json
    assert a == b
    assert a["orders.parquet"] != c["orders.parquet"]


def test_csv_output_loads_through_the_contract(tmp_path):
    from kpilib.loading import load_dataset

    tables, _ = generate("omnichannel", seed=2, days=20, scale=0.05, out=tmp_path, fmt="csv")
    ds = load_dataset(tmp_path)
    assert len(ds.orders) == len(tables["orders"])


def test_snapshots_agree_with_the_ledger_exactly(omni):
    t, _ = omni
    mv, sn = t["inventory_movements"], t["inventory_snapshots"]
    # snapshot_date d = end of UTC day d: every movement with moved_at < d + 1 day
    mv = mv.sort_values(["moved_at", "movement_id"])
    mv = mv.assign(cum=mv.groupby(["node_id", "sku"])["qty_delta"].cumsum())
    eod = sn.assign(eod=sn["snapshot_date"].dt.tz_localize("UTC") + pd.Timedelta(days=1))
    eod = eod.sort_values("eod")
    got = pd.merge_asof(eod, mv[["node_id", "sku", "moved_at", "cum"]], left_on="eod",
                        right_on="moved_at", by=["node_id", "sku"], allow_exact_matches=False)
    np.testing.assert_array_equal(got["qty_on_hand"].to_numpy(),
                                  got["cum"].fillna(0.0).to_numpy())
    np.testing.assert_array_equal(
        sn["qty_available"], sn["qty_on_hand"] - sn["qty_allocated"] - sn["qty_held"])
    cost = sn["sku"].map(t["products"].set_index("sku")["unit_cost"])
    np.testing.assert_allclose(sn["inventory_value"], sn["qty_on_hand"] * cost, atol=1e-6)
    assert (sn["qty_on_hand"] >= 0).all()


def test_count_adjustments_match_counted_minus_system(omni):
    t, _ = omni
    cnt = t["inventory_counts"].set_index("count_id")
    adj = t["inventory_movements"].query("movement_type == 'adjust_count'")
    c = cnt.loc[adj["reference_id"]]
    np.testing.assert_array_equal(adj["qty_delta"].to_numpy(),
                                  (c["qty_counted"] - c["qty_system_at_count"]).to_numpy())
    first = cnt[~cnt["is_recount"]]
    assert (first["qty_counted"] != first["qty_system_at_count"]).any()
    assert cnt["is_recount"].any()


def test_process_times_are_in_order(omni):
    t, _ = omni
    o = t["orders"].set_index("order_id")
    sh = t["shipments"]
    assert (sh["created_at"] >= sh["order_id"].map(o["created_at"])).all()
    assert (sh["shipped_at"].dropna() >= sh.loc[sh["shipped_at"].notna(), "created_at"]).all()
    d = sh["delivered_at"].notna()
    assert (sh.loc[d, "delivered_at"] >= sh.loc[d, "shipped_at"]).all()
    r = t["receipts"]
    assert (r["received_at"] >= r["dock_arrival_at"]).all()
    p = r["putaway_completed_at"].notna()
    assert (r.loc[p, "putaway_completed_at"] >= r.loc[p, "received_at"]).all()
    pt = t["pick_tasks"].dropna(subset=["picked_at"])
    assert (pt["picked_at"] >= pt["released_at"]).all()
    ev = t["order_events"]
    assert (ev["event_at"] >= ev["order_id"].map(o["created_at"])).all()
    rt = t["returns"].dropna(subset=["received_at"])
    assert (rt["received_at"] >= rt["rma_decided_at"]).all()
    assert (rt["rma_decided_at"] >= rt["rma_requested_at"]).all()


def test_never_ships_or_cancels_more_than_ordered(omni):
    t, _ = omni
    lines = t["order_lines"].set_index("order_line_id")
    shipped = t["shipment_lines"].groupby("order_line_id")["qty_shipped"].sum()
    done = shipped.reindex(lines.index, fill_value=0) + lines["qty_cancelled_customer"] + \
        lines["qty_cancelled_merchant"]
    assert (done <= lines["qty_ordered"]).all()
    # kits: component lines point at a kit parent of the same order
    comp = lines[lines["parent_line_id"].notna()]
    assert (lines.loc[comp["parent_line_id"], "order_id"].to_numpy()
            == comp["order_id"].to_numpy()).all()


def test_process_variety_is_present(omni):
    t, _ = omni
    ev = t["order_events"]
    for etype in ("allocation_attempt", "backordered", "backorder_cleared", "released_to_node",
                  "hold_placed", "hold_released", "cancelled", "manual_touch",
                  "promise_changed"):
        assert (ev["event_type"] == etype).any(), etype
    o = t["orders"]
    assert o["is_test"].any() and (o["order_type"] == "replacement").any()
    assert set(o["cancel_initiator"].dropna()) >= {"customer", "merchant", "fraud", "system"}
    assert (o["cancel_reason"] == "duplicate").any()
    sh = t["shipments"]
    assert {"delivered", "in_transit"} <= set(sh["delivery_status"])
    assert (~sh["parcel_cost_final"]).any() and sh["parcel_cost_final"].any()
    pt = t["pick_tasks"]
    assert pt["error_detected"].any() and pt["short_reported"].any()
    assert t["receipts"]["qa_hold"].any()
    assert t["exceptions"]["is_informational"].any()
    assert set(t["replenishment_recommendations"]["decision"].dropna()) >= {
        "accepted", "modified", "rejected", "expired", "superseded"}


def _first_attempts(t):
    at = t["order_events"].query("event_type == 'allocation_attempt'")
    first = at.sort_values(["event_at", "event_id"]).drop_duplicates("order_line_id")
    return first.assign(channel=first["order_id"].map(
        t["orders"].set_index("order_id")["channel"]), failed=first["qty_confirmed"] < first["qty"])


def test_omnichannel_marketplace_releases_later_and_fails_more(omni):
    t, truth = omni
    o = t["orders"].set_index("order_id")
    rel = t["order_events"].query("event_type == 'released_to_node'").groupby("order_id")[
        "event_at"].min()
    hours = (rel - o.loc[rel.index, "authorized_at"]).dt.total_seconds() / 3600
    med = hours.groupby(o.loc[rel.index, "channel"]).median()
    assert med["marketplace_a"] > 4 * med["web"]
    assert truth["marketplace_batch_interval_hours"] == 4.0
    first = _first_attempts(t)
    fail = first.groupby("channel")["failed"].mean()
    assert fail["marketplace_a"] > fail["web"]
    # marketplace allocations (and so their failures) happen in batches: within 30 minutes
    # after a multiple of the batch interval
    mkt = first[first["channel"].str.startswith("marketplace")]
    hours = (mkt["event_at"] - pd.Timestamp("2024-01-01", tz="UTC")).dt.total_seconds() / 3600
    assert ((hours % truth["marketplace_batch_interval_hours"]) < 0.5).all()


def test_apparel_surge_days_have_more_orders_and_more_splits(apparel):
    t, truth = apparel
    o = t["orders"].query("order_type == 'standard'")
    surge = pd.to_datetime(truth["surge"]["dates"]).tz_localize("UTC")
    day = o["created_at"].dt.floor("D")
    in_surge = day.isin(surge)
    per_day = o.groupby(day).size()
    assert per_day[per_day.index.isin(surge)].mean() > 1.8 * per_day[~per_day.index.isin(
        surge)].mean()
    n_ship = t["shipments"].groupby("order_id")["shipment_id"].nunique()
    split = (n_ship.reindex(o["order_id"]) > 1).to_numpy()
    has = n_ship.reindex(o["order_id"]).notna().to_numpy()
    assert split[has & in_surge.to_numpy()].mean() > 1.3 * split[has & ~in_surge.to_numpy()].mean()


def test_apparel_surge_weeks_cost_more_per_parcel(apparel):
    t, truth = apparel
    surge = pd.to_datetime(truth["surge"]["dates"])
    surge_weeks = set(surge - pd.to_timedelta(surge.dayofweek, unit="D"))
    fc = t["fulfillment_costs"]
    weekly = fc[(fc["period_end"] - fc["period_start"]).dt.days <= 6]  # variable pools
    cost = weekly.groupby(weekly["period_start"] - pd.to_timedelta(
        weekly["period_start"].dt.dayofweek, unit="D"))["amount"].sum()
    sh = t["shipments"].dropna(subset=["shipped_at"])
    day = sh["shipped_at"].dt.tz_convert(None).dt.normalize()
    parcels = sh.groupby(day - pd.to_timedelta(day.dt.dayofweek, unit="D")).size()
    per = (cost / parcels).dropna()
    in_surge = per.index.isin(list(surge_weeks))
    assert per[in_surge].mean() > 1.15 * per[~in_surge].mean()


def test_beauty_fast_movers_stock_out_while_bundles_age_in_dc2(beauty):
    t, truth = beauty
    sn = t["inventory_snapshots"].query("is_active")
    fast = sn["sku"].isin(truth["fast_mover_skus"])
    out = sn["qty_available"] <= 0
    assert out[fast].mean() > 2 * out[~fast].mean()
    # old stock: slow bundles at DC-2 got no receipt or transfer in the last 90 days
    last = sn["snapshot_date"].max()
    dc2 = t["inventory_snapshots"].query("node_id == 'DC-2' and snapshot_date == @last")
    bundles = dc2["sku"].isin(truth["slow_bundle_skus"])
    recent = t["inventory_movements"].query(
        "movement_type in ['receipt', 'transfer_in'] and node_id == 'DC-2'")
    recent = recent[recent["moved_at"].dt.tz_convert(None) > last - pd.Timedelta(days=90)]
    assert not recent["sku"].isin(truth["slow_bundle_skus"]).any()
    assert dc2.loc[bundles, "inventory_value"].sum() > 0.5 * dc2["inventory_value"].sum()
    assert truth["slow_bundle_node"] == "DC-2"


def test_truth_records_what_was_injected(omni, apparel):
    _, truth = omni
    sc = SCENARIOS["omnichannel"]
    assert {c: v["multiplier"] for c, v in truth["forecast_bias"].items()} == sc.forecast_bias
    for c, v in truth["forecast_bias"].items():
        if v["multiplier"] >= 1.1:
            assert v["expected_bias_ratio"] > 0.03, c
        if v["multiplier"] <= 0.9:
            assert v["expected_bias_ratio"] < -0.03, c
    _, at = apparel
    assert len(at["surge"]["campaigns"]) == 3
    assert all("2024-01-01" <= d < "2024-04-30" for d in at["surge"]["dates"])


def test_forecasts_are_made_at_least_one_week_before_their_target(omni):
    t, _ = omni
    f = t["forecasts"]
    start = f["target_period_start"].dt.tz_localize("UTC")
    assert (f["forecast_made_at"] <= start - pd.Timedelta(days=7)).all()
    assert f["forecast_made_at"].nunique() > 3


def test_bad_arguments_raise_parameter_error():
    with pytest.raises(ParameterError, match="unknown scenario"):
        generate("nope", days=20)
    with pytest.raises(ParameterError, match="format"):
        generate(days=20, scale=0.05, fmt="xlsx")


def test_cli_generate_writes_a_dataset(tmp_path):
    from typer.testing import CliRunner

    from kpilib.cli.main import app

    res = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--days", "20",
                                   "--scale", "0.05", "--seed", "4"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "orders.parquet").exists() and (tmp_path / "truth.json").exists()


def test_greedy_allocation_fills_in_time_order_and_respects_reserve():
    from kpilib.synth.allocation import _greedy

    # one SKU with 5 units at node 0; requests 2, 2, 3 at t = 1, 2, 3
    avail = np.array([[5.0, 0.0]])
    sku, node = np.zeros(3, np.int64), np.zeros(3, np.int64)
    conf = _greedy(avail, sku, node, np.array([3.0, 2.0, 2.0]), np.array([3.0, 1.0, 2.0]))
    # t=1 gets 2 (5 left -> 3), t=2 gets 2 (-> 1), t=3 asks 3 and gets the last 1
    np.testing.assert_array_equal(conf, [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(avail, [[0.0, 0.0]])
    # with a 2-unit reserve on the last request: 5 - 2 reserved - 4 earlier = nothing left
    avail = np.array([[5.0, 0.0]])
    conf = _greedy(avail, sku, node, np.array([2.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]),
                   np.array([0.0, 0.0, 2.0]))
    np.testing.assert_array_equal(conf, [2.0, 2.0, 0.0])
    np.testing.assert_array_equal(avail, [[1.0, 0.0]])


def test_ledger_balance_includes_movements_at_the_query_time():
    from kpilib.synth.inventory import _mv, balance_at

    # cell (sku 0, node 0): +5 at t=1, -2 at t=3; cell (sku 1, node 1): +7 at t=0
    m = [_mv([0], [0], [1.0], "receipt", [5.0], "none", [0]),
         _mv([0], [0], [3.0], "ship", [-2.0], "none", [0]),
         _mv([1], [1], [0.0], "receipt", [7.0], "none", [0])]
    M = {k: np.concatenate([p[k] for p in m]) for k in m[0]}
    got = balance_at(M, np.array([0, 0, 0, 1, 1]), np.array([0, 0, 0, 1, 0]),
                     np.array([0.5, 2.0, 3.0, 5.0, 5.0]))
    # before any movement 0; after the receipt 5; at t=3 the ship counts (<=): 3; 7; empty 0
    np.testing.assert_array_equal(got, [0.0, 5.0, 3.0, 7.0, 0.0])
