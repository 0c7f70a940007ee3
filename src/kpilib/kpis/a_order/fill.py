"""Fill rates and backorders, A7-A10.

All read the ``order_lines`` fact (:mod:`kpilib.fact_tables.order_lines`): one row per A-domain
line with ``r``, ``cm``, ``first_fill_qty``, ``bo_start_at``, ship and cancel times.
Order-grain A7 groups lines by ``[order_id, *by]`` (the order, its node slice or its
sub-unit in a line-level segment), so one code path gives every cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import line_base
from kpilib.fact_tables.order_lines import phys_map
from kpilib.fact_tables.timeline import open_positions
from kpilib.kpis.common import observations
from kpilib.registry import ORDER_DIMS, kpi

EPS = 1e-9
TABLES = ("orders", "order_lines", "shipments", "shipment_lines")


def _lines(ctx: Context) -> pd.DataFrame:
    return line_base.attach_dims(ctx, ctx.fact("order_lines"), ctx.by)


def _excluded(x: pd.DataFrame) -> pd.Series:
    return x["exclusion"].where(x["exclusion"].notna(),
                                pd.Series(np.where(x["r"] <= EPS, "customer_cancel", None),
                                          index=x.index, dtype=object))


@kpi("order_fill_rate", code="A7", fact="order_lines",
     name="Order fill rate", domain="order", unit="fraction",
     direction="higher", grain="order (order-node slice when cut by node)", kind="rate",
     tables=TABLES, dims=ORDER_DIMS)
def order_fill_rate(ctx: Context) -> pd.DataFrame:
    """Σ_o complete(o) / |O|, complete(o) = ∀l: first_fill_qty_l ≥ r_l ∧ never backordered ∧
    qty_cancelled_merchant_l = 0.

    Population: customer orders; test, fraud, duplicate, transfer and replacement orders excluded by
    reason, and orders the customer cancelled entirely with no shipment (``customer_cancel``).

    ``first_fill_qty_l`` = quantity shipped in shipments created before the line's first
    backordered event (all its shipped quantity if never backordered). Lines with ``r_l = 0``
    carry no requirement and are skipped inside the order.

    Grain/anchor: order, or the lines of the order in the segment (node slice, product-class
    sub-unit...); anchor = first ship confirm of those lines. Not shipped but fully
    merchant-cancelled -> anchored at the cancellation (order ``cancelled_at``, else the
    line's ``cancelled`` event, else the order's creation) and a failure. Not shipped but
    backordered -> anchored at the backorder start and a failure (the spec only makes orders
    "not yet shipped and not backordered" pending). Otherwise not shipped -> pending.

    Exclusions: population reasons; fully customer-cancelled orders -> ``customer_cancel``.
    Planned multi-node splits are not failures (each slice judged on its own lines).
    """
    x = _lines(ctx)
    req = x["r"] > EPS
    f = pd.DataFrame({"order_id": x["order_id"], **{d: x[d] for d in ctx.by}})
    f["ok"] = ~req | ((x["first_fill_qty"] >= x["r"] - EPS) & x["bo_start_at"].isna()
                      & (x["cm"] <= EPS))
    f["req"] = req
    f["merch_full"] = ~req | (x["cm"] >= x["r"] - EPS)
    f["ship"] = x["first_ship_at"]
    f["bo"] = x["bo_start_at"].where(req)
    f["cancel"] = x["cancel_at"].fillna(x["created_at"]).where(req)
    f["created"] = x["created_at"]
    f["exclusion"] = x["exclusion"]
    g = f.groupby(["order_id", *ctx.by], sort=False, dropna=False)
    o = g.agg(ok=("ok", "all"), req=("req", "any"), merch_full=("merch_full", "all"),
              ship=("ship", "min"), bo=("bo", "min"), cancel=("cancel", "max"),
              created=("created", "min"), exclusion=("exclusion", "first")).reset_index()
    anchor = o["ship"].where(o["ship"].notna(),
                             o["cancel"].where(o["merch_full"] & o["req"], o["bo"]))
    excluded = o["exclusion"].where(o["exclusion"].notna(), pd.Series(
        np.where(o["req"], None, "customer_cancel"), index=o.index, dtype=object))
    anchor = anchor.where(excluded.isna(), anchor.fillna(o["cancel"]).fillna(o["created"]))
    return observations(o, ctx, anchor=anchor.astype("datetime64[ns, UTC]"),
                        num=o["ok"].astype(float), den=1.0, excluded=excluded)


def _line_anchor(x: pd.DataFrame) -> pd.Series:
    """First ship confirm, else the merchant-cancel time of a never-shipped line."""
    cancel = x["cancel_at"].fillna(x["created_at"]).where(x["cm"] > EPS)
    return x["first_ship_at"].fillna(cancel).astype("datetime64[ns, UTC]")


def _line_obs(ctx: Context, num: pd.Series, den: pd.Series, x: pd.DataFrame,
              anchor: pd.Series) -> pd.DataFrame:
    ex = _excluded(x)
    # excluded lines are counted in the period of their anchor, else of their creation
    anchor = anchor.where(ex.isna(), anchor.fillna(x["cancel_at"]).fillna(x["created_at"]))
    return observations(x, ctx, anchor=anchor, num=num.astype(float), den=den.astype(float),
                        excluded=ex)


@kpi("line_fill_rate", code="A8", fact="order_lines",
     name="Line fill rate", domain="order", unit="fraction",
     direction="higher", grain="order line", kind="rate", tables=TABLES, dims=ORDER_DIMS)
def line_fill_rate(ctx: Context) -> pd.DataFrame:
    """Σ_l [first_fill_qty_l ≥ r_l] / |L| (first fill as in A7).

    Population: lines of customer orders with a quantity still required (fully customer-cancelled
    lines excluded as ``customer_cancel``); order-level exclusions by reason; kits judged at the
    sold line.

    Anchor: the line's first ship confirm, or its merchant-cancel time if it never shipped
    (unknown cancel time -> line creation). Lines neither shipped nor merchant-cancelled are
    pending (also when backordered). Lines with ``r_l = 0`` -> excluded ``customer_cancel``;
    population exclusions by reason; kit parents judged at the parent line.
    """
    x = _lines(ctx)
    ok = x["first_fill_qty"] >= x["r"] - EPS
    return _line_obs(ctx, ok, pd.Series(1.0, index=x.index), x, _line_anchor(x))


@kpi("unit_fill_rate", code="A9", fact="order_lines",
     name="Unit fill rate", domain="order", unit="fraction",
     direction="higher", grain="order line (units)", kind="rate", tables=TABLES,
     dims=ORDER_DIMS)
def unit_fill_rate(ctx: Context) -> pd.DataFrame:
    """Σ_l min(first_fill_qty_l, r_l) / Σ_l r_l.

    Anchor: as ``line_fill_rate``.

    Population: as ``line_fill_rate``, weighted by required units.

    Anchor, population and exclusions as A8 (``line_fill_rate``).
    """
    x = _lines(ctx)
    num = np.minimum(x["first_fill_qty"], x["r"])
    return _line_obs(ctx, num, x["r"], x, _line_anchor(x))


@kpi("backorder_rate", code="A10", fact="order_lines",
     name="Backorder rate", domain="order", unit="fraction",
     direction="lower", grain="order line", kind="rate", tables=(*TABLES, "order_events"),
     dims=ORDER_DIMS, params=("maturity_days",),
     requires=("order_events.event_type=backordered",))
def backorder_rate(ctx: Context) -> pd.DataFrame:
    """|{l created in P : l entered backorder}| / |{l created in P}|.

    Population: lines of customer orders created in the period, fully customer-cancelled lines and
    excluded orders left out by reason.

    Anchor: line creation. Entered backorder = a ``backordered`` event (line or order level);
    for pre-orders (``earliest_ship_at``) an event before that date counts only from that date
    and only if the line was still not fully shipped then. Lines with ``r_l = 0`` excluded
    (``customer_cancel``); population reasons excluded. ``preliminary`` while any
    line of the cell is younger than 14 days (``maturity_days`` overrides).
    """
    x = _lines(ctx)
    days = ctx.param("maturity_days")
    mat = pd.Timedelta(days=float(14 if days is None else days))
    out = _line_obs(ctx, x["bo_start_at"].notna(), pd.Series(1.0, index=x.index), x,
                    x["created_at"])
    out["preliminary"] = x["created_at"] > ctx.as_of - mat
    return out


def _open_pairs(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(line rows, snapshot rows) of every line with an open backorder at each point."""
    x = _lines(ctx)
    pts = ctx.snapshot_points()
    ent, pos = open_positions(pts, x["bo_start_at"], x["closed_at"])
    rows = x.iloc[ent].reset_index(drop=True)
    rows["period"] = pts["period"].iloc[pos].reset_index(drop=True)
    rows["t"] = pts["t"].iloc[pos].reset_index(drop=True)
    return rows, pts


