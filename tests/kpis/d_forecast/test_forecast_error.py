"""D1-D8 forecast quality on a hand-built weekly example.

Cells (SKU1 at node N1, weeks starting Monday; forecast lag 1 week):
  week 01-01: A = 10; forecasts made 12-20 (F=8) and 12-30 (F=12, too late: after 12-25) -> F 8
  week 01-08: A = 0 (no lines); forecast made 12-31 (F=4)                               -> F 4
  week 01-15: A = 5; forecasts made 01-05 (F=5) and 01-07 (F=6, latest eligible)         -> F 6
  week 01-22: forecast only; not ended at as_of 01-25 -> pending
  SKU2 week 01-15: A = 3 allocated at node N2 (event beats assigned N1), no forecast -> excluded
Errors e = A - F: +2, -4, -1.
"""

from __future__ import annotations

import json

import pytest
from builders import build_dataset

import kpilib

AS_OF = "2024-01-25T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def _ds():
    orders = [{"order_id": "O1", "created_at": "2024-01-02T10:00Z"},
              {"order_id": "O2", "created_at": "2024-01-16T10:00Z"},
              {"order_id": "O3", "created_at": "2024-01-17T10:00Z"},
              {"order_id": "OT", "created_at": "2024-01-03T10:00Z", "is_test": True}]
    lines = [{"order_line_id": "L1", "order_id": "O1", "sku": "SKU1", "qty_ordered": 10,
              "assigned_node_id": "N1"},
             {"order_line_id": "L2", "order_id": "O2", "sku": "SKU1", "qty_ordered": 5,
              "assigned_node_id": "N1"},
             {"order_line_id": "L3", "order_id": "O3", "sku": "SKU2", "qty_ordered": 3,
              "assigned_node_id": "N1"},
             {"order_line_id": "LT", "order_id": "OT", "sku": "SKU1", "qty_ordered": 99,
              "assigned_node_id": "N1"}]   # test order: not demand
    events = [{"event_id": "E1", "order_id": "O3", "order_line_id": "L3", "node_id": "N2",
               "event_type": "allocation_attempt", "event_at": "2024-01-17T10:05Z",
               "qty": 3, "qty_confirmed": 3}]

    def f(target, made, q):
        return {"sku": "SKU1", "node_id": "N1", "target_period_start": target,
                "period_granularity": "week", "forecast_made_at": made, "qty_forecast": q}

    forecasts = [f("2024-01-01", "2023-12-20T00:00Z", 8), f("2024-01-01", "2023-12-30T00:00Z", 12),
                 f("2024-01-08", "2023-12-31T00:00Z", 4), f("2024-01-15", "2024-01-05T00:00Z", 5),
                 f("2024-01-15", "2024-01-07T00:00Z", 6), f("2024-01-22", "2024-01-10T00:00Z", 7)]
    products = [{"sku": "SKU1", "product_class": "beauty"},
                {"sku": "SKU2", "product_class": "home"}]
    nodes = [{"node_id": "N1"}, {"node_id": "N2"}]
    return build_dataset(orders=orders, order_lines=lines, order_events=events,
                         forecasts=forecasts, products=products, nodes=nodes)


@pytest.fixture(scope="module")
def res():
    out = kpilib.compute(_ds(), "forecast", as_of=AS_OF, allow_future_as_of=True)
    return out.set_index("kpi")


def test_cells_pick_latest_eligible_forecast_and_first_allocation_node():
    cells = kpilib.facts(_ds(), "forecast_cells", as_of=AS_OF, allow_future_as_of=True)
    sku1 = cells[cells["sku"] == "SKU1"]
    sku1 = sku1.set_index(sku1["target_start"].dt.strftime("%m-%d"))
    assert sku1["forecast"].to_dict() == {"01-01": 8, "01-08": 4, "01-15": 6, "01-22": 7}
    assert sku1["actual"].to_dict() == {"01-01": 10, "01-08": 0, "01-15": 5, "01-22": 0}
    assert sku1["complete"].to_dict() == {"01-01": True, "01-08": True, "01-15": True,
                                          "01-22": False}
    sku2 = cells[cells["sku"] == "SKU2"].iloc[0]
    assert sku2["node"] == "N2" and sku2["missing_forecast"]


def test_error_metrics(res):
    # ME = (2 - 4 - 1)/3 = -1 ; MAD = (2 + 4 + 1)/3 = 7/3
    assert res.loc["forecast_mean_error", "value"] == pytest.approx(-1.0)
    assert res.loc["forecast_mad", "value"] == pytest.approx(7 / 3)
    # MPE over A>0 cells (01-01, 01-15): (2/10 + -1/5)/2 = 0 ; MAPE (0.2 + 0.2)/2 = 0.2
    assert res.loc["forecast_mpe", "value"] == pytest.approx(0.0)
    assert res.loc["forecast_mape", "value"] == pytest.approx(0.2)
    assert json.loads(res.loc["forecast_mape", "excluded"]) == {"missing_forecast": 1,
                                                                "zero_actual": 1}
    # WAPE = 7/15 ; accuracy = 1 - 7/15 = 8/15
    assert res.loc["forecast_wape", "value"] == pytest.approx(7 / 15)
    assert res.loc["forecast_accuracy", "value"] == pytest.approx(8 / 15)
    # bias ratio = ΣF/ΣA - 1 = 18/15 - 1 = 0.2 (over-forecast); NFB = (18-15)/(18+15) = 1/11
    assert res.loc["forecast_bias_ratio", "value"] == pytest.approx(0.2)
    assert res.loc["normalized_forecast_bias", "value"] == pytest.approx(1 / 11)
    assert res.loc["forecast_wape", "numerator"] == pytest.approx(7.0)
    assert res.loc["forecast_wape", "denominator"] == pytest.approx(15.0)
    assert json.loads(res.loc["forecast_wape", "excluded"]) == {"missing_forecast": 1}


