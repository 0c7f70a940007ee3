"""`kpilib import online-retail` runs kpilib/mappings/online_retail.yaml: a hand-made folder of
monthly files, every rule of the mapping met once, expected tables worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from cli_import import imported_folder
from typer.testing import CliRunner

from kpilib.cli.main import app

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
JANUARY = HEADER + """\
540688,POST,POSTAGE,5,2011-01-11 07:57,18.0,12736,France
540688,22223,CAKE STAND,24,2011-01-11 07:57,1.95,12736,France
540688,21212,CASES,120,2011-01-11 07:58,0.42,12736,France
C540689,22223,CAKE STAND,-2,2011-01-11 09:00,1.95,12736,France
540690,M,Manual,1,2011-01-12 10:00,2.5,17850,United Kingdom
540690,85123A,T-LIGHT HOLDER,6,2011-01-12 10:00,2.55,17850,United Kingdom
540690,85123A,damaged,-3,2011-01-12 10:00,2.55,,United Kingdom
540690,21000,found,10,2011-01-12 10:00,0,,United Kingdom
"""
JUNE = HEADER + """\
555161,23281,BAG,12,2011-06-01 09:26,0.83,12345,United Kingdom
555161,POST,POSTAGE,1,2011-06-01 09:26,15,12345,United Kingdom
A555162,B,Adjust bad debt,1,2011-06-02 10:00,-11062.06,,United Kingdom
"""


@pytest.fixture()
def imported(tmp_path):
    return imported_folder("online-retail", {  # June written first, read second
        "online_retail_2011-06.csv": JUNE, "online_retail_2011-01.csv": JANUARY}, tmp_path)


def test_orders_one_per_regular_invoice_sorted_with_amounts_and_channel(imported):
    orders = imported[0].orders.set_index("order_id")
    assert orders.index.tolist() == ["540688", "540690", "555161"]
    assert orders["channel"].tolist() == ["export", "domestic", "domestic"]
    # 540688: 24 x 1.95 + 120 x 0.42 = 97.2, postage 5 x 18 = 90; 540690: 6 x 2.55 (the M
    # row, the -3 row and the price-0 row without customer are set aside); 555161: 12 x 0.83
    assert orders["merchandise_amount"].tolist() == pytest.approx([97.2, 15.3, 9.96])
    assert orders["shipping_amount_charged"].tolist() == pytest.approx([90.0, 0.0, 15.0])
    assert (orders["currency"] == "GBP").all() and (orders["order_type"] == "standard").all()
    # UK local time: 07:57 GMT in January; 09:26 BST (UTC+1) in June
    assert orders["created_at"].tolist() == [pd.Timestamp("2011-01-11 07:57Z"),
                                             pd.Timestamp("2011-01-12 10:00Z"),
                                             pd.Timestamp("2011-06-01 08:26Z")]


def test_lines_keep_their_row_number_and_the_invoice_time(imported):
    lines = imported[0].order_lines
    # the number is the row within the invoice in the source: 540688's POST row is row 1
    assert lines["order_line_id"].tolist() == ["540688-2", "540688-3", "540690-2", "555161-1"]
    assert lines["sku"].tolist() == ["22223", "21212", "85123A", "23281"]
    assert lines["qty_ordered"].tolist() == [24.0, 120.0, 6.0, 12.0]
    assert lines["unit_price"].tolist() == [1.95, 0.42, 2.55, 0.83]
    # 540688-3's own row says 07:58; a line carries the invoice's earliest time (07:57)
    first = pd.Timestamp("2011-01-11 07:57Z")
    assert lines["created_at"].iloc[1] == first
    assert lines["promised_delivery_at_original"].iloc[1] == first  # placeholder
    assert (lines[["qty_cancelled_customer", "qty_cancelled_merchant"]] == 0).all().all()


def test_every_set_aside_row_is_counted_under_its_first_rule(imported):
    report = imported[1]
    assert [(r["table"], r["reason"], r["rows"], r["detail"]) for r in report["set_aside"]] == [
        ("online_retail", "cancellation_invoice", 1, "1 invoices"),
        ("online_retail", "bad_debt_adjustment", 1, "1 invoices"),  # code B too: counted once
        ("online_retail", "non_product_code", 1, ""),
        ("online_retail", "stock_adjustment_negative_qty", 1, ""),
        ("online_retail", "stock_adjustment_zero_price", 1, ""),
    ]
    assert report["source"] == "online_retail"
    assert report["rows"] == {"orders": 3, "order_lines": 4}
    assert "nodes, shipments, shipment_lines, order_events" in report["absent"]


def test_a_folder_without_the_monthly_files_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(app, ["import", "online-retail", str(tmp_path), "--out",
                                   str(tmp_path / "o")], env={"COLUMNS": "200"})
    assert res.exit_code == 2
    assert "not the online-retail dataset" in res.output
    assert "online_retail_*.csv" in res.output
