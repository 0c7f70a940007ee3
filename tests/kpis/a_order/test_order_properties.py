"""Invariants of A1-A10 on random small datasets (hypothesis).

1. value == numerator / denominator wherever the denominator is positive;
2. cutting by an order-level attribute (channel) and re-summing numerators, denominators and
   n gives the unsegmented figures (sub-units equal units for order-level dimensions);
3. adding a test order, or a fraud-cancelled order, changes no value, numerator, denominator,
   n or status: they only show up in ``excluded``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import build_dataset
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import kpilib

AS_OF = "2024-01-20T00:00Z"  # after the fixtures' data ends (allow_future_as_of)
T0 = pd.Timestamp("2024-01-01", tz="UTC")
IDS = ["perfect_order_rate", "in_full_rate", "on_time_delivery_rate",
       "documentation_accuracy_rate", "perfect_condition_rate", "otif_rate", "order_fill_rate",
       "line_fill_rate", "unit_fill_rate", "backorder_rate", "backorder_age_hours",
       "backorder_units_open"]
H = pd.Timedelta(hours=1)
COLS = ["kpi", "value", "numerator", "denominator", "n", "p50", "p90", "status"]


@st.composite
def tables(draw):
    t = {k: [] for k in ("orders", "order_lines", "shipments", "shipment_lines",
                         "order_events", "returns")}
    for i in range(draw(st.integers(1, 4))):
        oid = f"O{i}"
        created = T0 + draw(st.integers(0, 72)) * H
        order = {"order_id": oid, "created_at": created,
                 "channel": draw(st.sampled_from(["web", "mkt"]))}
        t["orders"].append(order)
        cancelled = []          # per line: (fully cancelled?, any merchant-cancelled unit?)
        for j in range(draw(st.integers(1, 3))):
            lid = f"L{i}_{j}"
            qty = draw(st.integers(1, 3))
            cc = draw(st.integers(0, qty))
            cm = draw(st.integers(0, qty - cc))
            t["order_lines"].append({
                "order_line_id": lid, "order_id": oid, "qty_ordered": float(qty),
                "qty_cancelled_customer": float(cc), "qty_cancelled_merchant": float(cm),
                "promised_delivery_at_original": created + draw(st.sampled_from([72, 120])) * H,
                "promise_is_date": draw(st.booleans())})
            cancelled.append((cc + cm == qty, cm > 0))
            left = qty - cc - cm          # cancelled units never ship
            for k in range(draw(st.integers(0, 2))):
                if left <= 0:
                    break
                q = draw(st.integers(1, left))
                left -= q
                sid = f"S{i}_{j}_{k}"
                made = created + draw(st.integers(1, 48)) * H
                shipped = made + draw(st.integers(0, 24)) * H
                status = draw(st.sampled_from(["delivered", "in_transit", "lost", "failed"]))
                delivered = shipped + draw(st.integers(1, 120)) * H
                t["shipments"].append({
                    "shipment_id": sid, "order_id": oid, "created_at": made,
                    "shipped_at": shipped, "delivery_status": status,
                    "delivered_at": delivered if status == "delivered" else pd.NaT})
                t["shipment_lines"].append({"shipment_id": sid, "order_line_id": lid,
                                            "qty_shipped": float(q)})
                if status == "delivered" and draw(st.integers(0, 3)) == 0:
                    t["returns"].append({
                        "order_id": oid, "order_line_id": lid, "qty": 1.0,
                        "return_reason": draw(st.sampled_from(["wrong_item", "damaged",
                                                               "changed_mind"])),
                        "rma_requested_at": delivered + 24 * H})
            if draw(st.integers(0, 2)) == 0:
                t["order_events"].append({"order_id": oid, "order_line_id": lid,
                                          "event_type": draw(st.sampled_from(
                                              ["backordered", "doc_defect"])),
                                          "event_at": created + draw(st.integers(1, 48)) * H})
        if all(full for full, _ in cancelled):
            # every line cancelled: the order is cancelled (rule cancelled_without_timestamp)
            merchant = any(m for _, m in cancelled)
            order.update(cancelled_at=created + draw(st.integers(1, 48)) * H,
                         cancel_initiator="merchant" if merchant else "customer",
                         cancel_reason="stockout" if merchant else "other")
    return t


def _with_noise(t):
    """The same tables plus a shipped test order and a fraud-cancelled backordered order."""
    t = {k: list(v) for k, v in t.items()}
    t["orders"] += [{"order_id": "OT", "is_test": True, "channel": "web", "created_at": T0},
                    {"order_id": "OF", "channel": "mkt", "created_at": T0,
                     "cancelled_at": T0 + 30 * H, "cancel_initiator": "fraud"}]
    t["order_lines"] += [{"order_line_id": "LT", "order_id": "OT", "qty_ordered": 2.0},
                         {"order_line_id": "LF", "order_id": "OF"}]
    t["shipments"].append({"shipment_id": "ST", "order_id": "OT", "created_at": T0 + H,
                           "shipped_at": T0 + 2 * H, "delivery_status": "delivered",
                           "delivered_at": T0 + 200 * H})
    t["shipment_lines"].append({"shipment_id": "ST", "order_line_id": "LT", "qty_shipped": 1.0})
    t["order_events"] += [{"order_id": "OF", "order_line_id": "LF", "event_type": "backordered",
                           "event_at": T0 + 5 * H},
                          {"order_id": "OT", "order_line_id": "LT", "event_type": "doc_defect",
                           "event_at": T0 + 3 * H}]
    return t


def _ds(t):
    t = dict(t)
    t["order_events"] = t["order_events"] or [{"order_id": "O0", "event_type": "created",
                                               "event_at": T0 + 80 * H}]
    t["returns"] = t["returns"] or [{"order_id": "O0", "order_line_id": "L0_0",
                                     "return_reason": "changed_mind"}]
    return build_dataset(**t)


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_order_kpi_invariants(t):
    assume(t["shipments"])            # the A-domain KPIs need the shipments table
    ds = _ds(t)
    base = kpilib.compute(ds, IDS, as_of=AS_OF, allow_future_as_of=True)
    # 1. value == numerator / denominator
    ok = base.loc[base["denominator"] > 0]
    rate = ok.loc[ok["kpi"] != "backorder_units_open"]
    assert np.allclose(rate["value"], rate["numerator"] / rate["denominator"])
    units = ok.loc[ok["kpi"] == "backorder_units_open"]
    assert np.allclose(units["value"], units["numerator"])
    assert base.loc[base["denominator"] == 0, "status"].isin(["undefined", "unavailable"]).all()
    # 2. channel cut re-sums to the total
    by = kpilib.compute(ds, IDS, as_of=AS_OF, by=["channel"], allow_future_as_of=True)
    summed = by.groupby("kpi")[["numerator", "denominator", "n"]].sum()
    total = base.set_index("kpi")[["numerator", "denominator", "n"]].fillna(0.0)
    pd.testing.assert_frame_equal(summed.loc[total.index].astype(float), total.astype(float),
                                  check_names=False)
    # 3. test and fraud orders change nothing but the excluded counts
    noisy = kpilib.compute(_ds(_with_noise(t)), IDS, as_of=AS_OF, allow_future_as_of=True)
    pd.testing.assert_frame_equal(noisy[COLS], base[COLS])
