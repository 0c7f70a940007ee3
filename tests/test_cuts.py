"""``compute(filters=...)``, string ``by`` and the "did you mean" error (kpilib.cuts).

Hand-made observations go through ``aggregate`` in a filtered context, so each expectation is
worked out from the rows in the comments; the end-to-end checks compare a filtered compute
with the by-then-keep-one-row way on the CI dataset.
"""

from __future__ import annotations

import pandas as pd
import pytest
from builders import build_dataset

import kpilib
from kpilib import cuts, registry
from kpilib.aggregate import aggregate
from kpilib.cuts import as_dims, normalize, unknown_value_message
from kpilib.engine import make_context
from kpilib.errors import ParameterError


def _kdef(kind="rate"):
    return registry.KpiDef(id="toy", code="A0", name="Toy", domain="order", unit="fraction",
                           direction="higher", grain="order", kind=kind,
                           required_tables=("orders",), dims=("channel", "node"), params=(),
                           description="toy", func=lambda ctx: None)


def ts(s):
    return pd.Timestamp(s, tz="UTC")


@pytest.fixture
def ds():
    return build_dataset(orders=[
        {"order_id": "O1", "created_at": "2024-01-01T00:00Z", "channel": "web"},
        {"order_id": "O2", "created_at": "2024-01-31T00:00Z", "channel": "marketplace_a"},
        {"order_id": "O3", "created_at": "2024-01-31T00:00Z", "channel": "b2b"}])


OBS = pd.DataFrame({
    "anchor": [ts("2024-01-02")] * 5,
    "channel": ["web", "web", "marketplace_a", "b2b", None],
    "node": ["DC-1", "DC-2", "DC-2", "DC-2", "DC-2"],
    "num": [1.0, 0.0, 1.0, 1.0, 1.0],
    "den": 1.0,
})


def test_as_dims_and_normalize():
    assert as_dims("channel") == ("channel",) and as_dims(["a", "b"]) == ("a", "b")
    assert as_dims(None) == ()
    assert normalize({"channel": "web", "node": ["DC-1", "DC-1", "DC-2"]}) == {
        "channel": ("web",), "node": ("DC-1", "DC-2")}
    with pytest.raises(ParameterError, match="has no values"):
        normalize({"channel": []})


def test_filter_keeps_the_records_of_the_values(ds):
    ctx = make_context(ds, filters={"channel": ["web", "marketplace_a"]})
    assert ctx.by == ("channel",) and ctx.group_by == ()
    row = aggregate(OBS, _kdef(), ctx).iloc[0]
    # rows 1-3 (web, web, marketplace_a): num 1+0+1 = 2 of 3; b2b and the null channel out
    assert (row["numerator"], row["denominator"]) == (2.0, 3.0)
    assert "channel" not in row.index


def test_filter_and_by_together(ds):
    ctx = make_context(ds, by="node", filters={"channel": "web"})
    out = aggregate(OBS, _kdef(), ctx)
    assert list(out.columns[:4]) == ["kpi", "period", "node", "value"]
    out = out.set_index("node")
    # web rows only: DC-1 -> 1 of 1, DC-2 -> 0 of 1
    assert out.loc["DC-1", "value"] == 1.0 and out.loc["DC-2", "value"] == 0.0


def test_filter_on_a_dimension_also_in_by(ds):
    ctx = make_context(ds, by=["channel"], filters={"channel": ["web", "b2b"]})
    out = aggregate(OBS, _kdef(), ctx).set_index("channel")
    # web 1 of 2 = 0.5, b2b 1 of 1; marketplace_a and the null channel are filtered out
    assert sorted(out.index) == ["b2b", "web"]
    assert out.loc["web", "value"] == 0.5 and out.loc["b2b", "value"] == 1.0


def test_string_by_is_one_dimension(ds):
    assert make_context(ds, by="channel").by == ("channel",)


def test_unknown_filter_value_suggests_the_closest(ds):
    with pytest.raises(ParameterError, match=r"^'wbe' is not a channel; did you mean 'web'\?$"):
        make_context(ds, filters={"channel": ["wbe"]})
    with pytest.raises(ParameterError, match="unknown segment dimension"):
        make_context(ds, filters={"chanel": ["web"]})


def test_unknown_value_message_without_close_match():
    msg = unknown_value_message("product_class", "zzz", ["apparel", "beauty"])
    assert msg == "'zzz' is not a product class; valid values: 'apparel', 'beauty'"
    assert unknown_value_message("channel", "WEB", ["web"]).endswith("did you mean 'web'?")


@pytest.fixture(scope="module")
def ci():
    from kpilib.reports.cidata import ensure_ci_data

    return kpilib.load_dataset(str(ensure_ci_data()))


def test_filtered_compute_equals_by_then_one_row(ci):
    ids = ["otif_rate", "order_cycle_time_hours", "unit_fill_rate"]
    by = kpilib.compute(ci, ids, by=["node"], freq="W", filters={"channel": "web"})
    cut = kpilib.compute(ci, ids, by=["channel", "node"], freq="W")
    cut = cut[cut["channel"] == "web"].drop(columns="channel")
    keys = ["kpi", "period", "node"]
    m = by.merge(cut, on=keys, suffixes=("", "_cut"))
    assert len(m) == len(cut) > 0
    for col in ("value", "numerator", "denominator", "n", "p50", "p90"):
        pd.testing.assert_series_equal(m[col], m[f"{col}_cut"], check_names=False,
                                       check_exact=True)


def test_issue_example_and_breakdown_filters(ci):
    res = kpilib.compute(ci, ["otif_rate", "warehouse_capacity_utilization_avg"], freq="W",
                         filters={"channel": ["web"], "node": "DC-2"})
    otif = res[res["kpi"] == "otif_rate"]
    assert otif["denominator"].sum() > 0 and "channel" not in res.columns
    util = res[res["kpi"] == "warehouse_capacity_utilization_avg"].iloc[0]
    assert util["status"] == "unavailable" and "filtered by channel" in util["note"]
    with pytest.raises(ParameterError, match="is not an exception type; did you mean"):
        kpilib.compute(ci, ["exception_rate"], filters={"exception_type": ["adress_validation"]})


def test_every_dimension_source_is_a_column_of_the_data_model():
    from kpilib.schema import TABLES

    for dim, (table, column) in {**cuts.SOURCES, **cuts.FALLBACKS}.items():
        assert column in TABLES[table].column_names, (dim, table, column)
