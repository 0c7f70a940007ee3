"""Mapping-file source preparation (file patterns, numbers, row numbers, counted set-aside
rules) and the min/max/sum-by aggregates and ``sort:`` of tables (kpilib.mapping)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpilib.errors import ParameterError
from kpilib.mapping.build import build, file_reader
from kpilib.mapping.expr import evaluate

RAW = pd.DataFrame({
    "Inv": ["10", "10", "C7", "10", "11", "11"],
    "Code": ["P1", "POST", "P1", "P2", "P3", "M"],
    "Qty": ["2", "1", "-2", "-1", "4", "1"],
    "Price": ["1.5", "5", "1.5", "3", "0.25", "9"],
    "At": ["2024-03-05 10:05", "2024-03-05 10:00", "2024-03-06 08:00", "2024-03-05 10:09",
           "2024-03-04 09:00", "2024-03-04 09:00"],
})


def mapping(**source) -> dict:
    """An orders + order_lines mapping of RAW (source keys added from ``source``)."""
    return {"_path": Path("m.yaml"), "name": "t", "timezone": "UTC",
            "sources": {"raw": {"file": "raw.csv", **source}},
            "tables": {
                "orders": {"from": "raw", "unique": "order_id", "sort": "order_id", "columns": {
                    "order_id": "Inv", "channel": {"value": "web"},
                    "order_type": {"value": "standard"}, "is_test": False,
                    "created_at": {"min": "At", "by": "Inv"}, "currency": {"value": "EUR"},
                    "merchandise_amount": {"sum": {"eval": "Qty * Price",
                                                   "if": "Code != 'POST'"}, "by": "Inv"}}},
                "order_lines": {"from": "raw", "where": "Code != 'POST'", "columns": {
                    "order_line_id": {"format": "{Inv}-{row}"}, "order_id": "Inv",
                    "sku": "Code", "created_at": {"min": "At", "by": "Inv"},
                    "qty_ordered": "Qty", "qty_cancelled_customer": 0,
                    "qty_cancelled_merchant": 0,
                    "promised_delivery_at_original": {"max": "At", "by": "Inv"},
                    "promise_is_date": False, "unit_price": "Price"}}}}


RULES = [{"reason": "credit_note", "where": "Inv.str.startswith('C')", "distinct": "Inv",
          "detail": "{n} invoices"},
         {"reason": "negative_qty", "where": "Qty < 0"},
         {"reason": "manual", "where": "Code == 'M' or Qty < 0", "detail": "manual codes"}]


def run(raw: pd.DataFrame = RAW, **source):
    return build(mapping(**source), lambda name, spec: raw.copy())


def test_rows_numbered_then_set_aside_by_rule_in_order_each_counted_once():
    res = run(numbers=["Qty", "Price"], row_number={"column": "row", "by": "Inv"},
              set_aside=RULES)
    # C7 (a credit note, also Qty < 0) counts under its first rule only; 10/P2 (Qty -1) under
    # negative_qty, not again under manual; 11/M under manual
    assert [(r["table"], r["reason"], r["rows"], r["detail"]) for r in res.report] == [
        ("raw", "credit_note", 1, "1 invoices"), ("raw", "negative_qty", 1, ""),
        ("raw", "manual", 1, "manual codes")]
    lines = res.tables["order_lines"]
    # rows are numbered in the source before anything is set aside: 10's P1 is row 1, its
    # POST row 2 (not a line), its P2 row 3 (set aside); 11's P3 is row 1
    assert lines["order_line_id"].tolist() == ["10-1", "11-1"]
    assert lines["qty_ordered"].tolist() == [2.0, 4.0]


def test_sum_min_max_by_run_over_all_source_rows_and_sort_orders_rows():
    res = run(numbers=["Qty", "Price"], row_number={"column": "row", "by": "Inv"},
              set_aside=RULES)
    orders, lines = res.tables["orders"], res.tables["order_lines"]
    # source order is 10, 11; sorted by order_id it stays 10, 11 (text order)
    assert orders["order_id"].tolist() == ["10", "11"]
    # 10: 2 x 1.5 (P1); POST excluded by the `if`; P2 set aside -> 3.0. 11: 4 x 0.25 = 1.0
    assert orders["merchandise_amount"].tolist() == [3.0, 1.0]
    # 10's earliest row is its POST row (10:00), which order_lines' `where` drops: the
    # min still sees it. Latest kept row of 10 is P1 at 10:05 (P2 at 10:09 was set aside).
    assert lines["created_at"].iloc[0] == pd.Timestamp("2024-03-05 10:00")
    assert lines["promised_delivery_at_original"].iloc[0] == pd.Timestamp("2024-03-05 10:05")
    assert orders["created_at"].tolist() == [pd.Timestamp("2024-03-05 10:00"),
                                             pd.Timestamp("2024-03-04 09:00")]


def test_sort_is_by_the_contract_column():
    raw = RAW.iloc[[4, 0]].reset_index(drop=True)  # 11 before 10 in the source
    res = run(raw, numbers=["Qty", "Price"], row_number={"column": "row", "by": "Inv"})
    assert res.tables["orders"]["order_id"].tolist() == ["10", "11"]


def test_min_max_of_a_spec_over_a_group():
    frame = pd.DataFrame({"k": ["a", "a", "b"], "t": ["2024-01-02", "2024-01-01", None]})
    assert evaluate({"min": "t", "by": "k"}, frame, "UTC", "x").tolist() == [
        pd.Timestamp("2024-01-01")] * 2 + [pd.NaT]
    assert evaluate({"max": "t", "by": "k"}, frame, "UTC", "x").iloc[0] == \
        pd.Timestamp("2024-01-02")
    with pytest.raises(ParameterError, match="'max' needs 'by'"):
        evaluate({"max": "t"}, frame, "UTC", "x")


def test_file_pattern_reads_every_match_in_name_order(tmp_path):
    (tmp_path / "part_b.csv").write_text("Inv,Qty\n2,5\n")
    (tmp_path / "part_a.csv").write_text("Inv,Qty\n1,3\n")
    (tmp_path / "other.csv").write_text("Inv,Qty\n9,9\n")
    read = file_reader(tmp_path)
    got = read("raw", {"file": "part_*.csv", "numbers": ["Qty"]})
    assert got.to_dict("list") == {"Inv": ["1", "2"], "Qty": [3.0, 5.0]}
    with pytest.raises(ParameterError, match="no file in .* matches 'nope_\\*.csv'"):
        read("raw", {"file": "nope_*.csv"})
    (tmp_path / "part_c.csv").write_text("Invoice,Qty\n3,1\n")
    with pytest.raises(ParameterError, match="part_c.csv has columns \\['Invoice', 'Qty'\\]"):
        read("raw", {"file": "part_*.csv"})


@pytest.mark.parametrize(("source", "message"), [
    ({"numbers": ["Code"]}, "numbers: 6 value.s. of 'Code' are not numbers, e.g. 'P1'"),
    ({"numbers": ["Nope"]}, "numbers: column 'Nope' not found"),
    ({"row_number": {"column": "row"}}, "row_number: give \\{column: NEW_NAME, by:"),
    ({"set_aside": [{"reason": "x"}]}, "set_aside\\[0\\]: give reason and where"),
    ({"set_aside": [{"reason": "x", "where": "Nope > 1"}]}, "set_aside\\[0\\].where 'Nope > 1'"
                                                             " fails"),
    ({"colour": "red"}, "sources.raw: unknown key.s. \\['colour'\\]"),
])
def test_bad_source_preparation_is_a_clear_error(source, message):
    with pytest.raises(ParameterError, match=message):
        run(**source)


def test_the_template_documents_each_source_and_table_key():
    from kpilib.mapping.template import mapping_template

    text = mapping_template()
    for key in ("a pattern", "numbers: [", "row_number: {column:", "set_aside:", "distinct:",
                "{min: Order Date, by:", "(max: latest)", "# where:", "# sort: order_id",
                "{latest_of: [", "# columns: [", "join: [export, status]", "key: Order ID"):
        assert key in text, key


def test_join_inner_counts_unmatched_left_rows_left_keeps_them():
    from kpilib.mapping.source import join

    items = pd.DataFrame({"oid": ["o1", "o9", "o1"], "sku": ["a", "b", "c"]})
    orders = pd.DataFrame({"oid": ["o2", "o1"], "status": ["new", "paid"]})
    report = []
    got = join("lines", {"join": ["items", "orders"], "key": "oid", "unmatched": "no_order"},
               {"items": items, "orders": orders}, lambda *rec: report.append(rec))
    # left order kept; o9 has no order: left out, counted under the items source
    assert got.values.tolist() == [["o1", "a", "paid"], ["o1", "c", "paid"]]
    assert report == [("items", "no_order", 1, "")]
    got = join("all", {"join": ["orders", "items"], "key": "oid", "how": "left"},
               {"items": items, "orders": orders}, lambda *rec: report.append(rec))
    # o2 has no item: kept once with an empty sku; o1 once per item
    assert got.fillna("-").values.tolist() == [["o2", "new", "-"], ["o1", "paid", "a"],
                                                ["o1", "paid", "c"]]
    assert len(report) == 1
    with pytest.raises(ParameterError, match="both have \\['sku'\\]; only 'oid' may be shared"):
        join("x", {"join": ["items", "items2"], "key": "oid"},
             {"items": items, "items2": items}, print)
    with pytest.raises(ParameterError, match="\\['nope'\\] not among the sources defined"):
        join("x", {"join": ["items", "nope"], "key": "oid"}, {"items": items}, print)


def test_latest_of_is_the_latest_non_null_time_of_the_row():
    frame = pd.DataFrame({"a": ["2024-01-02 10:00", "2024-01-05 08:00", None],
                          "b": ["2024-01-03 09:00", None, None]})
    got = evaluate({"latest_of": ["a", "b"]}, frame, "UTC", "x").tolist()
    assert got[:2] == [pd.Timestamp("2024-01-03 09:00"), pd.Timestamp("2024-01-05 08:00")]
    assert pd.isna(got[2])


def test_required_source_columns_name_what_is_missing():
    with pytest.raises(ParameterError, match="sources.raw \\(raw.csv\\) lacks column\\(s\\) "
                                             "\\['Country'\\]; found \\['Inv', 'Code'"):
        run(columns=["Inv", "Country"])
