"""Declarative mappings (kpilib.mapping): a YAML file maps an export to the data model."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

import kpilib
from kpilib.cli.main import app
from kpilib.errors import DataContractError, ParameterError
from kpilib.mapping.expr import evaluate

SRC = pd.DataFrame({
    "Order ID": ["A1", "A1", "B2"], "Line": ["1", "2", "1"],
    "Order Date": ["30/12/23", "30/12/23", "02/01/24"], "Mode": ["Fast", "Slow", "Odd"],
    "Sales": ["10.5", "4.5", "9"], "Quantity": ["3", "1", "2"], "Status": ["S", "X", None],
})


def ev(spec, tz="America/Chicago"):
    return evaluate(spec, SRC, tz, "test").tolist()


def test_column_constant_and_concatenation():
    assert ev("Mode") == ["Fast", "Slow", "Odd"]
    assert ev(0) == [0, 0, 0] and ev({"value": "web"}) == ["web"] * 3
    assert ev({"format": "{Order ID}-{Line}"}) == ["A1-1", "A1-2", "B2-1"]
    # a null part makes the whole text null rather than "A1-None"
    assert ev({"format": "{Order ID}/{Status}"}) == ["A1/S", "A1/X", None]


def test_value_map_with_and_without_default():
    assert ev({"column": "Status", "map": {"S": "shipped"}}) == ["shipped", "X", None]
    assert ev({"column": "Status", "map": {"S": "shipped"}, "default": "other"}) == \
        ["shipped", "other", None]


def test_date_plus_days_from_a_mapped_column_as_a_date():
    # 30/12/23 + 2 (Fast) = 2024-01-01; 30/12/23 + 5 (Slow) = 2024-01-04; Odd unmapped -> null
    spec = {"column": "Order Date", "parse": "%d/%m/%y",
            "add_days": {"column": "Mode", "map": {"Fast": 2, "Slow": 5}}, "as_date": True}
    assert ev(spec) == ["2024-01-01", "2024-01-04", None]


def test_end_of_day_in_the_source_zone_or_a_given_zone():
    ns = pd.Timedelta(1, "ns")
    got = ev({"column": "Order Date", "parse": "%d/%m/%y", "end_of_day": True})
    # Chicago UTC-6: end of 2023-12-30 = 2023-12-31T06:00Z - 1 ns
    assert got[0] == pd.Timestamp("2023-12-31T06:00Z") - ns
    got = ev({"column": "Order Date", "parse": "%d/%m/%y", "end_of_day": "Asia/Tokyo"})
    assert got[2] == pd.Timestamp("2024-01-02T15:00Z") - ns  # Tokyo UTC+9


def test_sum_by_eval_first_of_and_if():
    assert ev({"sum": "Sales", "by": "Order ID"}) == [15.0, 15.0, 9.0]
    assert ev({"eval": "Sales / Quantity"}) == [3.5, 4.5, 4.5]
    assert ev({"first_of": ["Status", {"value": "none"}]}) == ["S", "X", "none"]
    assert ev({"column": "Order Date", "if": "Status == 'X'"}) == [None, "30/12/23", None]


@pytest.mark.parametrize(("spec", "message"), [
    ("Nope", "source column 'Nope' not found; the source has"),
    ({"column": "Order Date", "parse": "%Y-%m-%d"}, "3 value.s. do not match parse"),
    ({"column": "Mode", "value": 1}, "give exactly one of"),
    ({"column": "Mode", "colour": "red"}, "unknown key.s. \\['colour'\\]"),
    ({"sum": "Sales"}, "'sum' needs 'by'"),
])
def test_bad_specs_are_clear_errors(spec, message):
    with pytest.raises(ParameterError, match=message):
        ev(spec)


EXPORT = pd.DataFrame({
    "Order ID": ["A1", "A1", "B2"], "Line": ["1", "2", "1"],
    "Order Date": ["2024-01-02 10:00", "2024-01-02 10:00", "2024-01-03 09:00"],
    "SKU": ["P1", "P2", "P1"], "Quantity": ["1", "2", "1"],
    "Promised Date": ["2024-01-05", "2024-01-05", "2024-01-06"], "Unit Price": ["9.5", "3", "9.5"],
    "Market": ["north", "north", "south"], "Ship By": ["2024-01-03", "2024-01-03", "2024-01-04"],
})


def test_untouched_template_imports_an_export_with_its_placeholder_names(tmp_path):
    # the user's whole job: one YAML file (the template plus one line) and three commands
    runner = CliRunner()
    mapping = tmp_path / "shop.yaml"
    assert runner.invoke(app, ["template", "--mapping", str(mapping)]).exit_code == 0
    mapping.write_text(mapping.read_text().replace(
        "      market: Market", "      cancelled_at: Cancelled At\n      market: Market"))
    EXPORT.assign(**{"Cancelled At": [None, None, "2024-01-03 10:00"]}).to_csv(
        tmp_path / "orders_export.csv", index=False)
    out = tmp_path / "data"
    res = runner.invoke(app, ["import", "mapped", str(mapping), "--out", str(out),
                              "--no-backtest"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    ds = kpilib.load_dataset(out)
    assert ds.dimensions == {"market": "orders"} and len(ds.orders) == 2
    # naive times are Berlin local (timezone: Europe/Berlin): 10:00 CET = 09:00Z
    assert ds.orders["created_at"].iloc[0] == pd.Timestamp("2024-01-02T09:00Z")
    # date promise: end of 2024-01-05 in the ship-to zone (Berlin) = 2024-01-05T23:00Z - 1 ns
    assert ds.order_lines["promised_delivery_at_original"].iloc[0] == \
        pd.Timestamp("2024-01-05T23:00Z") - pd.Timedelta(1, "ns")
    # B2 (south, 1 unit) cancelled, nothing shipped: north 0/3 units, south 1/1
    res = kpilib.compute(ds, ["cancellation_unit_rate_pre_ship"], by=["market"])
    assert res["market"].tolist() == ["north", "south"]
    assert res["value"].tolist() == [0.0, 1.0]
    report = json.loads((out / "import_report.json").read_text())
    assert report["source"] == "my_shop" and report["absent"]["shipments"] == "not in the mapping"


def test_load_dataset_with_mapping_raises_where_import_sets_aside(tmp_path):
    from kpilib.mapping import import_mapped
    from kpilib.mapping.template import mapping_template

    bad = EXPORT.copy()
    bad.loc[2, "Quantity"] = "-1"  # negative quantity: order B2 is rejected
    bad.to_csv(tmp_path / "orders_export.csv", index=False)
    (tmp_path / "m.yaml").write_text(mapping_template())
    with pytest.raises(DataContractError) as err:
        kpilib.load_dataset(tmp_path, mapping=tmp_path / "m.yaml")
    assert "negative_quantity" in {p.rule for p in err.value.problems}
    result = import_mapped(tmp_path / "m.yaml")
    # the order is counted once, under the first rule it breaks
    assert [(r["table"], r["rows"], r["by"]) for r in result.report] == [("orders", 1, "contract")]
    assert list(result.tables["orders"]["order_id"]) == ["A1"]


def test_delivery_events_none_makes_delivery_kpis_unavailable(tmp_path):
    from kpilib.mapping import import_mapped
    from kpilib.mapping.template import mapping_template

    text = mapping_template().replace("delivery_events: scan", "delivery_events: none")
    head, _, tail = text.partition("  # Uncomment once the export has ship data:\n")
    text = head + re.sub(r"(?m)^  # ", "  ", tail)  # uncomment shipments and shipment_lines
    ship = EXPORT.assign(Status="S", **{"Ship Date": "2024-01-03 12:00"})
    ship.to_csv(tmp_path / "orders_export.csv", index=False)
    (tmp_path / "m.yaml").write_text(text.replace("      delivered_at: Delivered At\n", ""))
    result = import_mapped(tmp_path / "m.yaml")
    assert "delivery_events: none" in result.notes["shipments.delivered_at"]
    res = kpilib.compute(result.dataset(), ["on_time_delivery_rate", "order_cycle_time_hours",
                                            "on_time_shipment_rate"]).set_index("kpi")
    status = res["status"]
    # cycle time ends at the delivery: with no scan it is unavailable, not 0 orders delivered
    for kpi_id in ("on_time_delivery_rate", "order_cycle_time_hours"):
        assert status[kpi_id] == "unavailable"
        assert res.loc[kpi_id, "note"] == (
            "not recorded in this data: delivery scans (delivery_events: none)")
    assert status["on_time_shipment_rate"] != "unavailable"  # ship KPIs still computed
    (tmp_path / "m.yaml").write_text(text)  # delivered_at still mapped: contradiction
    with pytest.raises(ParameterError, match="delivery_events: none, yet tables.shipments maps"):
        import_mapped(tmp_path / "m.yaml")
