"""Dataset: loading CSV/parquet, dtypes, round trip, fingerprint, data_as_of, absent tables."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from builders import build_dataset, build_frames
from pandas.testing import assert_frame_equal

import kpilib
from kpilib import schema
from kpilib.dataset import table_digest


@pytest.fixture
def small():
    return build_dataset(
        orders=[{"order_id": "O1", "created_at": "2024-03-01T10:00:00+01:00"},
                {"order_id": "O2", "created_at": "2024-03-02T08:00:00Z",
                 "merchandise_amount": 30.0}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "qty_ordered": 2},
                     {"order_line_id": "L2", "order_id": "O2", "qty_ordered": 3}],
        shipments=[{"shipment_id": "S1", "order_id": "O1", "shipped_at": "2024-03-01T12:00Z",
                    "delivered_at": "2024-03-03T09:30Z", "delivery_status": "delivered"}],
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1", "qty_shipped": 2}],
        inventory_snapshots=[{"snapshot_date": "2024-03-02", "qty_on_hand": 5}],
    )


def test_dtypes_follow_the_team_brief(small):
    expected = {schema.TEXT: "object", schema.NUM: "float64", schema.INT: "Int64",
                schema.BOOL: "bool", schema.DATE: "datetime64[ns]",
                schema.TS: "datetime64[ns, UTC]"}
    for name, frame in small.tables.items():
        table = schema.TABLES[name]
        assert list(frame.columns) == list(table.column_names), name
        for col in table.columns:
            assert str(frame[col.name].dtype) == expected[col.dtype], (name, col.name)


def test_timestamps_are_converted_to_utc(small):
    # 10:00 at +01:00 is 09:00 UTC
    assert small.orders.loc[0, "created_at"] == pd.Timestamp("2024-03-01T09:00Z")


def test_absent_optional_tables_are_none_and_optional_columns_added(small):
    assert small.returns is None and small.products is None
    assert "returns" not in small.tables
    assert small.orders["cancelled_at"].isna().all()
    assert (~small.order_lines["substitution_approved"]).all()  # optional bool null -> False
    assert small.orders["merchandise_amount"].tolist()[1] == 30.0


def test_data_as_of_is_latest_observed_time_ignoring_promises(small):
    # latest event: delivered_at 2024-03-03 09:30Z; promises (created + 3 days = 03-04/03-05)
    # are plans and ignored; the snapshot date 03-02 counts as midnight.
    assert small.data_as_of == pd.Timestamp("2024-03-03T09:30Z")


def test_parquet_round_trip_is_unchanged(small, tmp_path):
    small.to_parquet(tmp_path / "out")
    back = kpilib.load_dataset(tmp_path / "out")
    assert set(back.tables) == set(small.tables)
    for name, frame in small.tables.items():
        assert_frame_equal(back.tables[name], frame, check_exact=True)
    assert back.fingerprint() == small.fingerprint()


def test_csv_and_gz_load_like_frames(small, tmp_path):
    frames = build_frames(
        orders=[{"order_id": "O1", "created_at": "2024-03-01T10:00:00+01:00"}],
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "qty_ordered": 2}],
    )
    frames["orders"].to_csv(tmp_path / "orders.csv", index=False)
    frames["order_lines"].to_csv(tmp_path / "order_lines.csv.gz", index=False)
    (tmp_path / "truth.json").write_text("{}")  # non-table files are ignored
    ds = kpilib.load_dataset(tmp_path)
    direct = kpilib.Dataset.from_frames(**frames)
    for name in ("orders", "order_lines"):
        assert_frame_equal(ds.tables[name], direct.tables[name])
    assert ds.order_lines["qty_ordered"].tolist() == [2.0]
    assert ds.orders["is_test"].tolist() == [False]


def test_csv_text_keeps_leading_zeros_and_NA(tmp_path):
    (tmp_path / "orders.csv").write_text(
        "order_id,channel,order_type,is_test,created_at,currency\n"
        "00123,NA,standard,TRUE,2024-01-01T00:00:00Z,EUR\n")
    (tmp_path / "order_lines.csv").write_text(
        "order_line_id,order_id,sku,created_at,qty_ordered,qty_cancelled_customer,"
        "qty_cancelled_merchant,promised_delivery_at_original,promise_is_date,unit_price\n"
        "L1,00123,007,2024-01-01T00:00:00Z,1,0,0,2024-01-03T00:00:00Z,1,9.5\n")
    ds = kpilib.load_dataset(tmp_path)
    assert ds.orders.loc[0, "order_id"] == "00123"
    assert ds.orders.loc[0, "channel"] == "NA"
    assert bool(ds.orders.loc[0, "is_test"]) is True
    assert ds.order_lines.loc[0, "sku"] == "007"
    assert bool(ds.order_lines.loc[0, "promise_is_date"]) is True


def test_fingerprint_is_stable_across_row_order_and_changes_with_data(small):
    shuffled = small.replace(order_lines=small.order_lines.iloc[::-1].reset_index(drop=True),
                             orders=small.orders.iloc[::-1].reset_index(drop=True))
    assert shuffled.fingerprint() == small.fingerprint()
    changed = small.order_lines.copy()
    changed.loc[0, "qty_ordered"] = 3.0
    assert small.replace(order_lines=changed).fingerprint() != small.fingerprint()
    assert small.replace(shipment_lines=None).fingerprint() != small.fingerprint()


def test_fingerprint_is_sha256_of_the_sorted_table_digests(small):
    """fingerprint = sha256 of the per-table digests joined in table-name order; a change in
    one table changes that table's digest only, another row order changes none."""
    digests = {n: table_digest(n, f) for n, f in small.tables.items()}
    joined = "".join(digests[n] for n in sorted(digests))
    assert small.table_digests() == digests
    assert small.fingerprint() == hashlib.sha256(joined.encode()).hexdigest()
    changed = small.order_lines.copy()
    changed.loc[1, "qty_ordered"] = 4.0
    after = small.replace(order_lines=changed)
    assert after.fingerprint() != small.fingerprint()
    assert {n for n, d in after.table_digests().items() if d != digests[n]} == {"order_lines"}
    reordered = small.replace(order_lines=small.order_lines.iloc[::-1].reset_index(drop=True))
    assert reordered.table_digests() == digests


