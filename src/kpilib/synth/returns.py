"""After delivery: customer-detected pick errors, replacement causes, RMAs and dispositions.

Rule: a share of delivered lines (by product class) is returned 1-25 days after delivery;
RMA decisions are automatic (60%, within a minute) or manual (hours); approved returns arrive
3-10 days later, are disposed 2-96 h after receipt (restock for resaleable reasons, scrap /
refurbish / return-to-vendor for damaged or defective) and refunded at receipt, at
disposition, or instantly at approval (15%). Each replacement order gets its cause on the
parent: a lost parcel, a customer-detected wrong item, or a damage claim.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.schema import RETURN_REASONS
from kpilib.synth.demand import B2B
from kpilib.synth.orders import KINDS, REPL_REASONS
from kpilib.synth.params import CLASSES
from kpilib.synth.state import SimState

RETURN_RATE = {"apparel": 0.15, "beauty": 0.03, "home": 0.06, "electronics": 0.07, "bundles": 0.03}
REASON_P = {"changed_mind": .35, "not_as_described": .15, "defective": .12, "damaged": .10,
            "wrong_item": .04, "missing_item": .03, "wrong_configuration": .03,
            "late_delivery": .07, "other": .11}


def delivered_lines(ob: dict, SH: dict) -> pd.DataFrame:
    """Shipment lines joined with their shipment's delivery time (one row per ship-line)."""
    return pd.DataFrame({"ship": SH["sl_ship"], "line": SH["sl_line"], "qty": SH["sl_qty"],
                         "delivered": SH["delivered"][SH["sl_ship"]],
                         "node": SH["node"][SH["sl_ship"]],
                         "order": ob["L"]["order"][SH["sl_line"]]})


def replacement_causes(st: SimState, ob: dict, SH: dict, P: dict) -> dict:
    """Mark the parent's failure behind each replacement; returns extra returns and claims."""
    rng = st.rng
    O = ob["O"]
    rep = np.flatnonzero(O["kind"] == KINDS.index("replacement"))
    parent, created = O["parent"][rep], O["created"][rep]
    reason = O["repl_reason"][rep]
    ships = pd.DataFrame({"ship": np.arange(len(SH["order"])), "order": SH["order"],
                          "shipped": SH["shipped"], "delivered": SH["delivered"]})
    first = ships.sort_values(["order", "shipped", "ship"]).drop_duplicates("order")
    f = first.set_index("order").reindex(parent)
    ok_lost = (f["shipped"].to_numpy() < created - 24) & (reason == REPL_REASONS.index("lost"))
    ok_deliv = f["delivered"].to_numpy() < created - 2
    lost_ship = f["ship"].to_numpy()[ok_lost].astype(np.int64)
    SH["status"][lost_ship] = "lost"
    SH["delivered"][lost_ship] = np.nan
    SH["first_attempt"][lost_ship] = np.nan
    SH["fail_reason"][lost_ship] = None
    q = ok_deliv & (reason != REPL_REASONS.index("lost"))
    gap = created[q] - f["delivered"].to_numpy()[q]
    detect = created[q] - rng.uniform(0.5, 1.0, q.sum()) * np.minimum(gap, 24)
    out = {"order": parent[q], "ship": f["ship"].to_numpy()[q].astype(np.int64), "t": detect,
           "reason": np.where(reason[q] == REPL_REASONS.index("wrong_item"), "wrong_item",
                              "damaged")}
    # the wrong item is a customer-detected pick error on a task of that shipment
    tasks = pd.DataFrame({"task": np.arange(len(P["line"])), "ship": SH["task_ship"]})
    tfirst = tasks.drop_duplicates("ship").set_index("ship")["task"]
    wrong = out["reason"] == "wrong_item"
    t_idx = tfirst.reindex(out["ship"][wrong]).to_numpy()
    good = ~np.isnan(t_idx)
    ti = t_idx[good].astype(np.int64)
    P["err"][ti] = True
    P["err_point"][ti] = 2
    P["err_type"][ti] = 0
    P.setdefault("err_at_override", {}).update(dict(zip(ti.tolist(), out["t"][wrong][good],
                                                        strict=True)))
    cause = np.full(len(rep), "goodwill", dtype=object)
    cause[ok_lost] = "lost"
    cause[q] = out["reason"]
    O["repl_cause"] = np.full(len(O["kind"]), None, dtype=object)
    O["repl_cause"][rep] = cause
    return out


