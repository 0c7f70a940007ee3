"""Order-line building blocks shared by the commit-unit (A1-A6) and fill (A7-A10) facts.

- :func:`lines` - one row per order line with required quantity ``r = qty_ordered -
  qty_cancelled_customer`` and merchant-cancelled quantity ``cm`` (a full-order cancellation
  raises the line figures to the unshipped rest, by initiator), the population exclusion of
  its order (§1.5) and its kit role.
- :func:`shipment_rows` - shipment lines joined to their shipment.
- :func:`rollup_kits` - kit parents are judged at the parent line (§1.5): when the parent line
  has no shipment of its own, each quantity of the parent is ``min_c(q_c / ratio_c)`` over its
  component lines (``ratio_c = qty_ordered_c / qty_ordered_parent``), each time the min / max
  over them and each flag their any(). Component lines then leave the A-domain.
- :func:`open_positions` - (entity, snapshot point) pairs with ``opened <= t < closed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.facts.population import order_population

UTC = "datetime64[ns, UTC]"


def lines(ctx: Context) -> pd.DataFrame:
    """Every order line: ids, sku, created_at, qty, r, cm, kit role, order attributes."""

    def build() -> pd.DataFrame:
        ol = ctx.ds.order_lines
        o = ctx.ds.orders[["order_id", "created_at", "earliest_ship_at", "ship_to_timezone",
                           "cancelled_at", "cancel_initiator"]].rename(
            columns={"created_at": "order_created_at"})
        out = ol.merge(o, on="order_id", how="left")
        out = out.merge(order_population(ctx)[["order_id", "channel", "exclusion"]],
                        on="order_id", how="left")
        shipped = shipment_rows(ctx)
        shipped = shipped.loc[shipped["shipped_at"].notna()].groupby(
            "order_line_id")["qty_shipped"].sum()
        shp = out["order_line_id"].map(shipped).fillna(0.0)
        qty = out["qty_ordered"].astype(float)
        cc = out["qty_cancelled_customer"].astype(float)
        cm = out["qty_cancelled_merchant"].astype(float)
        full = out["cancelled_at"].notna()
        by_customer = full & out["cancel_initiator"].eq("customer")
        by_merchant = full & out["cancel_initiator"].isin(["merchant", "system"])
        # a full-order cancellation cancels whatever had not shipped (§1.8 taxonomy)
        cc = cc.where(~by_customer, np.maximum(cc, qty - cm - shp))
        cm = cm.where(~by_merchant, np.maximum(cm, qty - cc - shp))
        out["r"] = (qty - cc).clip(lower=0.0)
        out["cm"] = cm.clip(lower=0.0)
        kit_ids = ol["parent_line_id"].dropna().unique()
        out["is_component"] = out["parent_line_id"].notna()
        out["is_kit_parent"] = out["order_line_id"].isin(kit_ids)
        out["eval_line_id"] = out["parent_line_id"].where(out["is_component"],
                                                          out["order_line_id"])
        pq = out.set_index("order_line_id")["qty_ordered"].astype(float)
        parent_qty = out["parent_line_id"].map(pq)
        ratio = qty / parent_qty.where(parent_qty > 0)
        out["kit_ratio"] = ratio.where(out["is_component"], 1.0).fillna(1.0).where(
            lambda s: s > 0, 1.0)
        return out.reset_index(drop=True)

    return ctx.memo("_a_lines", build)


def shipment_rows(ctx: Context) -> pd.DataFrame:
    """shipment_lines joined to shipments (empty frame when either table is absent)."""

    def build() -> pd.DataFrame:
        sl, sh = ctx.table("shipment_lines"), ctx.table("shipments")
        cols = ["order_line_id", "shipment_id", "qty_shipped", "created_at", "shipped_at",
                "delivered_at", "first_delivery_attempt_at", "delivery_status",
                "delivery_failure_reason"]
        if sl is None or sh is None:
            empty = {c: pd.Series(dtype=object) for c in cols}
            for c in ("created_at", "shipped_at", "delivered_at", "first_delivery_attempt_at"):
                empty[c] = pd.Series(dtype=UTC)
            empty["qty_shipped"] = pd.Series(dtype=float)
            return pd.DataFrame(empty)
        return sl[["order_line_id", "shipment_id", "qty_shipped"]].merge(
            sh[["shipment_id", *cols[3:]]], on="shipment_id")[cols]

    return ctx.memo("_a_shipment_rows", build)


def rollup_kits(per_line: pd.DataFrame, *, qty: tuple[str, ...] = (),
                tmin: tuple[str, ...] = (), tmax: tuple[str, ...] = (),
                flags: tuple[str, ...] = (), base: pd.DataFrame,
                own_data: pd.Index) -> pd.DataFrame:
    """Per eval line (order line that is not a kit component) the columns of ``per_line``.

    ``per_line`` is indexed by physical ``order_line_id`` (missing lines: quantities 0,
    times NaT, flags False). ``base`` is :func:`lines`. A kit parent present in ``own_data``
    (it has shipment rows of its own) keeps its own figures; otherwise its figures come from
    its components (quantities ``min_c(q_c / ratio_c)``, times min/max, flags any).
    """
    b = base[["order_line_id", "eval_line_id", "is_component", "is_kit_parent", "kit_ratio"]]
    cols = [*qty, *tmin, *tmax, *flags]
    x = b.join(per_line[cols], on="order_line_id")
    for c in qty:
        x[c] = x[c].astype(float).fillna(0.0)
    for c in flags:
        x[c] = x[c].astype("boolean").fillna(False).astype(bool)
    own = x.loc[~x["is_component"]].set_index("order_line_id")[cols]
    comp = x.loc[x["is_component"]].copy()
    if comp.empty:
        return own
    for c in qty:
        comp[c] = comp[c] / comp["kit_ratio"]
    agg = {**{c: "min" for c in qty}, **{c: "min" for c in tmin},
           **{c: "max" for c in tmax}, **{c: "any" for c in flags}}
    from_comp = comp.groupby("eval_line_id")[cols].agg(agg)
    use = from_comp.index.difference(own_data)
    if len(use):
        own.loc[use, cols] = from_comp.loc[use, cols].astype(own[cols].dtypes.to_dict())
    return own


def open_positions(points: pd.DataFrame, opened: pd.Series,
                   closed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(entity position, point position) of every snapshot ``t`` with opened <= t < closed.

    ``closed`` NaT = still open; ``opened`` NaT = never open. Vectorised with searchsorted.
    """
    t = points["t"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    big = np.iinfo(np.int64).max
    o = np.where(opened.isna().to_numpy(), big,
                 opened.to_numpy(dtype="datetime64[ns]").astype(np.int64))
    c = np.where(closed.isna().to_numpy(), big,
                 closed.to_numpy(dtype="datetime64[ns]").astype(np.int64))
    lo = np.searchsorted(t, o, side="left")
    hi = np.searchsorted(t, c, side="left")
    cnt = np.clip(hi - lo, 0, None)
    ent = np.repeat(np.arange(len(o)), cnt)
    offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return ent, np.repeat(lo, cnt) + offs
