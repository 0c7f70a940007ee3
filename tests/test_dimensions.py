"""Extra segment dimensions (kpilib.dimensions): own columns of orders / products.

An orders column is cut like ``channel`` and a products column like ``product_class``, so:
- by=["market"] equals by=["channel"] on the same data with channel overwritten by market;
- the market segments of every KPI re-sum to its total (numerators always; denominators for
  rates and means, whose denominator counts records; a ratio or sum of daily snapshots divides
  by the number of snapshots, which each segment has in full).
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
    return {**frames, "orders": orders, "products": products}


@pytest.fixture(scope="module")
def ds(frames):
    return Dataset.from_frames(dimensions={"market": "orders", "brand": "products"}, **frames)


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


def test_every_kpi_by_market_resums_to_its_total(ds, by_market):
    total = kpilib.compute(ds).set_index("kpi")
    kinds = kpilib.list_kpis().set_index("id")
    checked = 0
    for kpi, seg in by_market.groupby("kpi"):
        if "channel" not in kinds.loc[kpi, "dims"]:
            assert (seg["status"] == "unavailable").all(), kpi
            assert seg["note"].str.contains("cut by market").all(), kpi
            continue
        t = total.loc[kpi]
        if t["status"] != "ok" or pd.isna(t["numerator"]):
            continue
        assert seg["numerator"].sum() == pytest.approx(t["numerator"], rel=1e-9), kpi
        if kinds.loc[kpi, "kind"] in ("rate", "mean"):
            assert seg["denominator"].sum() == pytest.approx(t["denominator"], rel=1e-9), kpi
        checked += 1
    assert checked >= 30  # 37 KPIs of the channel-cuttable ones have numbers in this sample


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
    assert doc == {"dimensions": {"orders": ["market"], "products": ["brand"]}}
    assert kpilib.load_dataset(tmp_path).dimensions == {"market": "orders", "brand": "products"}


@pytest.mark.parametrize(("dims", "message"), [
    ({"region": "orders"}, "orders.region is declared as a dimension but the column is absent"),
    ({"market": "order_lines"}, "table 'order_lines' cannot carry extra dimensions"),
    ({"currency": "orders"}, "orders.currency is a column of the data model"),
])
def test_bad_declarations_are_clear_errors(frames, dims, message):
    with pytest.raises(ParameterError, match=message):
        Dataset.from_frames(dimensions=dims, **frames)


def test_undeclared_column_is_not_a_dimension(frames):
    plain = Dataset.from_frames(**frames)
    with pytest.raises(ParameterError, match="unknown segment dimension"):
        kpilib.compute(plain, kpis=["on_time_delivery_rate"], by=["market"])
