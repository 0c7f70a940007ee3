"""The real report notebooks on a dataset without optional tables: notes, never errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from kpilib.reports import ReportParams, run_reports
from kpilib.reports.cidata import ensure_ci_data

pytestmark = pytest.mark.slow
KEEP = ("orders", "order_lines", "products", "nodes")  # required tables + segment sources


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory):
    src = ensure_ci_data()
    data = tmp_path_factory.mktemp("minimal") / "data"
    data.mkdir()
    for name in KEEP:
        shutil.copy(src / f"{name}.parquet", data / f"{name}.parquet")
    out = data.parent / "reports"
    outcome = run_reports(ReportParams(
        data_path=str(data), out_dir=str(out),
        notebooks=["00_executive_summary", "02_inventory_health", "03_fulfillment_cost"]))
    return out, outcome


def printed(nb_path: str) -> str:
    """What the reader sees of the code cells: printed text and displayed HTML."""
    nb = nbformat.read(nb_path, as_version=4)
    return "".join(o.get("text", "") + o.get("data", {}).get("text/html", "")
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_every_report_succeeds_without_optional_tables(minimal_run):
    out, outcome = minimal_run
    assert [(r.notebook, r.status) for r in outcome.results] == [
        ("00_executive_summary", "ok"), ("02_inventory_health", "ok"),
        ("03_fulfillment_cost", "ok")], [r.error for r in outcome.results]
    assert outcome.exit_code == 0


def test_unavailable_kpis_are_explained(minimal_run):
    out, outcome = minimal_run
    inventory = printed(outcome.results[1].ipynb)
    # stockout_rate needs inventory_snapshots, which this dataset does not have
    assert "Stockout rate: unavailable (needs table(s): inventory_snapshots" in inventory
    fulfillment = printed(outcome.results[2].ipynb)
    assert "Lines picked per hour: unavailable (needs table(s):" in fulfillment
    html = (out / "latest" / "02_inventory_health.html").read_text()
    assert "unavailable (needs table(s)" in html and "Traceback" not in html


def test_headline_badges_reach_the_index(minimal_run):
    out, outcome = minimal_run
    headline = outcome.results[0].records["headline"]
    assert len(headline) >= 10  # the executive set, each with a badge even when unavailable
    by_kpi = {h["kpi"]: h for h in headline}
    # perfect order needs shipments: no value, and the badge says why
    assert by_kpi["perfect_order_rate"]["display"] == "n/a"
    assert by_kpi["perfect_order_rate"]["band"] == "unavailable"
    index = (out / "latest" / "index.html").read_text()
    assert index.count('class="badge ') == len(headline)
    manifest = json.loads((out / "latest" / "manifest.json").read_text())
    assert manifest["status"] == "ok" and Path(manifest["data"]["path"]).name == "data"
