"""Explorer notebooks' helper: text views, widgets wired to them, drill-down to facts."""

from __future__ import annotations

import pytest

from kpilib.reports.cidata import ensure_ci_data
from kpilib.reports.explorer import Explorer
from kpilib.reports.session import Report


@pytest.fixture(scope="module")
def rep():
    return Report.open(str(ensure_ci_data()), freq="W")


def test_explorer_lists_domain_kpis(rep):
    orders = Explorer(rep, domain="order")
    inventory = Explorer(rep, domain="inventory")
    assert "perfect_order_rate" in orders.kpis and "stockout_rate" not in orders.kpis
    assert "stockout_rate" in inventory.kpis and "forecast_wape" in inventory.kpis


def test_show_prints_values_by_segment(rep, capsys):
    ex = Explorer(rep, domain="order")
    res = ex.show("perfect_order_rate", by="channel", chart=False)
    out = capsys.readouterr().out
    assert out.startswith("Perfect order rate (perfect_order_rate), by channel:")
    channels = sorted(res["channel"].dropna().astype(str).unique())
    assert channels and all(c in out for c in channels)


def test_show_with_a_filter_and_an_unknown_kpi(rep, capsys):
    ex = Explorer(rep, domain="order")
    ex.show("perfect_order_rate", by="node", filter_dim="channel", filter_value="web",
            chart=False)
    assert "by node" in capsys.readouterr().out
    assert ex.show("no_such_kpi").empty
    assert "no KPI is named 'no_such_kpi'" in capsys.readouterr().out


def test_widgets_drive_the_views(rep, capsys):
    import ipywidgets as w

    ex = Explorer(rep, domain="order")
    box = ex.widget()
    assert isinstance(box, w.VBox)
    controls = box.children[0]
    kpi, by, freq = controls.children[0].children
    assert kpi.value == ex.kpis[0] and freq.value == "W"
    drill = ex.drill_widget()
    fact, query = drill.children[0].children
    assert "orders" in fact.options


def test_drill_down_returns_the_records(rep, capsys):
    ex = Explorer(rep, domain="order")
    frame = ex.drill("orders", n=3)
    out = capsys.readouterr().out
    assert out.startswith(f"orders: {len(frame)} rows")
    assert len(frame) > 100


def test_notebooks_reuse_the_dataset_a_run_validated(tmp_path, monkeypatch):
    import pickle

    from kpilib.reports import session

    marker = {"validated": "once"}
    cache = tmp_path / "dataset.pkl"
    cache.write_bytes(pickle.dumps(marker))
    monkeypatch.setenv("KPILIB_DATASET_CACHE", str(cache))
    monkeypatch.setenv("KPILIB_DATASET_CACHE_FOR", str(ensure_ci_data()))
    assert session.load(str(ensure_ci_data())) == marker  # same folder: the shared copy
    other = session.load(str(ensure_ci_data()) + "/../ci")  # same folder, other spelling
    assert other == marker
    monkeypatch.setenv("KPILIB_DATASET_CACHE_FOR", str(tmp_path))
    assert session.load(str(ensure_ci_data())) != marker  # another folder: loads for real