def test_tracking_signal_needs_k_periods(res):
    # only 3 complete periods < k = 12
    assert res.loc["tracking_signal", "status"] == "insufficient_data"


def test_missing_forecast_as_zero_brings_cell_in():
    out = kpilib.compute(_ds(), ["forecast_wape"], as_of=AS_OF,
                         params={"missing_forecast_as_zero": True}, allow_future_as_of=True).iloc[0]
    # SKU2 cell joins with F=0, A=3, |e|=3: WAPE = (7+3)/(15+3) = 10/18
    assert out["value"] == pytest.approx(10 / 18)


def test_bias_by_product_class():
    out = kpilib.compute(_ds(), ["forecast_bias_ratio"], by=["product_class"], as_of=AS_OF,
                         allow_future_as_of=True)
    out = out.set_index("product_class")
    assert out.loc["beauty", "value"] == pytest.approx(0.2)
    # home: its only cell has no forecast -> empty population -> undefined
    assert out.loc["home", "status"] == "undefined"


def test_tracking_signal_value_over_window():
    # six complete weeks for SKU1 with errors +2, +2, +2, +2, +2, -1 (A - F)
    weeks = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05"]
    actual = [12, 12, 12, 12, 12, 9]
    orders, lines, fc = [], [], []
    for i, (w, a) in enumerate(zip(weeks, actual, strict=True)):
        orders.append({"order_id": f"O{i}", "created_at": f"{w}T12:00Z"})
        lines.append({"order_line_id": f"L{i}", "order_id": f"O{i}", "sku": "SKU1",
                      "qty_ordered": a, "assigned_node_id": "N1"})
        fc.append({"sku": "SKU1", "node_id": "N1", "target_period_start": w,
                   "period_granularity": "week", "forecast_made_at": "2023-12-01T00:00Z",
                   "qty_forecast": 10})
    ds = build_dataset(orders=orders, order_lines=lines, forecasts=fc, nodes=[{"node_id": "N1"}])
    row = kpilib.compute(ds, ["tracking_signal"], as_of="2024-02-12T00:00Z",
                         params={"ts_window": 6}, allow_future_as_of=True).iloc[0]
    # Σe = 9, MAD = 11/6 -> TS = 9 / (11/6) = 54/11 = 4.909 (beyond +4: under-forecasting)
    assert row["value"] == pytest.approx(54 / 11)
    assert row["numerator"] == pytest.approx(9) and row["n"] == 6
    # a window of 4 (< 5) can never breach ±4: insufficient by rule
    row = kpilib.compute(ds, ["tracking_signal"], as_of="2024-02-12T00:00Z",
                         params={"ts_window": 4}, allow_future_as_of=True).iloc[0]
    assert row["status"] == "insufficient_data"
    weekly = kpilib.compute(ds, ["tracking_signal"], freq="W", as_of="2024-02-12T00:00Z",
                            params={"ts_window": 6}, allow_future_as_of=True)
    # snapshots at each week end: only the week of 02-05 (ends 02-12) and the current week
    # (snapshot capped at as_of 02-12) see six ended weeks
    status = weekly.set_index(weekly["period"].dt.strftime("%m-%d"))["status"]
    assert list(status[status == "ok"].index) == ["02-05", "02-12"]
    assert (status.drop(["02-05", "02-12"]) == "insufficient_data").all()


def test_forecast_kpis_unavailable_without_forecasts():
    ds = build_dataset(orders=[{"order_id": "O1"}])
    out = kpilib.compute(ds, "forecast")
    assert set(out["status"]) == {"unavailable"}
    assert out["note"].str.contains("forecasts").all()


def test_tracking_signal_of_a_segment_uses_its_per_period_errors():
    # class "beauty": SKU1 under-forecast by 2 every week, SKU2 over-forecast by 1 every week
    # -> segment error E_t = +1 in each of 6 weeks; TS = Σ E / mean|E| = 6 / 1 = 6
    weeks = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05"]
    orders, lines, fc = [], [], []
    for i, w in enumerate(weeks):
        for sku, a in (("SKU1", 12), ("SKU2", 9)):
            oid = f"O{sku}{i}"
            orders.append({"order_id": oid, "created_at": f"{w}T12:00Z"})
            lines.append({"order_line_id": f"L{sku}{i}", "order_id": oid, "sku": sku,
                          "qty_ordered": a, "assigned_node_id": "N1"})
            fc.append({"sku": sku, "node_id": "N1", "target_period_start": w,
                       "period_granularity": "week", "forecast_made_at": "2023-12-01T00:00Z",
                       "qty_forecast": 10})
    products = [{"sku": "SKU1", "product_class": "beauty"},
                {"sku": "SKU2", "product_class": "beauty"}]
    ds = build_dataset(orders=orders, order_lines=lines, forecasts=fc, products=products,
                       nodes=[{"node_id": "N1"}])
    by_class = kpilib.compute(ds, ["tracking_signal"], by=["product_class"],
                              as_of="2024-02-12T00:00Z", params={"ts_window": 6},
                              allow_future_as_of=True).iloc[0]
    assert by_class["value"] == pytest.approx(6.0)
    by_sku = kpilib.compute(ds, ["tracking_signal"], by=["sku"], as_of="2024-02-12T00:00Z",
                            params={"ts_window": 6}, allow_future_as_of=True).set_index("sku")
    # per SKU: SKU1 Σe = 12, MAD 2 -> +6; SKU2 Σe = -6, MAD 1 -> -6
    assert by_sku.loc["SKU1", "value"] == pytest.approx(6.0)
    assert by_sku.loc["SKU2", "value"] == pytest.approx(-6.0)
