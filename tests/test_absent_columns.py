"""NOT NULL columns a source may honestly lack (``schema.ABSENT_DEFAULTS``): left out, they
get their documented default, the import report notes it, the KPIs that require them report
``unavailable`` naming the column, and every other KPI is exactly what it is with the default
written into the data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

import kpilib
from kpilib.cli.main import app
from kpilib.errors import DataContractError
from kpilib.synth.pipeline import generate

FLOW = ("orders", "order_lines", "shipments", "shipment_lines", "fulfillment_costs")


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    tables, _ = generate("omnichannel", seed=11, days=30, scale=0.03)
    return tables


def _all(ds) -> pd.DataFrame:
    return kpilib.compute(ds).set_index("kpi")


def test_orders_without_channel_read_as_one_unknown_channel(frames):
    lacking = kpilib.Dataset.from_frames(**{**frames, "orders": frames["orders"].drop(
        columns="channel")})
    written = kpilib.Dataset.from_frames(**{**frames, "orders": frames["orders"].assign(
        channel="unknown")})
    assert lacking.defaulted == {"orders.channel": "unknown"} and written.defaulted == {}
    assert set(lacking.orders["channel"]) == {"unknown"}
    # no KPI needs a real channel: every result equals the one with 'unknown' in the file,
    # and, uncut, the one with the real channels
    assert_frame_equal(_all(lacking), _all(written), check_exact=True)
    assert_frame_equal(_all(lacking), _all(kpilib.Dataset.from_frames(**frames)),
                       check_exact=True)
    cut = kpilib.compute(lacking, ["on_time_delivery_rate"], by=["channel"])
    assert cut["channel"].tolist() == ["unknown"]


def test_shipments_without_node_id_ship_from_one_default_node(frames):
    flow = {n: frames[n] for n in FLOW}
    flow["fulfillment_costs"] = flow["fulfillment_costs"].assign(node_id="default")
    ships = flow["shipments"]
    lacking = kpilib.Dataset.from_frames(**{**flow, "shipments": ships.drop(columns="node_id")})
    written = kpilib.Dataset.from_frames(**{**flow, "shipments": ships.assign(node_id="default")})
    assert lacking.defaulted == {"shipments.node_id": "default"}
    assert set(lacking.shipments["node_id"]) == {"default"}
    got, want = _all(lacking), _all(written)
    off = ["split_node_rate", "cost_per_order", "cost_per_order_incl_freight"]
    assert (want.loc[off, "status"] != "unavailable").all()  # computed with node_id given
    assert (got.loc[off, "status"] == "unavailable").all()
    assert got.loc["split_node_rate", "note"] == "not recorded in this data: shipments.node_id"
    assert got.loc["cost_per_order", "note"] == "not recorded in this data: shipments.node_id"
    assert got.loc[off, "value"].isna().all()
    assert_frame_equal(got.drop(index=off), want.drop(index=off), check_exact=True)
    # the one node must exist when a nodes table is given
    with pytest.raises(DataContractError) as err:
        kpilib.Dataset.from_frames(**{**frames, "shipments": ships.drop(columns="node_id")})
    fk = [p for p in err.value.problems if p.rule == "foreign_key"]
    assert [(p.table, p.column) for p in fk] == [("shipments", "node_id")]


def test_products_without_unit_cost_value_stock_from_the_snapshots(frames):
    lacking = kpilib.Dataset.from_frames(**{**frames, "products": frames["products"].drop(
        columns="unit_cost")})
    assert lacking.defaulted == {"products.unit_cost": None}
    assert lacking.products["unit_cost"].isna().all()
    got, full = _all(lacking), _all(kpilib.Dataset.from_frames(**frames))
    # days of supply rolls SKUs up weighted by unit cost: without it, by inventory_value /
    # qty_on_hand, exactly as with no products table; no other KPI reads products.unit_cost
    dos = ["days_of_supply", "days_of_supply_forward"]
    no_products = _all(kpilib.Dataset.from_frames(**{n: f for n, f in frames.items()
                                                     if n != "products"}))
    assert_frame_equal(got.loc[dos], no_products.loc[dos], check_exact=True)
    assert got.loc["days_of_supply", "status"] == "ok"
    assert got.loc["days_of_supply", "value"] != full.loc["days_of_supply", "value"]
    assert_frame_equal(got.drop(index=dos), full.drop(index=dos), check_exact=True)


def test_partly_empty_column_is_still_an_error_that_says_it_may_be_left_out(frames):
    orders = frames["orders"].copy()
    orders.loc[0, "channel"] = None
    with pytest.raises(DataContractError) as err:
        kpilib.Dataset.from_frames(**{**frames, "orders": orders})
    (p,) = [p for p in err.value.problems if p.column == "channel"]
    assert p.rule == "null_in_required" and p.n_rows == 1
    assert "leave the column out" in p.detail and "'unknown'" in p.detail


MAPPING = """name: bare_export
timezone: UTC
sources:
  export: {file: export.csv}
