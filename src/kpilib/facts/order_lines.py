"""Order-line fill facts for A7-A10 (kpi-spec §2 A7-A10, §11.5, §11.12).

``order_lines``: one row per A-domain order line (kit components rolled into their parent,
§1.5) with

- ``r`` (qty_ordered − qty_cancelled_customer) and ``cm`` (merchant/system cancelled);
- ``shipped_qty`` and ``first_ship_at`` / ``last_ship_at`` (shipments with ``shipped_at``);
- ``bo_start_at``: when the line entered backorder = its first ``backordered`` event
  (line-level, or order-level for every line of the order). Pre-orders (§A10): a backordered
  event before ``orders.earliest_ship_at`` is not a backorder; the line becomes one at
  ``earliest_ship_at`` if it is still not fully shipped then (and that time has passed),
  or at its first backordered event after that date;
- ``first_fill_qty``: quantity shipped in shipments *created* before ``bo_start_at`` (all the
  line's shipped quantity when it never backordered);
- ``cancel_at``: when the merchant cancelled (order ``cancelled_at`` with initiator merchant
  or system, else the first ``cancelled`` event of the line or order; NaT when unknown);
- ``closed_at``: when the line stopped being open (fully shipped or cancelled), for the
  backorder snapshot; ``exclusion`` (§1.5) and ``channel``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context, fact
from kpilib.facts import line_base

UTC = "datetime64[ns, UTC]"
EPS = 1e-9
BIG = np.iinfo(np.int64).max


def _events(ctx: Context, base: pd.DataFrame, event_type: str) -> pd.DataFrame:
    """(eval_line_id, t) of events of one type; order-level events go to every line."""
    ev = ctx.table("order_events")
    if ev is None:
        return pd.DataFrame({"eval_line_id": pd.Series(dtype=object),
                             "t": pd.Series(dtype=UTC)})
    e = ev.loc[ev["event_type"].eq(event_type), ["order_id", "order_line_id", "event_at"]]
    m = base[["order_line_id", "eval_line_id", "order_id"]]
    line = e.dropna(subset=["order_line_id"]).merge(m[["order_line_id", "eval_line_id"]],
                                                    on="order_line_id")
    top = m.loc[m["order_line_id"].eq(m["eval_line_id"]), ["order_id", "eval_line_id"]]
    order = e.loc[e["order_line_id"].isna()].merge(top, on="order_id")
    out = pd.concat([line[["eval_line_id", "event_at"]], order[["eval_line_id", "event_at"]]])
    return out.rename(columns={"event_at": "t"})


def phys_map(base: pd.DataFrame, own: pd.Index) -> pd.DataFrame:
    """(eval_line_id, order_line_id, kit_ratio) of the physical lines that carry each eval
    line's shipping: itself, or the components of a kit parent without shipments of its own."""
    top = ~base["is_component"]
    comp = base["is_component"] & ~base["eval_line_id"].isin(own)
    kit_via_comp = base["is_kit_parent"] & ~base["order_line_id"].isin(own)
    use_self = top & ~kit_via_comp
    cols = ["eval_line_id", "order_line_id", "kit_ratio"]
    out = pd.concat([base.loc[use_self, cols].assign(kit_ratio=1.0), base.loc[comp, cols]])
    return out.reset_index(drop=True)


def _min_over_phys(pm: pd.DataFrame, per_phys: pd.Series) -> pd.Series:
    """eval line -> min over its physical lines of per_phys / ratio (missing = 0)."""
    q = pm["order_line_id"].map(per_phys).fillna(0.0) / pm["kit_ratio"]
    return q.groupby(pm["eval_line_id"]).min()


def _full_ship_at(shipped: pd.DataFrame, pm: pd.DataFrame, need: pd.Series) -> pd.Series:
    """eval line -> first time its cumulative shipped quantity reached ``need``."""
    s = shipped.merge(pm, on="order_line_id").sort_values(["order_line_id", "shipped_at"])
    s["cum"] = s.groupby("order_line_id")["qty_shipped"].cumsum() / s["kit_ratio"]
    s["need"] = s["eval_line_id"].map(need)
    hit = s.loc[s["cum"] >= s["need"] - EPS].groupby("order_line_id")["shipped_at"].min()
    t = pm["order_line_id"].map(hit)
    ti = t.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ti = np.where(t.isna().to_numpy(), BIG, ti)
    mx = pd.Series(ti, index=pm.index).groupby(pm["eval_line_id"]).max()
    return pd.to_datetime(mx.where(mx < BIG), utc=True)


