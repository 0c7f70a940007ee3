"""Explorer notebooks' helper: values, records, CSV export, and the widgets driven by a test.

The widgets are driven as a user would: set a control's value (or click a button), then read
the outputs the widget holds (message line, chart PNG, records table and rows).
"""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

from kpilib.errors import ParameterError
from kpilib.reports.cidata import ensure_ci_data
from kpilib.reports.explorer import DATA_ENV, Explorer, default_data_path, sort_records
from kpilib.reports.explorer_widgets import ExplorerWidget, one_line, parse_filters
from kpilib.reports.session import Report

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def rep():
    return Report.open(str(ensure_ci_data()), freq="W")


@pytest.fixture(scope="module")
def ex(rep):
    return Explorer(rep, domain="order")


def test_explorer_lists_domain_kpis(rep):
    orders = Explorer(rep, domain="order")
    inventory = Explorer(rep, domain="inventory")
    assert "perfect_order_rate" in orders.kpis and "stockout_rate" not in orders.kpis
    assert "stockout_rate" in inventory.kpis and "forecast_wape" in inventory.kpis


def test_show_prints_values_by_segment(ex, capsys):
    res = ex.show("perfect_order_rate", by="channel", chart=False)
    out = capsys.readouterr().out
    assert out.startswith("Perfect order rate (perfect_order_rate), by channel:")
    channels = sorted(res["channel"].dropna().astype(str).unique())
    assert channels and all(c in out for c in channels)
    assert ex.show("no_such_kpi").empty
    assert "no KPI is named 'no_such_kpi'" in capsys.readouterr().out


def test_records_are_the_failing_ones_of_the_cell(ex, tmp_path):
    res = ex.values("otif_rate", "channel", "W")
    week = ex.latest_complete(res)
    cell = res[(res["period"] == week) & (res["channel"] == "web")].iloc[0]
    rows = ex.records("otif_rate", "channel", "W", period=week, value="web")
    assert len(rows) == cell["denominator"] - cell["numerator"]
    assert set(rows["outcome"]) <= {"failed"} and rows["anchor"].is_monotonic_increasing
    path = ex.export(rows, tmp_path / "out" / "failing.csv")
    assert len(pd.read_csv(path)) == len(rows)


def test_sort_puts_longest_first_and_oldest_first():
    t = pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02"], utc=True)
    durations = pd.DataFrame({"anchor": t, "value": [5.0, 1.0, 9.0]})
    assert sort_records(durations)["value"].tolist() == [9.0, 5.0, 1.0]
    flags = pd.DataFrame({"anchor": t, "numerator": [0.0, 0.0, 0.0]})
    assert sort_records(flags)["anchor"].is_monotonic_increasing


def test_default_data_path(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert default_data_path() == str(tmp_path)
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "missing"))
    with pytest.raises(ParameterError, match="make data"):
        default_data_path()


def test_parse_filters_and_one_line():
    assert parse_filters("channel=web, b2b; node = DC-2") == {"channel": ["web", "b2b"],
                                                              "node": ["DC-2"]}
    assert parse_filters("  ") == {}
    with pytest.raises(ParameterError, match="write dimension=value"):
        parse_filters("channel=")
    assert one_line(ValueError("first\nsecond")) == "ValueError: first"


def test_widgets_drive_chart_and_records(ex, tmp_path):
    ui = ExplorerWidget(ex)
    assert ui.filters.continuous_update is False and ui.csv_path.continuous_update is False
    ui.kpi.value = "otif_rate"
    ui.by.value = "channel"
    ui.value.value = "web"
    assert ui.message.value == "" and ui.chart.value[:4] == b"\x89PNG"
    res = ex.values("otif_rate", "channel", "W")
    week = ui.period.value
    assert week == ex.latest_complete(res)  # the last complete week by default
    cell = res[(res["period"] == week) & (res["channel"] == "web")].iloc[0]
    assert len(ui.rows) == cell["denominator"] - cell["numerator"]
    assert f"{len(ui.rows)} failed record(s) of otif_rate" in ui.table.value
    ui.outcome.value = "all"
    assert len(ui.rows) == cell["denominator"]
    ui.csv_path.value = str(tmp_path / "web.csv")
    ui.export_button.click()
    assert ui.message.value.startswith("Wrote") and len(pd.read_csv(tmp_path / "web.csv")) == \
        cell["denominator"]


def test_widget_errors_are_one_line(ex):
    ui = ExplorerWidget(ex)
    ui.kpi.value = "otif_rate"
    ui.filters.value = "channel=wbe"  # what Enter does in the text box
    assert "&#x27;wbe&#x27; is not a channel; did you mean &#x27;web&#x27;?" in ui.message.value
    assert "Traceback" not in ui.message.value and ui.table.value == ""
    ui.filters.value = "channel=web"
    ui.update.click()
    assert ui.message.value == "" and len(ui.rows) > 0
    ui.kpi.value = "warehouse_capacity_utilization_avg"
    assert "no records to list" in ui.message.value and ui.outcome.options == ("all",
                                                                                "excluded")
