"""Drill rows name their records by the source's own ids, and those ids exist in the data.

For every KPI of ``list_kpis()`` with records, on the CI dataset weekly: the rows carry at
least one id column of the data model (a single-column primary key such as ``order_id``,
``order_line_id``, ``shipment_id``, ``sku``, ``wave_id``), and every non-null value of each
such column is a value of that column somewhere in the loaded tables (ids are decoded back
from the engine's integer codes, never invented). Cost-per-order rows are node-period cost
pools, and ``fulfillment_costs`` has no id of its own: they are named by node and period.
A location count event is named by its ``count_event`` key, ``node|location|day``, whose
parts must be a real count of the data. A node's bucket of unwaved lines has a null
``wave_id``, never a made-up one.
"""

from __future__ import annotations

import pytest

import kpilib
from kpilib import registry, schema
from kpilib.drilldown import records
from kpilib.engine import make_context

ID_COLUMNS = {t.primary_key[0] for t in schema.TABLES.values() if len(t.primary_key) == 1}
COST_POOLS = {"cost_per_order", "cost_per_order_incl_freight"}
# custom KPIs have no records (test_drill_contract checks that they say so)
IDS = [k for k in kpilib.list_kpis()["id"]
       if registry.KPIS[k].kind != "custom" and k not in COST_POOLS]


@pytest.fixture(scope="module")
def ci():
    from kpilib.reports.cidata import ensure_ci_data

    return kpilib.load_dataset(str(ensure_ci_data()))


@pytest.fixture(scope="module")
def ctx(ci):
    return make_context(ci, freq="W")


@pytest.fixture(scope="module")
def known(ci):
    """Every value each id column takes in any loaded table."""
    out: dict[str, set] = {c: set() for c in ID_COLUMNS}
    for frame in ci.tables.values():
        if frame is None:
            continue
        for col in ID_COLUMNS & set(frame.columns):
            out[col] |= set(frame[col].dropna().astype(str))
    return out


@pytest.mark.parametrize("kpi", IDS)
def test_drill_rows_carry_existing_source_ids(kpi, ci, ctx, known):
    rows = records(registry.KPIS[kpi], ctx)
    assert len(rows), f"{kpi} has no records in the CI data"  # every one has some there
    present = sorted(ID_COLUMNS & set(rows.columns))
    if "count_event" in rows.columns:
        counts = ci.inventory_counts
        real = set(counts["node_id"].astype(str) + "|" + counts["location_id"].astype(str) + "|"
                   + counts["counted_at"].dt.strftime("%Y-%m-%d"))
        made_up = sorted(set(rows["count_event"].astype(str)) - real)[:5]
        assert not made_up, f"{kpi}: count events not in inventory_counts: {made_up}"
    assert present or "count_event" in rows.columns, (
        f"{kpi}: drill rows carry no source id (columns {list(rows.columns)})")
    for col in present:
        values = set(rows[col].dropna().astype(str))
        missing = sorted(values - known[col])[:5]
        assert not missing, f"{kpi}: {col} values not in the data: {missing}"
