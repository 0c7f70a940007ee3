"""C6 inventory count accuracy by location and its variants.

A **location count event** is one first count (``is_recount = false``) of one location at one
node on one day (UTC date of ``counted_at``); its rows are the SKUs found or expected there.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.registry import kpi

DIMS = ("node", "sku", "supplier", "product_class", "abc_class", "xyz_class", "count_program")


def _first_count_rows(ctx: Context) -> pd.DataFrame:
    rows = ctx.fact("count_rows")
    rows = rows.loc[~rows["is_recount"].astype(bool)]
    return segments.attach(rows, segments.sku_dims(ctx), "sku", ctx)


@kpi("inventory_count_accuracy_by_location", code="C6", fact="count_rows",
     name="Inventory count accuracy by location",
     domain="inventory", unit="fraction", direction="higher", grain="location count event",
     kind="rate", tables=("inventory_counts",), dims=DIMS, params=("count_tol_units",))
def inventory_count_accuracy_by_location(ctx: Context) -> pd.DataFrame:
    """Accuracy = accurate location count events / location count events (first counts).

    Anchor: count time of the event's first row.

    Population: first counts of a location on a day; recounts are not scored.

    An event is accurate if every SKU row has ``|qty_counted − qty_system_at_count| ≤ tol``
    (``count_tol_units``, default 0). Anchor: ``counted_at`` (the event's first row).
    Recounts are not scored, and a recount that corrects a first count does not make it
    accurate. An empty location found empty is accurate; stock found where the system
    expects none (a row with system 0) is not. Cut by a SKU-level dimension (product class,
    ABC...), an event is judged on its rows in that segment (sub-unit rule).
    """
    rows = _first_count_rows(ctx)
    # grouped on the key's parts, not its text: ids containing "|" cannot merge two events
    keys = list(dict.fromkeys(["node", "location_id", "count_day", *ctx.by]))
    ev = rows.groupby(keys, dropna=False, sort=False).agg(
        count_event=("count_event", "first"), anchor=("counted_at", "min"),
        ok=("row_ok", "all")).reset_index()
    return ev.assign(num=ev["ok"].astype(float), den=1.0)


@kpi("sku_location_accuracy", code="C6", fact="count_rows",
     name="SKU-location count accuracy", domain="inventory",
     unit="fraction", direction="higher", grain="SKU row of a location count", kind="rate",
     tables=("inventory_counts",), dims=DIMS, params=("count_tol_units",))
def sku_location_accuracy(ctx: Context) -> pd.DataFrame:
    """Accuracy = SKU rows within tolerance / SKU rows counted (first counts only).

    Anchor: count time.

    Population: SKU rows of first counts.
    """
    rows = _first_count_rows(ctx)
    return rows.assign(anchor=rows["counted_at"], num=rows["row_ok"].astype(float), den=1.0)


@kpi("inventory_unit_accuracy", code="C6", fact="count_rows",
     name="Inventory unit accuracy", domain="inventory",
     unit="fraction", direction="higher", grain="SKU row of a location count", kind="ratio",
     tables=("inventory_counts",), dims=DIMS)
def inventory_unit_accuracy(ctx: Context) -> pd.DataFrame:
    """Unit accuracy = 1 − Σ|qty_counted − qty_system_at_count| / Σ qty_system_at_count,
    i.e. numerator Σ(system − |variance|), denominator Σ system (absolute variances, so
    overs and unders never cancel). Σ system = 0 → undefined. May be negative.

    Anchor: count time.

    Population: SKU rows of first counts.
    """
    rows = _first_count_rows(ctx)
    return rows.assign(anchor=rows["counted_at"],
                       num=rows["qty_system_at_count"] - rows["variance"].abs(),
                       den=rows["qty_system_at_count"].astype(float))


