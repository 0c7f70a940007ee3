"""An ``as_of`` after the data's end is refused by the library unless ``allow_future_as_of``.

The baseline dataset (``builders.baseline_frames``) ends at 2024-01-09T00:00Z (its latest
timestamp); order O1 is created 2024-01-01T00:00Z and delivered 2024-01-03T09:00Z, so its
order cycle time is 2 days + 9 hours = 57 hours at any as_of from its delivery on.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import baseline_frames

import kpilib
from kpilib.errors import KpiLibError, ParameterError
from kpilib.reports.params import ReportParams, default_notebook_dir
from kpilib.reports.session import Report
from kpilib.reports.setup import PARAMETERS

END = "2024-01-09T00:00:00+00:00"
LATER = "2024-03-01"
KPI = "order_cycle_time_hours"


@pytest.fixture(scope="module")
def ds():
    return kpilib.Dataset.from_frames(**baseline_frames())


def test_the_fixture_ends_where_the_tests_say(ds):
    assert ds.data_as_of == pd.Timestamp(END)


def test_compute_refuses_an_as_of_after_the_data_end_by_default(ds):
    with pytest.raises(ParameterError) as err:
        kpilib.compute(ds, [KPI], as_of=LATER)
    assert isinstance(err.value, KpiLibError)
    msg = str(err.value)
    assert f"after the data's end ({END})" in msg
    assert "allow_future_as_of=True" in msg and "--allow-future-as-of" in msg


def test_compute_with_the_flag_evaluates_and_says_so_in_the_note(ds):
    res = kpilib.compute(ds, [KPI], as_of=LATER, allow_future_as_of=True)
    row = res.iloc[0]
    assert (row["value"], row["numerator"], row["denominator"]) == (57.0, 57.0, 1.0)
    assert f"after the data's end {END}" in row["note"]
    assert "allow_future_as_of" in row["note"]


@pytest.mark.parametrize("as_of", [None, END, "2024-01-09T01:00:00+01:00"])
def test_an_as_of_at_the_data_end_is_accepted_without_a_note(ds, as_of):
    row = kpilib.compute(ds, [KPI], as_of=as_of).iloc[0]
    assert row["value"] == 57.0
    assert "after the data's end" not in row["note"]


def test_facts_and_drill_refuse_it_too_unless_allowed(ds):
    with pytest.raises(ParameterError, match="after the data's end"):
        kpilib.facts(ds, "orders", as_of=LATER)
    with pytest.raises(ParameterError, match="after the data's end"):
        kpilib.drill(ds, KPI, as_of=LATER)
    assert sorted(kpilib.facts(ds, "orders", as_of=LATER, allow_future_as_of=True)["order_id"]) == [
        "O1", "O2"]
    rows = kpilib.drill(ds, KPI, as_of=LATER, allow_future_as_of=True)
    assert rows["order_id"].tolist() == ["O1"] and rows["value"].tolist() == [57.0]


def test_a_report_passes_its_flag_to_the_engine(ds):
    later = pd.Timestamp(LATER, tz="UTC")
    with pytest.raises(ParameterError, match="after the data's end"):
        Report(ds=ds, as_of=later, bands=False).frame([KPI], bands=False)
    rep = Report(ds=ds, as_of=later, bands=False, allow_future_as_of=True)
    assert rep.frame([KPI], freq=None, bands=False)["value"].tolist() == [57.0]
    assert sorted(rep.facts("orders")["order_id"]) == ["O1", "O2"]


def test_every_report_notebook_declares_the_parameters_a_run_injects():
    injected = ReportParams(data_path="d", out_dir="o", allow_future_as_of=True)
    params = injected.notebook_parameters()
    assert params["allow_future_as_of"] is True
    assert set(params) - {"data_path"} == set(PARAMETERS)
    notebooks = sorted(default_notebook_dir().glob("0*.ipynb"))
    assert len(notebooks) >= 4, notebooks
    for path in notebooks:
        cells = json.loads(path.read_text())["cells"]
        declared = "".join(next(c["source"] for c in cells
                                if "parameters" in c["metadata"].get("tags", [])))
        missing = [p for p in params if f"\n{p} = " not in "\n" + declared]
        assert not missing, f"{path.name} does not declare {missing}"
