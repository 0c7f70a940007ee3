"""Order-line fill facts for A7-A10.

``order_lines``: one row per A-domain order line (kit components rolled into their parent) with

- ``r`` (qty_ordered − qty_cancelled_customer) and ``cm`` (merchant/system cancelled);
- ``shipped_qty`` and ``first_ship_at`` / ``last_ship_at`` (shipments with ``shipped_at``);
- ``bo_start_at``: when the line entered backorder = its first ``backordered`` event
  (line-level, or order-level for every line of the order). Pre-orders: a backordered
  event before ``orders.earliest_ship_at`` is not a backorder; the line becomes one at
  ``earliest_ship_at`` if it is still not fully shipped then (and that time has passed),
  or at its first backordered event after that date;
- ``first_fill_qty``: quantity shipped in shipments *created* before ``bo_start_at`` (all the
  line's shipped quantity when it never backordered);
- ``cancel_at``: when the merchant cancelled (order ``cancelled_at`` with initiator merchant
  or system, else the first ``cancelled`` event of the line or order; NaT when unknown);
- ``closed_at``: when the line stopped being open (fully shipped or cancelled), for the
  backorder snapshot; ``exclusion`` and ``channel``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.fact_tables import line_base
from kpilib.fact_tables.times import utc_ns, utc_series

UTC = "datetime64[ns, UTC]"
EPS = 1e-9
BIG = np.iinfo(np.int64).max


def _events(ctx: Context, base: pd.DataFrame, event_type: str) -> pd.DataFrame:
    """(ei, t) of events of one type; order-level events go to every evaluated line."""
    ev = ctx.table("order_events")
    if ev is None:
        return pd.DataFrame({"ei": pd.Series(dtype=np.int64), "t": pd.Series(dtype=UTC)})
    e = ev.loc[ctx.event_mask(event_type), ["order_id", "order_line_id", "event_at"]]
    has = e["order_line_id"].notna().to_numpy()
    pos = line_base.positions(ctx, e.loc[has, "order_line_id"])
    line = pd.DataFrame({"ei": base["ei"].to_numpy()[pos[pos >= 0]],
                         "t": utc_ns(e.loc[has, "event_at"])[pos >= 0]})
    top = ~base["is_component"].to_numpy()
    tops = pd.DataFrame({"oi": base["oi"].to_numpy()[top], "ei": base["li"].to_numpy()[top]})
    oe = pd.DataFrame({"oi": line_base.order_index(ctx).get_indexer(
        e.loc[~has, "order_id"]), "t": utc_ns(e.loc[~has, "event_at"])})
    order = oe.merge(tops, on="oi")[["ei", "t"]]
    out = pd.concat([line, order], ignore_index=True)
    out["t"] = utc_series(out["t"].to_numpy(dtype="datetime64[ns]"))
    return out


def phys_map(base: pd.DataFrame, own: np.ndarray) -> pd.DataFrame:
    """(ei, li, kit_ratio): the physical lines carrying each evaluated line's shipping -
    itself, or the components of a kit parent without shipments of its own."""
    comp = base["is_component"].to_numpy()
    ei = base["ei"].to_numpy()
    li = base["li"].to_numpy()
    kit_via_comp = base["is_kit_parent"].to_numpy() & ~own
    use_self = ~comp & ~kit_via_comp
    use_comp = comp & ~own[ei]
    return pd.DataFrame({
        "ei": np.concatenate([li[use_self], ei[use_comp]]),
        "li": np.concatenate([li[use_self], li[use_comp]]),
        "kit_ratio": np.concatenate([np.ones(use_self.sum()),
                                     base["kit_ratio"].to_numpy()[use_comp]])})


def _min_over_phys(pm: pd.DataFrame, per_phys: np.ndarray, n: int) -> np.ndarray:
    """Per line position (evaluated lines): min over its physical lines of per_phys / ratio."""
    q = per_phys[pm["li"].to_numpy()] / pm["kit_ratio"].to_numpy()
    ei = pm["ei"].to_numpy()
    out = np.full(n, np.inf)
    np.fmin.at(out, ei, q)           # fmin skips NaN, as groupby's min does
    seen = np.zeros(n, dtype=bool)
    seen[ei] = True
    out[~seen] = 0.0                 # a line with no physical line has nothing
    out[seen & np.isinf(out)] = np.nan  # only NaN quantities (a groupby min gives NaN)
    return out


def _full_ship_at(shipped: pd.DataFrame, pm: pd.DataFrame, need: np.ndarray) -> pd.Series:
    """Per evaluated line: first time its cumulative shipped quantity reached ``need``."""
    s = shipped.merge(pm, on="li").sort_values(["li", "shipped_at"], kind="stable")
    cum = s.groupby("li")["qty_shipped"].cumsum().to_numpy() / s["kit_ratio"].to_numpy()
    hit = s.loc[cum >= need[s["ei"].to_numpy()] - EPS].groupby("li")["shipped_at"].min()
    t = hit.reindex(pm["li"].to_numpy())
    ti = t.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ti = np.where(t.isna().to_numpy(), BIG, ti)
    mx = pd.Series(ti).groupby(pm["ei"].to_numpy()).max()
    v = mx.to_numpy()
    v = np.where(v < BIG, v, np.iinfo(np.int64).min).view("datetime64[ns]")
    return utc_series(v, index=mx.index)


@fact("order_lines", grain="order line (kit parents judged at the parent line)",
      tables=("orders", "order_lines"))
def order_lines(ctx: Context) -> pd.DataFrame:
    """One row per A-domain line: r, cm, shipped, first_fill_qty, bo_start_at, closed_at."""
    base = line_base.lines(ctx)
    n = len(base)
    sr = line_base.shipment_rows(ctx)
    shipped = sr.loc[sr["shipped_at"].notna(), ["li", "qty_shipped", "created_at",
                                                "shipped_at"]]
    sli = shipped["li"].to_numpy()
    own = np.zeros(n, bool)
    own[sli] = True
    pm = phys_map(base, own)
    top = ~base["is_component"].to_numpy()
    x = line_base.subset(base, top, ["li", "order_line_id", "order_id", "sku", "created_at",
                                     "channel", "exclusion", "r", "cm", "earliest_ship_at",
                                     "cancelled_at", "cancel_initiator"])
    idx = x.index.to_numpy()
    qty = shipped["qty_shipped"].to_numpy()
    x["shipped_qty"] = _min_over_phys(pm, np.bincount(sli, qty, minlength=n)[:n], n)[idx]
    sp = shipped.merge(pm[["li", "ei"]], on="li")
    ship_t = sp.groupby("ei")["shipped_at"]
    x["first_ship_at"] = ship_t.min().reindex(idx).array
    x["last_ship_at"] = ship_t.max().reindex(idx).array

    # backorder start with the pre-order rule
    esa = base["earliest_ship_at"]
    bo = _events(ctx, base, "backordered")
    bo_esa = utc_ns(esa)[bo["ei"].to_numpy()]
    late_ok = np.isnat(bo_esa) | (utc_ns(bo["t"]) >= bo_esa)
    after = bo.loc[late_ok].groupby("ei")["t"].min().reindex(idx)
    before = np.isin(idx, bo.loc[~late_ok, "ei"].to_numpy())
    sp_esa = utc_ns(esa)[sp["li"].to_numpy()]
    by_esa = (utc_ns(sp["shipped_at"]) <= sp_esa) & ~np.isnat(sp_esa)
    by_esa_q = np.bincount(sp["li"].to_numpy()[by_esa], sp["qty_shipped"].to_numpy()[by_esa],
                           minlength=n)[:n]
    x_esa = x["earliest_ship_at"]
    still_open = ((x["r"] - x["cm"]).to_numpy() - _min_over_phys(pm, by_esa_q, n)[idx] > EPS) \
        & ~(x["cancelled_at"] <= x_esa).to_numpy()
    pre = before & still_open & (x_esa <= ctx.as_of).to_numpy()
    cand = pd.concat([after.reset_index(drop=True),
                      x_esa.where(pre).reset_index(drop=True)], axis=1).min(axis=1)
    x["bo_start_at"] = cand.astype(UTC).array

    bo_arr = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    bo_arr[idx] = utc_ns(x["bo_start_at"])
    sp_bo = bo_arr[sp["ei"].to_numpy()]
    first = np.isnat(sp_bo) | (utc_ns(sp["created_at"]) < sp_bo)
    ff = np.bincount(sp["li"].to_numpy()[first], sp["qty_shipped"].to_numpy()[first],
                     minlength=n)[:n]
    x["first_fill_qty"] = _min_over_phys(pm, ff, n)[idx]

    canc = _events(ctx, base, "cancelled").groupby("ei")["t"].min().reindex(idx)
    merchant = x["cancel_initiator"].isin(["merchant", "system"]).to_numpy()
    x["cancel_at"] = utc_series(np.where(merchant, utc_ns(x["cancelled_at"]), utc_ns(canc)),
                                   index=x.index)
    need = (base["r"] - base["cm"]).to_numpy()
    full = _full_ship_at(shipped, pm, need).reindex(idx)
    full = pd.Series(full.array, index=x.index)
    full = full.where(need[idx] > EPS, x["cancel_at"].fillna(x["created_at"]))
    x["closed_at"] = pd.concat([full, x["cancelled_at"]], axis=1).min(axis=1).astype(UTC)
    cols = ["li", "order_line_id", "order_id", "sku", "created_at", "channel", "exclusion", "r",
            "cm", "shipped_qty", "first_fill_qty", "first_ship_at", "last_ship_at",
            "bo_start_at", "cancel_at", "closed_at", "earliest_ship_at"]
    return line_base.renumbered(x[cols])
