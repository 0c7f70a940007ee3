"""Deliveries and after-the-fact evidence per order line, for the commit-unit facts (A1-A6).

Deliveries (store pickup included):

- a shipment with ``delivery_status='delivered'`` delivers its ``qty_shipped`` at
  ``delivered_at``; lost, failed and returned-to-sender shipments deliver nothing;
- ``delivered`` without ``delivered_at`` is a missing scan (``missing_scan``);
- with ``count_failed_attempt_by_customer=True`` a ``failed`` shipment with reason
  ``customer_unavailable`` counts for *timing* (A3) at ``first_delivery_attempt_at``; it does
  not add to the delivered quantity used by in-full (the goods did not reach the customer);
- store pickup: a line with a ``ready_for_pickup`` event (line-level, or order-level for every
  line of the order) is delivered in full (``r``) at its latest ready event; its shipments
  (to the store) are ignored.

Evidence (first time per line; order-level records are returned separately):

- wrong item (A2): pick task with ``error_detection_point='customer'`` (at
  ``error_detected_at``); an unapproved substitution = a picked, uncancelled pick task whose
  SKU differs from the line's and which was not caught at pack_verify/audit (at ``picked_at``);
  return line with reason wrong_item / missing_item (at ``rma_requested_at``); replacement
  order with such a reason (at its ``created_at``);
- documentation (A4): ``order_events`` ``doc_defect``;
- condition (A5): ``damage_claim`` event; return reason damaged / defective /
  wrong_configuration; replacement order with such a reason; a shipment refused
  (failed / returned_to_sender) with a failure reason containing "damage".

A replacement order's reason is the first non-null ``order_events.reason_code`` recorded on
the replacement order. It applies to the parent's lines with the same SKU as a replacement
line; when no SKU matches, to every line of the parent order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.context import Context
from kpilib.fact_tables import line_base
from kpilib.fact_tables.times import utc_ns, utc_series

UTC = "datetime64[ns, UTC]"
WRONG = ("wrong_item", "missing_item")
CONDITION = ("damaged", "defective", "wrong_configuration")
COLS = ("wrong_item_at", "doc_defect_at", "condition_at")


def _nat(n: int) -> pd.Series:
    return pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype=UTC)


def _ready(ctx: Context, base: pd.DataFrame) -> pd.Series:
    """Per line position: latest ready_for_pickup time (line, its kit parent, or its order)."""
    return utc_series(line_base.ready_times(ctx)[1])


def delivery_events(ctx: Context, base: pd.DataFrame, due: pd.Series, window: pd.Series
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """Per line position: d, d_by_due, first/last delivery, late, early, timed, missing_scan,
    contact; plus a bool array: the line has delivery records of its own.

    ``due`` / ``window`` are per line position (the unit deadline and window start)."""
    n = len(base)
    sr = line_base.shipment_rows(ctx)
    ready = _ready(ctx, base)
    is_pickup = ready.notna().to_numpy()
    sr = sr.loc[~is_pickup[sr["li"].to_numpy()]]
    st = sr["delivery_status"]
    delivered = (st.eq("delivered") & sr["delivered_at"].notna()).to_numpy()
    missing = (st.eq("delivered") & sr["delivered_at"].isna()).to_numpy()
    li = [sr["li"].to_numpy()[delivered], np.flatnonzero(is_pickup)]
    t = [utc_ns(sr["delivered_at"])[delivered], utc_ns(ready)[is_pickup]]
    q = [sr["qty_shipped"].to_numpy()[delivered], base["r"].to_numpy()[is_pickup]]
    real = [np.ones(delivered.sum(), bool), np.ones(is_pickup.sum(), bool)]
    if ctx.param("count_failed_attempt_by_customer"):
        fail = (st.eq("failed") & sr["delivery_failure_reason"].eq("customer_unavailable")
                & sr["first_delivery_attempt_at"].notna()).to_numpy()
        li.append(sr["li"].to_numpy()[fail])
        t.append(utc_ns(sr["first_delivery_attempt_at"])[fail])
        q.append(sr["qty_shipped"].to_numpy()[fail])
        real.append(np.zeros(fail.sum(), bool))
    ev = pd.DataFrame({"li": np.concatenate(li), "q": np.concatenate(q).astype(float),
                       "real": np.concatenate(real)})
    ev["t"] = utc_series(np.concatenate(t))
    ev = ev.loc[ev["q"].to_numpy() > 0]
    e = ev["li"].to_numpy()
    ev_t = utc_ns(ev["t"])
    ev["late"] = ev_t > utc_ns(due)[e]
    early_tol = ctx.param("early_tolerance_hours")
    if early_tol is not None:
        start = utc_ns(window)[e] - np.timedelta64(int(float(early_tol) * 3600e9), "ns")
        ev["early"] = ev_t < start
    else:
        ev["early"] = False
    real = ev["real"].to_numpy()
    late = ev["late"].to_numpy()
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["d"] = np.bincount(e, weights=np.where(real, ev["q"], 0.0), minlength=n)[:n]
    out["d_by_due"] = np.bincount(e, weights=np.where(late, 0.0, ev["q"]), minlength=n)[:n]
    delivered = (e[real], ev_t[real], n)
    out["first_delivery_at"] = utc_series(line_base.reduce_times(np.fmin, *delivered))
    out["last_delivery_at"] = utc_series(line_base.reduce_times(np.fmax, *delivered))
    out["late"] = np.bincount(e, weights=late, minlength=n)[:n] > 0
    out["early"] = np.bincount(e, weights=ev["early"].to_numpy(), minlength=n)[:n] > 0
    out["timed"] = np.bincount(e, minlength=n)[:n] > 0
    out["missing_scan"] = np.bincount(sr["li"].to_numpy()[missing], minlength=n)[:n] > 0
    refused = _refused_damage(ctx, n)
    out["contact"] = (out["d"].to_numpy() > 0) | refused.notna().to_numpy()
    own = np.zeros(n, bool)
    own[sr["li"].to_numpy()] = True
    own |= is_pickup
    return out, own


def _refused_damage(ctx: Context, n: int) -> pd.Series:
    """Per line position: time of a delivery refused because of damage."""

    def build() -> pd.Series:
        sr = line_base.shipment_rows(ctx)
        sr = sr.loc[sr["delivery_status"].isin(["failed", "returned_to_sender"]).to_numpy()]
        sr = sr.loc[sr["delivery_failure_reason"].astype(str).str.contains(
            "damage", case=False).to_numpy()]
        t = sr["first_delivery_attempt_at"].fillna(sr["delivered_at"]).fillna(
            sr["shipped_at"])
        return t.groupby(sr["li"].to_numpy()).min().reindex(range(n)).astype(UTC)

    return ctx.memo("_a_refused_damage", build)


def _collect(parts: list[tuple[str, np.ndarray, pd.Series]], n: int) -> pd.DataFrame:
    """[(column, positions, times)] -> positional frame of n rows with the min time per column."""
    out = pd.DataFrame({c: _nat(n) for c in COLS})
    for col in COLS:
        ps = [(p, t) for c, p, t in parts if c == col and len(p)]
        if not ps:
            continue
        pos = np.concatenate([p for p, _ in ps])
        t = pd.to_datetime(pd.concat([pd.Series(t.to_numpy()) for _, t in ps],
                                     ignore_index=True), utc=True)
        ok = (pos >= 0) & t.notna().to_numpy()
        got = t.loc[ok].groupby(pos[ok]).min()
        arr = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        arr[got.index.to_numpy()] = utc_ns(got)
        out[col] = utc_series(arr)
    return out


def _replacements(ctx: Context) -> pd.DataFrame:
    """Replacement orders with a reason: parent_order_id, reason, created_at, sku."""
    return ctx.memo("_a_replacements", lambda: _build_replacements(ctx))


def _build_replacements(ctx: Context) -> pd.DataFrame:
    o, ev = ctx.ds.orders, ctx.table("order_events")
    rep = o.loc[o["order_type"].eq("replacement") & o["parent_order_id"].notna(),
                ["order_id", "parent_order_id", "created_at"]]
    if rep.empty or ev is None:
        return pd.DataFrame(columns=["order_id", "parent_order_id", "created_at", "reason",
                                     "sku"])
    e = ev.loc[ev["reason_code"].notna() & ev["order_id"].isin(rep["order_id"])]
    e = e.sort_values(["order_id", "event_at", "event_id"]).drop_duplicates("order_id")
    rep = rep.merge(e[["order_id", "reason_code"]].rename(columns={"reason_code": "reason"}),
                    on="order_id")
    rep = rep.loc[rep["reason"].isin(WRONG + CONDITION)]
    ol = ctx.ds.order_lines
    skus = ol.loc[ol["order_id"].isin(rep["order_id"]), ["order_id", "sku"]].drop_duplicates()
    return rep.merge(skus, on="order_id", how="left")


def evidence_times(ctx: Context, base: pd.DataFrame) -> pd.DataFrame:
    """Per line position: first wrong_item_at, doc_defect_at, condition_at (line-level)."""
    parts: list[tuple[str, np.ndarray, pd.Series]] = []
    pt = ctx.table("pick_tasks")
    if pt is not None:
        pos = line_base.positions(ctx, pt["order_line_id"])
        detected = pt["error_detected"].to_numpy(bool)
        cust = detected & pt["error_detection_point"].eq("customer").to_numpy()
        c = pt.loc[cust]
        t = c["error_detected_at"].fillna(c["picked_at"]).fillna(c["released_at"])
        parts.append(("wrong_item_at", pos[cust], t))
        known = pos >= 0
        lsku = np.where(known, base["sku"].to_numpy()[np.where(known, pos, 0)], None)
        cand = known & (pt["sku"].to_numpy() != lsku)         # picked SKU differs
        s = pt.loc[cand]
        spos = pos[cand]
        approved = base["substitution_approved"].astype("boolean").fillna(False).to_numpy(
            bool)[spos]
        caught = (s["error_detected"].to_numpy(bool)
                  & s["error_detection_point"].isin(["pack_verify", "audit"]).to_numpy())
        picked = (s["status"].eq("picked") | (s["qty_picked"].fillna(0) > 0)).to_numpy()
        sub = ~approved & ~caught & picked & s["status"].ne("cancelled").to_numpy()
        ts = s["picked_at"].fillna(s["released_at"])
        parts.append(("wrong_item_at", spos[sub], ts.loc[sub]))
    rt = ctx.table("returns")
    if rt is not None:
        pos = line_base.positions(ctx, rt["order_line_id"])
        for col, reasons in (("wrong_item_at", WRONG), ("condition_at", CONDITION)):
            m = rt["return_reason"].isin(reasons).to_numpy()
            parts.append((col, pos[m], rt.loc[m, "rma_requested_at"]))
    ev = ctx.table("order_events")
    if ev is not None:
        for col, et in (("doc_defect_at", "doc_defect"), ("condition_at", "damage_claim")):
            m = ctx.event_mask(et) & ev["order_line_id"].notna().to_numpy()
            parts.append((col, line_base.positions(ctx, ev.loc[m, "order_line_id"]),
                          ev.loc[m, "event_at"]))
    refused = _refused_damage(ctx, len(base)).dropna()
    parts.append(("condition_at", refused.index.to_numpy(), refused))
    rep = _replacements(ctx)
    if len(rep):
        parents = base.loc[base["order_id"].isin(rep["parent_order_id"]).to_numpy(),
                           ["order_id", "sku", "li"]]
        hit = rep.merge(parents, left_on=["parent_order_id", "sku"],
                        right_on=["order_id", "sku"], suffixes=("", "_parent"))
        for col, reasons in (("wrong_item_at", WRONG), ("condition_at", CONDITION)):
            m = hit["reason"].isin(reasons).to_numpy()
            parts.append((col, hit["li"].to_numpy()[m], hit.loc[m, "created_at"]))
    return _collect(parts, len(base))


def order_level_times(ctx: Context) -> pd.DataFrame:
    """Per order position: first evidence time of records not tied to a line."""
    orders = line_base.order_index(ctx)
    parts: list[tuple[str, np.ndarray, pd.Series]] = []
    ev = ctx.table("order_events")
    if ev is not None:
        for col, et in (("doc_defect_at", "doc_defect"), ("condition_at", "damage_claim")):
            m = ctx.event_mask(et) & ev["order_line_id"].isna().to_numpy()
            parts.append((col, orders.get_indexer(ev.loc[m, "order_id"]),
                          ev.loc[m, "event_at"]))
    rep = _replacements(ctx)
    if len(rep):
        ol = ctx.ds.order_lines
        lines = ol.loc[ol["order_id"].isin(rep["parent_order_id"]), ["order_id", "sku"]]
        matched = rep.merge(lines, left_on=["parent_order_id", "sku"],
                            right_on=["order_id", "sku"], suffixes=("", "_p"))["order_id"]
        un = rep.loc[~rep["order_id"].isin(matched)].drop_duplicates("order_id")
        for col, reasons in (("wrong_item_at", WRONG), ("condition_at", CONDITION)):
            m = un["reason"].isin(reasons).to_numpy()
            parts.append((col, orders.get_indexer(un.loc[m, "parent_order_id"]),
                          un.loc[m, "created_at"]))
    return _collect(parts, len(orders))
