"""The engine's reduction rules on hand-made observations (aggregate, periods, statuses).

Each expectation is worked out in the comments from the rows given, not read off the code.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset

import kpilib
from kpilib import registry
from kpilib.aggregate import aggregate
from kpilib.engine import compute, make_context
from kpilib.errors import ParameterError, UnknownKpiError


def _kdef(kind="rate", snapshot=False, tables=("orders",), dims=("channel",)):
    return registry.KpiDef("toy", "A1", "Toy", "order", "fraction", "higher", "order", kind,
                           tables, dims, (), "toy", lambda ctx: None, snapshot)


@pytest.fixture
def ds():
    return build_dataset(orders=[{"order_id": "O1", "created_at": "2024-01-01T00:00Z"},
                                 {"order_id": "O2", "created_at": "2024-01-31T00:00Z"}])


def ts(s):
    return pd.Timestamp(s, tz="UTC")


def test_rate_by_week_and_channel_with_empty_week_kept(ds):
    ctx = make_context(ds, by=["channel"], freq="W")
    obs = pd.DataFrame({
        "anchor": [ts("2024-01-01 10:00"), ts("2024-01-03"), ts("2024-01-04"),
                   ts("2024-01-17"), pd.NaT],
        "channel": ["web", "web", "mkt", "web", "web"],
        "num": [1.0, 0.0, 1.0, 1.0, 1.0],
        "den": [1.0, 1.0, 1.0, 1.0, 1.0],
    })
    out = aggregate(obs, _kdef(), ctx)
    # weeks (Mon) 01-01, 01-08, 01-15, 01-22, 01-29 (as_of = 2024-01-31) x channels {mkt, web}
    assert len(out) == 5 * 2
    web = out[out["channel"] == "web"].set_index("period")
    assert web.loc[pd.Timestamp("2024-01-01", tz="UTC"), "value"] == 0.5      # 1 of 2
    assert web.loc[pd.Timestamp("2024-01-15", tz="UTC"), "value"] == 1.0      # 1 of 1
    empty = web.loc[pd.Timestamp("2024-01-08", tz="UTC")]
    assert np.isnan(empty["value"]) and empty["status"] == "undefined" and empty["n"] == 0
    # the NaT anchor (pending) is in no period: total n is 4
    assert out["n"].sum() == 4
    assert list(out.columns[:3]) == ["kpi", "period", "channel"]


def test_mean_reports_linear_percentiles(ds):
    ctx = make_context(ds)
    obs = pd.DataFrame({"anchor": [ts("2024-01-02")] * 4, "x": [1.0, 2.0, 3.0, 10.0]})
    row = aggregate(obs, _kdef("mean", dims=()), ctx).iloc[0]
    # mean 16/4 = 4; p50 between 2 and 3 = 2.5; p90 at rank 0.9*3 = 2.7 -> 3 + 0.7*7 = 7.9
    assert row["value"] == 4.0 and row["numerator"] == 16.0 and row["denominator"] == 4
    assert row["p50"] == pytest.approx(2.5) and row["p90"] == pytest.approx(7.9)
    assert pd.isna(row["period"])


def test_excluded_rows_are_counted_not_used(ds):
    ctx = make_context(ds)
    obs = pd.DataFrame({"anchor": [ts("2024-01-02")] * 4, "num": [1.0, 0.0, 1.0, 0.0],
                        "den": 1.0,
                        "excluded": [None, None, "is_test", "is_test"]})
    row = aggregate(obs, _kdef(dims=()), ctx).iloc[0]
    assert row["value"] == 0.5 and row["n"] == 2   # rows 1-2 only
    assert json.loads(row["excluded"]) == {"is_test": 2}


def test_half_open_window_and_as_of(ds):
    ctx = make_context(ds, start="2024-01-02", end="2024-01-03", as_of="2024-01-20")
    obs = pd.DataFrame({"anchor": [ts("2024-01-01 23:59"), ts("2024-01-02"),
                                   ts("2024-01-02 23:59"), ts("2024-01-03")],
                        "num": 1.0, "den": 1.0})
    row = aggregate(obs, _kdef(dims=()), ctx).iloc[0]
    assert row["n"] == 2                  # 01-02 00:00 in, 01-03 00:00 out


def test_weeks_bucket_in_reporting_time_zone(ds):
    ctx = make_context(ds, freq="W", tz="Europe/Berlin")
    # Sunday 23:30 UTC is Monday 00:30 in Berlin -> week of Monday 2024-01-08 (Berlin)
    obs = pd.DataFrame({"anchor": [ts("2024-01-07 23:30")], "num": [1.0], "den": [1.0]})
    out = aggregate(obs, _kdef(dims=()), ctx)
    hit = out[out["n"] == 1].iloc[0]
    assert hit["period"] == pd.Timestamp("2024-01-08", tz="Europe/Berlin")


def test_empty_population_is_undefined_never_zero(ds):
    ctx = make_context(ds)
    obs = pd.DataFrame({"anchor": pd.Series([], dtype="datetime64[ns, UTC]"),
                        "num": pd.Series([], dtype=float), "den": pd.Series([], dtype=float)})
    row = aggregate(obs, _kdef(dims=()), ctx).iloc[0]
    assert np.isnan(row["value"]) and row["status"] == "undefined"


def test_preliminary_and_insufficient_flags(ds):
    ctx = make_context(ds)
    obs = pd.DataFrame({"anchor": [ts("2024-01-02")] * 2, "num": [1.0, 1.0], "den": 1.0,
                        "preliminary": [False, True]})
    assert aggregate(obs, _kdef(dims=()), ctx).iloc[0]["status"] == "preliminary"
    obs["insufficient"] = True
    row = aggregate(obs, _kdef(dims=()), ctx).iloc[0]
    assert row["status"] == "insufficient_data" and np.isnan(row["value"])


def test_bad_arguments_are_named(ds):
    with pytest.raises(ParameterError, match="unknown segment dimension"):
        make_context(ds, by=["colour"])
    with pytest.raises(ParameterError, match="freq"):
        make_context(ds, freq="Y")
    with pytest.raises(ParameterError, match="valid options"):
        make_context(ds, params={"tol_unit": 1})
    with pytest.raises(UnknownKpiError, match="list_kpis"):
        compute(ds, ["no_such_kpi"])


def test_missing_table_gives_unavailable(ds, monkeypatch):
    kdef = _kdef(tables=("orders", "shipments"), dims=())
    monkeypatch.setitem(registry.KPIS, "toy", kdef)
    row = compute(ds, ["toy"]).iloc[0]
    assert row["status"] == "unavailable" and "shipments" in row["note"]
    assert np.isnan(row["value"])


def test_as_of_hides_later_events():
    ds = build_dataset(
        orders=[{"order_id": "O1", "created_at": "2024-01-01T00:00Z"}],
        shipments=[{"shipment_id": "S1", "order_id": "O1", "node_id": "N1",
                    "created_at": "2024-01-01T01:00Z", "shipped_at": "2024-01-01T05:00Z",
                    "delivered_at": "2024-01-03T00:00Z", "delivery_status": "delivered"}],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1", "qty_shipped": 1}],
        nodes=[{"node_id": "N1"}],
    )
    ctx = make_context(ds, as_of="2024-01-02T00:00Z")
    sh = ctx.ds.shipments.iloc[0]
    assert sh["delivery_status"] == "in_transit" and pd.isna(sh["delivered_at"])
    ctx = make_context(ds, as_of="2024-01-01T03:00Z")
    assert ctx.ds.shipments.iloc[0]["delivery_status"] == "pending"
    assert ds.shipments.iloc[0]["delivery_status"] == "delivered"   # input untouched


def test_public_names_are_the_api_functions(ds):
    from kpilib import contracts, dataset, engine, loading

    assert kpilib.load_dataset is loading.load_dataset and kpilib.Dataset is dataset.Dataset
    assert kpilib.validate is contracts.validate
    assert kpilib.compute is engine.compute and kpilib.list_kpis is registry.list_kpis
    # facts is a plain function (no callable module), list_facts names what it returns
    assert inspect.isfunction(kpilib.facts) and kpilib.facts is engine.facts
    names = kpilib.list_facts()["name"].tolist()
    assert {"orders", "order_lines", "commit_units", "order_node_slices"} <= set(names)
    orders = kpilib.facts(ds, "orders")
    assert sorted(orders["order_id"]) == ["O1", "O2"]          # decoded ids, one row each
    with pytest.raises(ParameterError, match="unknown fact table"):
        kpilib.facts(ds, "no_such_fact")
    assert issubclass(kpilib.DataContractError, kpilib.KpiLibError)


def test_unrecorded_requirement_gives_unavailable(ds, monkeypatch):
    kdef = _kdef(dims=())
    kdef = registry.KpiDef(**{**kdef.__dict__, "requires": ("orders.cancel_reason",
                                                            "orders.channel=store")})
    monkeypatch.setitem(registry.KPIS, "toy", kdef)
    row = compute(ds, ["toy"]).iloc[0]
    assert row["status"] == "unavailable"
    assert "orders.cancel_reason" in row["note"] and "orders.channel=store" in row["note"]


def test_percentiles_survive_segments_without_freq(ds):
    ctx = make_context(ds, by=["channel"])
    obs = pd.DataFrame({"anchor": [ts("2024-01-02")] * 3, "channel": ["web", "web", "mkt"],
                        "x": [1.0, 3.0, 5.0]})
    out = aggregate(obs, _kdef("mean"), ctx).set_index("channel")
    assert out.loc["web", "p50"] == 2.0 and out.loc["mkt", "p90"] == 5.0


def test_snapshot_grid_is_half_open(ds):
    ctx = make_context(ds, freq="D", start="2024-01-01", end="2024-01-03")
    points = ctx.snapshot_points()
    # days 01-01 and 01-02 only; the snapshot of 01-02 is taken at its end, 01-03 00:00
    assert [p.strftime("%m-%d") for p in points["period"]] == ["01-01", "01-02"]
    assert points["t"].iloc[-1] == ts("2024-01-03")


def test_utc_day_and_week_fast_path_matches_calendar_rule():
    from kpilib import periods

    rng = np.random.default_rng(0)
    stamps = pd.Series(pd.to_datetime(rng.integers(10**18, 12 * 10**17, 5000), utc=True))
    stamps[::7] = pd.NaT
    wall = stamps.dt.tz_localize(None).dt.normalize()
    weeks = (wall - pd.to_timedelta(wall.dt.weekday, unit="D")).dt.tz_localize("UTC")
    assert periods.bucket(stamps, "D", "UTC").equals(wall.dt.tz_localize("UTC"))
    assert periods.bucket(stamps, "W", "UTC").equals(weeks)


def test_group_ids_do_not_overflow_with_many_high_cardinality_keys():
    """Five keys of 10,000 values each: the product of key sizes (1e20) is past int64, so a
    mixed-radix code would overflow; grouping must still match pandas' own grouping."""
    from kpilib.aggregate import _group_ids

    rng = np.random.default_rng(7)
    n, keys = 10_000, [f"k{i}" for i in range(5)]
    obs = pd.DataFrame({k: rng.permutation(n).astype(str) for k in keys})
    obs = pd.concat([obs, obs.iloc[:50]], ignore_index=True)    # 50 groups of two rows
    obs.loc[100, "k0"] = None                                    # a null becomes UNKNOWN
    gid, key_frame = _group_ids(obs, keys)

    expected = obs.fillna("(unknown)").groupby(keys, sort=False).ngroup().to_numpy()
    assert gid.max() + 1 == n                                    # 10,050 rows, 10,000 groups
    # same partition: row i and row j share a group exactly when pandas says so
    assert (pd.factorize(gid)[0] == pd.factorize(expected)[0]).all()
    # the key frame row of each group holds that group's key values
    assert key_frame.iloc[gid].reset_index(drop=True).equals(obs.fillna("(unknown)"))
    assert key_frame.loc[gid[100], "k0"] == "(unknown)"
