"""Turn simulation arrays into the data-model tables, hiding everything after the horizon.

Rule: a row exists once its defining event happened by ``t_end`` (order created, task released,
parcel label created, receipt scanned, ...); any later timestamp in it is null and the status
says what is still pending (``pending`` / ``in_transit`` parcels, ``open`` tasks, undecided
recommendations).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.orders import KINDS, SHIP_TZ
from kpilib.synth.state import NODES, SimState, ids, to_ts
from kpilib.synth.warehouse import ERROR_TYPES, POINTS

NODE_ARR = np.array(NODES + (None,), dtype=object)  # index -1 -> None


def _node(i) -> np.ndarray:
    return NODE_ARR[np.asarray(i, np.int64)]


def _cut(h, T) -> np.ndarray:
    h = np.asarray(h, float)
    return np.where(h <= T, h, np.nan)


def orders_lines(st: SimState, ob: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    O, L = ob["O"], ob["L"]
    T, ts = st.t_end, (lambda h: to_ts(h, st.start))
    n = len(O["chan"])
    oid = ids("O", n, 7)
    kind = O["kind"]
    cancel = _cut(O["cancel_at"], T)
    has_c = ~np.isnan(cancel)
    real = ~L["is_comp"]
    merch = np.bincount(L["order"][real], (L["qty"] * L["unit_price"])[real], minlength=n)
    chan = O["channel_name"]
    otype = np.where(kind == KINDS.index("replacement"), "replacement",
                     np.where(chan == "b2b", "b2b", np.where(chan == "internal", "transfer",
                                                              "standard"))).astype(object)
    ship_amt = np.where((chan == "web") & (merch < 50) & (otype == "standard"), 5.99, 0.0)
    orders = pd.DataFrame({
        "order_id": oid, "channel": chan, "order_type": otype,
        "parent_order_id": np.where(O["parent"] >= 0, oid[np.maximum(O["parent"], 0)], None),
        "is_test": O["is_test"], "created_at": ts(O["created"]),
        "authorized_at": ts(_cut(O["auth"], T)), "earliest_ship_at": ts(O["earliest"]),
        "ship_to_timezone": np.array(SHIP_TZ, dtype=object)[O["region"]], "currency": "USD",
        "merchandise_amount": np.round(merch, 2), "shipping_amount_charged": ship_amt,
        "cancelled_at": ts(cancel),
        "cancel_initiator": np.where(has_c, O["cancel_init"], None),
        "cancel_reason": np.where(has_c, O["cancel_reason"], None),
    })
    nl = len(L["order"])
    lid = ids("OL", nl, 8)
    ol = L["order"]
    pchange = O["promise_change_at"][ol]
    changed = pchange <= T
    prom = O["promise"][ol]
    m_changed = L["merchant_change_at"] <= T
    current = np.select([changed, m_changed], [O["promise_current"][ol], L["merchant_promise"]],
                        prom)
    initiator = np.select([changed, m_changed], ["customer", "merchant"], "").astype(object)
    initiator[initiator == ""] = None
    lines = pd.DataFrame({
        "order_line_id": lid, "order_id": oid[ol], "sku": L["sku"],
        "parent_line_id": np.where(L["parent_line"] >= 0, lid[np.maximum(L["parent_line"], 0)],
                                   None),
        "created_at": ts(L["created"]), "qty_ordered": L["qty"],
        "qty_cancelled_customer": L["cxl_cust"], "qty_cancelled_merchant": L["cxl_merch"],
        "assigned_node_id": _node(L["assigned"]),
        "requested_delivery_at": ts(np.where(O["chan"][ol] == 3, prom, np.nan)),
        "promised_delivery_at_original": ts(prom),
        "promised_delivery_at_current": ts(current),
        "promise_change_initiator": initiator,
        "promise_is_date": O["promise_is_date"][ol], "planned_ship_by_at": ts(O["ship_by"][ol]),
        "unit_price": L["unit_price"], "substitution_approved": False,
    })
    return orders, lines


def events_frame(st: SimState, ob: dict, E: dict, line_ids, order_ids) -> pd.DataFrame:
    T = st.t_end
    keep = E["t"] <= T
    E = {k: v[keep] for k, v in E.items()}
    o = np.lexsort((E["line"], E["type"], E["order"], np.round(E["t"] * 3600)))
    E = {k: v[o] for k, v in E.items()}
    n = len(E["t"])
    return pd.DataFrame({
        "event_id": ids("E", n, 9), "order_id": order_ids[E["order"]],
        "order_line_id": np.where(E["line"] >= 0, line_ids[np.maximum(E["line"], 0)], None),
        "node_id": _node(E["node"]), "event_type": E["type"], "event_at": to_ts(E["t"], st.start),
        "actor_type": E["actor"], "actor_id": E["actor_id"], "reason_code": E["reason"],
        "qty": E["qty"], "qty_confirmed": E["conf"]})


def exceptions_frame(st, X, line_ids, order_ids) -> pd.DataFrame:
    T = st.t_end
    keep = X["opened"] <= T
    X = {k: v[keep] for k, v in X.items()}
    o = np.lexsort((X["type"], X["order"], X["opened"]))
    X = {k: v[o] for k, v in X.items()}
    res = _cut(X["resolved"], T)
    n = len(res)
    return pd.DataFrame({
        "exception_id": ids("X", n, 8),
        "order_id": np.where(X["order"] >= 0, order_ids[np.maximum(X["order"], 0)], None),
        "order_line_id": np.where(X["line"] >= 0, line_ids[np.maximum(X["line"], 0)], None),
        "node_id": _node(X["node"]), "exception_type": X["type"], "severity": X["sev"],
        "is_informational": X["info"].astype(bool), "opened_at": to_ts(X["opened"], st.start),
        "resolved_at": to_ts(res, st.start),
        "resolution_code": np.where(np.isnan(res), None, X["code"])})


def shipments_frames(st, SH, line_ids, order_ids) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    T = st.t_end
    def ts(h):
        return (to_ts(h, st.start))
    units = np.bincount(SH["sl_ship"], SH["sl_qty"], minlength=len(SH["order"]))
    keep = (SH["created"] <= T) & (units > 0)
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((idx, SH["created"][idx]))]
    sid_all = np.full(len(SH["order"]), None, dtype=object)
    sid_all[idx] = ids("S", len(idx), 8)
    shipped = _cut(SH["shipped"][idx], T)
    fa = _cut(SH["first_attempt"][idx], T)
    dl = _cut(SH["delivered"][idx], T)
    st_raw = SH["status"][idx]
    status = np.where(np.isnan(shipped), "pending", "in_transit").astype(object)
    done = ~np.isnan(dl)
    status[done] = "delivered"
    lost = (st_raw == "lost") & (SH["shipped"][idx] + 7 * 24 <= T)
    status[lost] = "lost"
    fail = np.isin(st_raw, ["failed", "returned_to_sender"]) & ~np.isnan(fa)
    status[fail] = st_raw[fail]
    dl_out = np.where(SH["missing_scan"][idx], np.nan, dl)
    reason = np.where(~np.isnan(fa), SH["fail_reason"][idx], None)
    ships = pd.DataFrame({
        "shipment_id": sid_all[idx], "order_id": order_ids[SH["order"][idx]],
        "node_id": _node(SH["node"][idx]), "carrier": SH["carrier"][idx],
        "service_level": SH["service_name"][idx], "created_at": ts(SH["created"][idx]),
        "shipped_at": ts(shipped), "first_delivery_attempt_at": ts(fa),
        "delivered_at": ts(dl_out), "delivery_status": status,
        "delivery_failure_reason": reason,
        "parcel_cost": np.where(np.isnan(shipped), np.nan, SH["cost"][idx]),
        "parcel_cost_final": ~np.isnan(shipped) & (SH["final_at"][idx] <= T)})
    sl = pd.DataFrame({"ship": SH["sl_ship"], "line": SH["sl_line"], "qty": SH["sl_qty"]})
    sl = sl[keep[sl["ship"]] & (sl["qty"] > 0)]
    sl = sl.groupby(["ship", "line"], as_index=False)["qty"].sum()
    slines = pd.DataFrame({"shipment_id": sid_all[sl["ship"]],
                           "order_line_id": line_ids[sl["line"]], "qty_shipped": sl["qty"]})
    return ships, slines, sid_all


def picks_frames(st, cat, P, SH, sid_all, line_ids) -> tuple[pd.DataFrame, pd.DataFrame]:
    T = st.t_end
    def ts(h):
        return (to_ts(h, st.start))
    W = P["waves"]
    w_keep = W["released"] <= T
    w_idx = np.flatnonzero(w_keep)
    w_idx = w_idx[np.lexsort((W["node"][w_idx], W["released"][w_idx]))]
    wid = np.full(len(W["node"]), None, dtype=object)
    wid[w_idx] = np.char.add(np.char.add("W-", np.array(NODES)[W["node"][w_idx]].astype(str)),
                             np.char.add("-", np.char.zfill(np.arange(len(w_idx)).astype(str),
                                                            6))).astype(object)
    closed = W["closed"][w_idx]
    waves = pd.DataFrame({"wave_id": wid[w_idx], "node_id": _node(W["node"][w_idx]),
                          "released_at": ts(W["released"][w_idx]),
                          "cutoff_at": ts(W["released"][w_idx] + 3.5),
                          "planned_lines_per_hour": np.round(W["plh"][w_idx], 1),
                          "closed_at": ts(_cut(closed, T))})
    rel = W["released"][P["wave"]]
    keep = rel <= T
    t = np.flatnonzero(keep)
    t = t[np.lexsort((t, rel[t]))]
    picked = _cut(P["picked"][t], T)
    done = ~np.isnan(picked)
    det_at = P["err_at"][t]
    det = P["err"][t] & (det_at <= T)
    qp = np.where(done, P["qty_picked"][t], np.nan)
    status = np.where(done, np.where(qp > 0, "picked", "cancelled"), "open").astype(object)
    sku = P["sku"][t]
    loc = np.char.add(np.char.add(np.array(NODES)[P["node"][t]].astype(str), "-A"),
                      np.char.zfill((sku % 997).astype(str), 3)).astype(object)
    tasks = pd.DataFrame({
        "task_id": ids("T", len(t), 8), "node_id": _node(P["node"][t]),
        "wave_id": wid[P["wave"][t]],
        "order_line_id": line_ids[P["line"][t]], "sku": sku, "location_id": loc,
        "qty_requested": P["qty"][t], "qty_picked": qp, "released_at": ts(rel[t]),
        "picked_at": ts(picked),
        "picker_id": np.where(done, np.char.add("P-", P["picker"][t].astype(str)).astype(object),
                              None),
        "status": status, "short_reported": P["short"][t] & done, "error_detected": det,
        "error_type": np.where(det, np.array(ERROR_TYPES, dtype=object)[P["err_type"][t]], None),
        "error_detection_point": np.where(det, np.array(POINTS, dtype=object)[P["err_point"][t]],
                                          None),
        "error_detected_at": ts(np.where(det, det_at, np.nan))})
    return waves, tasks