tables:
  orders:
    from: export
    unique: order_id
    columns:
      order_id: Order
      order_type: {value: standard}
      is_test: false
      created_at: Created
      currency: {value: EUR}
  order_lines:
    from: export
    columns:
      order_line_id: Line
      order_id: Order
      sku: SKU
      created_at: Created
      qty_ordered: Qty
      qty_cancelled_customer: 0
      qty_cancelled_merchant: 0
      promised_delivery_at_original: Promise
      promise_is_date: false
      unit_price: 5
  shipments:
    from: export
    unique: shipment_id
    columns:
      shipment_id: {format: "{Order}-S"}
      order_id: Order
      created_at: Shipped
      shipped_at: Shipped
      delivered_at: Delivered
      delivery_status: {value: delivered}
  shipment_lines:
    from: export
    columns:
      shipment_id: {format: "{Order}-S"}
      order_line_id: Line
      qty_shipped: Qty
"""


def test_import_report_notes_each_default_and_a_reload_keeps_it(tmp_path):
    # A1 ships two lines from the one node; B2 too: no order splits across nodes
    pd.DataFrame({
        "Order": ["A1", "A1", "B2"], "Line": ["A1-1", "A1-2", "B2-1"], "SKU": ["P", "Q", "P"],
        "Qty": ["1", "2", "1"], "Created": ["2024-01-02T10:00Z"] * 2 + ["2024-01-03T09:00Z"],
        "Promise": ["2024-01-06T00:00Z"] * 2 + ["2024-01-04T00:00Z"],
        "Shipped": ["2024-01-03T12:00Z"] * 2 + ["2024-01-03T15:00Z"],
        "Delivered": ["2024-01-05T12:00Z"] * 2 + ["2024-01-05T15:00Z"],
    }).to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "m.yaml").write_text(MAPPING)
    out = tmp_path / "ds"
    res = CliRunner().invoke(app, ["import", "mapped", str(tmp_path / "m.yaml"), "--out",
                                   str(out), "--no-backtest"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    absent = json.loads((out / "import_report.json").read_text())["absent"]
    assert absent["orders.channel"] == ("not in the source: filled with 'unknown'; KPIs "
                                        "unavailable without it: none")
    assert absent["shipments.node_id"] == (
        "not in the source: filled with 'default'; KPIs unavailable without it: "
        "split_node_rate, cost_per_order, cost_per_order_incl_freight")
    assert "products.unit_cost" not in absent  # no products table: nothing to default
    ds = kpilib.load_dataset(out)
    assert ds.defaulted == {"orders.channel": "unknown", "shipments.node_id": "default"}
    assert "node_id" not in pd.read_parquet(out / "shipments.parquet").columns
    r = kpilib.compute(ds, ["split_node_rate", "split_shipment_rate",
                            "on_time_delivery_rate"]).set_index("kpi")
    assert r.loc["split_node_rate", "status"] == "unavailable"
    assert r.loc["split_shipment_rate", ["numerator", "denominator"]].tolist() == [0, 2]
    # as_of = the last event, 2024-01-05 15:00: A1's 2024-01-06 promise is still pending;
    # B2, promised 2024-01-04, was delivered on the 5th: late
    assert r.loc["on_time_delivery_rate", ["numerator", "denominator"]].tolist() == [0, 1]


def test_abc_on_cost_without_ledger_or_unit_cost_ranks_by_revenue(frames):
    # no stock ledger and no unit cost: the cogs basis has no cost, so it ranks by revenue
    # (as with no products table) instead of valuing every SKU at 0 (all class N)
    base = {n: f for n, f in frames.items() if n not in ("inventory_movements",)}
    lacking = kpilib.Dataset.from_frames(**{**base, "products": base["products"].drop(
        columns="unit_cost")})
    cogs = kpilib.facts(lacking, "sku_classes").set_index("sku")["abc_class"]
    revenue = kpilib.facts(lacking, "sku_classes", params={"abc_basis": "revenue"}).set_index(
        "sku")["abc_class"]
    assert {"A", "B", "C"} <= set(cogs)
    assert cogs.equals(revenue)
