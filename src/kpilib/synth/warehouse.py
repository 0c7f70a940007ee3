"""Warehouse: release to node, waves, pick tasks (with errors and shorts) and parcel grouping.

Rule: every confirmed allocation (a *fill*) is released to its node after a channel lag;
at a DC it joins the next wave (waves at fixed UTC hours, cutoff 3.5 h later); within a wave
tasks are picked in release order at the node's planned lines/hour, so a surge overruns the
cutoff. Tasks of one order, node and wave form one shipment, packed after the last pick and
handed to the carrier at the next 23:00 UTC pickup. Dropship fills ship from the supplier.
"""

from __future__ import annotations

import numpy as np

from kpilib.synth.demand import B2B, MKA, MKB, WEB
from kpilib.synth.state import SimState, next_time_of_day, rank_in_group

WAVE_HOURS = np.array([11.0, 13.0, 15.0, 17.0, 19.0])
WAVE_CUTOFF_H = 3.5
PICKUP_HOUR = 23.0
ERROR_TYPES = ("wrong_sku", "wrong_qty", "wrong_lot", "damaged")
POINTS = ("pack_verify", "audit", "customer")


def fills_and_release(st: SimState, ob: dict, al: dict, TF: dict) -> dict:
    """Confirmed allocations (and transfer lines) with their release time to the node."""
    rng = st.rng
    a = al["attempts"]
    m = a["conf"] > 0
    line = np.r_[a["line"][m], TF["line"]]
    node = np.r_[a["node"][m], TF["node"]]
    t = np.r_[a["t"][m], TF["t_fill"]]
    qty = np.r_[a["conf"][m], TF["qty"]]
    O, L = ob["O"], ob["L"]
    order = L["order"][line]
    chan = O["chan"][order]
    n_o = len(O["chan"])
    lag_o = np.select([O["chan"] == WEB, np.isin(O["chan"], [MKA, MKB]), O["chan"] == B2B],
                      [rng.uniform(2, 15, n_o) / 60, rng.uniform(10, 40, n_o) / 60,
                       rng.uniform(0.5, 3, n_o)], rng.uniform(0.1, 1, n_o))
    first_attempt = np.isclose(t, O["t_req"][order]) | np.isclose(t, O["t_req"][order] + 1 / 60)
    t_rel = np.where(first_attempt, O["t_req"][order] + lag_o[order],
                     np.floor(t / 24) * 24 + 8.5 + lag_o[order] / 4)
    t_rel = np.where(chan == 4, t + 0.25, t_rel)  # transfers: released by the planner
    manual = (chan == B2B) & (rng.random(n_o) < 0.15)[order]
    return {"line": line, "node": node, "t_fill": t, "qty": qty, "order": order,
            "t_rel": t_rel, "manual_release": manual}


