"""C2 days of supply, C5 stockouts and C7 available to promise.

Snapshot measures (C2, C7) read the latest end-of-day snapshot on or before each period end
(``as_of`` with ``freq=None``); C5 is evaluated on every SKU-node-day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.stock import customer_ships, snapshots_at
from kpilib.registry import kpi, register_param

register_param("stockout_basis", "end_of_day", "C5: 'end_of_day' (qty_available <= 0) or "
               "'intraday' (stockout_minutes > 0)")

DIMS = ("node", "sku", "supplier", "product_class", "abc_class", "xyz_class")


def _attach(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    return segments.attach(frame, segments.sku_dims(ctx), "sku", ctx)


def _unit_costs(ctx: Context, snap: pd.DataFrame) -> pd.Series:
    """Unit cost per row: products.unit_cost, else value / on-hand, else 1."""
    own = (snap["inventory_value"] / snap["qty_on_hand"].where(snap["qty_on_hand"] > 0))
    products = ctx.table("products")
    if products is not None:
        own = snap["sku"].map(products.set_index("sku")["unit_cost"]).fillna(own)
    return own.fillna(1.0)


def _dos_rows(ctx: Context, forward: bool) -> pd.DataFrame:
    stock = ctx.fact("stock_days")
    n_back = int(ctx.param("dos_window_days"))
    horizon = int(ctx.param("dos_horizon_days"))
    ships = customer_ships(ctx) if ctx.has("inventory_movements") else None
    parts = []
    all_snaps = snapshots_at(stock, ctx.snapshot_points())
    for (period, t), snap in all_snaps.groupby(["period", "t"], sort=False, dropna=False):
        if forward:
            demand = _forecast_demand(ctx, t, horizon) / horizon
        else:
            w = ships.loc[(ships["moved_at"] > t - pd.Timedelta(days=n_back))
                          & (ships["moved_at"] <= t)]
            demand = w.groupby(["sku", "node"])["units"].sum() / n_back
        daily = pd.MultiIndex.from_frame(snap[["sku", "node"]]).map(demand.to_dict())
        daily = pd.Series(daily, index=snap.index, dtype=float).fillna(0.0)
        cost = _unit_costs(ctx, snap)
        no_demand = (daily <= 0) & (snap["qty_available"] > 0)
        parts.append(snap.assign(
            period=period, num=snap["qty_available"] * cost, den=daily * cost,
            excluded=np.where(no_demand, "no_demand", None)))
    obs = pd.concat(parts, ignore_index=True) if parts else stock.head(0)
    return _attach(ctx, obs[["period", "node", "sku", "num", "den", "excluded"]])


def _forecast_demand(ctx: Context, t: pd.Timestamp, horizon: int) -> pd.Series:
    fc = ctx.table("forecasts")
    if fc is None:
        return pd.Series(dtype=float)
    start = t.tz_convert("UTC").tz_localize(None).normalize()
    fc = fc.loc[(fc["period_granularity"] == "day") & (fc["target_period_start"] >= start)
                & (fc["target_period_start"] < start + pd.Timedelta(days=horizon))
                & (fc["forecast_made_at"] <= t)]
    latest = fc.sort_values("forecast_made_at").drop_duplicates(
        ["sku", "node_id", "target_period_start"], keep="last")
    return latest.groupby(["sku", "node_id"])["qty_forecast"].sum().rename_axis(["sku", "node"])


@kpi("days_of_supply", code="C2", fact="stock_days",
     name="Days of supply", domain="inventory", unit="days",
     direction="target", grain="SKU-node-date", kind="ratio", snapshot=True,
     tables=("inventory_snapshots", "inventory_movements"), dims=DIMS,
     params=("dos_window_days",))
def days_of_supply(ctx: Context) -> pd.DataFrame:
    """DOS = qty_available(t) / daily demand, daily demand = units shipped to customers in
    the trailing ``dos_window_days`` (28) / 28; t = latest snapshot on or before the period
    end.

    Anchor: the latest snapshot on or before the period end (or ``as_of``).

    Population: SKU-nodes in that snapshot; SKU-nodes with stock and no demand are excluded
    (``no_demand``).

    Per SKU-node this is exactly the unit ratio. Roll-ups across SKUs never add unit DOS:
    both sides are valued at the SKU's unit cost (Σ available value / Σ daily COGS), the
    ``dos_value`` reading of the spec. Demand 0 with stock → undefined, counted as
    ``no_demand`` and left out of roll-ups (no 9999 sentinel); stock 0 → 0; negative stock
    (backorders) → negative days.
    """
    return _dos_rows(ctx, forward=False)


@kpi("days_of_supply_forward", code="C2", fact="stock_days",
     name="Days of supply (forward, on forecast)",
     domain="inventory", unit="days", direction="target", grain="SKU-node-date", kind="ratio",
     snapshot=True, tables=("inventory_snapshots", "forecasts"), dims=DIMS,
     params=("dos_horizon_days",))
def days_of_supply_forward(ctx: Context) -> pd.DataFrame:
    """DOS forward = qty_available(t) / (Σ daily forecast over the next ``dos_horizon_days``
    / horizon), using the latest daily forecasts made by t. Same roll-up and edge rules as
    ``days_of_supply``.

    Anchor: as ``days_of_supply``.

    Population: as ``days_of_supply``, with forecast demand.
    """
    return _dos_rows(ctx, forward=True)


def _stockout_days(ctx: Context) -> pd.DataFrame:
    s = ctx.fact("stock_days")
    if ctx.param("stockout_basis") == "intraday":
        oos = s["stockout_minutes"].fillna(0) > 0
    elif ctx.param("stockout_basis") == "end_of_day":
        oos = s["out_of_stock"]
    else:
        raise ValueError("stockout_basis must be 'end_of_day' or 'intraday'")
    s = s.assign(oos=oos)
    act = s.loc[s["active"]].copy()
    prev = act.groupby(["sku", "node"])["oos"].shift(1)
    act["event"] = act["oos"] & ~prev.astype("boolean").fillna(False).astype(bool)
    skipped = s.loc[~s["active"] & ~s["stocked"]].assign(excluded="not_stocked")
    return _attach(ctx, pd.concat([act, skipped], ignore_index=True))


@kpi("stockout_rate", code="C5", fact="stock_days",
     name="Stockout rate", domain="inventory", unit="fraction",
     direction="lower", grain="SKU-node-day", kind="rate", tables=("inventory_snapshots",),
     dims=DIMS, params=("stockout_basis",))
def stockout_rate(ctx: Context) -> pd.DataFrame:
    """Stockout rate = out-of-stock active SKU-node-days / active SKU-node-days.

    Anchor: the snapshot day.

    Population: active SKU-node-days (active, stocked, launched, not discontinued); dropship and
    made-to-order days excluded (``not_stocked``).

    Active: ``is_active``, stocked, launched and not discontinued on the day (products
    table when present). Out of stock: ``qty_available ≤ 0`` at end of day (``intraday``:
    ``stockout_minutes > 0``). Dropship / made-to-order days are excluded (``not_stocked``).
    A day without a snapshot is neither in nor out of stock: it is simply absent.
    """
    d = _stockout_days(ctx)
    return d.assign(num=d["oos"].astype(float), den=1.0)


@kpi("stockout_events", code="C5", fact="stock_days",
     name="Stockout events", domain="inventory", unit="count",
     direction="lower", grain="SKU-node-day", kind="sum", tables=("inventory_snapshots",),
     dims=DIMS, params=("stockout_basis",))
def stockout_events(ctx: Context) -> pd.DataFrame:
    """Events = transitions in stock → out of stock between consecutive active snapshot days
    of a SKU-node; a first active day out of stock opens an event. Counted on the day the
    event starts; undefined when there is no active day.

    Anchor: the day the stockout starts.

    Population: as ``stockout_rate``.
    """
    d = _stockout_days(ctx)
    return d.assign(num=d["event"].astype(float), den=1.0)


@kpi("stockout_frequency_per_30_days", code="C5", fact="stock_days",
     name="Stockout frequency per 30 days",
     domain="inventory", unit="events/30 days", direction="lower", grain="SKU-node-day",
     kind="ratio", tables=("inventory_snapshots",), dims=DIMS, params=("stockout_basis",))
def stockout_frequency_per_30_days(ctx: Context) -> pd.DataFrame:
    """Frequency = 30 × stockout events / active SKU-node-days.

    Anchor: the snapshot day.

    Population: as ``stockout_rate``.
    """
    d = _stockout_days(ctx)
    return d.assign(num=30.0 * d["event"], den=1.0)


@kpi("mean_stockout_duration_days", code="C5", fact="stock_days",
     name="Mean stockout duration", domain="inventory",
     unit="days", direction="lower", grain="SKU-node-day", kind="ratio",
     tables=("inventory_snapshots",), dims=DIMS, params=("stockout_basis",))
def mean_stockout_duration_days(ctx: Context) -> pd.DataFrame:
    """Duration = out-of-stock active days / stockout events (both in the period; an event
    running across a period end adds its later days to the next period). No event →
    undefined.

    Anchor: the snapshot day.

    Population: as ``stockout_rate``.
    """
    d = _stockout_days(ctx)
    return d.assign(num=d["oos"].astype(float), den=d["event"].astype(float))


@kpi("available_to_promise", code="C7", fact="stock_days",
     name="Available to promise (now)", domain="inventory",
     unit="units", direction="none", grain="SKU-node-date", kind="sum", snapshot=True,
     tables=("inventory_snapshots",), dims=DIMS)
def available_to_promise(ctx: Context) -> pd.DataFrame:
    """ATP_now = qty_on_hand − qty_allocated − qty_held (= qty_available) of the latest
    snapshot on or before the period end, summed over SKU-nodes. Negative ATP is returned as
    is (over-commitment). Cumulative ATP by date needs inbound ETAs, which the data model does not
    carry: ``available_to_promise_with_inbound`` adds all open inbound.

    Anchor: the latest snapshot on or before the period end (or ``as_of``).

    Population: SKU-nodes in that snapshot.
    """
    return _atp_rows(ctx, with_inbound=False)


@kpi("available_to_promise_with_inbound", code="C7", fact="stock_days",
     name="Available to promise incl. open inbound",
     domain="inventory", unit="units", direction="none", grain="SKU-node-date", kind="sum",
     snapshot=True, tables=("inventory_snapshots",), dims=DIMS)
def available_to_promise_with_inbound(ctx: Context) -> pd.DataFrame:
    """ATP_cum = qty_available + qty_on_order (open POs / transfers, no ETA in the data model, so
    all
    open inbound counts) of the latest snapshot on or before the period end.

    Anchor: as ``available_to_promise``.

    Population: as ``available_to_promise``.
    """
    return _atp_rows(ctx, with_inbound=True)


def _atp_rows(ctx: Context, with_inbound: bool) -> pd.DataFrame:
    snap = snapshots_at(ctx.fact("stock_days"), ctx.snapshot_points())
    qty = snap["qty_available"] + (snap["qty_on_order"].fillna(0) if with_inbound else 0)
    return _attach(ctx, snap.assign(num=qty, den=1.0)[["period", "node", "sku", "num", "den"]])
