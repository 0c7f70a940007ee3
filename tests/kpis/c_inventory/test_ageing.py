"""C3 FIFO ageing: layers worked out by hand, ERPNext-style rules."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import build_dataset

import kpilib
from kpilib.fact_tables.fifo import age_layers, fifo_layers, fifo_layers_at

AS_OF = pd.Timestamp("2024-03-01T12:00Z")  # after the fixtures' data ends (allow_future_as_of)


def mv(rows):
    """rows: (id, node, moved_at day, type, qty_delta[, group[, cost]])"""
    out = []
    for r in rows:
        mid, node, day, typ, q, *rest = r
        out.append({"movement_id": mid, "node_id": node, "sku": "SKU1",
                    "moved_at": pd.Timestamp(f"{day}T10:00Z"), "movement_type": typ,
                    "qty_delta": float(q), "unit_cost": rest[1] if len(rest) > 1 else 2.0,
                    "transfer_group_id": rest[0] if rest else None})
    return pd.DataFrame(out)


def layers_of(rows, as_of=AS_OF, partition="node"):
    lay = fifo_layers(mv(rows), as_of, partition)
    return sorted((r.node_id, str(r.layer_date.date()), r.qty) for r in lay.itertuples())


def test_oldest_consumed_first():
    # in 10 (01-01), in 10 (01-15), ship 15 (01-20) -> 5 left from 01-15
    assert layers_of([("M1", "N1", "2024-01-01", "receipt", 10),
                      ("M2", "N1", "2024-01-15", "receipt", 10),
                      ("M3", "N1", "2024-01-20", "ship", -15)]) == [("N1", "2024-01-15", 5)]


def test_negative_stock_is_offset_by_the_next_arrival():
    # in 5, out 9 (stock -4), in 10 -> the arrival first fills the hole: one layer of 6
    assert layers_of([("M1", "N1", "2024-01-01", "receipt", 5),
                      ("M2", "N1", "2024-01-02", "ship", -9),
                      ("M3", "N1", "2024-01-10", "receipt", 10)]) == [("N1", "2024-01-10", 6)]


def test_negative_balance_has_no_layers():
    assert layers_of([("M1", "N1", "2024-01-01", "receipt", 5),
                      ("M2", "N1", "2024-01-02", "ship", -9)]) == []


def test_count_adjustments_add_new_layers_or_consume_oldest():
    # in 10 (01-01); count finds +3 (02-01, new layer); count loses 4 (02-05, oldest)
    assert layers_of([("M1", "N1", "2024-01-01", "receipt", 10),
                      ("M2", "N1", "2024-02-01", "adjust_count", 3),
                      ("M3", "N1", "2024-02-05", "adjust_count", -4)]) == [
        ("N1", "2024-01-01", 6), ("N1", "2024-02-01", 3)]


TRANSFERS = [
    ("M1", "N1", "2024-01-01", "receipt", 10),
    ("M2", "N1", "2024-02-01", "receipt", 10),
    ("M3", "N1", "2024-02-10", "transfer_out", -12, "G1"),  # takes 10 of 01-01, 2 of 02-01
    ("M4", "N2", "2024-02-11", "transfer_in", 12, "G1"),
    ("M5", "N2", "2024-02-20", "ship", -5),                   # 5 of the 01-01 units
    ("M6", "N2", "2024-02-25", "transfer_out", -6, "G2"),     # 5 of 01-01 + 1 of 02-01
    ("M7", "N3", "2024-02-26", "transfer_in", 6, "G2"),
]


def test_transfers_keep_their_age_through_a_chain():
    assert layers_of(TRANSFERS) == [
        ("N1", "2024-02-01", 8),                              # 10 - 2 transferred
        ("N2", "2024-02-01", 1),                              # 2 received - 1 sent on
        ("N3", "2024-01-01", 5), ("N3", "2024-02-01", 1),     # dates inherited twice
    ]


def test_company_partition_ignores_transfers():
    # all nodes as one queue, transfer legs dropped: in 10 (01-01), in 10 (02-01), ship 5
    assert layers_of(TRANSFERS, partition="company") == [
        ("ALL", "2024-01-01", 5), ("ALL", "2024-02-01", 10)]


def test_as_of_replays_only_the_past():
    rows = [("M1", "N1", "2024-01-01", "receipt", 10), ("M2", "N1", "2024-03-10", "ship", -10)]
    assert layers_of(rows) == [("N1", "2024-01-01", 10)]


def test_buckets_have_inclusive_upper_bounds():
    # as-of day 03-01: 01-31 is 30 days old -> 0-30; 01-30 -> 31 days -> 31-60;
    # 12-02 -> 90 days -> 61-90; 12-01 -> 91 days -> 91+
    layers = pd.DataFrame({"layer_date": pd.to_datetime(
        ["2024-01-31", "2024-01-30", "2023-12-02", "2023-12-01"], utc=True),
        "qty": 1.0, "unit_cost": 1.0})
    aged = age_layers(layers, AS_OF)
    assert list(aged["age_days"]) == [30, 31, 90, 91]
    assert list(aged["age_bucket"]) == ["0-30", "31-60", "61-90", "91+"]
    custom = age_layers(layers, AS_OF, bounds=(45,))
    assert list(custom["age_bucket"]) == ["0-45", "0-45", "46+", "46+"]


def _ds():
    rows = mv(TRANSFERS)
    rows["moved_at"] = rows["moved_at"].dt.strftime("%Y-%m-%dT%H:%MZ")
    return build_dataset(inventory_movements=rows.to_dict("records"),
                         nodes=[{"node_id": n} for n in ("N1", "N2", "N3")],
                         orders=[{"order_id": "O1"}])


def test_age_kpis_by_node():
    res = kpilib.compute(_ds(), ["inventory_age_buckets", "average_inventory_age_days",
                                 "aged_inventory_share_90p"], by=["node"], as_of=AS_OF,
                                 allow_future_as_of=True)
    r = res.set_index(["kpi", "node"])
    assert r.loc[("inventory_age_buckets", "N1"), "value"] == 8
    # N3: 5 units aged 60 d (01-01 -> 03-01) and 1 unit aged 29 d: (300 + 29) / 6
    assert r.loc[("average_inventory_age_days", "N3"), "value"] == pytest.approx(329 / 6)
    assert r.loc[("aged_inventory_share_90p", "N3"), "value"] == 0.0
    by_bucket = kpilib.compute(_ds(), ["inventory_age_buckets"], by=["age_bucket"], as_of=AS_OF,
                               allow_future_as_of=True)
    # N1 8 + N2 1 + N3 1 units of 02-01 (29 d) = 10 in 0-30; N3's 5 units (60 d) in 31-60
    assert by_bucket.set_index("age_bucket")["value"].to_dict() == {"0-30": 10, "31-60": 5}


def test_aged_share_counts_value_beyond_the_last_bound():
    rows = mv([("M1", "N1", "2023-10-01", "receipt", 4, None, 5.0),    # 152 d old, value 20
               ("M2", "N1", "2024-02-20", "receipt", 6, None, 10.0)])  # value 60
    rows["moved_at"] = rows["moved_at"].dt.strftime("%Y-%m-%dT%H:%MZ")
    ds = build_dataset(inventory_movements=rows.to_dict("records"), nodes=[{"node_id": "N1"}],
                       orders=[{"order_id": "O1"}])
    row = kpilib.compute(ds, ["aged_inventory_share_90p"], as_of=AS_OF,
                         allow_future_as_of=True).iloc[0]
    assert row["value"] == pytest.approx(20 / 80)


def test_layers_at_many_times_equal_one_replay_per_time():
    frame = mv(TRANSFERS + [("M8", "N1", "2024-02-28", "receipt", 3),
                            ("M9", "N1", "2024-02-29", "ship", -9)])
    times = [pd.Timestamp(f"2024-{d}T00:00Z") for d in
             ("01-15", "02-10", "02-11", "02-21", "02-26", "02-29", "03-02")]
    many = fifo_layers_at(frame, times)
    for t in times:
        one_t = fifo_layers(frame, t)
        got = many.loc[many["t"] == t].drop(columns="t")
        key = ["node_id", "layer_date", "movement_id"]
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True)[sorted(got.columns)],
            one_t.sort_values(key).reset_index(drop=True)[sorted(got.columns)],
            check_dtype=False)


def test_inventory_age_value_by_bucket_and_weekly():
    # N1 layers at 03-01: 4 units received 2023-10-01 at 5.0 (152 d, 91+, value 20), 2 of the
    # 6 units received 02-20 at 10.0 shipped on 02-25 (FIFO takes the oldest first, so the
    # 2 leave the 2023 layer: 2 units x 5.0 = 10 left there), 6 x 10.0 = 60 in 0-30.
    rows = mv([("M1", "N1", "2023-10-01", "receipt", 4, None, 5.0),
               ("M2", "N1", "2024-02-20", "receipt", 6, None, 10.0),
               ("M3", "N1", "2024-02-25", "ship", -2, None, 5.0)])
    rows["moved_at"] = rows["moved_at"].dt.strftime("%Y-%m-%dT%H:%MZ")
    ds = build_dataset(inventory_movements=rows.to_dict("records"), nodes=[{"node_id": "N1"}],
                       orders=[{"order_id": "O1"}])
    total = kpilib.compute(ds, ["inventory_age_value"], as_of=AS_OF,
                           allow_future_as_of=True).iloc[0]
    assert total["value"] == pytest.approx(70.0) and total["n"] == 2   # 2 layers left
    by = kpilib.compute(ds, ["inventory_age_value"], by=["age_bucket"], as_of=AS_OF,
                        allow_future_as_of=True)
    assert by.set_index("age_bucket")["value"].to_dict() == {"0-30": 60.0, "91+": 10.0}
    # weekly snapshots: the week of 02-12 (snapshot at its end, 02-19 00:00) holds only the
    # 4 old units (20); the week of 02-19 (end 02-26) holds 70 after the ship of 02-25
    weekly = kpilib.compute(ds, ["inventory_age_value"], freq="W", as_of=AS_OF,
                            start="2024-02-12", end="2024-02-26", allow_future_as_of=True)
    assert weekly["value"].tolist() == [20.0, 70.0]
