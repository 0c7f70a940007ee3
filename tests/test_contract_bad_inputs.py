"""Bad-input suite: one break per case, each reported with its exact rule, table and column.

Every case starts from ``builders.baseline_frames()`` (valid, every table of §8), breaks one
thing, and checks that the loader raises with exactly that problem, so nothing downstream can
run on the data. Frame cases go through ``Dataset.from_frames``; file cases write the baseline
as CSV, break a file, then go through ``load_dataset``. ``validate`` shares the code path; a
few cases check that it returns the same list without raising.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import baseline_frames, write_csv

import kpilib
from kpilib import DataContractError


def _set(table: str, row: int, column: str, value):
    def mutate(frames):
        frames[table] = frames[table].astype({column: object}) if column in frames[table] \
            else frames[table]
        frames[table].loc[row, column] = value
        return frames
    return mutate


def _chain(*mutations):
    def mutate(frames):
        for m in mutations:
            frames = m(frames)
        return frames
    return mutate


def _drop_column(table: str, column: str):
    def mutate(frames):
        frames[table] = frames[table].drop(columns=[column])
        return frames
    return mutate


def _rename_column(table: str, old: str, new: str):
    def mutate(frames):
        frames[table] = frames[table].rename(columns={old: new})
        return frames
    return mutate


def _duplicate_column(table: str, column: str):
    def mutate(frames):
        frames[table] = pd.concat([frames[table], frames[table][[column]]], axis=1)
        return frames
    return mutate


def _append_copy(table: str, row: int, **changes):
    def mutate(frames):
        new = frames[table].iloc[[row]].assign(**changes)
        frames[table] = pd.concat([frames[table], new], ignore_index=True)
        return frames
    return mutate


def _rename(old: str, new: str):
    def mutate(frames):
        frames[new] = frames.pop(old)
        return frames
    return mutate


def _drop_table(table: str):
    def mutate(frames):
        del frames[table]
        return frames
    return mutate


# (id, mutation of the baseline frames, expected (table, column, rule, n_rows))
FRAME_CASES = [
    ("unknown_table", _rename("shipments", "shipment"),
     ("shipment", None, "unknown_table", 2)),
    ("missing_orders", _drop_table("orders"), ("orders", None, "missing_table", 0)),
    ("missing_order_lines", _drop_table("order_lines"),
     ("order_lines", None, "missing_table", 0)),
    ("missing_required_column", _drop_column("orders", "currency"),
     ("orders", "currency", "missing_column", 2)),
    ("missing_required_column_optional_table", _drop_column("returns", "return_reason"),
     ("returns", "return_reason", "missing_column", 1)),
    ("duplicate_column", _duplicate_column("orders", "channel"),
     ("orders", "channel", "duplicate_column", 0)),
    ("misnamed_column", _rename_column("nodes", "timezone", "TimeZone"),
     ("nodes", "timezone", "missing_column", 2)),
    ("empty_string_in_required", _set("orders", 1, "channel", ""),
     ("orders", "channel", "null_in_required", 1)),
    ("infinite_number", _set("shipments", 1, "parcel_cost", float("inf")),
     ("shipments", "parcel_cost", "wrong_type", 1)),
    ("null_in_required_text", _set("order_lines", 1, "sku", None),
     ("order_lines", "sku", "null_in_required", 1)),
    ("null_in_required_bool", _set("orders", 0, "is_test", None),
     ("orders", "is_test", "null_in_required", 1)),
    ("null_in_required_ts", _set("shipments", 1, "created_at", None),
     ("shipments", "created_at", "null_in_required", 1)),
    ("text_in_numeric", _set("order_lines", 0, "unit_price", "ten"),
     ("order_lines", "unit_price", "wrong_type", 1)),
    ("comma_decimal_in_numeric", _set("shipments", 0, "parcel_cost", "4,50"),
     ("shipments", "parcel_cost", "wrong_type", 1)),
    ("fraction_in_int", _set("inventory_snapshots", 0, "stockout_minutes", 1.5),
     ("inventory_snapshots", "stockout_minutes", "wrong_type", 1)),
    ("unparseable_timestamp", _set("orders", 1, "created_at", "yesterday"),
     ("orders", "created_at", "wrong_type", 1)),
    ("impossible_date", _set("inventory_snapshots", 1, "snapshot_date", "2024-02-30"),
     ("inventory_snapshots", "snapshot_date", "wrong_type", 1)),
    ("date_with_time_of_day", _set("labor_hours", 0, "work_date", "2024-01-01T13:00"),
     ("labor_hours", "work_date", "wrong_type", 1)),
    ("unknown_boolean", _set("orders", 0, "is_test", "yes"),
     ("orders", "is_test", "wrong_type", 1)),
    ("naive_timestamp", _set("shipments", 0, "delivered_at", "2024-01-03 09:00:00"),
     ("shipments", "delivered_at", "naive_timestamp", 1)),
    ("naive_datetime_object", _set("waves", 0, "closed_at", pd.Timestamp("2024-01-01 09:00")),
     ("waves", "closed_at", "naive_timestamp", 1)),
    ("mixed_naive_and_offset", _set("orders", 1, "created_at", "2024-01-02T00:00:00"),
     ("orders", "created_at", "naive_timestamp", 1)),
    ("enum_unknown_value", _set("orders", 0, "order_type", "rush"),
     ("orders", "order_type", "not_in_enum", 1)),
    ("enum_wrong_case", _set("shipments", 1, "delivery_status", "In_Transit"),
     ("shipments", "delivery_status", "not_in_enum", 1)),
    ("enum_optional_column", _set("returns", 0, "disposition", "donate"),
     ("returns", "disposition", "not_in_enum", 1)),
    ("negative_received", _set("receipts", 0, "qty_received", -10),
     ("receipts", "qty_received", "negative_quantity", 1)),
    ("negative_return_qty", _set("returns", 0, "qty", -1),
     ("returns", "qty", "negative_quantity", 1)),
    ("negative_unit_cost", _set("products", 1, "unit_cost", -5.0),
     ("products", "unit_cost", "negative_quantity", 1)),
    ("duplicate_order_id", _append_copy("orders", 0),
     ("orders", "order_id", "duplicate_key", 2)),
    ("duplicate_composite_key", _append_copy("inventory_snapshots", 0),
     ("inventory_snapshots", None, "duplicate_key", 2)),
    ("dangling_order_id", _set("order_lines", 1, "order_id", "O9"),
     ("order_lines", "order_id", "foreign_key", 1)),
    ("dangling_sku", _set("receipts", 0, "sku", "SKU404"),
     ("receipts", "sku", "foreign_key", 1)),
    ("dangling_self_reference", _set("order_lines", 2, "parent_line_id", "L99"),
     ("order_lines", "parent_line_id", "foreign_key", 1)),
    ("dangling_wave", _set("pick_tasks", 0, "wave_id", "W7"),
     ("pick_tasks", "wave_id", "foreign_key", 1)),
    ("delivered_before_shipped", _set("shipments", 0, "delivered_at", "2024-01-01T09:00Z"),
     ("shipments", "delivered_at", "time_order", 1)),
    ("shipped_before_order", _set("shipments", 0, "shipped_at", "2023-12-31T23:00Z"),
     ("shipments", "shipped_at", "time_order", 1)),
    ("shipment_record_before_order", _set("shipments", 1, "created_at", "2024-01-01T22:00Z"),
     ("shipments", "created_at", "time_order", 1)),
    ("return_before_order", _set("returns", 0, "rma_requested_at", "2023-12-31T00:00Z"),
     ("returns", "rma_requested_at", "time_order", 1)),
    ("pick_error_before_pick", _set("pick_tasks", 0, "error_detected_at", "2024-01-01T02:00Z"),
     ("pick_tasks", "error_detected_at", "time_order", 1)),
    ("line_before_order", _set("order_lines", 0, "created_at", "2023-12-31T23:00Z"),
     ("order_lines", "created_at", "time_order", 1)),
    ("putaway_before_receipt", _set("receipts", 0, "putaway_completed_at", "2023-12-30T08:30Z"),
     ("receipts", "putaway_completed_at", "time_order", 1)),
    ("received_before_dock_arrival", _set("receipts", 0, "dock_arrival_at", "2023-12-30T10:00Z"),
     ("receipts", "received_at", "time_order", 1)),
    ("picked_before_released", _set("pick_tasks", 0, "picked_at", "2024-01-01T00:30Z"),
     ("pick_tasks", "picked_at", "time_order", 1)),
    ("cancelled_before_created", _set("orders", 1, "cancelled_at", "2024-01-01T00:00Z"),
     ("orders", "cancelled_at", "time_order", 1)),
    ("resolved_before_opened", _set("exceptions", 0, "resolved_at", "2024-01-01T04:00Z"),
     ("exceptions", "resolved_at", "time_order", 1)),
    ("rma_decided_before_request", _set("returns", 0, "rma_decided_at", "2024-01-04T00:00Z"),
     ("returns", "rma_decided_at", "time_order", 1)),
    ("cost_period_ends_before_start", _set("fulfillment_costs", 0, "period_end", "2023-12-31"),
     ("fulfillment_costs", "period_end", "time_order", 1)),
    ("shipped_10x_ordered", _set("shipment_lines", 0, "qty_shipped", 20),
     ("shipment_lines", "qty_shipped", "shipped_exceeds_ordered", 1)),
    ("split_shipments_exceed_ordered",
     _append_copy("shipment_lines", 1, shipment_id="S1"),
     ("shipment_lines", "qty_shipped", "shipped_exceeds_ordered", 1)),
    ("cancelled_exceeds_ordered", _set("order_lines", 0, "qty_cancelled_merchant", 3),
     ("order_lines", "qty_ordered", "cancelled_exceeds_ordered", 1)),
    ("available_does_not_add_up", _set("inventory_snapshots", 0, "qty_available", 9),
     ("inventory_snapshots", "qty_available", "inconsistent_available", 1)),
    ("merchandise_amount_10x", _set("orders", 0, "merchandise_amount", 200.0),
     ("orders", "merchandise_amount", "implausible_value", 1)),
    ("merchandise_amount_tenth", _set("orders", 1, "merchandise_amount", 1.0),
     ("orders", "merchandise_amount", "implausible_value", 1)),
    ("received_10x_expected", _set("receipts", 0, "qty_received", 100),
     ("receipts", "qty_received", "implausible_value", 1)),
    # plausibility (kpilib.contracts.plausibility)
    ("shipment_dated_2099", _set("shipments", 0, "delivered_at", "2099-01-03T09:00Z"),
     ("shipments", "delivered_at", "future_event", 1)),
    ("movement_dated_2030", _set("inventory_movements", 0, "moved_at", "2030-01-01T00:00Z"),
     ("inventory_movements", "moved_at", "future_event", 1)),
    ("order_dated_1900", _set("orders", 0, "created_at", "1900-01-01T00:00Z"),
     ("orders", "created_at", "far_from_bulk", 1)),
    ("timestamp_at_engine_limit", _set("shipments", 0, "delivered_at",
                                       "2262-04-11T23:47:16Z"),
     ("shipments", "delivered_at", "timestamp_out_of_range", 1)),
    ("timestamp_before_engine_range", _set("exceptions", 0, "opened_at", "1677-09-22T00:00Z"),
     ("exceptions", "opened_at", "timestamp_out_of_range", 1)),
    ("planned_date_out_of_range", _set("products", 1, "discontinue_date", "9999-12-31"),
     ("products", "discontinue_date", "wrong_type", 1)),
    ("quantity_1e308", _chain(_set("orders", 0, "merchandise_amount", None),
                              _set("order_lines", 0, "qty_ordered", 1e308)),
     ("order_lines", "qty_ordered", "above_ceiling", 1)),
    ("price_above_ceiling", _chain(_set("orders", 1, "merchandise_amount", None),
                                   _set("order_lines", 1, "unit_price", 5e10)),
     ("order_lines", "unit_price", "above_ceiling", 1)),
    ("negative_cost", _set("fulfillment_costs", 0, "amount", -100.0),
     ("fulfillment_costs", "amount", "negative_cost", 1)),
    ("costs_in_another_currency", _set("fulfillment_costs", 0, "currency", "USD"),
     ("fulfillment_costs", "currency", "mixed_currency", 1)),
    ("lost_with_delivered_at", _set("shipments", 0, "delivery_status", "lost"),
     ("shipments", "delivered_at", "status_contradiction", 1)),
    ("in_transit_not_shipped", _set("shipments", 1, "shipped_at", None),
     ("shipments", "shipped_at", "status_contradiction", 1)),
    ("picked_without_picked_at", _set("pick_tasks", 0, "picked_at", None),
     ("pick_tasks", "picked_at", "status_contradiction", 1)),
    ("fully_cancelled_without_cancelled_at", _set("order_lines", 0, "qty_cancelled_customer", 2),
     ("orders", "cancelled_at", "cancelled_without_timestamp", 1)),
    ("shipment_without_lines", _append_copy("shipments", 1, shipment_id="S3"),
     ("shipments", "shipment_id", "shipment_without_lines", 1)),
    # near-miss names (kpilib.contracts.names)
    ("optional_column_other_case", _rename_column("shipments", "delivered_at", "Delivered_At"),
     ("shipments", "delivered_at", "near_miss_column", 0)),
    ("optional_column_leading_space", _rename_column("shipments", "delivered_at",
                                                     " delivered_at"),
     ("shipments", "delivered_at", "near_miss_column", 0)),
    ("optional_column_one_edit", _rename_column("orders", "cancelled_at", "canceled_at"),
     ("orders", "cancelled_at", "near_miss_column", 0)),
]


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _edit_csv(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    frame.to_csv(path, index=False)


def _file_case(table: str, action):
    """Write the valid baseline as CSV, then let ``action(folder)`` break one file."""
    def make(tmp_path: Path) -> Path:
        folder = write_csv(baseline_frames(), tmp_path / "data")
        action(folder, folder / f"{table}.csv")
        return folder
    return make


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
FILE_CASES = [
    ("binary_junk_csv", _file_case("orders", lambda d, f: _write(f, PNG * 20)),
     ("orders", None, "unreadable_file", 0)),
    ("csv_named_parquet", _file_case(
        "shipments", lambda d, f: f.rename(d / "shipments.parquet")),
     ("shipments", None, "unreadable_file", 0)),
    ("spreadsheet_not_csv", _file_case(
        "orders", lambda d, f: (f.unlink(), _write(d / "orders.xlsx", b"PK\x03\x04" + PNG))),
     ("orders", None, "unreadable_file", 0)),
    ("corrupt_gzip", _file_case(
        "order_lines", lambda d, f: (f.unlink(), _write(d / "order_lines.csv.gz", b"\x1f\x8bxx"))),
     ("order_lines", None, "unreadable_file", 0)),
    ("not_utf8", _file_case(
        "products", lambda d, f: _write(f, "sku,unit_cost,stocking_policy\nCAFÉ,1,stocked\n"
                                        .encode("latin-1"))),
     ("products", None, "unreadable_file", 0)),
    ("semicolon_separated", _file_case(
        "nodes", lambda d, f: _write(f, f.read_bytes().replace(b",", b";"))),
     ("nodes", None, "unreadable_file", 0)),
    ("empty_file", _file_case("order_lines", lambda d, f: _write(f, b"")),
     ("order_lines", None, "empty_file", 0)),
    ("whitespace_only_file", _file_case("returns", lambda d, f: _write(f, b"\n\n  \n")),
     ("returns", None, "empty_file", 0)),
    ("header_only_orders", _file_case(
        "orders", lambda d, f: _write(f, f.read_bytes().splitlines(keepends=True)[0])),
     ("orders", None, "empty_table", 0)),
    ("same_table_twice", _file_case(
        "nodes", lambda d, f: pd.read_csv(f).to_parquet(d / "nodes.parquet")),
     ("nodes", None, "duplicate_table", 0)),
    ("unknown_file", _file_case(
        "shipments", lambda d, f: f.rename(d / "parcels.csv")),
     ("parcels", None, "unknown_table", 0)),
    ("file_one_edit_from_table", _file_case(
        "shipments", lambda d, f: f.rename(d / "shipment.csv")),
     ("shipments", None, "near_miss_table", 0)),
    ("file_name_capitalised", _file_case(
        "shipments", lambda d, f: f.rename(d / "Shipments.csv")),
     ("shipments", None, "near_miss_table", 0)),
    ("file_with_second_extension", _file_case(
        "shipments", lambda d, f: f.rename(d / "shipments.CSV.txt")),
     ("shipments", None, "near_miss_table", 0)),
    ("dangling_symlink", _file_case(
        "shipments", lambda d, f: (f.unlink(), (d / "shipments.csv").symlink_to(d / "gone.csv"))),
     ("shipments", None, "unreadable_file", 0)),
    ("duplicated_csv_header", _file_case(
        "orders", lambda d, f: _write(f, f.read_bytes().replace(b"channel,", b"channel,channel,", 1)
                                      .replace(b",web,", b",web,BOGUS,"))),
     ("orders", "channel", "duplicate_column", 0)),
    ("tab_separated", _file_case(
        "nodes", lambda d, f: _write(f, f.read_bytes().replace(b",", b"\t"))),
     ("nodes", None, "unreadable_file", 0)),
    ("excel_sep_line", _file_case(
        "nodes", lambda d, f: _write(f, b"sep=,\n" + f.read_bytes())),
     ("nodes", None, "unreadable_file", 0)),
    ("manifest_not_json", _file_case("orders", lambda d, f: _write(d / "dataset.json", b"{")),
     (None, None, "invalid_manifest", 0)),
    ("extract_time_from_manifest", _file_case(
        "orders", lambda d, f: _write(d / "dataset.json",
                                      b'{"extracted_at": "2024-01-07T12:00Z"}')),
     ("returns", "disposition_at", "future_event", 1)),
    ("missing_orders_file", _file_case("orders", lambda d, f: f.unlink()),
     ("orders", None, "missing_table", 0)),
    ("text_in_numeric_csv", _file_case(
        "order_lines", lambda d, f: _edit_csv(f, 0, "qty_ordered", "two")),
     ("order_lines", "qty_ordered", "wrong_type", 1)),
    ("naive_timestamps_csv", _file_case(
        "orders", lambda d, f: _write(f, f.read_bytes().replace(b"T00:00:00Z", b" 00:00:00"))),
     ("orders", "created_at", "naive_timestamp", 1)),
]


def _key(p: DataContractError) -> tuple:
    return (p.table, p.column, p.rule, p.n_rows)


@pytest.mark.parametrize(("mutate", "expected"), [pytest.param(m, e, id=i)
                                                 for i, m, e in FRAME_CASES])
def test_frame_case_raises_exactly_its_problem(mutate, expected):
    frames = mutate(baseline_frames())
    with pytest.raises(DataContractError) as info:
        kpilib.Dataset.from_frames(**frames)
    assert [_key(p) for p in info.value.problems] == [expected]
    assert (info.value.table, info.value.column, info.value.rule) == expected[:3]


@pytest.mark.parametrize(("make", "expected"), [pytest.param(m, e, id=i)
                                               for i, m, e in FILE_CASES])
def test_file_case_raises_exactly_its_problem(make, expected, tmp_path):
    folder = make(tmp_path)
    with pytest.raises(DataContractError) as info:
        kpilib.load_dataset(folder)
    assert [_key(p) for p in info.value.problems] == [expected]


@pytest.mark.parametrize("case", ["text_in_numeric", "dangling_order_id", "shipped_10x_ordered",
                                  "missing_orders"])
def test_validate_returns_the_same_problems_without_raising(case):
    [(mutate, expected)] = [(m, e) for i, m, e in FRAME_CASES if i == case]
    assert [_key(p) for p in kpilib.validate(mutate(baseline_frames()))] == [expected]


@pytest.mark.parametrize("case", ["binary_junk_csv", "header_only_orders",
                                  "naive_timestamps_csv"])
def test_validate_folder_returns_the_same_problems(case, tmp_path):
    [(make, expected)] = [(m, e) for i, m, e in FILE_CASES if i == case]
    assert [_key(p) for p in kpilib.validate(make(tmp_path))] == [expected]


def test_there_are_at_least_35_distinct_cases_covering_every_data_rule():
    keys = [e for _, _, e in FRAME_CASES + FILE_CASES]
    assert len(set(keys)) >= 35
    covered = {e[2] for e in keys}
    data_rules = set(kpilib.contracts.RULES) - {"invalid_argument"}  # not a data problem
    assert data_rules <= covered, sorted(data_rules - covered)
