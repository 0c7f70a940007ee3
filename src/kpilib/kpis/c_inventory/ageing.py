"""C3 inventory age from FIFO layers: buckets, average age, aged share.

Snapshot KPIs: with ``freq=None`` the layers on hand at ``as_of``; with a freq, at each period
end (capped at ``as_of``). Layers come from :mod:`kpilib.fact_tables.fifo`; buckets have inclusive
upper bounds (``aging_buckets``, default 30, 60, 90 → 0-30, 31-60, 61-90, 91+). A partition
whose balance is ≤ 0 has no layers, so its age is undefined.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.fifo import age_layers, fifo_layers_at
from kpilib.registry import kpi

TABLES = ("inventory_movements",)
DIMS = ("node", "sku", "supplier", "product_class", "abc_class", "xyz_class", "age_bucket")
PARAMS = ("aging_buckets", "aging_partition")


def _layers_at_snapshots(ctx: Context) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        points = ctx.snapshot_points()
        layers = fifo_layers_at(ctx.ds.inventory_movements, points["t"].unique(),
                                ctx.param("aging_partition"))
        parts = [age_layers(layers.loc[layers["t"] == t].drop(columns="t"), t,
                            ctx.param("aging_buckets")).assign(period=period)
                 for period, t in points.itertuples(index=False)]
        out = pd.concat(parts, ignore_index=True)
        return out.rename(columns={"node_id": "node"})

    layers = ctx.memo(f"_layers_{ctx.freq}", build)
    return segments.attach(layers, segments.sku_dims(ctx), "sku", ctx)


@kpi("inventory_age_buckets", code="C3", fact="inventory_layers",
     name="Inventory on hand by age bucket (units)",
     domain="inventory", unit="units", direction="lower", grain="FIFO layer", kind="sum",
     tables=TABLES, dims=DIMS, params=PARAMS, snapshot=True)
def inventory_age_buckets(ctx: Context) -> pd.DataFrame:
    """Units on hand = Σ layer qty; cut ``by=["age_bucket"]`` for the FIFO age profile
    (0-30, 31-60, 61-90, 91+ days by default). Undefined when nothing is on hand.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: FIFO layers of the units on hand, built from the stock ledger.
    """
    layers = _layers_at_snapshots(ctx)
    return layers.assign(num=layers["qty"], den=1.0)


@kpi("inventory_age_value", code="C3", fact="inventory_layers",
     name="Inventory value by age bucket", domain="inventory",
     unit="currency", direction="lower", grain="FIFO layer", kind="sum", tables=TABLES,
     dims=DIMS, params=PARAMS, snapshot=True)
def inventory_age_value(ctx: Context) -> pd.DataFrame:
    """Value on hand = Σ layer qty × layer unit cost; cut by ``age_bucket`` for the profile.

    Anchor: as ``inventory_age_buckets``.

    Population: as ``inventory_age_buckets``.
    """
    layers = _layers_at_snapshots(ctx)
    return layers.assign(num=layers["value"], den=1.0)


@kpi("average_inventory_age_days", code="C3", fact="inventory_layers",
     name="Average inventory age", domain="inventory",
     unit="days", direction="lower", grain="FIFO layer", kind="ratio", tables=TABLES,
     dims=DIMS, params=PARAMS, snapshot=True)
def average_inventory_age_days(ctx: Context) -> pd.DataFrame:
    """Average age = Σ(qty × age_days) / Σ qty over FIFO layers on hand (quantity-weighted).

    Anchor: as ``inventory_age_buckets``.

    Population: as ``inventory_age_buckets``.
    """
    layers = _layers_at_snapshots(ctx)
    return layers.assign(num=layers["qty"] * layers["age_days"], den=layers["qty"])


@kpi("aged_inventory_share_90p", code="C3", fact="inventory_layers",
     name="Aged inventory share (91+ days, by value)",
     domain="inventory", unit="fraction", direction="lower", grain="FIFO layer", kind="rate",
     tables=TABLES, dims=DIMS, params=PARAMS, snapshot=True)
def aged_inventory_share_90p(ctx: Context) -> pd.DataFrame:
    """Aged share = value in the oldest bucket (beyond the last bound, 91+ by default) /
    total value on hand. Total value 0 → undefined.

    Anchor: as ``inventory_age_buckets``.

    Population: as ``inventory_age_buckets``.
    """
    layers = _layers_at_snapshots(ctx)
    last = int(tuple(ctx.param("aging_buckets"))[-1])
    old = layers["age_days"] > last
    return layers.assign(num=layers["value"].where(old, 0.0), den=layers["value"])
