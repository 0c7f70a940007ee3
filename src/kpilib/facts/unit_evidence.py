"""Deliveries and after-the-fact evidence per order line, for the commit-unit facts (A1-A6).

Deliveries (§2 notation, §11.3, §11.4, §1.7 pickup):

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

import pandas as pd

from kpilib.context import Context
from kpilib.facts import line_base

UTC = "datetime64[ns, UTC]"
WRONG = ("wrong_item", "missing_item")
CONDITION = ("damaged", "defective", "wrong_configuration")
COLS = ("wrong_item_at", "doc_defect_at", "condition_at")


def _ready(ctx: Context, base: pd.DataFrame) -> pd.Series:
    """Physical line -> latest ready_for_pickup time (line, its kit parent, or its order)."""
    ev = ctx.table("order_events")
    if ev is None:
        return pd.Series(dtype=UTC)
    r = ev.loc[ev["event_type"].eq("ready_for_pickup"), ["order_id", "order_line_id", "event_at"]]
    if r.empty:
        return pd.Series(dtype=UTC)
    by_line = r.dropna(subset=["order_line_id"]).groupby("order_line_id")["event_at"].max()
    by_order = r.loc[r["order_line_id"].isna()].groupby("order_id")["event_at"].max()
    t = pd.concat([base["order_line_id"].map(by_line), base["eval_line_id"].map(by_line),
                   base["order_id"].map(by_order)], axis=1).max(axis=1)
    out = pd.Series(t.to_numpy(), index=base["order_line_id"].to_numpy()).astype(UTC)
    return out.dropna()


def delivery_events(ctx: Context, base: pd.DataFrame, units: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.Index]:
    """Per physical line: d, d_by_due, first/last delivery, late, early, timed, missing_scan,
    contact; plus the eval lines that have delivery records of their own."""
    sr = line_base.shipment_rows(ctx)
    due = units.set_index("order_line_id")[["due_at", "window_start_at"]]
    phys = base[["order_line_id", "eval_line_id", "r"]]
    ready = _ready(ctx, base)
    sr = sr.loc[~sr["order_line_id"].isin(ready.index)]
    st = sr["delivery_status"]
    delivered = st.eq("delivered") & sr["delivered_at"].notna()
    missing = st.eq("delivered") & sr["delivered_at"].isna()
    ev = pd.DataFrame({"order_line_id": sr["order_line_id"], "t": sr["delivered_at"],
                       "q": sr["qty_shipped"].astype(float), "real": True}).loc[delivered]
    if len(ready):
        rq = phys.set_index("order_line_id").loc[ready.index, "r"]
        ev = pd.concat([ev, pd.DataFrame({"order_line_id": ready.index, "t": ready.to_numpy(),
                                          "q": rq.to_numpy(), "real": True})])
    if ctx.param("count_failed_attempt_by_customer"):
        fail = (st.eq("failed") & sr["delivery_failure_reason"].eq("customer_unavailable")
                & sr["first_delivery_attempt_at"].notna())
        ev = pd.concat([ev, pd.DataFrame({
            "order_line_id": sr.loc[fail, "order_line_id"],
            "t": sr.loc[fail, "first_delivery_attempt_at"],
            "q": sr.loc[fail, "qty_shipped"].astype(float), "real": False})])
    ev = ev.merge(phys[["order_line_id", "eval_line_id"]], on="order_line_id")
    ev = ev.join(due, on="eval_line_id")
    ev = ev.loc[ev["q"] > 0]
    early_tol = ctx.param("early_tolerance_hours")
    tol = pd.Timedelta(hours=float(early_tol or 0.0))
    ev["late"] = ev["t"] > ev["due_at"]
    ev["early"] = (ev["t"] < ev["window_start_at"] - tol) if early_tol is not None else False
    ev["q_due"] = ev["q"].where(~ev["late"], 0.0)
    ev["q_real"] = ev["q"].where(ev["real"], 0.0)
    ev["t_real"] = ev["t"].where(ev["real"])
    g = ev.groupby("order_line_id")
    out = pd.DataFrame({"d": g["q_real"].sum(), "d_by_due": g["q_due"].sum(),
                        "first_delivery_at": g["t_real"].min(),
                        "last_delivery_at": g["t_real"].max(),
                        "late": g["late"].any(), "early": g["early"].any(),
                        "timed": g["q"].sum() > 0})
    out["contact"] = out["d"] > 0
    miss = sr.loc[missing, "order_line_id"].unique()
    refused = _refused_damage(sr)
    idx = out.index.union(pd.Index(miss)).union(refused.index)
    out = out.reindex(idx)
    out["missing_scan"] = out.index.isin(miss)
    out["contact"] = out["contact"].astype("boolean").fillna(False).astype(bool) | \
        out.index.isin(refused.index)
    for c in ("first_delivery_at", "last_delivery_at"):
        out[c] = out[c].astype(UTC)
    own = pd.Index(pd.concat([sr["order_line_id"], pd.Series(ready.index, dtype=object)]
                             ).unique())
    own = own.intersection(pd.Index(base.loc[base["is_kit_parent"], "order_line_id"]))
    return out, own


def _refused_damage(sr: pd.DataFrame) -> pd.Series:
    """Physical line -> time of a delivery refused because of damage."""
    m = sr["delivery_status"].isin(["failed", "returned_to_sender"]) & sr[
        "delivery_failure_reason"].astype(str).str.contains("damage", case=False)
    t = sr["first_delivery_attempt_at"].fillna(sr["delivered_at"]).fillna(sr["shipped_at"])
    return t.loc[m].groupby(sr.loc[m, "order_line_id"]).min().astype(UTC)


def _collect(parts: list[tuple[str, pd.Series, pd.Series]], key: str) -> pd.DataFrame:
    """[(column, keys, times)] -> DataFrame indexed by key with the min time per column."""
    frames = [pd.DataFrame({key: k.to_numpy(), "col": c, "t": t.to_numpy()})
              for c, k, t in parts if len(k)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=UTC) for c in COLS})
    df = pd.concat(frames).dropna(subset=[key, "t"])
    df["t"] = pd.to_datetime(df["t"], utc=True)
    out = df.groupby([key, "col"])["t"].min().unstack("col")
    for c in COLS:
        out[c] = out[c].astype(UTC) if c in out.columns else pd.Series(pd.NaT, index=out.index,
                                                                       dtype=UTC)
    return out[list(COLS)]


def _replacements(ctx: Context) -> pd.DataFrame:
    """Replacement orders with a reason: parent_order_id, reason, t, skus (one row per sku)."""
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
    skus = ctx.ds.order_lines[["order_id", "sku"]].drop_duplicates()
    return rep.merge(skus, on="order_id", how="left")


def evidence_times(ctx: Context, base: pd.DataFrame) -> pd.DataFrame:
    """Physical line -> first wrong_item_at, doc_defect_at, condition_at (line-level)."""
    parts: list[tuple[str, pd.Series, pd.Series]] = []
    pt = ctx.table("pick_tasks")
    if pt is not None:
        cust = pt["error_detected"].astype(bool) & pt["error_detection_point"].eq("customer")
        t = pt["error_detected_at"].fillna(pt["picked_at"]).fillna(pt["released_at"])
        parts.append(("wrong_item_at", pt.loc[cust, "order_line_id"], t.loc[cust]))
        line = base.set_index("order_line_id")
        lsku = pt["order_line_id"].map(line["sku"])
        approved = pt["order_line_id"].map(line["substitution_approved"]).astype(
            "boolean").fillna(False).astype(bool)
        caught = pt["error_detected"].astype(bool) & pt["error_detection_point"].isin(
            ["pack_verify", "audit"])
        picked = pt["status"].eq("picked") | (pt["qty_picked"].fillna(0) > 0)
        sub = (lsku.notna() & pt["sku"].ne(lsku) & ~approved & ~caught & picked
               & pt["status"].ne("cancelled"))
        ts = pt["picked_at"].fillna(pt["released_at"])
        parts.append(("wrong_item_at", pt.loc[sub, "order_line_id"], ts.loc[sub]))
    rt = ctx.table("returns")
    if rt is not None:
        for col, reasons in (("wrong_item_at", WRONG), ("condition_at", CONDITION)):
            m = rt["return_reason"].isin(reasons)
            parts.append((col, rt.loc[m, "order_line_id"], rt.loc[m, "rma_requested_at"]))
    ev = ctx.table("order_events")
    if ev is not None:
        for col, et in (("doc_defect_at", "doc_defect"), ("condition_at", "damage_claim")):
            m = ev["event_type"].eq(et) & ev["order_line_id"].notna()
            parts.append((col, ev.loc[m, "order_line_id"], ev.loc[m, "event_at"]))
    refused = _refused_damage(line_base.shipment_rows(ctx))
    parts.append(("condition_at", pd.Series(refused.index), pd.Series(refused.to_numpy())))
    rep = _replacements(ctx)
    if len(rep):
        hit = rep.merge(base[["order_id", "sku", "order_line_id"]],
                        left_on=["parent_order_id", "sku"], right_on=["order_id", "sku"],
                        suffixes=("", "_parent"))
        for col, reasons in (("wrong_item_at", WRONG), ("condition_at", CONDITION)):
            m = hit["reason"].isin(reasons)
            parts.append((col, hit.loc[m, "order_line_id"], hit.loc[m, "created_at"]))
    return _collect(parts, "order_line_id")


def order_level_times(ctx: Context) -> pd.DataFrame:
    """order_id -> first evidence time of records not tied to a line (apply to every unit)."""
    parts: list[tuple[str, pd.Series, pd.Series]] = []
    ev = ctx.table("order_events")
    if ev is not None:
        for col, et in (("doc_defect_at", "doc_defect"), ("condition_at", "damage_claim")):
            m = ev["event_type"].eq(et) & ev["order_line_id"].isna()
            parts.append((col, ev.loc[m, "order_id"], ev.loc[m, "event_at"]))
    rep = _replacements(ctx)
    if len(rep):
        lines = ctx.ds.order_lines[["order_id", "sku"]]
        matched = rep.merge(lines, left_on=["parent_order_id", "sku"],
                            right_on=["order_id", "sku"], suffixes=("", "_p"))["order_id"]
        un = rep.loc[~rep["order_id"].isin(matched)].drop_duplicates("order_id")
        for col, reasons in (("wrong_item_at", WRONG), ("condition_at", CONDITION)):
            m = un["reason"].isin(reasons)
            parts.append((col, un.loc[m, "parent_order_id"], un.loc[m, "created_at"]))
    return _collect(parts, "order_id")
