"""api.md promises about ``kpilib.compute`` checked on one small generated dataset:
never mutates the dataset, identical output for identical input, the result columns, rates
as fractions, value == numerator / denominator, and row order independence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kpilib
from kpilib.synth import generate

RESULT = ["kpi", "period", "channel", "value", "numerator", "denominator", "n", "p50", "p90",
          "status", "unit"]


@pytest.fixture(scope="module")
def ds():
    frames, _ = generate("omnichannel", seed=11, days=60, scale=0.05)
    return kpilib.Dataset.from_frames(**frames)


@pytest.fixture(scope="module")
def result(ds):
    before = ds.fingerprint()
    res = kpilib.compute(ds, "all", by=["channel"], freq="W")
    assert ds.fingerprint() == before          # compute never mutates the dataset
    return res


def test_result_shape_and_statuses(result):
    assert list(result.columns[:len(RESULT)]) == RESULT
    assert set(result["status"]) <= {"ok", "undefined", "preliminary", "insufficient_data",
                                     "unavailable"}
    undefined = result[result["status"] == "undefined"]
    assert undefined["value"].isna().all()     # never 0 or 1 for an empty population


def test_rates_are_fractions_and_ratios_hold(result):
    kinds = kpilib.list_kpis().set_index("id")["kind"]
    units = kpilib.list_kpis().set_index("id")["unit"]
    valued = result[result["value"].notna()]
    rates = valued[valued["kpi"].map(kinds).eq("rate") & valued["kpi"].map(units).eq("fraction")]
    assert rates["value"].between(0, 1).all()
    ratio = valued[valued["kpi"].map(kinds).isin(["rate", "ratio", "mean"])]
    np.testing.assert_allclose(ratio["value"], ratio["numerator"] / ratio["denominator"],
                               rtol=1e-9)


def test_identical_input_gives_identical_output(ds, result):
    again = kpilib.compute(ds, "all", by=["channel"], freq="W")
    pd.testing.assert_frame_equal(again, result)


def test_row_order_does_not_matter(ds):
    ids = ["perfect_order_rate", "order_cycle_time_hours", "on_time_shipment_rate",
           "stockout_rate", "forecast_wape", "allocation_failure_rate"]
    base = kpilib.compute(ds, ids, by=["channel"], freq="W")
    shuffled = kpilib.Dataset.from_frames(**{
        name: frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
        for name, frame in ds.tables.items()})
    again = kpilib.compute(shuffled, ids, by=["channel"], freq="W")
    pd.testing.assert_frame_equal(again, base, check_exact=False, rtol=1e-9)
