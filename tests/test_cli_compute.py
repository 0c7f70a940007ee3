"""`kpilib compute` writes the same numbers as kpilib.compute; bad options are clear errors."""

from __future__ import annotations

import pandas as pd
from builders import build_dataset
from typer.testing import CliRunner

import kpilib
from kpilib.cli.main import app


def _folder(tmp_path):
    ds = build_dataset(inventory_counts=[
        {"count_id": "C1", "sku": "SKU1", "node_id": "N1", "location_id": "A",
         "qty_system_at_count": 4, "qty_counted": 4},
        {"count_id": "C2", "sku": "SKU1", "node_id": "N1", "location_id": "B",
         "qty_system_at_count": 4, "qty_counted": 3}], nodes=[{"node_id": "N1"}])
    ds.to_parquet(tmp_path / "ds")
    return tmp_path / "ds", ds


def test_compute_to_csv_matches_library(tmp_path):
    folder, ds = _folder(tmp_path)
    out = tmp_path / "res.csv"
    result = CliRunner().invoke(app, ["compute", str(folder), "--kpi",
                                      "inventory_count_accuracy_by_location", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    # 2 location events, one accurate -> 0.5
    assert written["value"].tolist() == [0.5]
    lib = kpilib.compute(ds, ["inventory_count_accuracy_by_location"])
    assert written["value"].tolist() == lib["value"].tolist()


def test_compute_rejects_unknown_kpi_and_param(tmp_path):
    folder, _ = _folder(tmp_path)
    r = CliRunner().invoke(app, ["compute", str(folder), "--kpi", "nope"])
    assert r.exit_code == 1 and "unknown KPI" in r.output
    r = CliRunner().invoke(app, ["compute", str(folder), "--param", "tol_unit=1"])
    assert r.exit_code == 1 and "valid options" in r.output


def test_kpis_lists_registry():
    r = CliRunner().invoke(app, ["kpis", "--domain", "forecast"])
    assert r.exit_code == 0 and "tracking_signal" in r.output