def build_returns(st: SimState, cat: dict, ob: dict, SH: dict, forced: dict) -> dict:
    """Return lines: random returns of delivered lines plus the forced wrong-item/damaged ones."""
    rng = st.rng
    O, L = ob["O"], ob["L"]
    dl = delivered_lines(ob, SH)
    dl = dl[dl["delivered"].notna() & ~L["is_comp"][dl["line"]] & ~L["kit_parent"][dl["line"]]
            & ~np.isin(O["chan"][dl["order"]], [B2B, 4]) & (O["kind"][dl["order"]]
                                                  != KINDS.index("replacement"))]
    cls = np.array(CLASSES)[cat["cls"][L["sku"][dl["line"]]]]
    p = np.array([RETURN_RATE[c] for c in cls])
    pick = dl[rng.random(len(dl)) < p]
    names = np.array(list(REASON_P), dtype=object)
    probs = np.array(list(REASON_P.values()))
    reason = names[rng.choice(len(names), len(pick), p=probs / probs.sum())]
    req = pick["delivered"].to_numpy() + rng.uniform(1, 25, len(pick)) * 24
    # forced returns from replacement causes: the line of the first shipment line
    fsl = dl.drop_duplicates("ship").set_index("ship")
    fl = fsl.reindex(forced["ship"])
    keep = fl["line"].notna().to_numpy()
    line = np.r_[pick["line"].to_numpy(), fl["line"].to_numpy()[keep].astype(np.int64)]
    qty = np.r_[np.maximum(1, np.floor(pick["qty"].to_numpy() * rng.uniform(0.3, 1, len(pick)))),
                np.ones(keep.sum())]
    node_ship = np.r_[pick["node"].to_numpy(), fl["node"].to_numpy()[keep].astype(np.int64)]
    reason = np.r_[reason, forced["reason"][keep]]
    req = np.r_[req, forced["t"][keep] + 0.1]
    n = len(line)
    auto = rng.random(n) < 0.6
    decided = req + np.where(auto, rng.uniform(0, 50, n) / 3600, rng.lognormal(2.5, 0.8, n))
    dec = rng.choice(3, n, p=[0.92, 0.05, 0.03])
    dec[len(pick):] = 0
    arrives = (dec == 0) & (rng.random(n) < 0.93)
    received = np.where(arrives, decided + rng.uniform(3, 10, n) * 24, np.nan)
    recv_node = np.where(rng.random(n) < 0.7, 0, np.where(node_ship == 2, 0, node_ship))
    bad = np.isin(reason, ["damaged", "defective"])
    disp = np.where(bad, rng.choice(np.array(["scrap", "return_to_vendor", "refurbish"],
                                             dtype=object), n, p=[.5, .3, .2]),
                    np.where(rng.random(n) < 0.88, "restock", "liquidate")).astype(object)
    sku = L["sku"][line]
    not_stocked = ~cat["stocked_at"][sku, np.clip(recv_node, 0, 1)]
    disp[(disp == "restock") & not_stocked] = "liquidate"
    disp_at = received + rng.uniform(2, 96, n)
    disp = np.where(arrives, disp, None)
    instant = (dec == 0) & (rng.random(n) < 0.15)
    refund = np.where(instant, decided + 1 / 60,
                      np.where(arrives, np.where(rng.random(n) < 0.5,
                                                 received + rng.uniform(1, 48, n), disp_at),
                               np.nan))
    assert set(np.unique(reason)) <= set(RETURN_REASONS)
    o = np.argsort(req, kind="stable")
    R = {"line": line, "order": L["order"][line], "sku": sku, "qty": qty, "reason": reason,
         "requested": req, "decided": decided, "decision": np.array(
             ["approved", "rejected", "withdrawn"], dtype=object)[dec],
         "received": received, "node": np.where(arrives, recv_node, -1), "disp": disp,
         "disp_at": np.where(arrives, disp_at, np.nan), "refund": refund}
    return {k: v[o] for k, v in R.items()}
