"""Checks every registered KPI must pass, parametrized over ``kpilib.list_kpis()`` (as
scikit-learn's common tests run over every estimator): a new KPI is covered the moment it is
registered.

Data: the three synthetic scenarios at CI size (seeded). Per KPI: it computes on each scenario
(no error, no unexpected ``unavailable``), the result contract holds (statuses, value =
numerator / denominator, rates within [0, 1]), segments sum back to the total where the grain
allows it (by channel, by node and by an extra dimension declared on the data), and the
result is deterministic and independent of the row order of the input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kpilib
from kpilib import registry
from kpilib.context import FACTS
from kpilib.synth import generate

pytestmark = pytest.mark.slow

KPIS = kpilib.list_kpis().set_index("id")
IDS = list(KPIS.index)
SCENARIOS = ("omnichannel", "beauty_stockouts", "apparel_surge")
STATUSES = {"ok", "undefined", "preliminary", "insufficient_data", "unavailable"}
CODE = r"^[A-E][1-9][0-9]?$"
# Order-grain KPIs cut by a line-level dimension (node...) are evaluated on sub-units (an order
# shipped from two nodes counts once at each), so only order-level dimensions re-sum for them.
ORDER_LEVEL_GRAINS = ("order", "commit unit")
# Cuts whose definition changes the population, as the KPI's docstring says; the test below
# also checks each of them really does not re-sum, so an entry cannot outlive its reason.
# Extra dimensions (kpilib.dimensions) of the default sample, each cut like its host.
EXTRA_DIMS = {"market": ("orders", "channel"), "region": ("nodes", "node")}
CUT_CHANGES_POPULATION = {
    ("sell_through_rate", "node"): "by node, transfers in count as receipts; company-wide not",
    ("sell_through_rate_receipts", "node"): "by node, transfers in count as receipts",
}


def _additive_columns(kpi: str) -> tuple[str, ...]:
    """The result columns that add up over segments: a ``sum`` KPI's value is its numerator
    (its denominator counts snapshots, one per segment); a daily mean's denominator counts
    days, the same days in every segment."""
    meta = KPIS.loc[kpi]
    if meta["kind"] == "sum":
        return ("numerator",)
    if "daily snapshot" in meta["grain"]:
        return ("numerator",)
    return ("numerator", "denominator", "n")


@pytest.fixture(scope="module")
def datasets() -> dict[str, kpilib.Dataset]:
    out = {}
    for scenario in SCENARIOS:
        frames, _truth = generate(scenario, seed=3, days=60, scale=0.05)
        out[scenario] = kpilib.Dataset.from_frames(**frames)
    out["omnichannel"] = _with_extra_dims(out["omnichannel"])
    return out


def _with_extra_dims(ds: kpilib.Dataset) -> kpilib.Dataset:
    """``ds`` with a seeded column per :data:`EXTRA_DIMS` entry, declared as a dimension (the
    other KPI checks then also show that an extra column changes no number)."""
    rng = np.random.default_rng(5)
    tables = dict(ds.tables)
    for dim, (table, _host) in EXTRA_DIMS.items():
        frame = tables[table].copy()
        frame[dim] = rng.choice(["north", "south", "west"], len(frame))
        tables[table] = frame
    return kpilib.Dataset.from_frames(dimensions={d: t for d, (t, _) in EXTRA_DIMS.items()},
                                      **tables)


@pytest.fixture(scope="module")
def results(datasets) -> dict[str, pd.DataFrame]:
    """Every KPI on every scenario, one value for the window and weekly."""
    out = {}
    for scenario, ds in datasets.items():
        out[scenario] = kpilib.compute(ds, "all")
        out[f"{scenario}/W"] = kpilib.compute(ds, "all", freq="W")
    return out


@pytest.fixture(scope="module")
def by_dim(datasets) -> dict[str, pd.DataFrame]:
    """The default sample cut by channel, by node and by each extra dimension (each KPI that
    supports the cut: an extra dimension's is its host's)."""
    ds = datasets["omnichannel"]
    return {d: kpilib.compute(ds, [k for k in IDS if _host(d) in KPIS.loc[k, "dims"]], by=[d])
            for d in ("channel", "node", *EXTRA_DIMS)}


def _host(dim: str) -> str:
    return EXTRA_DIMS[dim][1] if dim in EXTRA_DIMS else dim


def rows_of(res: pd.DataFrame, kpi: str) -> pd.DataFrame:
    return res[res["kpi"] == kpi]


@pytest.mark.parametrize("kpi", IDS)
def test_metadata_is_complete(kpi):
    meta = KPIS.loc[kpi]
    assert pd.Series([meta["code"]]).str.match(CODE).all(), meta["code"]
    assert meta["fact"] is None or meta["fact"] in FACTS, meta["fact"]
    assert meta["description"] and meta["name"] and meta["unit"]
    assert set(meta["params"]) <= set(registry.PARAMS)
    assert kpi in registry.KPIS and registry.KPIS[kpi].domain == meta["domain"]


@pytest.mark.parametrize("kpi", IDS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_computes_on_every_scenario(results, scenario, kpi):
    for key in (scenario, f"{scenario}/W"):
        r = rows_of(results[key], kpi)
        assert len(r) >= 1, key
        assert set(r["status"]) <= STATUSES, (key, set(r["status"]))
        assert (r["unit"] == KPIS.loc[kpi, "unit"]).all()
    # the generator records every table and column, so no KPI may be unavailable here
    assert (rows_of(results[scenario], kpi)["status"] != "unavailable").all(), \
        rows_of(results[scenario], kpi)["note"].tolist()


@pytest.mark.parametrize("kpi", IDS)
def test_value_contract(results, kpi):
    kind = KPIS.loc[kpi, "kind"]
    for key, res in results.items():
        r = rows_of(res, kpi)
        has = r["status"].isin(["ok", "preliminary"])
        # a defined status has a value, an empty population has none (never 0 or 1)
        assert r.loc[has, "value"].notna().all(), key
        assert r.loc[r["status"] == "undefined", "value"].isna().all(), key
        assert (r["n"] >= 0).all() and (r["denominator"] >= 0).all(), key
        if kind in ("rate", "ratio"):
            d = r[has]
            np.testing.assert_allclose(d["value"], d["numerator"] / d["denominator"],
                                       rtol=1e-12, err_msg=key)
        if kind == "sum":
            d = r[has]
            np.testing.assert_allclose(d["value"], d["numerator"], rtol=1e-12, err_msg=key)
        if kind == "rate":
            v = r.loc[has, "value"]
            assert ((v >= 0) & (v <= 1)).all(), (key, v[(v < 0) | (v > 1)].tolist())
        if kind == "mean":
            d = r[has]
            np.testing.assert_allclose(d["value"], d["numerator"] / d["n"], rtol=1e-12,
                                       err_msg=key)
            assert (d["p50"] <= d["p90"] + 1e-9).all(), key


def _resum_cases():
    cases = []
    for kpi in IDS:
        meta = KPIS.loc[kpi]
        if meta["kind"] == "custom":
            continue  # already-reduced rows (peak of a period, tracking signal...)
        for dim in ("channel", "node", *EXTRA_DIMS):
            host = _host(dim)
            order_level = meta["grain"].startswith(ORDER_LEVEL_GRAINS)
            # a daily mean's denominator counts each node's days: no cut by a node column
            daily = dim in EXTRA_DIMS and host == "node" and "daily snapshot" in meta["grain"]
            if host in meta["dims"] and not (host == "node" and order_level) and not daily:
                cases.append((kpi, dim))
    return cases


@pytest.mark.parametrize(("kpi", "dim"), _resum_cases())
def test_segments_sum_back_to_the_total(results, by_dim, kpi, dim):
    total = rows_of(results["omnichannel"], kpi).iloc[0]
    seg = rows_of(by_dim[dim], kpi)
    assert len(seg) >= 1
    sums = {col: seg[col].sum() == pytest.approx(total[col], rel=1e-9, abs=1e-9)
            for col in _additive_columns(kpi)}
    if (kpi, _host(dim)) in CUT_CHANGES_POPULATION:
        assert not all(sums.values()), f"{kpi} by {dim} re-sums: drop its exception"
        return
    assert all(sums.values()), {c: ok for c, ok in sums.items() if not ok}


def _shuffled(ds: kpilib.Dataset) -> kpilib.Dataset:
    rng = np.random.default_rng(7)
    return kpilib.Dataset.from_frames(**{
        name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        for name, frame in ds.tables.items()})


@pytest.fixture(scope="module")
def reruns(datasets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The default sample computed again, and on a copy with every table's rows shuffled."""
    ds = datasets["omnichannel"]
    return kpilib.compute(ds, "all", freq="W"), kpilib.compute(_shuffled(ds), "all", freq="W")


@pytest.mark.parametrize("kpi", IDS)
def test_deterministic_and_row_order_independent(results, reruns, kpi):
    first = rows_of(results["omnichannel/W"], kpi).reset_index(drop=True)
    again, shuffled = (rows_of(r, kpi).reset_index(drop=True) for r in reruns)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    # sums in another order may differ in the last bits, nothing else may
    pd.testing.assert_frame_equal(first, shuffled, check_exact=False, rtol=1e-9)
