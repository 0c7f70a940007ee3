"""Stock ledger, cycle counts and end-of-day snapshots that agree with the ledger exactly.

Day boundary: snapshot_date d holds the state at the END of UTC day d, i.e. every movement with
``moved_at < d + 1 day`` (UTC midnight). ``qty_on_hand(d) = Σ qty_delta`` of those movements
(opening balances are dated before the first day). Allocated = confirmed allocations not yet
shipped or shorted; held = QA-held receipts not yet released; on order = POs placed and not
yet received; available = on_hand - allocated - held; value = on_hand x unit cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.state import DC_NODES, SimState

MOVE_TYPES = ("receipt", "ship", "transfer_out", "transfer_in", "adjust_count", "adjust_other",
              "return_restock", "scrap", "kit_build")


def _mv(sku, node, t, mtype, qty, ref_kind, ref_idx, tg=None) -> dict:
    n = len(sku)
    return {"tg": np.full(n, -1, np.int64) if tg is None else np.asarray(tg, np.int64),
            "sku": np.asarray(sku, np.int64), "node": np.asarray(node, np.int64),
            "t": np.asarray(t, float), "type": np.full(n, MOVE_TYPES.index(mtype)),
            "qty": np.asarray(qty, float), "ref_kind": np.full(n, ref_kind, dtype=object),
            "ref": np.asarray(ref_idx, np.int64)}


def base_movements(st: SimState, cat: dict, ob: dict, al: dict, P: dict, SH: dict,
                   R: dict) -> dict:
    """All movements except count adjustments (they need the ledger balance at count time)."""
    rng = st.rng
    parts = []
    op = st.art["opening"]
    s, n = np.nonzero(op > 0)
    age = np.where(cat["slow_bundle"][s], rng.uniform(15, 25, len(s)), rng.uniform(1, 75, len(s)))
    parts.append(_mv(s, n, -age * 24, "receipt", op[s, n], "opening", np.arange(len(s))))
    po = al["po"]
    parts.append(_mv(po["sku"], po["node"], po["received"], "receipt", po["got"], "receipt",
                     np.arange(len(po["sku"]))))
    L = ob["L"]
    dc_sl = SH["node"][SH["sl_ship"]] < DC_NODES
    is_tr = ob["O"]["chan"][L["order"][SH["sl_line"]]] == 4
    sl = np.flatnonzero(dc_sl & (SH["sl_qty"] > 0) & ~is_tr)
    parts.append(_mv(L["sku"][SH["sl_line"][sl]], SH["node"][SH["sl_ship"][sl]],
                     SH["shipped"][SH["sl_ship"][sl]], "ship", -SH["sl_qty"][sl], "line",
                     SH["sl_line"][sl]))
    tl = np.flatnonzero(dc_sl & (SH["sl_qty"] > 0) & is_tr)
    ln, sh_i = SH["sl_line"][tl], SH["sl_ship"][tl]
    parts.append(_mv(L["sku"][ln], SH["node"][sh_i], SH["shipped"][sh_i], "transfer_out",
                     -SH["sl_qty"][tl], "line", ln, tg=ln))
    parts.append(_mv(L["sku"][ln], 1 - SH["node"][sh_i], SH["delivered"][sh_i], "transfer_in",
                     SH["sl_qty"][tl], "line", ln, tg=ln))
    sc = al["scrap"]
    parts.append(_mv(sc["sku"], sc["node"], sc["t"], "scrap", -sc["qty"], "none",
                     np.zeros(len(sc["sku"]))))
    rs = np.flatnonzero(R["disp"] == "restock")
    parts.append(_mv(R["sku"][rs], R["node"][rs], R["disp_at"][rs], "return_restock",
                     R["qty"][rs], "return", rs))
    M = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return M


def count_program(st: SimState, cat: dict, al: dict, P: dict, M: dict) -> tuple[dict, dict]:
    """Cycle counts (loop) + ad-hoc counts after short picks, frozen system qty, adjustments."""
    rng = st.rng
    c = al["counts"]
    sh = np.flatnonzero(P["short"])
    L_sku = P["sku"]
    sku = np.r_[c["sku"], L_sku[sh]]
    node = np.r_[c["node"], P["node"][sh]]
    t = np.r_[c["t"], P["picked"][sh] + rng.uniform(0.5, 2, len(sh))]
    delta = np.r_[c["delta"], -(P["qty"][sh] - P["qty_picked"][sh])]
    program = np.r_[np.full(len(c["sku"]), "cycle", dtype=object),
                    np.full(len(sh), "ad_hoc", dtype=object)]
    n = len(sku)
    recount = (delta != 0) & (rng.random(n) < 0.5)
    t_re = t + rng.uniform(0.3, 0.8, n)
    t_adj = np.where(recount, t_re, t) + 5 / 60
    adj = delta.copy()
    for _ in range(2):  # system qty depends on earlier adjustments of the same cell
        mv = _merge_adj(M, sku, node, t_adj, adj)
        sys_c = balance_at(mv, sku, node, t)
        adj = np.maximum(delta, -np.maximum(sys_c, 0))
    mv = _merge_adj(M, sku, node, t_adj, adj)
    sys_c = balance_at(mv, sku, node, t)
    sys_r = balance_at(mv, sku, node, t_re)
    counted = np.maximum(sys_c + adj, 0)
    adj = counted - sys_c
    cnt = {"sku": sku, "node": node, "t": t, "sys": np.maximum(sys_c, 0), "counted": counted,
           "recount": recount, "t_re": t_re, "sys_re": np.maximum(sys_r, 0),
           "program": program, "adj": adj, "t_adj": t_adj}
    return cnt, _merge_adj(M, sku, node, t_adj, adj)


def _merge_adj(M: dict, sku, node, t_adj, adj) -> dict:
    nz = adj != 0
    A = _mv(sku[nz], node[nz], t_adj[nz], "adjust_count", adj[nz], "count", np.flatnonzero(nz))
    return {k: np.concatenate([M[k], A[k]]) for k in M}


def balance_at(M: dict, sku, node, t) -> np.ndarray:
    """Ledger on-hand of (sku, node) at time t (movements with moved_at <= t)."""
    cell = M["sku"] * DC_NODES + M["node"]
    o = np.lexsort((M["t"], cell))
    cs, ts = cell[o], M["t"][o]
    cum = np.cumsum(M["qty"][o])
    q_cell = sku * DC_NODES + node
    # position of last movement with (cell, t) <= (q_cell, t)
    key_m = cs.astype(float) * 1e7 + ts
    key_q = q_cell.astype(float) * 1e7 + t
    pos = np.searchsorted(key_m, key_q, side="right") - 1
    start = np.searchsorted(cs, q_cell, side="left")
    base = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    val = np.where(pos >= start, cum[np.maximum(pos, 0)] - base, 0.0)
    return val


def _daily(st: SimState, S: int, t, cell, qty) -> np.ndarray:
    """Cumulative end-of-day sums (days, S*DC) of signed quantities at times t."""
    day = np.floor(np.asarray(t) / 24).astype(np.int64)
    day = np.clip(day, 0, None)
    m = day < st.days
    acc = np.zeros((st.days, S * DC_NODES))
    np.add.at(acc, (day[m], cell[m]), qty[m])
    return np.cumsum(acc, axis=0)


def snapshots(st: SimState, cat: dict, M: dict, F: dict, P: dict, SH: dict, po: dict) -> dict:
    """End-of-day snapshot arrays (days, S*DC) computed from the event streams."""
    S = cat["n"]
    on_hand = _daily(st, S, M["t"], M["sku"] * DC_NODES + M["node"], M["qty"])
    dc = F["node"] < DC_NODES
    sku_f = P["sku"]
    cell_p = sku_f * DC_NODES + P["node"]
    alloc = _daily(st, S, P["fill_t"], cell_p, P["qty"])
    ship_t = SH["shipped"][SH["task_ship"]]
    alloc -= _daily(st, S, ship_t, cell_p, P["qty_picked"])
    alloc -= _daily(st, S, P["picked"], cell_p, P["qty"] - P["qty_picked"])
    del dc
    cell_po = po["sku"] * DC_NODES + po["node"]
    held = _daily(st, S, po["received"], cell_po, np.where(po["qa"], po["got"], 0.0))
    held -= _daily(st, S, np.nan_to_num(po["qa_rel"], nan=1e9), cell_po,
                   np.where(po["qa"], po["got"], 0.0))
    on_order = _daily(st, S, po["placed"], cell_po, po["qty"])
    on_order -= _daily(st, S, po["received"], cell_po, po["qty"])
    return {"on_hand": on_hand, "alloc": alloc, "held": held, "on_order": on_order}


def snapshot_frame(st: SimState, cat: dict, snap: dict) -> pd.DataFrame:
    """Long snapshot table for stocked SKU-DC cells from launch day (or day 0) onwards."""
    _S, D = cat["n"], st.days
    cells = np.flatnonzero(cat["stocked_at"].reshape(-1))
    sku, _node = cells // DC_NODES, cells % DC_NODES
    first = np.clip(cat["launch"][sku], 0, None).astype(int)
    day = np.repeat(np.arange(D)[None, :], len(cells), 0)
    keep = day >= first[:, None]
    dd = day[keep]
    cc = np.repeat(cells[:, None], D, 1)[keep]
    get = {k: v[dd, cc] for k, v in snap.items()}
    s = cc // DC_NODES
    active = ~(cat["disc"][s] <= dd) & (cat["launch"][s] <= dd)
    cost = cat["unit_cost"][s]
    return pd.DataFrame({
        "day": dd, "node": cc % DC_NODES, "sku": s, "qty_on_hand": get["on_hand"],
        "qty_allocated": np.maximum(get["alloc"], 0), "qty_held": np.maximum(get["held"], 0),
        "qty_on_order": np.maximum(get["on_order"], 0), "cost": cost, "is_active": active,
    })
