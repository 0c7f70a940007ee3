"""B4 dock-to-stock time and open receipt age on hand-built receipt lines."""

from __future__ import annotations

import pandas as pd
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib

AS_OF = "2024-02-01T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


DAY1 = pd.Timestamp("2024-01-01", tz="UTC")
DAY2 = pd.Timestamp("2024-01-02", tz="UTC")


# --------------------------------------------------------------------------- B4 dock-to-stock


RECEIPTS = [
    {"receipt_line_id": "R1", "dock_arrival_at": "2024-01-01T01:00Z",
     "received_at": "2024-01-01T02:00Z", "putaway_completed_at": "2024-01-01T05:00Z",
     "supplier_id": "SUP1"},                                               # 4 h
    {"receipt_line_id": "R2", "received_at": "2024-01-01T02:00Z",
     "putaway_completed_at": "2024-01-01T04:00Z"},                         # fallback: 2 h
    {"receipt_line_id": "R3", "dock_arrival_at": "2024-01-01T00:00Z",
     "received_at": "2024-01-01T01:00Z", "putaway_completed_at": "2024-01-01T02:00Z",
     "is_crossdock": True},                                                # excluded
    {"receipt_line_id": "R4", "dock_arrival_at": "2024-01-01T20:00Z",
     "received_at": "2024-01-01T22:00Z", "qa_hold": True},                 # not put away
]


def test_dock_to_stock_fallback_crossdock_and_pending():
    ds = build_dataset(receipts=RECEIPTS, nodes=[{"node_id": "N1"}],
                       products=[{"sku": "SKU1", "supplier_id": "SUP9"}])
    row = one(ds, "dock_to_stock_hours")
    # R1 4 h, R2 2 h (from received_at) -> mean 3; R3 cross-dock; R4 pending
    assert row["value"] == 3.0 and row["n"] == 2 and row["p50"] == 3.0
    assert excluded(row) == {"crossdock": 1, "fallback_received_at": 1}
    by_sup = kpilib.compute(ds, ["dock_to_stock_hours"], by=["supplier"],
                            as_of=AS_OF, allow_future_as_of=True).set_index("supplier")["value"]
    # R1 has its own supplier SUP1; R2 falls back to the product's primary supplier SUP9
    assert by_sup["SUP1"] == 4.0 and by_sup["SUP9"] == 2.0


def test_dock_to_stock_negative_duration_is_excluded():
    ds = build_dataset(receipts=RECEIPTS[:2], nodes=[{"node_id": "N1"}])
    bad = ds.receipts.copy()
    # clock skew: putaway stamped before dock arrival (the contract rejects this on load,
    # so the table is swapped in after validation)
    bad.loc[0, "putaway_completed_at"] = pd.Timestamp("2024-01-01T00:30Z")
    ds = ds.replace(receipts=bad)
    row = one(ds, "dock_to_stock_hours")
    assert row["value"] == 2.0 and excluded(row) == {"negative_duration": 1,
                                                     "fallback_received_at": 1}


def test_open_receipt_age_snapshots():
    ds = build_dataset(receipts=RECEIPTS, nodes=[{"node_id": "N1"}])
    row = one(ds, "open_receipt_age_hours", as_of="2024-01-02T20:00Z")
    # only R4 open: 01-02 20:00 - dock arrival 01-01 20:00 = 24 h
    assert row["value"] == 24.0 and row["n"] == 1
    daily = kpilib.compute(ds, ["open_receipt_age_hours"], freq="D", as_of="2024-01-02T20:00Z",
                           allow_future_as_of=True)
    v = daily.set_index("period")["value"]
    # end of 01-01 (01-02 00:00): R4 open for 4 h; 01-02 snapshot capped at as_of: 24 h
    assert v[DAY1] == 4.0 and v[DAY2] == 24.0