def _snapshot_obs(ctx: Context, rows: pd.DataFrame, **cols: pd.Series) -> pd.DataFrame:
    return observations(rows, ctx, period=rows["period"], **cols, excluded=_excluded(rows))


@kpi("backorder_age_hours", code="A10", fact="order_lines",
     name="Backorder age", domain="order", unit="hours",
     direction="lower", grain="open backordered line (snapshot)", kind="mean",
     tables=(*TABLES, "order_events"), dims=ORDER_DIMS, snapshot=True,
     requires=("order_events.event_type=backordered",))
def backorder_age_hours(ctx: Context) -> pd.DataFrame:
    """mean over open backorders at t of (t − backorder start), in hours; with p50, p90, n.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: lines in backorder and not yet fully shipped or cancelled at the snapshot.

    Snapshot: at ``as_of`` with ``freq=None``, else at each period end. Open =
    entered backorder (A10 rule, pre-orders from ``earliest_ship_at``) and not yet fully
    shipped (cumulative shipped ≥ r − cm) nor cancelled. No open backorder -> undefined.
    The spec's ``max`` is not an output column of the engine (see the fact for drill-down).
    """
    rows, _ = _open_pairs(ctx)
    age = (rows["t"] - rows["bo_start_at"]) / pd.Timedelta(hours=1)
    return _snapshot_obs(ctx, rows, x=age.astype(float))