@fact("order_lines", grain="order line (kit parents judged at the parent line)",
      tables=("orders", "order_lines"))
def order_lines(ctx: Context) -> pd.DataFrame:
    """One row per A-domain line: r, cm, shipped, first_fill_qty, bo_start_at, closed_at."""
    base = line_base.lines(ctx)
    sr = line_base.shipment_rows(ctx)
    shipped = sr.loc[sr["shipped_at"].notna(), ["order_line_id", "qty_shipped", "created_at",
                                                "shipped_at"]]
    own = pd.Index(shipped["order_line_id"].unique())
    pm = phys_map(base, own)
    x = base.loc[~base["is_component"]].set_index("order_line_id", drop=False)
    x.index.name = None
    x["shipped_qty"] = _min_over_phys(pm, shipped.groupby("order_line_id")["qty_shipped"].sum())
    sp = shipped.merge(pm[["order_line_id", "eval_line_id"]], on="order_line_id")
    ship_t = sp.groupby("eval_line_id")["shipped_at"]
    x["first_ship_at"] = ship_t.min().astype(UTC)
    x["last_ship_at"] = ship_t.max().astype(UTC)

    # backorder start with the pre-order rule
    bo = _events(ctx, base, "backordered")
    esa = x["earliest_ship_at"]
    bo["esa"] = bo["eval_line_id"].map(esa)
    after = bo.loc[bo["esa"].isna() | (bo["t"] >= bo["esa"])].groupby("eval_line_id")["t"].min()
    before = bo.loc[bo["esa"].notna() & (bo["t"] < bo["esa"]), "eval_line_id"].unique()
    sp["esa"] = sp["eval_line_id"].map(esa)
    by_esa = sp.loc[sp["shipped_at"] <= sp["esa"]].groupby("order_line_id")["qty_shipped"].sum()
    still_open = (x["r"] - x["cm"] - _min_over_phys(pm, by_esa).reindex(x.index).fillna(0.0)
                  > EPS) & ~(x["cancelled_at"] <= esa)
    pre = x.index.isin(before) & still_open & (esa <= ctx.as_of)
    cand = pd.concat([x.index.to_series().map(after),
                      esa.where(pre)], axis=1).min(axis=1)
    x["bo_start_at"] = cand.astype(UTC)

    sp["bo"] = sp["eval_line_id"].map(x["bo_start_at"])
    first = sp.loc[sp["bo"].isna() | (sp["created_at"] < sp["bo"])]
    x["first_fill_qty"] = _min_over_phys(pm, first.groupby("order_line_id")["qty_shipped"].sum())
    for c in ("shipped_qty", "first_fill_qty"):
        x[c] = x[c].reindex(x.index).fillna(0.0)

    canc = _events(ctx, base, "cancelled").groupby("eval_line_id")["t"].min()
    merchant = x["cancel_initiator"].isin(["merchant", "system"])
    x["cancel_at"] = x["cancelled_at"].where(merchant, x.index.to_series().map(canc)).astype(UTC)
    need = x["r"] - x["cm"]
    full = _full_ship_at(shipped, pm, need).reindex(x.index)
    full = full.where(need > EPS, x["cancel_at"].fillna(x["created_at"]))
    x["closed_at"] = pd.concat([full, x["cancelled_at"]], axis=1).min(axis=1).astype(UTC)
    cols = ["order_line_id", "order_id", "sku", "created_at", "channel", "exclusion", "r", "cm",
            "shipped_qty", "first_fill_qty", "first_ship_at", "last_ship_at", "bo_start_at",
            "cancel_at", "closed_at", "earliest_ship_at"]
    return x[cols].sort_values("order_line_id", kind="stable").reset_index(drop=True)