def test_replace_rehashes_only_the_swapped_tables(small, monkeypatch):
    """Digests are computed once per table; a Dataset from ``replace`` keeps those of the
    tables it did not swap."""
    small.fingerprint()
    hashed = []
    real = kpilib.dataset.table_digest
    monkeypatch.setattr(kpilib.dataset, "table_digest",
                        lambda name, frame: hashed.append(name) or real(name, frame))
    small.fingerprint()
    assert hashed == []
    small.replace(orders=small.orders.iloc[::-1].reset_index(drop=True)).fingerprint()
    assert hashed == ["orders"]


def test_fingerprint_is_deterministic_across_builds():
    def make():
        return build_dataset(order_lines=[{"qty_ordered": 4}], labor_hours=[{}, {"hours": 2}])

    assert make().fingerprint() == make().fingerprint()


def test_extra_user_columns_are_kept_after_schema_columns(tmp_path):
    frames = build_frames(orders=[{"region": "north"}])
    ds = kpilib.Dataset.from_frames(**frames)
    assert list(ds.orders.columns)[-1] == "region"
    assert ds.orders.loc[0, "region"] == "north"
    ds.to_parquet(tmp_path)
    assert_frame_equal(kpilib.load_dataset(tmp_path).orders, ds.orders)


def test_replace_rejects_unknown_tables(small):
    with pytest.raises(ValueError, match="unknown table"):
        small.replace(shipmentz=None)


def test_assume_tz_localizes_naive_timestamps():
    frames = build_frames(orders=[{"created_at": "2024-07-01 12:00:00"}],
                          order_lines=[{"created_at": "2024-07-01T10:00:00Z",
                                        "promised_delivery_at_original": "2024-07-04 12:00"}])
    ds = kpilib.Dataset.from_frames(assume_tz="Europe/Berlin", **frames)
    # Berlin is UTC+2 in July: 12:00 local = 10:00 UTC
    assert ds.orders.loc[0, "created_at"] == pd.Timestamp("2024-07-01T10:00Z")
    assert ds.order_lines.loc[0, "promised_delivery_at_original"] == pd.Timestamp(
        "2024-07-04T10:00Z")