@kpi("backorder_units_open", code="A10", fact="order_lines",
     name="Backorder units open", domain="order", unit="units",
     direction="lower", grain="open backordered line (snapshot)", kind="sum",
     tables=(*TABLES, "order_events"), dims=ORDER_DIMS, snapshot=True,
     requires=("order_events.event_type=backordered",))
def backorder_units_open(ctx: Context) -> pd.DataFrame:
    """Σ over open backorders at t of (r_l − cm_l(t) − shipped_l(t)) units; denominator =
    open lines.

    Anchor: snapshot at each period end (capped at ``as_of``), or at ``as_of``.

    Population: lines in backorder and not yet fully shipped or cancelled at the snapshot.

    Snapshot and open rule as ``backorder_age_hours``; ``shipped_l(t)`` counts shipments with
    ``shipped_at ≤ t`` (a kit parent: min over components of shipped / kit ratio);
    ``cm_l(t)`` is the merchant-cancelled quantity once its cancel time has passed (always,
    when the time is unknown). No open backorder -> empty population -> undefined,
    not 0.
    """
    rows, _ = _open_pairs(ctx)
    shipped = _shipped_by(ctx, rows)
    # merchant-cancelled quantity stops being open at its cancel time (unknown: always)
    cm = rows["cm"].where(rows["cancel_at"].isna() | (rows["cancel_at"] <= rows["t"]), 0.0)
    units = (rows["r"] - cm - shipped).clip(lower=0.0)
    return _snapshot_obs(ctx, rows, num=units.astype(float), den=1.0)


def _shipped_by(ctx: Context, rows: pd.DataFrame) -> pd.Series:
    """Per (line, t) row: quantity shipped by t, in the line's (kit parent's) units."""
    if rows.empty:
        return pd.Series(0.0, index=rows.index)
    base = line_base.lines(ctx)
    sr = line_base.shipment_rows(ctx)
    sh = sr.loc[sr["shipped_at"].notna(), ["li", "qty_shipped", "shipped_at"]]
    own = np.zeros(len(base), bool)
    own[sh["li"].to_numpy()] = True
    pm = phys_map(base, own)
    sh = sh.sort_values(["li", "shipped_at"], kind="stable")
    sh["cum"] = sh.groupby("li")["qty_shipped"].cumsum()
    q = pd.DataFrame({"row": np.arange(len(rows)), "ei": rows["li"].to_numpy(),
                      "t": rows["t"].array})
    q = q.merge(pm, on="ei").sort_values("t", kind="stable")
    sh = sh.sort_values("shipped_at", kind="stable")
    m = pd.merge_asof(q, sh[["li", "shipped_at", "cum"]], left_on="t", right_on="shipped_at",
                      by="li")
    m["cum"] = m["cum"].fillna(0.0) / m["kit_ratio"]
    got = m.groupby("row")["cum"].min().reindex(np.arange(len(rows))).fillna(0.0)
    return pd.Series(got.to_numpy(), index=rows.index)
