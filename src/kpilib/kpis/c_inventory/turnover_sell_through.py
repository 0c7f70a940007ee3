"""C1 inventory turnover and C4 sell-through, per SKU-node-period.

Both are ratios of sums over SKU-node rows, so any roll-up is Σnumerator / Σdenominator.
"""

from __future__ import annotations

import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import segments
from kpilib.fact_tables.stock import customer_ships, snapshots_at
from kpilib.registry import kpi

DIMS = ("node", "sku", "supplier", "product_class", "abc_class", "xyz_class")
TURN_TABLES = ("inventory_movements", "inventory_snapshots")


def _sku_attach(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    return segments.attach(frame, segments.sku_dims(ctx), "sku", ctx)


def _turnover_rows(ctx: Context, flow: str, stock_col: str, annualize: bool) -> pd.DataFrame:
    stock = ctx.fact("stock_days")
    stock = stock.loc[ctx.in_window(stock["anchor"])].copy()
    stock["period"] = ctx.period_of(stock["anchor"])
    days = stock.groupby("period", dropna=False)["snapshot_date"].nunique()
    held = stock[stock_col].where(stock["qty_on_hand"] >= 0, 0.0)  # negative on-hand -> 0
    stock["den"] = held / stock["period"].map(days).to_numpy()
    stock["num"] = 0.0
    ships = customer_ships(ctx)
    ships = ships.loc[ctx.in_window(ships["moved_at"])].assign(anchor=lambda f: f["moved_at"])
    ships["period"] = ctx.period_of(ships["anchor"])
    ships["num"] = ships[flow]
    if annualize:
        ships["num"] = ships["num"] * 365.0 / ships["period"].map(days).to_numpy()
        ships["num"] = ships["num"].fillna(0.0)
    ships["den"] = 0.0
    cols = ["anchor", "node", "sku", "num", "den"]
    obs = pd.concat([stock[cols], ships[cols]], ignore_index=True)
    return _sku_attach(ctx, obs)


@kpi("inventory_turnover", code="C1", fact="stock_days",
     name="Inventory turnover", domain="inventory", unit="turns",
     direction="higher", grain="SKU-node-period", kind="ratio", tables=TURN_TABLES, dims=DIMS)
def inventory_turnover(ctx: Context) -> pd.DataFrame:
    """Turnover = COGS_P / avg_inv_P, COGS_P = −Σ qty_delta × unit_cost of customer ``ship``
    movements in P (transfers, scrap, adjustments excluded), avg_inv_P = mean over the
    snapshot days of P of ``inventory_value`` (daily average, summed over SKU-nodes).

    Anchor: the movement and snapshot days of the period.

    Population: customer shipments from the stock ledger and the daily snapshots of every SKU-node.

    Negative on-hand is valued at 0. avg_inv = 0 → undefined even with COGS > 0. With
    ``freq=None`` P runs from ``start`` (or the first snapshot) to ``end`` (or ``as_of``).
    Read with stockouts (C5): high turns with many stockouts is not healthy.
    """
    return _turnover_rows(ctx, "cogs", "inventory_value", annualize=False)


@kpi("inventory_turnover_annualized", code="C1", fact="stock_days",
     name="Inventory turnover (annualized)",
     domain="inventory", unit="turns/year", direction="higher", grain="SKU-node-period",
     kind="ratio", tables=TURN_TABLES, dims=DIMS)
def inventory_turnover_annualized(ctx: Context) -> pd.DataFrame:
    """Annualized turnover = turnover × 365 / days in P (days with snapshots).

    Anchor: as ``inventory_turnover``.

    Population: as ``inventory_turnover``.
    """
    return _turnover_rows(ctx, "cogs", "inventory_value", annualize=True)


@kpi("unit_turnover", code="C1", fact="stock_days",
     name="Unit turnover", domain="inventory", unit="turns",
     direction="higher", grain="SKU-node-period", kind="ratio", tables=TURN_TABLES, dims=DIMS)
def unit_turnover(ctx: Context) -> pd.DataFrame:
    """Unit turnover = units shipped to customers in P / mean daily ``qty_on_hand`` in P.

    Anchor: as ``inventory_turnover``.

    Population: as ``inventory_turnover``, in units.
    """
    return _turnover_rows(ctx, "units", "qty_on_hand", annualize=False)


def _sell_through_rows(ctx: Context, with_opening: bool) -> pd.DataFrame:
    mv = ctx.ds.inventory_movements.rename(columns={"node_id": "node"})
    inbound = ["receipt", "transfer_in"] if "node" in ctx.by else ["receipt"]
    rec = mv.loc[mv["movement_type"].isin(inbound) & (mv["qty_delta"] > 0)]
    rec = rec.assign(anchor=rec["moved_at"], num=0.0, den=rec["qty_delta"])
    ships = customer_ships(ctx)
    ships = ships.assign(anchor=ships["moved_at"], num=ships["units"], den=0.0)
    parts = [rec, ships]
    if with_opening and ctx.has("inventory_snapshots"):
        stock = ctx.fact("stock_days")
        starts = ctx.snapshot_points()["period"]
        if ctx.freq is None:  # the window starts at `start`, else the first snapshot day
            first = ctx.start if ctx.start is not None else stock["anchor"].min().floor("D")
            starts = pd.Series([first]).dropna()
        starts = pd.Series(list(starts), dtype=f"datetime64[ns, {ctx.tz}]").dt.tz_convert("UTC")
        opening = snapshots_at(stock, pd.DataFrame({"period": starts, "t": starts}))
        parts.append(opening.assign(anchor=opening["t"], num=0.0,
                                    den=opening["qty_on_hand"].clip(lower=0)))
    cols = ["anchor", "node", "sku", "num", "den"]
    obs = pd.concat([p[cols] for p in parts], ignore_index=True)
    if with_opening and ctx.freq is not None:
        obs["excluded"] = _no_opening_stock(ctx, obs["anchor"])
    return _sku_attach(ctx, obs)


def _no_opening_stock(ctx: Context, anchor: pd.Series) -> pd.Series:
    """``no_opening_snapshot`` for rows of a period that starts before the dataset's first
    snapshot: its opening stock is unknown (not 0), so the period is undefined rather than a
    sell-through of sales over receipts alone."""
    first = (ctx.fact("stock_days")["snapshot_date"].min() if ctx.has("inventory_snapshots")
             else pd.NaT)
    opening_day = (ctx.period_of(anchor) - pd.Timedelta(1, "ns")).dt.tz_convert(
        "UTC").dt.tz_localize(None).dt.normalize()
    unknown = opening_day.to_numpy() < first if pd.notna(first) else anchor.notna().to_numpy()
    return pd.Series(unknown, index=anchor.index).map({True: "no_opening_snapshot",
                                                       False: None})


@kpi("sell_through_rate", code="C4", fact="stock_days",
     name="Sell-through rate", domain="inventory", unit="fraction",
     direction="higher", grain="SKU-node-period", kind="rate",
     tables=("inventory_movements", "inventory_snapshots"), dims=DIMS)
def sell_through_rate(ctx: Context) -> pd.DataFrame:
    """Sell-through = units_sold_P / (qty_on_hand at period start + units_received_P).

    Anchor: the movement days of the period (opening stock: the snapshot before it).

    Population: SKU-nodes with opening stock or receipts in the period.

    units_sold = customer ``ship`` movements in P (returns not netted); units_received =
    supplier receipts, plus ``transfer_in`` when cut by node (company-level figures exclude
    transfers). Opening stock = the end-of-day snapshot before the period starts (0 for a SKU
    without one, e.g. launched mid-period; negative on-hand counts as 0). A period starting
    before the dataset's first snapshot has no known opening stock: its rows are excluded
    (``no_opening_snapshot``). Denominator 0 → undefined. With ``freq=None`` the period
    starts at ``start`` or the first snapshot.
    """
    return _sell_through_rows(ctx, with_opening=True)


@kpi("sell_through_rate_receipts", code="C4", fact="stock_days",
     name="Sell-through on receipts", domain="inventory",
     unit="ratio", direction="higher", grain="SKU-node-period", kind="ratio",
     tables=("inventory_movements",), dims=DIMS)
def sell_through_rate_receipts(ctx: Context) -> pd.DataFrame:
    """Sell-through (receipts variant) = units_sold_P / units_received_P; may exceed 1 when
    opening stock is sold.

    Anchor: as ``sell_through_rate``.

    Population: SKU-nodes with receipts in the period.
    """
    return _sell_through_rows(ctx, with_opening=False)
