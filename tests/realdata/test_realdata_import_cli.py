"""`kpilib import`: options, errors and help, on a small slice of the real Olist files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from kpilib.cli.main import app

runner = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.fixture()
def small_olist(olist_dir, tmp_path):
    """The first 300 orders of the sample and their items, as an Olist folder."""
    src = tmp_path / "olist_small"
    src.mkdir()
    orders = pd.read_csv(olist_dir / "olist_orders_dataset.csv", dtype=str).head(300)
    items = pd.read_csv(olist_dir / "olist_order_items_dataset.csv", dtype=str)
    orders.to_csv(src / "olist_orders_dataset.csv", index=False)
    items.loc[items["order_id"].isin(orders["order_id"])].to_csv(
        src / "olist_order_items_dataset.csv", index=False)
    return src


@pytest.mark.realdata
def test_no_backtest_leaves_forecasts_absent(small_olist, tmp_path):
    out = tmp_path / "ds"
    result = runner.invoke(app, ["import", "olist", str(small_olist), "--out", str(out),
                                 "--no-backtest"], env=ENV)
    assert result.exit_code == 0, result.output
    assert not (out / "forecasts.parquet").exists()
    report = json.loads((out / "import_report.json").read_text())
    assert "forecasts" in report["absent"] and report["derived"] == {}
    assert report["rows"]["orders"] + sum(r["rows"] for r in report["set_aside"]) == 300
    # a second import into the same folder needs --force, which replaces the tables
    again = runner.invoke(app, ["import", "olist", str(small_olist), "--out", str(out)], env=ENV)
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(app, ["import", "olist", str(small_olist), "--out", str(out),
                                 "--force", "--method", "naive"], env=ENV)
    assert forced.exit_code == 0, forced.output
    fc = pd.read_parquet(out / "forecasts.parquet")
    assert set(fc["forecast_version"]) == {"backtest:naive"}


@pytest.mark.realdata
def test_wrong_dataset_folder_is_a_clear_error(retail_dir, olist_dir, tmp_path):
    olist_on_retail = runner.invoke(app, ["import", "olist", str(retail_dir), "--out",
                                          str(tmp_path / "a")], env=ENV)
    assert olist_on_retail.exit_code == 2
    assert "not the olist dataset" in olist_on_retail.output
    assert "olist_orders_dataset.csv" in olist_on_retail.output
    retail_on_olist = runner.invoke(app, ["import", "online-retail", str(olist_dir), "--out",
                                          str(tmp_path / "b")], env=ENV)
    assert retail_on_olist.exit_code == 2
    assert "not the online-retail dataset" in retail_on_olist.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_wrong_columns_unknown_source_and_help(tmp_path):
    src = tmp_path / "fake"
    src.mkdir()
    (src / "olist_orders_dataset.csv").write_text("id,status\n1,delivered\n")
    (src / "olist_order_items_dataset.csv").write_text("id\n1\n")
    bad = runner.invoke(app, ["import", "olist", str(src), "--out", str(tmp_path / "o")],
                        env=ENV)
    assert bad.exit_code == 2 and "lacks column(s)" in bad.output
    unknown = runner.invoke(app, ["import", "shopify", str(src), "--out", str(tmp_path / "o")],
                            env=ENV)
    assert unknown.exit_code == 2 and "unknown source" in unknown.output
    help_text = runner.invoke(app, ["import", "--help"], env=ENV).output
    for text in ("import_report.json", "--no-backtest", "olist", "online-retail",
                 "unavailable"):
        assert text in help_text


def test_naive_source_times_keep_dst_edge_times():
    """Olist has naive São Paulo times in the hour repeated on 2018-02-17 (clocks back at
    midnight, UTC-2 -> UTC-3) and date promises on 2017-10-15, whose midnight does not exist
    (clocks forward, UTC-3 -> UTC-2). The mapping's `timezone:` reads them (through the
    contract's assume_tz); none may become null."""
    from kpilib.contracts import check_frames

    orders = pd.DataFrame({
        "order_id": ["a", "b", "c"], "channel": "marketplace", "order_type": "standard",
        "is_test": False, "currency": "BRL",
        "created_at": ["2018-02-17 23:30:00", "2017-10-15 00:00:00", "2018-03-01 10:00:00"]})
    typed, _ = check_frames({"orders": orders}, assume_tz="America/Sao_Paulo")
    assert typed["orders"]["created_at"].tolist() == [
        pd.Timestamp("2018-02-18 01:30", tz="UTC"),  # first occurrence: 23:30 at UTC-2
        pd.Timestamp("2017-10-15 03:00", tz="UTC"),  # shifted to 01:00 at UTC-2
        pd.Timestamp("2018-03-01 13:00", tz="UTC"),  # ordinary time, UTC-3
    ]
