"""ABC (C8) and XYZ (C9) classes of SKUs: segment dimensions, not KPI values.

ABC: rank SKUs by consumption value ``v_i`` over the 365 days before ``as_of``, descending
(ties by sku ascending); ``cum_before_i = Σ_{j<i} v_j / V``; **A** if ``cum_before_i < 0.80``,
**B** if ``< 0.95``, else **C** (the share *before* the item, so the top SKU is always A and
the SKU crossing a threshold joins the higher class). ``V = 0`` → every SKU ``N``. Zero-value
SKUs are C and flagged ``no_demand``; SKUs launched (or first demanded) less than 90 days
before ``as_of`` are flagged ``new`` and still classified.

XYZ: demand per period (default month; the last 12 complete periods before ``as_of``),
demand as in the forecast KPIs (Σ qty_ordered of lines created in the period, excluding test, fraud
and
duplicate orders — and transfer orders, see ``demand_lines`` — including
lines later merchant-cancelled), **including zero-demand periods after launch**. Fewer than
``xyz_min_periods`` (6) active periods → ``new``. ``CV =
std(ddof=0) / mean``; mean 0 → ``N``; **X** if ``CV < 0.5``, **Y** if ``< 1.0``, else **Z**.

Readings chosen where the spec leaves room:
- ``abc_basis="cogs"`` values shipped units at cost: customer ``ship`` movements
  (``−qty_delta × unit_cost``) when the ledger exists; otherwise required quantities of
  order lines × ``products.unit_cost``; with no cost anywhere (no ledger, and no products or
  products without ``unit_cost``), at selling price (the ``revenue`` basis), since ranking by
  value needs some value.
- "Launch" is ``products.launch_date`` when known, else the SKU's first demand.
- Classes are computed once, as of the evaluation time (``effective_from = as_of``), and used
  for every period of a result; classes valid at earlier times are not reconstructed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables.population import FAKE_REASONS, order_population
from kpilib.registry import register_param

register_param("abc_basis", "cogs", "C8 value basis: 'cogs', 'revenue' or 'units'")
register_param("abc_thresholds", (0.80, 0.95), "C8 cumulative-share limits of A and B")
register_param("abc_partition", "company", "C8/C9 partition: 'company' or 'product_class'")
register_param("xyz_thresholds", (0.5, 1.0), "C9 CV limits of X and Y")
register_param("xyz_granularity", "month", "C9 demand period: 'month' or 'week'")

YEAR = pd.Timedelta(days=365)
NEW_AGE = pd.Timedelta(days=90)


def demand_lines(ctx: Context) -> pd.DataFrame:
    """Order lines that are demand: order_line_id, sku, created_at, qty_ordered...

    Forecast demand excludes test, fraud and duplicate orders. We also leave out inter-node transfer
    orders: stock moving between our own nodes is not customer demand. Replacement orders
    stay (they consume the SKU like any order), and so do kit component lines: a component
    sold inside a kit is demand on that stocked SKU, which is what its forecast plans for.
    """
    pop = order_population(ctx)
    gone = pop.loc[pop["exclusion"].isin([*FAKE_REASONS, "transfer_order"]), "order_id"]
    ol = ctx.ds.order_lines
    ol = ol.loc[~ol["order_id"].isin(gone)]
    return ol[["order_line_id", "sku", "created_at", "qty_ordered", "qty_cancelled_customer",
               "unit_price"]]


def _consumption_value(ctx: Context, since: pd.Timestamp) -> pd.Series:
    basis = ctx.param("abc_basis")
    lines = demand_lines(ctx)
    lines = lines.loc[(lines["created_at"] >= since) & (lines["created_at"] <= ctx.as_of)]
    if basis == "units":
        return lines.groupby("sku")["qty_ordered"].sum()
    if basis == "revenue":
        return (lines["qty_ordered"] * lines["unit_price"]).groupby(lines["sku"]).sum()
    if basis != "cogs":
        raise ValueError(f"abc_basis must be 'cogs', 'revenue' or 'units', got {basis!r}")
    mv = ctx.table("inventory_movements")
    if mv is not None:
        ship = mv.loc[mv["movement_type"].eq("ship") & (mv["moved_at"] >= since)]
        return (-ship["qty_delta"] * ship["unit_cost"]).groupby(ship["sku"]).sum()
    products = ctx.table("products")
    if products is None or products["unit_cost"].isna().all():
        # no cost known anywhere: value at selling price (revenue basis)
        return (lines["qty_ordered"] * lines["unit_price"]).groupby(lines["sku"]).sum()
    cost = products.set_index("sku")["unit_cost"]
    units = (lines["qty_ordered"] - lines["qty_cancelled_customer"]).groupby(lines["sku"]).sum()
    return units * cost.reindex(units.index).fillna(0.0)


def abc_classes(values: pd.Series, thresholds=(0.80, 0.95)) -> pd.Series:
    """ABC class per SKU from consumption values (index = sku), share-before-item rule."""
    if values.empty:
        return pd.Series(dtype=object)
    total = values.sum()
    if total <= 0:
        return pd.Series("N", index=values.index)
    ranked = values.rename("v").rename_axis("sku").reset_index()
    ranked = ranked.sort_values(["v", "sku"], ascending=[False, True], kind="stable")
    cum_before = (ranked["v"].cumsum() - ranked["v"]) / total
    cls = np.where(cum_before < thresholds[0], "A",
                   np.where(cum_before < thresholds[1], "B", "C"))
    return pd.Series(cls, index=ranked["sku"].to_numpy())


def xyz_classes(demand: pd.DataFrame, min_periods: int = 6, thresholds=(0.5, 1.0)) -> pd.Series:
    """XYZ class per SKU from a (sku x period) demand matrix holding NaN before launch."""
    active = demand.notna().sum(axis=1)
    mean = demand.mean(axis=1)
    cv = demand.std(axis=1, ddof=0) / mean.where(mean > 0)
    cls = np.where(cv < thresholds[0], "X", np.where(cv < thresholds[1], "Y", "Z"))
    out = pd.Series(cls, index=demand.index, dtype=object)
    out[mean.fillna(0) <= 0] = "N"
    out[active < min_periods] = "new"
    return out


def _period_demand(ctx: Context, skus: pd.Index, launch: pd.Series) -> pd.DataFrame:
    gran = ctx.param("xyz_granularity")
    freq = {"month": "MS", "week": "W-MON"}.get(gran)
    if freq is None:
        raise ValueError(f"xyz_granularity must be 'month' or 'week', got {gran!r}")
    today = ctx.as_of.tz_convert("UTC").tz_localize(None).normalize()
    current = (today.replace(day=1) if gran == "month"
               else today - pd.Timedelta(days=today.weekday()))
    starts = pd.date_range(end=current, periods=13, freq=freq)  # 12 complete + current
    lines = demand_lines(ctx)
    t = lines["created_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    bucket = pd.cut(t, bins=starts, right=False, labels=starts[:-1])
    matrix = lines.groupby([lines["sku"], bucket], observed=False)["qty_ordered"].sum()
    matrix = matrix.unstack().reindex(index=skus, columns=starts[:-1]).fillna(0.0)
    launched = launch.reindex(skus).dt.tz_convert("UTC").dt.tz_localize(None)
    # a period is active once the SKU was launched before its end; unknown launch = always
    alive = np.less.outer(launched.to_numpy(), starts[1:].to_numpy())
    alive |= launched.isna().to_numpy()[:, None]
    return matrix.where(alive)


@fact("sku_classes", grain="SKU", tables=("orders", "order_lines"))
def sku_classes(ctx: Context) -> pd.DataFrame:
    """One row per SKU: abc_class, xyz_class, abc_value, xyz_cv, flags (no_demand, new) and
    effective_from (= as_of), per the module rules; partition by ``abc_partition``."""
    lines = demand_lines(ctx)
    products = ctx.table("products")
    skus = pd.Index(sorted(set(lines["sku"]) | set(products["sku"] if products is not None
                                                   else [])), name="sku")
    first = lines.groupby("sku")["created_at"].min()
    launch = first.reindex(skus)
    if products is not None:
        ld = products.set_index("sku")["launch_date"].dt.tz_localize("UTC").reindex(skus)
        launch = ld.where(ld.notna(), launch)
    values = _consumption_value(ctx, ctx.as_of - YEAR).reindex(skus).fillna(0.0)
    part = ctx.param("abc_partition")
    if part == "company":
        groups = pd.Series("all", index=skus)
    elif part == "product_class" and products is not None:
        groups = products.set_index("sku")["product_class"].reindex(skus).fillna("(unknown)")
    else:
        raise ValueError(f"abc_partition must be 'company' or 'product_class', got {part!r}")
    abc = pd.concat([abc_classes(values[groups == g], ctx.param("abc_thresholds"))
                     for g in groups.unique()]) if len(skus) else pd.Series(dtype=object)
    demand = _period_demand(ctx, skus, launch)
    xyz = xyz_classes(demand, ctx.param("xyz_min_periods"), ctx.param("xyz_thresholds"))
    mean = demand.mean(axis=1)
    out = pd.DataFrame({
        "sku": skus,
        "abc_class": abc.reindex(skus).to_numpy(),
        "abc_value": values.to_numpy(),
        "xyz_class": xyz.reindex(skus).to_numpy(),
        "xyz_cv": (demand.std(axis=1, ddof=0) / mean.where(mean > 0)).to_numpy(),
        "no_demand": (values <= 0).to_numpy(),
        "new": (launch.isna() | (launch > ctx.as_of - NEW_AGE)).to_numpy(),
        "effective_from": ctx.as_of,
    })
    return out.reset_index(drop=True)
