"""Stock facts shared by inventory KPIs: daily snapshots and customer shipments as rows.

Snapshot rows are end-of-day records keyed by a calendar date; they are anchored at **noon
UTC** of that date, so the date lands in the same reporting day for any time zone within
±12 h of UTC. "The snapshot at time t" is the latest one dated on or before the UTC date of
the instant just before ``t`` (a period ending Monday 00:00 takes Sunday's snapshot).
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context, fact

NOON = pd.Timedelta(hours=12)


def date_anchor(dates: pd.Series) -> pd.Series:
    """Noon UTC of naive calendar dates."""
    return (dates + NOON).dt.tz_localize("UTC")


@fact("stock_days", grain="SKU-node-day", tables=("inventory_snapshots",))
def stock_days(ctx: Context) -> pd.DataFrame:
    """One row per snapshot: node, sku, snapshot_date, anchor, quantities, value, active
    (per C5: is_active, stocked, launched, not discontinued), stocked, out_of_stock."""
    s = ctx.ds.inventory_snapshots.rename(columns={"node_id": "node"}).copy()
    s["anchor"] = date_anchor(s["snapshot_date"])
    products = ctx.table("products")
    if products is not None:
        p = products.set_index("sku")
        policy = s["sku"].map(p["stocking_policy"])
        launch = s["sku"].map(p["launch_date"])
        disc = s["sku"].map(p["discontinue_date"])
        s["stocked"] = policy.eq("stocked") | policy.isna()
        launched = launch.isna() | (launch <= s["snapshot_date"])
        alive = disc.isna() | (disc > s["snapshot_date"])
    else:
        s["stocked"], launched, alive = True, True, True
    s["active"] = s["is_active"].astype(bool) & s["stocked"] & launched & alive
    s["out_of_stock"] = s["qty_available"] <= 0
    return s.sort_values(["sku", "node", "snapshot_date"]).reset_index(drop=True)


def customer_ships(ctx: Context) -> pd.DataFrame:
    """Customer shipment movements (``movement_type='ship'``): node, sku, moved_at, units
    (positive), cogs (units × unit_cost)."""
    mv = ctx.ds.inventory_movements
    ship = mv.loc[mv["movement_type"].eq("ship")].rename(columns={"node_id": "node"})
    units = -ship["qty_delta"]
    return ship.assign(units=units, cogs=units * ship["unit_cost"])[
        ["node", "sku", "moved_at", "units", "cogs", "reference_id"]]


def snapshot_at(stock: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """Latest snapshot per (sku, node) dated on or before the UTC day of ``t − 1 ns``."""
    day = (t - pd.Timedelta(1, "ns")).tz_convert("UTC").tz_localize(None).normalize()
    s = stock.loc[stock["snapshot_date"] <= day]
    return s.drop_duplicates(["sku", "node"], keep="last")


def snapshots_at(stock: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """``snapshot_at`` for every snapshot point at once: for each (sku, node) seen in
    ``stock`` and each row of ``points`` (``period``, ``t``), its latest snapshot dated on or
    before the UTC day of ``t − 1 ns``; pairs with no such snapshot are left out."""
    days = (points["t"] - pd.Timedelta(1, "ns")).dt.tz_convert("UTC").dt.tz_localize(
        None).dt.normalize()
    left = points.assign(day=days.to_numpy()).merge(
        stock[["sku", "node"]].drop_duplicates(), how="cross").sort_values("day")
    right = stock.sort_values("snapshot_date")
    out = pd.merge_asof(left, right.drop(columns=["period", "t"], errors="ignore"),
                        left_on="day", right_on="snapshot_date", by=["sku", "node"],
                        direction="backward")
    return out.loc[out["snapshot_date"].notna()].drop(columns="day").reset_index(drop=True)
