"""B7 cost per order and B8 parcel cost % of revenue; expectations worked out in comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build_dataset
from kpi_results import compute_one, excluded

import kpilib
from kpilib.errors import DataContractError

AS_OF = "2024-04-30T00:00Z"  # after the fixtures' data ends (allow_future_as_of)


def one(ds, kpi, as_of=AS_OF, **kw):
    return compute_one(ds, kpi, as_of, allow_future_as_of=True, **kw)


JAN = pd.Timestamp("2024-01-01", tz="UTC")
FEB = pd.Timestamp("2024-02-01", tz="UTC")


def ship(sid, order, at, node="N1", cost=None, final=True, **kw):
    row = {"shipment_id": sid, "order_id": order, "node_id": node, "created_at": at,
           "shipped_at": at, "delivery_status": "in_transit", "parcel_cost_final": final, **kw}
    if cost is not None:
        row["parcel_cost"] = cost
    return row


# --------------------------------------------------------------------------- B7


def _cost_ds(costs, shipments, orders=None, lines=None, shipment_lines=None):
    orders = orders or [{"order_id": f"O{i}"} for i in range(1, 6)]
    return build_dataset(orders=orders, order_lines=lines, shipments=shipments,
                         shipment_lines=shipment_lines, fulfillment_costs=costs,
                         nodes=[{"node_id": "N1"}, {"node_id": "N2", "fulfillment_model": "3pl"}])


def test_cost_per_order_prorates_cost_periods_by_day():
    # 300 over 2024-01-16..2024-02-14 inclusive = 30 days -> 10 per day:
    # January gets 16 days = 160, February 14 days = 140
    costs = [{"period_start": "2024-01-16", "period_end": "2024-02-14", "amount": 300.0,
              "cost_pool": "labor"}]
    ships = [ship("S1", "O1", "2024-01-20T10:00Z"), ship("S2", "O2", "2024-01-25T10:00Z"),
             ship("S3", "O3", "2024-02-03T10:00Z")]
    ds = _cost_ds(costs, ships)
    res = kpilib.compute(ds, ["cost_per_order"], freq="M", as_of="2024-02-29T00:00Z",
                         allow_future_as_of=True)
    v = res.set_index("period")
    assert v.loc[JAN, "value"] == pytest.approx(80.0)       # 160 / 2 slices
    assert v.loc[JAN, "numerator"] == pytest.approx(160.0)
    assert v.loc[FEB, "value"] == pytest.approx(140.0)      # 140 / 1 slice
    total = one(ds, "cost_per_order", as_of="2024-02-29T00:00Z")
    assert total["value"] == pytest.approx(100.0)           # 300 / 3


def test_cost_per_order_transfers_only_when_included_and_test_orders_out():
    costs = [{"period_start": "2024-01-01", "period_end": "2024-01-31", "amount": 620.0}]
    orders = [{"order_id": "O1"}, {"order_id": "O2", "order_type": "transfer"},
              {"order_id": "O3", "is_test": True}, {"order_id": "O4"}]
    ships = [ship("S1", "O1", "2024-01-05T00:00Z"), ship("S2", "O2", "2024-01-05T00:00Z"),
             ship("S3", "O3", "2024-01-05T00:00Z"), ship("S4", "O4", "2024-01-06T00:00Z")]
    ds = _cost_ds(costs, ships, orders=orders)
    row = one(ds, "cost_per_order")
    # 620 / 2 (O1, O4); the transfer and the test order are counted as excluded
    assert row["value"] == pytest.approx(310.0) and row["denominator"] == 2
    assert excluded(row) == {"transfer_order": 1, "is_test": 1}
    row = one(ds, "cost_per_order", params={"include_transfers": True})
    assert row["value"] == pytest.approx(620.0 / 3)


def test_cost_per_order_slice_with_two_shipments_counts_once_and_freight_variant():
    costs = [{"period_start": "2024-01-01", "period_end": "2024-01-31", "amount": 93.0,
              "cost_pool": "packaging"}]
    ships = [ship("S1", "O1", "2024-01-05T00:00Z", cost=4.0),
             ship("S2", "O1", "2024-01-07T00:00Z", cost=6.0),
             ship("S3", "O2", "2024-01-08T00:00Z", cost=5.0)]
    ds = _cost_ds(costs, ships)
    row = one(ds, "cost_per_order")
    assert row["value"] == pytest.approx(46.5) and row["denominator"] == 2   # 93 / 2 slices
    fr = one(ds, "cost_per_order_incl_freight")
    assert fr["value"] == pytest.approx((93 + 4 + 6 + 5) / 2)                # 54.0


def test_cost_per_order_zero_shipped_is_undefined_by_node():
    costs = [{"node_id": "N1", "period_start": "2024-01-01", "period_end": "2024-01-31",
              "amount": 31.0},
             {"node_id": "N2", "period_start": "2024-01-01", "period_end": "2024-01-31",
              "amount": 62.0}]
    ds = _cost_ds(costs, [ship("S1", "O1", "2024-01-05T00:00Z", node="N1")])
    res = kpilib.compute(ds, ["cost_per_order"], by=["node"], as_of=AS_OF,
                         allow_future_as_of=True).set_index("node")
    assert res.loc["N1", "value"] == pytest.approx(31.0)
    assert res.loc["N2", "status"] == "undefined" and np.isnan(res.loc["N2", "value"])
    by_model = kpilib.compute(ds, ["cost_per_order"], by=["fulfillment_model"],
                              as_of=AS_OF, allow_future_as_of=True).set_index("fulfillment_model")
    assert by_model.loc["owned_dc", "value"] == pytest.approx(31.0)


def test_cost_per_order_by_channel_allocates_by_slice_count():
    costs = [{"period_start": "2024-01-01", "period_end": "2024-01-31", "amount": 300.0}]
    orders = [{"order_id": "O1", "channel": "web"}, {"order_id": "O2", "channel": "web"},
              {"order_id": "O3", "channel": "mkt"}]
    ships = [ship("S1", "O1", "2024-01-05T00:00Z", cost=1.0),
             ship("S2", "O2", "2024-01-05T00:00Z", cost=1.0),
             ship("S3", "O3", "2024-01-05T00:00Z", cost=7.0)]
    ds = _cost_ds(costs, ships, orders=orders)
    res = kpilib.compute(ds, ["cost_per_order", "cost_per_order_incl_freight"],
                         by=["channel"], as_of=AS_OF,
                         allow_future_as_of=True).set_index(["kpi", "channel"])
    # web gets 2/3 of 300 = 200 over 2 slices, mkt 100 over 1: both 100 per order
    assert res.loc[("cost_per_order", "web"), "numerator"] == pytest.approx(200.0)
    assert res.loc[("cost_per_order", "mkt"), "value"] == pytest.approx(100.0)
    # freight goes to its own order's channel: web (200 + 2) / 2, mkt (100 + 7) / 1
    assert res.loc[("cost_per_order_incl_freight", "web"), "value"] == pytest.approx(101.0)
    assert res.loc[("cost_per_order_incl_freight", "mkt"), "value"] == pytest.approx(107.0)


def test_cost_rows_in_another_currency_are_a_contract_error_not_a_number():
    # the data model has no exchange rates: a USD cost beside EUR orders (the builders'
    # default) cannot be added to them, so loading fails on the minority rows
    costs = [{"period_start": "2024-01-01", "period_end": "2024-01-31", "amount": 31.0},
             {"period_start": "2024-01-01", "period_end": "2024-01-31", "amount": 3100.0,
              "currency": "USD"}]
    with pytest.raises(DataContractError) as err:
        _cost_ds(costs, [ship("S1", "O1", "2024-01-05T00:00Z")])
    bad = [p for p in err.value.problems if p.rule == "mixed_currency"]
    assert [(p.table, p.column, p.n_rows) for p in bad] == [("fulfillment_costs", "currency", 1)]


def test_cost_per_order_window_prorates_to_its_days():
    costs = [{"period_start": "2024-01-01", "period_end": "2024-01-31", "amount": 310.0}]
    ds = _cost_ds(costs, [ship("S1", "O1", "2024-01-05T00:00Z"),
                          ship("S2", "O2", "2024-01-15T00:00Z")])
    row = one(ds, "cost_per_order", start="2024-01-11", end="2024-01-21")
    # window [01-11, 01-21) holds 10 cost days (10 each = 100) and one shipped slice (S2)
    assert row["numerator"] == pytest.approx(100.0) and row["denominator"] == 1


def test_cost_per_order_needs_costs_table():
    ds = build_dataset(orders=[{"order_id": "O1"}], shipments=[ship("S1", "O1",
                                                                    "2024-01-05T00:00Z")],
                       nodes=[{"node_id": "N1"}])
    assert one(ds, "cost_per_order")["status"] == "unavailable"


# --------------------------------------------------------------------------- B8


def _parcel_ds(shipments, orders=None):
    orders = orders or [{"order_id": "O1", "channel": "web"},
                        {"order_id": "O2", "channel": "mkt"},
                        {"order_id": "O3", "order_type": "replacement",
                         "parent_order_id": "O1"}]
    return build_dataset(
        orders=orders,
        order_lines=[{"order_line_id": "L1", "order_id": "O1", "sku": "A", "unit_price": 20.0,
                      "qty_ordered": 2},
                     {"order_line_id": "L2", "order_id": "O1", "sku": "B", "unit_price": 10.0},
                     {"order_line_id": "L3", "order_id": "O2", "sku": "A", "unit_price": 50.0},
                     {"order_line_id": "L4", "order_id": "O3", "sku": "A", "unit_price": 20.0}],
        products=[{"sku": "A", "product_class": "shoes"}, {"sku": "B", "product_class": "toys"}],
        nodes=[{"node_id": "N1"}],
        shipments=shipments,
        shipment_lines=[{"shipment_id": "S1", "order_line_id": "L1", "qty_shipped": 2},
                        {"shipment_id": "S1", "order_line_id": "L2", "qty_shipped": 1},
                        {"shipment_id": "S2", "order_line_id": "L3", "qty_shipped": 1},
                        {"shipment_id": "S3", "order_line_id": "L4", "qty_shipped": 1}])


SHIPS = [ship("S1", "O1", "2024-01-05T00:00Z", cost=6.0, carrier="DHL"),
         ship("S2", "O2", "2024-01-05T00:00Z", cost=5.0, carrier="UPS"),
         ship("S3", "O3", "2024-01-06T00:00Z", cost=4.0, carrier="UPS")]


def test_parcel_cost_share_replacement_costs_without_revenue():
    ds = _parcel_ds(SHIPS)
    row = one(ds, "parcel_cost_pct_revenue")
    # cost 6 + 5 + 4 = 15; revenue S1 2*20 + 1*10 = 50, S2 50, S3 replacement 0 -> 15/100
    assert row["value"] == pytest.approx(0.15)
    assert row["numerator"] == 15 and row["denominator"] == 100 and row["status"] == "ok"
    by_car = kpilib.compute(ds, ["parcel_cost_pct_revenue"], by=["carrier"],
                            as_of=AS_OF, allow_future_as_of=True).set_index("carrier")["value"]
    assert by_car["DHL"] == pytest.approx(6 / 50) and by_car["UPS"] == pytest.approx(9 / 50)


def test_parcel_cost_by_product_class_allocates_cost_by_units():
    ds = _parcel_ds(SHIPS)
    res = kpilib.compute(ds, ["parcel_cost_pct_revenue"], by=["product_class"],
                         as_of=AS_OF, allow_future_as_of=True).set_index("product_class")
    # S1: 3 units, 2 shoes (cost 4, revenue 40) and 1 toy (cost 2, revenue 10);
    # shoes: (4 + 5 + 4) / (40 + 50 + 0) = 13/90; toys 2/10
    assert res.loc["shoes", "value"] == pytest.approx(13 / 90)
    assert res.loc["toys", "value"] == pytest.approx(0.2)


def test_parcel_cost_preliminary_until_final_or_60_days_and_missing_cost():
    ships = [ship("S1", "O1", "2024-01-05T00:00Z", cost=6.0, final=False),
             ship("S2", "O2", "2024-01-05T00:00Z"),                    # no cost yet
             ship("S3", "O3", "2024-01-06T00:00Z", cost=4.0)]
    ds = _parcel_ds(ships)
    row = one(ds, "parcel_cost_pct_revenue", as_of="2024-02-01T00:00Z")
    # S1 not final and 27 days old -> preliminary; S2 excluded; (6 + 4) / 50
    assert row["status"] == "preliminary" and row["value"] == pytest.approx(0.2)
    assert excluded(row) == {"missing_parcel_cost": 1}
    later = one(ds, "parcel_cost_pct_revenue", as_of="2024-03-06T00:00Z")   # 61 days on
    assert later["status"] == "ok"


def test_parcel_cost_zero_revenue_is_undefined_and_test_orders_out():
    orders = [{"order_id": "O1", "is_test": True}, {"order_id": "O2"},
              {"order_id": "O3", "order_type": "replacement", "parent_order_id": "O2"}]
    ds = _parcel_ds([ship("S1", "O1", "2024-01-05T00:00Z", cost=6.0),
                     ship("S2", "O2", "2024-01-07T00:00Z"),       # created, not shipped
                     ship("S3", "O3", "2024-01-06T00:00Z", cost=4.0)], orders=orders)
    sh = ds.shipments.copy()
    sh.loc[sh["shipment_id"].eq("S2"), "shipped_at"] = pd.NaT
    ds = ds.replace(shipments=sh)
    row = one(ds, "parcel_cost_pct_revenue")
    # only the replacement (cost 4, revenue 0) is left: Σrevenue 0 -> undefined
    assert row["status"] == "undefined" and np.isnan(row["value"])
    assert excluded(row) == {"is_test": 1}


def test_orders_in_two_currencies_are_a_contract_error_not_a_number():
    # O2's 50 USD of revenue cannot be added to EUR revenue: the minority order is named
    orders = [{"order_id": "O1", "channel": "web"},
              {"order_id": "O2", "channel": "mkt", "currency": "USD"},
              {"order_id": "O3", "order_type": "replacement", "parent_order_id": "O1"}]
    with pytest.raises(DataContractError) as err:
        _parcel_ds(SHIPS, orders=orders)
    bad = [p for p in err.value.problems if p.rule == "mixed_currency"]
    assert [(p.table, p.column, p.n_rows) for p in bad] == [("orders", "currency", 1)]
    assert "O2" in str(bad[0].examples)


# --------------------------------------------------------------------------- scenario recovery


def test_apparel_surge_cost_per_order_rises_in_surge_weeks():
    """apparel_surge injects promotion campaigns (truth['surge']['dates']); the extra,
    split and expedited work must show as a higher weekly cost per order in those weeks."""
    from kpilib.synth import generate

    tables, truth = generate("apparel_surge", seed=3, days=120, scale=0.2)
    ds = kpilib.Dataset.from_frames(**tables)
    res = kpilib.compute(ds, ["cost_per_order"], freq="W")
    res = res.loc[res["status"] != "undefined"]
    surge_days = pd.to_datetime(truth["surge"]["dates"]).tz_localize("UTC")
    surge_weeks = set(surge_days - pd.to_timedelta(surge_days.weekday, unit="D"))
    in_surge = res["period"].isin(surge_weeks)
    assert in_surge.any() and (~in_surge).any()
    assert res.loc[in_surge, "value"].mean() > 1.15 * res.loc[~in_surge, "value"].median()