def waves_and_picks(st: SimState, cat: dict, F: dict) -> dict:
    """Assign DC fills to waves, time the picks, inject pick errors and shorts."""
    rng = st.rng
    dc = F["node"] < 2
    idx = np.flatnonzero(dc)
    node, t_rel = F["node"][idx], F["t_rel"][idx]
    day = np.floor(t_rel / 24)
    hod = t_rel - day * 24
    k = np.searchsorted(WAVE_HOURS, hod, side="left")
    day = np.where(k >= len(WAVE_HOURS), day + 1, day)
    k = np.where(k >= len(WAVE_HOURS), 0, k)
    wave_key = (day.astype(np.int64) * len(WAVE_HOURS) + k) * 2 + node
    w_rel = day * 24 + WAVE_HOURS[k]
    # planned rate per node: the average wave finishes in 2.5 h
    n_days = max(1, st.days)
    plh = np.array([max(20.0, (node == j).sum() / n_days / len(WAVE_HOURS) / 2.5 * 1.15)
                    for j in range(2)])
    o = np.lexsort((t_rel, wave_key))
    r = np.empty(len(idx), dtype=np.int64)
    r[o] = rank_in_group(wave_key[o])
    picked = w_rel + (r + 1) / plh[node] + rng.uniform(0, 0.1, len(idx))
    qty = F["qty"][idx]
    n = len(idx)
    short = rng.random(n) < 0.003
    qty_short = np.where(short, np.maximum(1, np.floor(qty * rng.uniform(0.2, 1.0, n))), 0.0)
    qty_short = np.minimum(qty_short, qty)
    err = rng.random(n) < 0.004
    point = rng.choice(3, n, p=[0.6, 0.15, 0.25])
    uw, winv = np.unique(wave_key, return_inverse=True)
    w_node = uw % 2
    w_released = (uw // 2 // len(WAVE_HOURS)) * 24.0 + WAVE_HOURS[(uw // 2) % len(WAVE_HOURS)]
    w_closed = np.full(len(uw), -np.inf)
    np.maximum.at(w_closed, winv, picked)
    return {
        "fill": idx, "node": node, "wave": winv, "released": t_rel, "picked": picked,
        "qty": qty, "qty_picked": qty - qty_short, "short": short, "err": err,
        "err_type": rng.choice(4, n, p=[0.5, 0.3, 0.1, 0.1]), "err_point": point,
        "picker": rng.integers(1, 31, n), "line": F["line"][idx], "order": F["order"][idx],
        "waves": {"node": w_node, "released": w_released, "cutoff": w_released + WAVE_CUTOFF_H,
                  "closed": w_closed + 10 / 60, "plh": plh[w_node]},
    }


def parcels(st: SimState, F: dict, P: dict) -> dict:
    """Group picks into shipments (order x node x wave) and dropship fills into supplier parcels."""
    rng = st.rng
    # DC parcels
    key_dc = np.stack([P["order"], P["node"], P["wave"]], axis=1)
    ship_dc, inv_dc = np.unique(key_dc, axis=0, return_inverse=True)
    inv_dc = inv_dc.ravel()
    last_pick = np.full(len(ship_dc), -np.inf)
    np.maximum.at(last_pick, inv_dc, P["picked"])
    created_dc = last_pick + rng.uniform(0.1, 0.6, len(ship_dc))
    # dropship parcels: one per order x release
    ds = np.flatnonzero(F["node"] == 2)
    key_ds = np.stack([F["order"][ds], np.round(F["t_rel"][ds] * 60).astype(np.int64)], axis=1)
    ship_ds, inv_ds = np.unique(key_ds, axis=0, return_inverse=True)
    inv_ds = inv_ds.ravel()
    t_rel_ds = np.zeros(len(ship_ds))
    np.maximum.at(t_rel_ds, inv_ds, F["t_rel"][ds])
    created_ds = t_rel_ds + rng.uniform(4, 40, len(ship_ds))
    n_dc = len(ship_dc)
    order = np.r_[ship_dc[:, 0], ship_ds[:, 0]]
    node = np.r_[ship_dc[:, 1], np.full(len(ship_ds), 2)]
    created = np.r_[created_dc, created_ds]
    reject = rng.random(len(order)) < 0.002
    ready = created + 0.25 + np.where(reject, rng.uniform(2, 20, len(order)), 0.0)
    shipped = np.where(node == 2, ready + rng.uniform(1, 24, len(order)),
                       next_time_of_day(ready, PICKUP_HOUR))
    # shipment lines: DC tasks by (shipment, line); dropship fills by (shipment, line)
    sl_ship = np.r_[inv_dc, n_dc + inv_ds]
    sl_line = np.r_[P["line"], F["line"][ds]]
    sl_qty = np.r_[P["qty_picked"], F["qty"][ds]]
    task_ship = inv_dc
    return {"order": order, "node": node, "created": created, "shipped": shipped,
            "reject": reject, "sl_ship": sl_ship, "sl_line": sl_line, "sl_qty": sl_qty,
            "task_ship": task_ship}
