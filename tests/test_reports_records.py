"""The CSV behind each critical finding and open critical alert (``kpilib.reports.records``).

On the CI dataset as of 2024-06-04 (last complete week: 2024-05-27) the executive headline
has six critical KPIs: five rates with failing records and days of supply (a ratio, no record
fails on its own). For each one with a CSV: the file exists in the report's ``records/``
folder, it has as many rows as ``kpilib.drill(..., outcome="failed")``, and as many failures
as the result implies (``denominator - numerator`` of a higher-is-better rate, ``numerator``
of a lower-is-better one, as in tests/test_drill_contract.py); the summary, findings and
alerts link it by relative path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import kpilib
from kpilib import registry
from kpilib.reports import executive, records, render
from kpilib.reports.cidata import ensure_ci_data
from kpilib.reports.runner import REPORT_DIR_ENV
from kpilib.reports.session import Report

AS_OF = "2024-06-04"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(REPORT_DIR_ENV, str(folder))
        rep = Report.open(str(ensure_ci_data()), as_of=AS_OF)
        res, seg, head = executive.headline(rep)
        files = records.links(rep, head)
        alerts = rep.alerts(res, seg)
        alert_files = records.alert_links(rep, alerts)
    return folder, rep, res, seg, head, files, alerts, alert_files


def implied_failures(row: pd.Series, direction: str) -> float:
    """Failures a rate's result implies: units short of passing, or adverse events."""
    return row["denominator"] - row["numerator"] if direction == "higher" else row["numerator"]


def check_csv(folder: Path, rep: Report, att: records.Attachment, kpi: str, period,
              result_row: pd.Series, segment=None) -> None:
    path = folder / att.href
    assert att.href == f"records/{att.name}" and path.is_file()
    csv = pd.read_csv(path)
    drilled = kpilib.drill(rep.ds, kpi, period=period, freq="W", as_of=AS_OF,
                           segment=segment, outcome="failed")
    assert len(csv) == len(drilled) == att.rows > 0
    kdef = registry.KPIS[kpi]
    shortfall = (csv["denominator"] - csv["numerator"] if kdef.direction == "higher"
                 else csv["numerator"]).sum()
    assert shortfall == pytest.approx(implied_failures(result_row, kdef.direction))
    if (csv["denominator"] == 1).all():  # a count rate: one row per failure
        assert len(csv) == implied_failures(result_row, kdef.direction)


def test_every_critical_headline_kpi_has_its_csv_or_a_reason(run):
    folder, rep, res, _seg, head, files, *_ = run
    crit = head[head["band"] == "critical"]
    assert sorted(crit["kpi"]) == sorted(files) == sorted([
        "allocation_failure_rate", "days_of_supply", "otif_rate", "perfect_order_rate",
        "split_shipment_rate", "stockout_rate"])
    for _, r in crit.iterrows():
        att, kpi = files[r["kpi"]], r["kpi"]
        if kpi == "days_of_supply":  # a ratio: the line says why, no file
            assert att.href == "" and att.rows == 0
            assert att.reason.startswith("no failing records: each SKU-node-date adds")
            assert not (folder / "records" / att.name).exists()
            continue
        result = res[(res["kpi"] == kpi) & (res["period"] == r["period"])].iloc[0]
        check_csv(folder, rep, att, kpi, r["period"], result)
    # perfect order week 2024-05-27: 53 orders, 33 perfect -> 20 failing (0.6226 = 33/53)
    po = res[(res["kpi"] == "perfect_order_rate") & (res["period"] == crit["period"].iloc[0])]
    assert (po["denominator"].iloc[0], po["numerator"].iloc[0]) == (53, 33)
    assert files["perfect_order_rate"].rows == 20


def test_open_critical_alerts_by_segment_have_their_csv(run):
    folder, rep, res, seg, _head, _files, alerts, alert_files = run
    crit = alerts[alerts["band"] == "critical"]
    assert "allocation_failure_rate|channel=web" in set(crit["alert_key"])
    assert sorted(alert_files) == sorted(crit["alert_key"])
    att = alert_files["allocation_failure_rate|channel=web"]
    a = crit[crit["alert_key"] == "allocation_failure_rate|channel=web"].iloc[0]
    result = seg[(seg["kpi"] == a["kpi"]) & (seg["period"] == a["period"])
                 & (seg["channel"] == "web")].iloc[0]
    assert att.name == "allocation_failure_rate_2024-05-27_channel-web_failed.csv"
    check_csv(folder, rep, att, a["kpi"], a["period"], result, segment={"channel": "web"})
    assert set(pd.read_csv(folder / att.href)["channel"]) == {"web"}
    assert f'href="records/{att.name}"' in render.attachment(att)


def test_summary_and_findings_link_the_files_by_relative_path(run):
    _folder, rep, _res, _seg, head, files, *_ = run
    page = (render.summary(head, freq="W", context="", records=files)
            + render.findings(rep.findings(head), files))
    hrefs = set(re.findall(r'href="([^"]+)"', page))
    assert hrefs == {a.href for a in files.values() if a.href}
    assert all(not h.startswith(("/", "data:", "http")) for h in hrefs)
    for a in files.values():
        if a.href:  # the summary and the finding both link it
            assert page.count(f'href="{a.href}"') == 2
    assert page.count(files["days_of_supply"].reason) == 2


def test_outside_a_report_run_nothing_is_written_and_the_line_says_so(run, monkeypatch):
    _folder, rep, _res, _seg, head, *_ = run
    monkeypatch.delenv(REPORT_DIR_ENV, raising=False)
    att = records.attach(rep, "otif_rate", head["period"].iloc[0])
    assert (att.href, att.rows, att.reason) == ("", 19, records.NO_FOLDER)
    assert "19 failing records (the CSV is written beside" in render.attachment(att)


def test_a_kpi_without_records_says_why(run):
    _folder, rep, _res, _seg, head, *_ = run
    att = records.attach(rep, "tracking_signal", head["period"].iloc[0])  # kind="custom"
    assert att.href == "" and att.reason.startswith("no record list")
    assert "<a " not in render.attachment(att)


def test_a_duration_links_its_slow_tail_at_or_above_the_p90(run, monkeypatch):
    folder, rep, *_ = run
    monkeypatch.setenv(REPORT_DIR_ENV, str(folder))
    week = pd.Timestamp("2024-05-27", tz="UTC")
    att = records.attach(rep, "order_cycle_time_hours", week)
    result = kpilib.compute(rep.ds, "order_cycle_time_hours", freq="W", as_of=AS_OF)
    p90 = result.loc[result["period"] == week, "p90"].iloc[0]
    every = kpilib.drill(rep.ds, "order_cycle_time_hours", period=week, freq="W", as_of=AS_OF)
    every = every[every["outcome"] == "counted"]
    csv = pd.read_csv(folder / att.href)
    assert att.name == "order_cycle_time_hours_2024-05-27_slowest.csv"
    assert att.label == "slowest records, at or above the p90"
    # the tail is exactly the counted orders at or above the result's own p90, slowest first
    assert sorted(csv["order_id"]) == sorted(every.loc[every["value"] >= p90, "order_id"])
    assert 0 < len(csv) < len(every) and csv["value"].is_monotonic_decreasing
    assert "slowest records, at or above the p90 (CSV)" in render.attachment(att)
