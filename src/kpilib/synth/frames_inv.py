"""Inventory-side tables: receipts, movements, snapshots, counts, forecasts, returns, labour,
capacity and replenishment recommendations (same horizon rule as ``frames``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.costs import ACTS
from kpilib.synth.inventory import MOVE_TYPES
from kpilib.synth.replenishment import DECISIONS
from kpilib.synth.state import DC_NODES, NODES, SimState, ids, to_ts

NODE_ARR = np.array(NODES + (None,), dtype=object)


def _cut(h, T):
    h = np.asarray(h, float)
    return np.where(h <= T, h, np.nan)


def receipts_frame(st: SimState, cat: dict, po: dict) -> tuple[pd.DataFrame, np.ndarray]:
    T, ts = st.t_end, (lambda h: to_ts(h, st.start))
    n = len(po["sku"])
    po_id = ids("PO", n, 7)
    keep = po["received"] <= T
    i = np.flatnonzero(keep)
    i = i[np.lexsort((i, po["received"][i]))]
    rl = np.full(n, None, dtype=object)
    rl[i] = ids("RL", len(i), 8)
    sup = cat["supplier"][po["sku"][i]]
    rkey = (np.floor(po["dock"][i] / 24).astype(np.int64) * 100 + sup) * 4 + po["node"][i]
    _, rinv = np.unique(rkey, return_inverse=True)
    qa_rel = _cut(po["qa_rel"][i], T)
    df = pd.DataFrame({
        "receipt_line_id": rl[i], "receipt_id": ids("R", rinv.max() + 1 if len(i) else 0, 7)[rinv]
        if len(i) else np.zeros(0, object),
        "node_id": NODE_ARR[po["node"][i]], "po_id": po_id[i],
        "supplier_id": cat["supplier_id"][sup], "sku": cat["sku"][po["sku"][i]],
        "qty_expected": po["qty"][i], "qty_received": po["got"][i],
        "dock_arrival_at": ts(po["dock"][i]), "received_at": ts(po["received"][i]),
        "qa_hold": po["qa"][i], "qa_released_at": ts(qa_rel),
        "putaway_completed_at": ts(_cut(po["put"][i], T)), "is_crossdock": po["xdock"][i]})
    return df, rl


def movements_frame(st, cat, M, rl, line_ids, count_ids, ret_ids) -> pd.DataFrame:
    T = st.t_end
    keep = M["t"] <= T
    M = {k: v[keep] for k, v in M.items()}
    o = np.lexsort((M["ref"], M["type"], M["node"], M["sku"], np.round(M["t"] * 3600)))
    M = {k: v[o] for k, v in M.items()}
    n = len(M["t"])
    ref = np.full(n, None, dtype=object)
    for kind, table in (("receipt", rl), ("line", line_ids), ("count", count_ids),
                        ("return", ret_ids)):
        m = M["ref_kind"] == kind
        ref[m] = table[M["ref"][m]]
    ref[M["ref_kind"] == "opening"] = "OPENING-BALANCE"
    return pd.DataFrame({
        "movement_id": ids("M", n, 9), "node_id": NODE_ARR[M["node"]], "sku": cat["sku"][M["sku"]],
        "location_id": None, "moved_at": to_ts(M["t"], st.start),
        "movement_type": np.array(MOVE_TYPES, dtype=object)[M["type"]], "qty_delta": M["qty"],
        "unit_cost": cat["unit_cost"][M["sku"]], "reference_id": ref,
        "transfer_group_id": np.where(M["tg"] >= 0, np.char.add(
            "TG", np.char.zfill(M["tg"].astype(str), 8)).astype(object), None)})


def snapshots_frame(st, cat, S) -> pd.DataFrame:
    day0 = st.start.tz_localize(None).normalize()
    avail = S["qty_on_hand"] - S["qty_allocated"] - S["qty_held"]
    return pd.DataFrame({
        "snapshot_date": day0 + pd.to_timedelta(S["day"], unit="D"),
        "node_id": NODE_ARR[S["node"]], "sku": cat["sku"][S["sku"]],
        "qty_on_hand": S["qty_on_hand"], "qty_allocated": S["qty_allocated"],
        "qty_held": S["qty_held"], "qty_available": avail, "qty_on_order": S["qty_on_order"],
        "inventory_value": np.round(S["qty_on_hand"] * S["cost"], 4),
        "is_active": S["is_active"], "stockout_minutes": pd.array([pd.NA] * len(avail),
                                                                  dtype="Int64")})


def counts_frame(st, cat, C) -> tuple[pd.DataFrame, np.ndarray]:
    T = st.t_end
    n = len(C["t"])
    keep1 = C["t"] <= T
    keep2 = C["recount"] & (C["t_re"] <= T)
    rows_t = np.r_[C["t"][keep1], C["t_re"][keep2]]
    src = np.r_[np.flatnonzero(keep1), np.flatnonzero(keep2)]
    is_re = np.r_[np.zeros(keep1.sum(), bool), np.ones(keep2.sum(), bool)]
    sysq = np.r_[C["sys"][keep1], C["sys_re"][keep2]]
    cnt = np.r_[C["counted"][keep1], C["sys_re"][keep2] + C["adj"][keep2]]
    o = np.lexsort((is_re, src, rows_t))
    cid = ids("C", len(o), 8)
    # the adjustment references the final count of each source row
    ref = np.full(n, None, dtype=object)
    final = np.where(is_re[o] | ~C["recount"][src[o]], True, False)
    ref[src[o][final]] = cid[final]
    sku = C["sku"][src[o]]
    node = C["node"][src[o]]
    loc = np.char.add(np.char.add(np.array(NODES)[node].astype(str), "-A"),
                      np.char.zfill((sku % 997).astype(str), 3)).astype(object)
    df = pd.DataFrame({"count_id": cid, "node_id": NODE_ARR[node], "location_id": loc,
                       "sku": cat["sku"][sku], "counted_at": to_ts(rows_t[o], st.start),
                       "qty_system_at_count": sysq[o], "qty_counted": np.maximum(cnt[o], 0),
                       "is_recount": is_re[o], "count_program": C["program"][src[o]]})
    return df, ref


def recs_frame(st, cat, r) -> pd.DataFrame:
    T, ts = st.t_end, (lambda h: to_ts(h, st.start))
    keep = r["created"] <= T
    i = np.flatnonzero(keep)
    i = i[np.lexsort((r["node"][i], r["sku"][i], r["created"][i]))]
    n = len(i)
    rid = ids("REC", n, 7)
    dec = np.array(DECISIONS, dtype=object)[r["dec"][i]]
    decided = r["decided"][i]
    due = r["due"][i]
    known = np.where(np.isin(dec, ["expired"]), due <= T,
                     np.where(dec == "superseded", True, decided <= T))
    # superseded_by: the successor with the same link, if it exists by the horizon
    link = r["link"][i]
    succ = r["successor"][i]
    succ_map = pd.Series(rid[succ], index=link[succ])
    sup_by = np.where((dec == "superseded") & ~succ, succ_map.reindex(link).to_numpy(), None)
    known &= ~((dec == "superseded") & pd.isna(sup_by))
    dec_out = np.where(known, dec, None)
    qty_ord = np.where(known & np.isin(dec, ["accepted", "modified"]), r["qty_ord"][i], np.nan)
    po_link = np.where(~np.isnan(qty_ord) & (r["po"][i] >= 0),
                       ids("PO", max(st.art.get("po_counter", 0), 1), 7)[np.maximum(r["po"][i], 0)],
                       None)
    return pd.DataFrame({
        "rec_id": rid, "node_id": NODE_ARR[r["node"][i]], "sku": cat["sku"][r["sku"][i]],
        "supplier_id": cat["supplier_id"][cat["supplier"][r["sku"][i]]],
        "created_at": ts(r["created"][i]), "decision_due_at": ts(due),
        "qty_recommended": r["qty_rec"][i], "decision": dec_out,
        "decided_at": ts(np.where(known & np.isin(dec, ["accepted", "modified", "rejected"]),
                                  decided, np.nan)),
        "qty_ordered": qty_ord, "resulting_po_id": po_link, "superseded_by": sup_by})


def labor_capacity_frames(st, LB, CP) -> tuple[pd.DataFrame, pd.DataFrame]:
    day0 = st.start.tz_localize(None).normalize()
    H = LB["hours"]  # (days, 2, 7)
    d, nd, a = np.nonzero(H > 0)
    labor = pd.DataFrame({"node_id": NODE_ARR[nd],
                          "work_date": day0 + pd.to_timedelta(d, unit="D"),
                          "activity": np.array(ACTS, dtype=object)[a], "worker_id": None,
                          "hours": H[d, nd, a]})
    dd, nn = np.meshgrid(np.arange(st.days), np.arange(DC_NODES), indexing="ij")
    cap = pd.DataFrame({"node_id": NODE_ARR[nn.ravel()],
                        "capacity_date": day0 + pd.to_timedelta(dd.ravel(), unit="D"),
                        "capacity_unit": "positions",
                        "usable_capacity": CP["usable"][nn.ravel()],
                        "occupied": CP["occupied"][dd.ravel(), nn.ravel()]})
    return labor, cap
