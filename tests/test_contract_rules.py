"""Contract behaviour beyond single breaks: what is accepted, how problems are reported."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest
from builders import baseline_frames, build_frames, write_csv
from pandas.testing import assert_frame_equal

import kpilib
from kpilib import DataContractError, ParameterError, schema
from kpilib.contracts import RULES


def test_clean_baseline_has_no_problems_in_any_form(tmp_path):
    frames = baseline_frames()
    assert kpilib.validate(frames) == []
    ds = kpilib.Dataset.from_frames(**frames)
    assert kpilib.validate(ds) == []
    assert kpilib.validate(write_csv(frames, tmp_path / "csv")) == []
    ds.to_parquet(tmp_path / "pq")
    assert kpilib.validate(tmp_path / "pq") == []
    assert len(ds.tables) == len(schema.TABLE_NAMES)  # every table of §8


def test_parquet_round_trip_of_every_table_is_unchanged(tmp_path):
    ds = kpilib.Dataset.from_frames(**baseline_frames())
    back = kpilib.load_dataset(ds.to_parquet(tmp_path / "pq"))
    for name, frame in ds.tables.items():
        assert_frame_equal(back.tables[name], frame, check_exact=True)


def test_csv_load_equals_frame_load(tmp_path):
    frames = baseline_frames()
    from_csv = kpilib.load_dataset(write_csv(frames, tmp_path))
    direct = kpilib.Dataset.from_frames(**frames)
    for name, frame in direct.tables.items():
        assert_frame_equal(from_csv.tables[name], frame)


def test_refund_before_receipt_is_allowed():
    # spec B9 allows instant refunds: refund_issued_at 01-05 11:00 < received_at 01-08
    ds = kpilib.Dataset.from_frames(**baseline_frames())
    row = ds.returns.iloc[0]
    assert row["refund_issued_at"] < row["received_at"]


def test_header_only_optional_table_is_an_empty_table(tmp_path):
    folder = write_csv(baseline_frames(), tmp_path)
    header = (folder / "returns.csv").read_text().splitlines()[0]
    (folder / "returns.csv").write_text(header + "\n")
    ds = kpilib.load_dataset(folder)
    assert ds.returns is not None and len(ds.returns) == 0
    assert str(ds.returns["rma_requested_at"].dtype) == "datetime64[ns, UTC]"


def test_explicit_offsets_may_mix_and_are_converted_to_utc():
    frames = build_frames(orders=[{"order_id": "O1", "created_at": "2024-01-01T10:00:00+02:00"},
                                  {"order_id": "O2", "created_at": "2024-01-01T10:00:00Z"},
                                  {"order_id": "O3", "created_at": "2024-01-01T10:00-0530"}])
    ds = kpilib.Dataset.from_frames(**frames)
    assert ds.orders["created_at"].tolist() == [
        pd.Timestamp("2024-01-01T08:00Z"), pd.Timestamp("2024-01-01T10:00Z"),
        pd.Timestamp("2024-01-01T15:30Z")]


def test_assume_tz_accepts_naive_csv_and_converts(tmp_path):
    frames = baseline_frames()
    frames["orders"]["created_at"] = ["2024-01-01 01:00:00", "2024-01-02 00:00:00"]
    folder = write_csv(frames, tmp_path)
    with pytest.raises(DataContractError) as info:
        kpilib.load_dataset(folder)
    assert info.value.rule == "naive_timestamp" and info.value.n_rows == 2
    ds = kpilib.load_dataset(folder, assume_tz="Europe/Paris")
    # Paris is UTC+1 in January: 01:00 local = 00:00 UTC
    assert ds.orders["created_at"].tolist() == [pd.Timestamp("2024-01-01T00:00Z"),
                                                 pd.Timestamp("2024-01-01T23:00Z")]
    # values that carry an offset are untouched by assume_tz
    assert ds.shipments.loc[0, "shipped_at"] == pd.Timestamp("2024-01-01T10:00Z")


def test_assume_tz_handles_dst_gaps_and_repeats():
    frames = build_frames(orders=[{"created_at": "2024-03-31 02:30"},     # does not exist
                                  {"created_at": "2024-10-27 02:30"}])    # happens twice
    ds = kpilib.Dataset.from_frames(assume_tz="Europe/Berlin", **frames)
    # gap: shifted forward to 03:00 CEST = 01:00 UTC; repeat: first occurrence, still summer
    # time (CEST, UTC+2): 02:30 - 2 h = 00:30 UTC
    assert ds.orders["created_at"].tolist() == [pd.Timestamp("2024-03-31T01:00Z"),
                                                 pd.Timestamp("2024-10-27T00:30Z")]


def test_bad_assume_tz_is_a_parameter_error():
    with pytest.raises(ParameterError, match="IANA"):
        kpilib.Dataset.from_frames(assume_tz="Mars/Olympus", **build_frames())
    [p] = kpilib.validate(build_frames(), assume_tz="Mars/Olympus")
    assert p.rule == "invalid_argument"


def test_all_problems_are_reported_at_once():
    frames = baseline_frames()
    frames["orders"].loc[0, "order_type"] = "rush"
    frames["shipments"].loc[0, "delivered_at"] = "2024-01-01T09:00Z"
    with pytest.raises(DataContractError) as info:
        kpilib.Dataset.from_frames(**frames)
    err = info.value
    assert [(p.table, p.column, p.rule) for p in err.problems] == [
        ("orders", "order_type", "not_in_enum"),
        ("shipments", "delivered_at", "time_order"),
    ]
    assert (err.table, err.rule) == ("orders", "not_in_enum")
    assert "1 more problem" in str(err)
    assert isinstance(err, ValueError)


def test_wrong_type_is_not_reported_again_as_null():
    frames = baseline_frames()
    frames["order_lines"]["qty_ordered"] = frames["order_lines"]["qty_ordered"].astype(object)
    frames["order_lines"].loc[0, "qty_ordered"] = "lots"
    rules = [p.rule for p in kpilib.validate(frames)]
    assert rules == ["wrong_type"]


def test_examples_show_key_and_offending_column_and_are_capped():
    frames = build_frames(order_lines=[{"order_id": f"X{i}"} for i in range(8)],
                          orders=[{"order_id": "O1"}])
    [p] = kpilib.validate(frames)
    assert (p.rule, p.n_rows) == ("foreign_key", 8)
    assert list(p.examples.columns) == ["order_line_id", "order_id"]
    assert len(p.examples) == 5
    assert p.examples["order_id"].tolist() == ["X0", "X1", "X2", "X3", "X4"]
    assert p.detail == "8 value(s) not found in orders.order_id"


def test_foreign_keys_are_only_checked_against_present_tables():
    # order_lines.sku references products, absent here: no problem
    ds = kpilib.Dataset.from_frames(**build_frames(order_lines=[{"sku": "NOT-IN-PRODUCTS"}]))
    assert ds.products is None


def test_problems_survive_pickling():
    frames = baseline_frames()
    frames["orders"].loc[0, "order_type"] = "rush"
    frames["orders"].loc[1, "currency"] = None
    with pytest.raises(DataContractError) as info:
        kpilib.Dataset.from_frames(**frames)
    back = pickle.loads(pickle.dumps(info.value))
    assert [p.rule for p in back.problems] == [p.rule for p in info.value.problems]


def test_nullable_and_arrow_input_dtypes_are_normalised():
    frames = baseline_frames()
    lines = frames["order_lines"]
    lines["qty_ordered"] = lines["qty_ordered"].astype("Int64")
    lines["sku"] = lines["sku"].astype("string")
    lines["promise_is_date"] = lines["promise_is_date"].astype("boolean")
    frames["orders"]["created_at"] = pd.to_datetime(frames["orders"]["created_at"], utc=True,
                                                    format="ISO8601").astype("datetime64[ms, UTC]")
    ds = kpilib.Dataset.from_frames(**frames)
    assert str(ds.order_lines["qty_ordered"].dtype) == "float64"
    assert ds.order_lines["sku"].tolist() == ["SKU1", "SKU2", "SKU1"]
    assert str(ds.order_lines["promise_is_date"].dtype) == "bool"
    assert str(ds.orders["created_at"].dtype) == "datetime64[ns, UTC]"


def test_validate_never_raises():
    assert [p.rule for p in kpilib.validate(42)] == ["invalid_argument"]
    assert [p.rule for p in kpilib.validate("/no/such/folder")] == ["unreadable_file"]
    with pytest.raises(FileNotFoundError):
        kpilib.load_dataset("/no/such/folder")


def test_rule_metadata_in_schema_is_consistent():
    for rule in schema.TIME_ORDERS:
        table = schema.TABLES[rule.table]
        assert rule.column in table.column_names
        if rule.via is None:
            assert rule.after in table.column_names
        else:
            other, col = rule.after.split(".")
            assert col in schema.TABLES[other].column_names
            key = schema.TABLES[other].primary_key[0]
            assert table.column(rule.via).references == f"{other}.{key}"
    for table, col in schema.PLANNED_COLUMNS:
        assert col in schema.TABLES[table].column_names
    assert len(RULES) == len(set(RULES))


def test_csv_with_excel_byte_order_mark_and_crlf_loads(tmp_path):
    folder = write_csv(baseline_frames(), tmp_path)
    orders = folder / "orders.csv"
    orders.write_bytes(b"\xef\xbb\xbf" + orders.read_bytes().replace(b"\n", b"\r\n"))
    ds = kpilib.load_dataset(folder)
    assert ds.orders["order_id"].tolist() == ["O1", "O2"]
    assert ds.orders["currency"].tolist() == ["EUR", "EUR"]
