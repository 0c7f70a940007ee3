"""UCI Online Retail (541,909 rows): import report, invoice and line counts, and the backtest
forecasts, cross-checked against a few lines of pandas on the raw monthly CSVs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kpilib

pytestmark = pytest.mark.realdata
POSTAGE = ["POST", "DOT", "C2"]
NON_PRODUCT = ["M", "m", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK"]


def _aside(report) -> dict[str, dict]:
    return {r["reason"]: r for r in report["set_aside"]}


@pytest.fixture(scope="module")
def product_rows(retail_raw) -> pd.DataFrame:
    """Raw rows the documented mapping keeps as order lines: regular invoices (not C/A),
    product codes (not postage, not the non-product codes), quantity >= 0, and not the
    price-0-without-customer stock adjustments."""
    r = retail_raw
    regular = ~r["InvoiceNo"].str.startswith(("C", "A"))
    product = ~r["StockCode"].isin(POSTAGE + NON_PRODUCT)
    adjustment = (r["UnitPrice"] == 0) & r["CustomerID"].isna()
    return r.loc[regular & product & (r["Quantity"] >= 0) & ~adjustment]


def test_cancellation_invoices_are_counted_in_the_report(retail_import, retail_raw):
    _, report, output = retail_import
    cancel = retail_raw["InvoiceNo"].str.startswith("C")
    assert cancel.sum() == 9_288  # SOURCES.md
    assert retail_raw.loc[cancel, "InvoiceNo"].nunique() == 3_836
    rec = _aside(report)["cancellation_invoice"]
    assert rec["rows"] == cancel.sum()
    assert rec["detail"] == "3836 invoices"
    assert "cancellation_invoice" in output and "9,288" in output


def test_every_raw_row_is_a_line_postage_or_counted_set_aside(retail_import, retail_raw,
                                                              product_rows):
    ds, report, _ = retail_import
    assert len(retail_raw) == 541_909
    aside = sum(r["rows"] for r in report["set_aside"])
    kept = retail_raw.drop(index=retail_raw.index[retail_raw["InvoiceNo"].str.startswith(
        ("C", "A"))])
    kept = kept.loc[(kept["Quantity"] >= 0) & ~kept["StockCode"].isin(NON_PRODUCT)
                    & ~((kept["UnitPrice"] == 0) & kept["CustomerID"].isna())]
    postage = kept["StockCode"].isin(POSTAGE).sum()
    assert len(ds.order_lines) == len(product_rows)
    assert len(ds.order_lines) + postage + aside == len(retail_raw)


def test_invoices_lines_units_and_revenue(retail_import, product_rows, retail_raw):
    ds, _, _ = retail_import
    # every order is a regular invoice; those with product lines are exactly the raw ones
    regular = set(retail_raw.loc[~retail_raw["InvoiceNo"].str.startswith(("C", "A")),
                                 "InvoiceNo"])
    assert set(ds.orders["order_id"]) <= regular
    assert set(ds.order_lines["order_id"]) == set(product_rows["InvoiceNo"])
    lines_per_invoice = ds.order_lines.groupby("order_id").size().sort_index()
    raw_lines = product_rows.groupby("InvoiceNo").size().sort_index()
    assert lines_per_invoice.to_numpy().tolist() == raw_lines.to_numpy().tolist()
    assert ds.order_lines["qty_ordered"].sum() == product_rows["Quantity"].sum()
    revenue = (product_rows["Quantity"] * product_rows["UnitPrice"]).sum()
    assert ds.orders["merchandise_amount"].sum() == pytest.approx(revenue, rel=1e-12)
    channels = ds.orders.set_index("order_id")["channel"]
    uk = product_rows.groupby("InvoiceNo")["Country"].first().eq("United Kingdom")
    assert (channels.reindex(uk.index).eq("domestic") == uk).all()


def test_backtest_forecasts_every_complete_week(retail_import, product_rows):
    """Weeks start on Monday. Data runs 2010-12-01 (Wed) to 2011-12-09 (Fri): the last
    complete week starts 2011-11-28. With lag 1 a forecast needs two known weeks before its
    target, so each SKU has a forecast for every week from its first demand week + 2."""
    ds, _, _ = retail_import
    fc = ds.forecasts
    assert fc is not None and len(fc)
    at = pd.to_datetime(product_rows["InvoiceDate"])
    monday = (at.dt.normalize() - pd.to_timedelta(at.dt.weekday, unit="D"))
    first_week, last_week = monday.min(), monday.max() - pd.Timedelta(weeks=1)
    assert (first_week, last_week) == (pd.Timestamp("2010-11-29"), pd.Timestamp("2011-11-28"))
    weeks = pd.date_range(first_week + pd.Timedelta(weeks=2), last_week, freq="W-MON")
    assert sorted(fc["target_period_start"].unique()) == list(weeks)
    # per SKU: one forecast per week from its first demand week + 2 to the last complete one
    first = monday.groupby(product_rows["StockCode"]).min()
    first = first.loc[first <= last_week - pd.Timedelta(weeks=2)]
    expected = ((last_week - first).dt.days // 7 - 1).sort_index()
    got = fc.groupby("sku").size().reindex(expected.index)
    assert (got == expected).all()
    assert fc["forecast_version"].str.startswith("backtest:").all()


def test_forecast_bias_is_finite_overall_and_by_abc_class(retail_import):
    ds, _, _ = retail_import
    res = kpilib.compute(ds, ["forecast_bias_ratio", "tracking_signal"])
    assert (res["status"] == "ok").all()
    assert np.isfinite(res["value"]).all()
    by_abc = kpilib.compute(ds, ["forecast_bias_ratio"], by=["abc_class"])
    assert sorted(by_abc["abc_class"]) == ["A", "B", "C"]
    assert np.isfinite(by_abc["value"]).all()
    assert (by_abc["value"].abs() < 0.5).all()  # a level model is not wildly biased


def test_kpis_needing_shipments_say_unavailable(retail_import):
    ds, report, _ = retail_import
    res = kpilib.compute(ds, ["on_time_delivery_rate", "order_cycle_time_hours",
                              "cancellation_rate_pre_ship"]).set_index("kpi")
    assert (res["status"] == "unavailable").all()
    assert res["note"].str.contains("shipments").all()
    assert "nodes, shipments, shipment_lines, order_events" in report["absent"]


def test_frozen_counts_and_totals_of_the_import(retail_import):
    """The numbers the import gave when it was a Python adapter (kept by the mapping file
    kpilib/mappings/online_retail.yaml that replaced it): rows per table, every set-aside
    reason, revenue, postage and channel split, and one invoice worked out by hand."""
    ds, report, _ = retail_import
    assert report["rows"] == {"orders": 19_855, "order_lines": 527_826, "forecasts":
                              report["rows"]["forecasts"]}
    assert {r["reason"]: (r["rows"], r["detail"]) for r in report["set_aside"]} == {
        "cancellation_invoice": (9_288, "3836 invoices"), "bad_debt_adjustment": (3, "3 invoices"),
        "non_product_code": (344, ""), "stock_adjustment_negative_qty": (1_336, ""),
        "stock_adjustment_zero_price": (1_139, "")}
    assert ds.orders["merchandise_amount"].sum() == pytest.approx(10_272_118.873, rel=1e-12)
    assert ds.orders["shipping_amount_charged"].sum() == pytest.approx(291_401.65, rel=1e-12)
    assert ds.orders["channel"].value_counts().to_dict() == {"domestic": 17_943, "export": 1_912}
    # 540688 (France): row 1 is POST 5 x 18 = 90 (the shipping charge), rows 2-4 are products:
    # 24 x 1.95 + 24 x 1.95 + 120 x 0.42 = 144
    order = ds.orders.set_index("order_id").loc["540688"]
    assert (order["channel"], order["shipping_amount_charged"]) == ("export", 90.0)
    assert order["merchandise_amount"] == pytest.approx(144.0)
    lines = ds.order_lines.loc[ds.order_lines["order_id"] == "540688"]
    assert lines["order_line_id"].tolist() == ["540688-2", "540688-3", "540688-4"]
    # June: British Summer Time, 2011-06-01 09:26 local = 08:26 UTC
    assert ds.orders.set_index("order_id").loc["555161", "created_at"] == \
        pd.Timestamp("2011-06-01 08:26Z")
