"""Extra segment dimensions (kpilib.dimensions): own columns of orders, products and nodes.

An orders column is cut like ``channel``, a products column like ``product_class`` and a
nodes column like ``node``, so:
- by=["market"] equals by=["channel"] on the same data with channel overwritten by market;
- a filter on an extra dimension gives exactly its segment of ``by`` (compute, drill, reports,
  the explorer), and an unknown value is a did-you-mean error;
- a nodes column's segment pools its nodes' records, or the KPI says why it cannot.
Every KPI's segments re-sum to its total in tests/kpis/test_common.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import kpilib
from kpilib import Dataset
from kpilib.errors import ParameterError
from kpilib.synth import generate


@pytest.fixture(scope="module")
def frames():
    frames, _ = generate("omnichannel", seed=11, days=60, scale=0.05)
    rng = np.random.default_rng(0)
    orders = frames["orders"].copy()
    orders["market"] = rng.choice(["north", "south", "west"], len(orders))
    orders.loc[orders.index[:5], "market"] = None  # null -> segment "(unknown)"
    products = frames["products"].copy()
    products["brand"] = rng.choice(["acme", "zenith"], len(products))
    nodes = frames["nodes"].copy()
    nodes["region"] = ["east", "east", "west", "west"][:len(nodes)]
    lines = frames["order_lines"].copy()
    lines["promo"] = rng.choice(["yes", "no"], len(lines))
    lines.loc[lines.index[:3], "promo"] = None
    return {**frames, "orders": orders, "products": products, "nodes": nodes,
            "order_lines": lines}


@pytest.fixture(scope="module")
def ds(frames):
    return Dataset.from_frames(dimensions={"market": "orders", "brand": "products",
                                           "region": "nodes", "promo": "order_lines"}, **frames)


@pytest.fixture(scope="module")
def by_market(ds):
    return kpilib.compute(ds, by=["market"])


def test_market_is_cut_like_channel(frames, by_market):
    orders = frames["orders"].copy()
    orders["channel"] = orders["market"].fillna("(unknown)")
    plain = Dataset.from_frames(**{**frames, "orders": orders})
    expected = kpilib.compute(plain, by=["channel"]).rename(columns={"channel": "market"})
    expected["note"] = expected["note"].str.replace("cut by channel", "cut by market")
    pd.testing.assert_frame_equal(by_market, expected, check_exact=True)
    assert set(by_market["market"].dropna()) >= {"north", "south", "west", "(unknown)"}


def test_kpis_not_cut_by_channel_are_unavailable_by_market(by_market):
    # the market segments re-sum to the total: tests/kpis/test_common.py, with every cut
    kinds = kpilib.list_kpis().set_index("id")
    refused = by_market[~by_market["kpi"].map(lambda k: "channel" in kinds.loc[k, "dims"])]
    assert len(refused) >= 5
    assert (refused["status"] == "unavailable").all()
    assert refused["note"].str.contains("cut by market").all()


def test_channel_and_market_together(ds, by_market):
    kpi = "on_time_delivery_rate"
    both = kpilib.compute(ds, kpis=[kpi], by=["channel", "market"])
    assert list(both.columns[:4]) == ["kpi", "period", "channel", "market"]
    by_channel = kpilib.compute(ds, kpis=[kpi], by=["channel"]).set_index("channel")
    sums = both.groupby("channel")[["numerator", "denominator"]].sum()
    pd.testing.assert_frame_equal(sums, by_channel.loc[sums.index, ["numerator", "denominator"]],
                                  check_names=False)
    resum = both.groupby("market")["numerator"].sum()
    assert resum.to_dict() == pytest.approx(
        by_market[by_market.kpi == kpi].set_index("market")["numerator"].to_dict())


def test_products_column_is_cut_like_product_class(frames, ds):
    kpi = ["cancellation_unit_rate_pre_ship", "on_time_delivery_rate"]
    products = frames["products"].copy()
    products["product_class"] = products["brand"]
    plain = Dataset.from_frames(**{**frames, "products": products})
    expected = kpilib.compute(plain, kpis=kpi, by=["product_class"])
    got = kpilib.compute(ds, kpis=kpi, by=["brand"])
    pd.testing.assert_frame_equal(got, expected.rename(columns={"product_class": "brand"}),
                                  check_exact=True)


def test_dataset_json_round_trip(ds, tmp_path):
    ds.to_parquet(tmp_path)
    doc = json.loads((tmp_path / "dataset.json").read_text())
    assert doc == {"dimensions": {"orders": ["market"], "products": ["brand"],
                                  "nodes": ["region"], "order_lines": ["promo"]}}
    assert kpilib.load_dataset(tmp_path).dimensions == {
        "market": "orders", "brand": "products", "region": "nodes", "promo": "order_lines"}


@pytest.mark.parametrize(("dims", "message"), [
    ({"region": "orders"}, "orders.region is declared as a dimension but the column is absent"),
    ({"market": "shipments"}, "table 'shipments' cannot carry extra dimensions"),
    ({"currency": "orders"}, "orders.currency is a column of the data model"),
])
def test_bad_declarations_are_clear_errors(frames, dims, message):
    with pytest.raises(ParameterError, match=message):
        Dataset.from_frames(dimensions=dims, **frames)


def test_undeclared_column_is_not_a_dimension(frames):
    plain = Dataset.from_frames(**frames)
    with pytest.raises(ParameterError, match="unknown segment dimension"):
        kpilib.compute(plain, kpis=["on_time_delivery_rate"], by=["market"])


# -- filters on extra dimensions: the records of one value, as by= restricted to it ----------

def _supports(kpi: str, host: str) -> bool:
    return host in kpilib.list_kpis().set_index("id").loc[kpi, "dims"]


def _one_segment(res: pd.DataFrame, dim: str, value: str) -> pd.DataFrame:
    return res[res[dim] == value].drop(columns=dim).reset_index(drop=True)


@pytest.mark.parametrize(("dim", "value", "host"), [("market", "north", "channel"),
                                                    ("brand", "zenith", "product_class")])
def test_filter_on_an_extra_dimension_is_its_segment(ds, by_market, dim, value, host):
    by = by_market if dim == "market" else kpilib.compute(ds, by=[dim])
    ids = [k for k in by["kpi"].unique() if _supports(k, host)]
    got = kpilib.compute(ds, kpis=ids, filters={dim: value})
    segment = _one_segment(by[by["kpi"].isin(ids)], dim, value)
    has = got["kpi"].isin(segment["kpi"])
    pd.testing.assert_frame_equal(got[has].reset_index(drop=True), segment, check_exact=True)
    assert has.sum() >= 30
    # a KPI without records of the value has no segment row, and an empty filtered one
    assert (got.loc[~has, "status"] == "undefined").all() and (got.loc[~has, "n"] == 0).all()


def test_filter_on_extra_dimension_with_a_cut_on_its_host(ds):
    kpi = ["on_time_delivery_rate", "order_cycle_time_hours"]
    both = kpilib.compute(ds, kpis=kpi, by=["channel", "market"], freq="W")
    got = kpilib.compute(ds, kpis=kpi, by=["channel"], freq="W", filters={"market": "south"})
    pd.testing.assert_frame_equal(got, _one_segment(both, "market", "south"), check_exact=True)
    # and the other way round: cut by the extra dimension, filter on the host
    got = kpilib.compute(ds, kpis=kpi, by=["market"], freq="W", filters={"channel": "web"})
    expected = both[both["channel"] == "web"].drop(columns="channel").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_filters_on_two_tables_extra_dimensions(ds):
    kpi = ["on_time_delivery_rate"]
    by = kpilib.compute(ds, kpis=kpi, by=["market", "brand"])
    got = kpilib.compute(ds, kpis=kpi, by=["brand"], filters={"market": ["north", "west"]})
    sums = by[by["market"].isin(["north", "west"])].groupby("brand")[
        ["numerator", "denominator"]].sum()
    assert got.set_index("brand")[["numerator", "denominator"]].to_dict() == sums.to_dict()


def test_unknown_extra_dimension_value_is_a_did_you_mean(ds):
    with pytest.raises(ParameterError, match="'nroth' is not a market; did you mean 'north'"):
        kpilib.compute(ds, kpis=["on_time_delivery_rate"], filters={"market": "nroth"})


def test_kpi_without_the_host_cut_is_unavailable_under_the_filter(ds):
    got = kpilib.compute(ds, kpis=["dock_to_stock_hours"], filters={"market": "north"})
    assert got["status"].tolist() == ["unavailable"]
    assert got["note"].tolist() == ["cannot be cut or filtered by market"]


def test_drill_by_and_filtered_on_extra_dimensions(ds, by_market):
    kpi = "on_time_delivery_rate"
    row = by_market[(by_market["kpi"] == kpi) & (by_market["market"] == "west")].iloc[0]
    rows = kpilib.drill(ds, kpi, segment={"market": "west"})
    assert set(rows["market"]) == {"west"}
    assert rows["denominator"].sum() == row["denominator"]
    assert rows["numerator"].sum() == row["numerator"]
    same = kpilib.drill(ds, kpi, filters={"market": "west"})
    assert sorted(same["order_id"]) == sorted(rows["order_id"])


def test_report_filtered_on_an_extra_dimension(ds, by_market):
    from kpilib.reports.session import Report

    kpi = "on_time_delivery_rate"
    rep = Report(ds=ds, as_of=ds.data_as_of, freq=None, filters={"market": ["west"]})
    got = rep.frame([kpi], bands=False)
    expected = by_market[(by_market["kpi"] == kpi) & (by_market["market"] == "west")]
    assert got[["numerator", "denominator"]].values.tolist() == \
        expected[["numerator", "denominator"]].values.tolist()


def test_explorer_cuts_and_drills_an_extra_dimension(ds, by_market):
    from kpilib.reports.explorer import Explorer
    from kpilib.reports.session import Report

    kpi = "on_time_delivery_rate"
    ex = Explorer(Report(ds=ds, as_of=ds.data_as_of, freq=None), domain="order")
    assert {"market", "brand", "region", "promo"} <= set(ex.dims(kpi))
    assert "promo" not in ex.dims("dock_to_stock_hours")  # receipt lines: no channel
    got = ex.values(kpi, by="market", freq=None)
    expected = by_market[by_market["kpi"] == kpi]
    assert got["market"].tolist() == expected["market"].tolist()
    assert got["numerator"].tolist() == expected["numerator"].tolist()
    west = expected.set_index("market").loc["west"]
    rows = ex.records(kpi, by="market", freq=None, value="west", outcome="failed")
    assert set(rows["market"]) == {"west"}
    assert len(rows) == west["denominator"] - west["numerator"]
    brand = ex.values(kpi, freq=None, filters={"brand": "acme"})
    assert brand["numerator"].tolist() == kpilib.compute(
        ds, kpis=[kpi], filters={"brand": "acme"})["numerator"].tolist()


# -- a nodes column: a record goes to the value of its node -----------------------------------

NODE_KPIS = ["on_time_shipment_rate", "units_picked_per_hour", "dock_to_stock_hours",
             "inventory_unit_accuracy", "forecast_mad", "wave_units_open", "unit_fill_rate"]


def test_nodes_column_is_its_nodes_value(frames, ds):
    by_node = kpilib.compute(ds, kpis=NODE_KPIS, by=["node"], freq="W")
    both = kpilib.compute(ds, kpis=NODE_KPIS, by=["node", "region"], freq="W")
    region = frames["nodes"].set_index("node_id")["region"]
    assert set(region) == {"east", "west"}
    expected = by_node.assign(region=by_node["node"].map(region).fillna("(unknown)"))
    expected = expected[both.columns]
    pd.testing.assert_frame_equal(both, expected, check_exact=True)
    assert (both["n"] > 0).sum() >= 40


def test_nodes_column_pools_its_nodes_records(frames, ds):
    # east holds two nodes: its records are theirs, each counted once (the sums add up)
    kpi = ["on_time_shipment_rate", "dock_to_stock_hours"]
    east = [n for n, r in frames["nodes"][["node_id", "region"]].values if r == "east"]
    by = kpilib.compute(ds, kpis=kpi, by=["region"])
    by_node = kpilib.compute(ds, kpis=kpi, by=["node"])
    pooled = by_node[by_node["node"].isin(east)].groupby("kpi")[
        ["numerator", "denominator", "n"]].sum()
    got = by[by["region"] == "east"].set_index("kpi")[["numerator", "denominator", "n"]]
    assert len(east) == 2 and len(got) == 2
    pd.testing.assert_frame_equal(got.sort_index(), pooled, rtol=1e-12, check_dtype=False)
    # filtered on a region: the same records, whatever else the cut is
    kpi = ["on_time_shipment_rate", "unit_fill_rate"]  # cut by channel too
    flt = kpilib.compute(ds, kpis=kpi, by=["channel"], filters={"region": "east"})
    both = kpilib.compute(ds, kpis=kpi, by=["channel", "region"])
    pd.testing.assert_frame_equal(flt, _one_segment(both, "region", "east"), check_exact=True)


@pytest.mark.parametrize(("kpi", "note"), [
    ("otif_rate", "its commit units count once at each node that shipped them, so it cannot "
                  "be cut or filtered by region"),
    ("order_cycle_time_hours", "its orders count once at each node that shipped them"),
    ("warehouse_capacity_utilization_peak", "reduced per node, so it cannot be cut or "
                                            "filtered by region"),
    ("exception_open_count_daily_mean", "its denominator counts the days of each node"),
    ("split_node_rate", None),
])
def test_nodes_column_is_refused_where_records_would_not_pool(ds, kpi, note):
    for kw in ({"by": ["region"]}, {"filters": {"region": "west"}}):
        got = kpilib.compute(ds, kpis=[kpi], **kw)
        assert (got["status"] == "unavailable").all(), kw
        assert got["note"].str.startswith(note or "cannot be cut").all(), got["note"].tolist()


def test_facts_carry_extra_dimensions(frames, ds):
    orders = kpilib.facts(ds, "orders", by=["market"])
    assert "channel" not in orders.columns
    market = frames["orders"].set_index("order_id")["market"].fillna("(unknown)")
    assert (orders["market"] == orders["order_id"].map(market)).all()
    both = kpilib.facts(ds, "orders", by=["channel", "market"])
    channel = frames["orders"].set_index("order_id")["channel"]
    assert (both["channel"] == both["order_id"].map(channel)).all()
    slices = kpilib.facts(ds, "order_node_slices", by=["region"])
    region = frames["nodes"].set_index("node_id")["region"]
    assert (slices["region"] == slices["node"].map(region).fillna("(unknown)")).all()
    assert slices["node"].isin(frames["nodes"]["node_id"]).any()
    lines = kpilib.facts(ds, "order_lines", by=["promo"])
    promo = frames["order_lines"].set_index("order_line_id")["promo"].fillna("(unknown)")
    assert (lines["promo"] == lines["order_line_id"].map(promo)).all()


# -- an order_lines column: a line record goes to its line's value ----------------------------

LINE_KPIS = ["unit_fill_rate", "line_fill_rate", "backorder_age_hours", "return_processing_hours"]


def test_lines_column_is_each_records_lines_value(frames, ds):
    promo = frames["order_lines"].set_index("order_line_id")["promo"].fillna("(unknown)")
    by = kpilib.compute(ds, kpis=LINE_KPIS, by=["promo"])
    assert set(by["status"]) <= {"ok", "undefined"}
    for kpi in ("unit_fill_rate", "line_fill_rate"):
        rows = kpilib.drill(ds, kpi)
        sums = rows.groupby(rows["order_line_id"].map(promo))[["numerator", "denominator"]].sum()
        got = by[by["kpi"] == kpi].set_index("promo")[["numerator", "denominator"]]
        pd.testing.assert_frame_equal(got.loc[sums.index], sums, check_names=False)
        assert {"yes", "no"} <= set(sums.index)
    flt = kpilib.compute(ds, kpis=LINE_KPIS, filters={"promo": "yes"})
    pd.testing.assert_frame_equal(flt, _one_segment(by, "promo", "yes"), check_exact=True)
    seg = kpilib.drill(ds, "unit_fill_rate", segment={"promo": "no"})
    assert set(seg["order_line_id"].map(promo)) == {"no"}


@pytest.mark.parametrize(("kpi", "grain"), [
    ("otif_rate", "commit unit"), ("order_cycle_time_hours", "order"),
    ("allocation_failures_per_sku_day", "SKU-node-day"), ("lines_picked_per_hour", "node-day")])
def test_lines_column_is_refused_for_records_that_are_not_lines(ds, kpi, grain):
    for kw in ({"by": ["promo"]}, {"filters": {"promo": "yes"}}):
        got = kpilib.compute(ds, kpis=[kpi], **kw)
        assert got["status"].tolist() == ["unavailable"], kw
        assert got["note"].iloc[0] == (f"its records ({grain}) are not all order lines, so it "
                                       "cannot be cut or filtered by promo")


def test_a_dimension_value_holding_the_internal_separator_is_a_clear_error(frames):
    # segment labels join host and extra values with U+001F and split them back: a value that
    # holds it would be split into two segments, so the declaration names the rows instead
    orders = frames["orders"].copy()
    orders.loc[orders.index[7], "market"] = "north\x1fsouth"
    with pytest.raises(ParameterError) as err:
        Dataset.from_frames(dimensions={"market": "orders"}, **{**frames, "orders": orders})
    text = str(err.value)
    assert "orders.market: 1 value(s) contain the control character U+001F" in text
    assert "'north\\x1fsouth'" in text and "row(s) [7]" in text
