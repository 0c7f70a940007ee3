"""Order event history and the exception queue, derived from the simulated process.

Every event is a fact of the simulation (creation, authorization, holds, allocation attempts,
backorders, releases, promise changes, cancellations, manual touches, document defects and
damage claims); exceptions open and close with the process step that raised them.
"""

from __future__ import annotations

import numpy as np

from kpilib.synth.demand import B2B, MKA, MKB, WEB
from kpilib.synth.orders import KINDS
from kpilib.synth.state import SimState

ACTOR = {"customer": "customer", "merchant": "user", "fraud": "user", "system": "system"}


class _E:
    def __init__(self) -> None:
        self.parts: list[dict] = []

    def add(self, order, t, etype, actor, *, line=None, node=None, actor_id=None, reason=None,
            qty=None, conf=None) -> None:
        order = np.asarray(order, np.int64)
        n = len(order)

        def arr(v, fill, dt):
            return np.full(n, fill, dtype=dt) if v is None else np.broadcast_to(
                np.asarray(v, dtype=dt), (n,)).copy()
        self.parts.append({
            "order": order, "t": np.asarray(t, float), "type": np.full(n, etype, dtype=object),
            "actor": np.full(n, actor, dtype=object) if isinstance(actor, str) else actor,
            "line": arr(line, -1, np.int64), "node": arr(node, -1, np.int64),
            "actor_id": arr(actor_id, None, object), "reason": arr(reason, None, object),
            "qty": arr(qty, np.nan, float), "conf": arr(conf, np.nan, float)})

    def get(self) -> dict:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def _users(rng, n: int) -> np.ndarray:
    return np.char.add("U-", rng.integers(1, 41, n).astype(str)).astype(object)


def build_events(st: SimState, ob: dict, al: dict, F: dict, SH: dict, R: dict) -> dict:
    """order_events as arrays (times in hours)."""
    rng = st.rng
    O, L = ob["O"], ob["L"]
    n = len(O["chan"])
    allo = np.arange(n)
    E = _E()
    E.add(allo, O["created"], "created", np.select(
        [O["chan"] == B2B, O["chan"] == INTERNAL_CHAN], ["user", "system"], "customer"
    ).astype(object), reason=O.get("repl_cause", np.full(n, None, dtype=object)))
    au = O["chan"] != INTERNAL_CHAN
    E.add(allo[au], O["auth"][au], "authorized", "system")
    h = ~np.isnan(O["hold_start"])
    reason = np.where(O["kind"][h] == KINDS.index("fraud"), "fraud_review", "payment_review")
    E.add(allo[h], O["hold_start"][h], "hold_placed", "system", reason=reason)
    hr = h & (O["kind"] != KINDS.index("fraud"))
    E.add(allo[hr], O["hold_end"][hr], "hold_released", "user", actor_id=_users(rng, hr.sum()))
    a = al["attempts"]
    E.add(L["order"][a["line"]], a["t"], "allocation_attempt", "system", line=a["line"],
          node=a["node"], qty=a["qty"], conf=a["conf"])
    b = al["backordered"]
    E.add(L["order"][b["line"]], b["t"], "backordered", "system", line=b["line"], qty=b["qty"])
    c = al["cleared"]
    manual = rng.random(len(c["line"])) < 0.1
    E.add(L["order"][c["line"]], c["t"], "backorder_cleared", "system", line=c["line"])
    E.add(L["order"][c["line"][manual]], c["t"][manual] - 1 / 60, "manual_allocation", "user",
          line=c["line"][manual], actor_id=_users(rng, manual.sum()))
    # releases: one per order x node x release time
    key = np.stack([F["order"], F["node"], np.round(F["t_rel"] * 3600).astype(np.int64)], 1)
    u, first = np.unique(key, axis=0, return_index=True)
    E.add(u[:, 0], F["t_rel"][first], "released_to_node", "system", node=u[:, 1])
    mr = F["manual_release"][first]
    E.add(u[mr, 0], F["t_rel"][first][mr] - 2 / 60, "manual_release", "user", node=u[mr, 1],
          actor_id=_users(rng, mr.sum()))
    pc = ~np.isnan(O["promise_change_at"])
    E.add(allo[pc], O["promise_change_at"][pc], "promise_changed", "customer",
          reason="customer_request")
    mc = np.flatnonzero(~np.isnan(L["merchant_change_at"]))
    E.add(L["order"][mc], L["merchant_change_at"][mc], "promise_changed", "system", line=mc,
          reason="backorder")
    # cancellations: full orders, then lines
    oc = ~np.isnan(O["cancel_at"])
    who = O["cancel_init"][oc]
    # stockout auto-cancel by the OMS (customer cancels of backorders stay customer actions)
    auto = O.get("late_cancel", np.zeros(n, bool))[oc] & (who == "merchant")
    actor = np.where(auto, "system", np.array([ACTOR[w] for w in who], dtype=object))
    E.add(allo[oc], O["cancel_at"][oc], "cancelled", actor.astype(object),
          reason=O["cancel_reason"][oc],
          actor_id=np.where(np.isin(who, ["merchant", "fraud"]) & ~auto, _users(rng, oc.sum()),
                            None))
    lc = al["cancel"]
    E.add(L["order"][lc["line"]], lc["t"], "cancelled",
          np.where(lc["who"] == "customer", "customer", "system").astype(object),
          line=lc["line"], qty=lc["qty"], reason=np.where(lc["who"] == "customer", "other",
                                                          "stockout"))
    # manual touches, address corrections, customer edits
    normal = np.isin(O["kind"], [KINDS.index(k) for k in ("normal", "spike", "surge")])
    touch = normal & (rng.random(n) < 0.04)
    E.add(allo[touch], O["created"][touch] + rng.uniform(1, 48, touch.sum()), "manual_touch",
          "user", actor_id=_users(rng, touch.sum()), reason="customer_service")
    addr = O["addr_fix"] = normal & (O["chan"] == WEB) & (rng.random(n) < 0.01)
    O["addr_fix_at"] = O["created"] + np.where(addr, rng.uniform(0.05, 0.5, n), np.nan)
    E.add(allo[addr], O["addr_fix_at"][addr], "address_corrected", "user",
          actor_id=_users(rng, addr.sum()))
    ed = normal & (O["chan"] == WEB) & (rng.random(n) < 0.01)
    E.add(allo[ed], O["created"][ed] + rng.uniform(0.02, 0.1, ed.sum()), "order_edited",
          "customer")
    # documentation defects and damage claims after delivery
    dl = np.flatnonzero(~np.isnan(SH["delivered"]))
    pdef = np.where(O["chan"][SH["order"][dl]] == B2B, 0.03, 0.003)
    dd = dl[rng.random(len(dl)) < pdef]
    E.add(SH["order"][dd], SH["delivered"][dd] + rng.uniform(4, 240, len(dd)), "doc_defect",
          "user", actor_id=_users(rng, len(dd)),
          reason=rng.choice(np.array(["invoice_price", "packing_slip", "asn_missing"],
                                     dtype=object), len(dd)))
    dmg = np.flatnonzero(R["reason"] == "damaged")
    E.add(R["order"][dmg], R["requested"][dmg] - 0.05, "damage_claim", "customer",
          line=R["line"][dmg], qty=R["qty"][dmg])
    return E.get()


INTERNAL_CHAN = 4


def build_exceptions(st: SimState, ob: dict, al: dict, P: dict, SH: dict, po: dict) -> dict:
    """Exception queue rows (times in hours; resolved NaN = still open)."""
    rng = st.rng
    O, L = ob["O"], ob["L"]
    parts = []

    def add(order, line, node, etype, sev, info, opened, resolved, code):
        n = len(opened)
        parts.append({"order": np.broadcast_to(np.asarray(order, np.int64), (n,)),
                      "line": np.broadcast_to(np.asarray(line, np.int64), (n,)),
                      "node": np.broadcast_to(np.asarray(node, np.int64), (n,)),
                      "type": np.full(n, etype, dtype=object), "sev": np.full(n, sev, object),
                      "info": np.full(n, info), "opened": np.asarray(opened, float),
                      "resolved": np.asarray(resolved, float),
                      "code": np.full(n, code, dtype=object)})

    n = len(O["chan"])
    allo = np.arange(n)
    a = O["addr_fix"]
    add(allo[a], -1, -1, "address_validation", "low", False, O["created"][a] + 1 / 120,
        O["addr_fix_at"][a], "address_corrected")
    h = ~np.isnan(O["hold_start"])
    add(allo[h], -1, -1, "payment_hold", "medium", False, O["hold_start"][h], O["hold_end"][h],
        "released")
    # allocation failures: first attempt per line short
    at = al["attempts"]
    o = np.lexsort((at["t"], at["line"]))
    first = o[np.r_[True, at["line"][o][1:] != at["line"][o][:-1]]]
    fail = first[at["conf"][first] < at["qty"][first]]
    fl = at["line"][fail]
    done = np.full(len(L["order"]), np.nan)
    np.fmax.at(done, al["cleared"]["line"], al["cleared"]["t"])
    np.fmax.at(done, al["cancel"]["line"], al["cancel"]["t"])
    split_ok = np.isin(fl, at["line"][at["conf"] > 0]) & np.isnan(done[fl])
    res = np.where(split_ok, at["t"][fail] + 2 / 60, done[fl])
    add(L["order"][fl], fl, at["node"][fail], "allocation_failure", "high", False, at["t"][fail],
        res, "resolved")
    sh = np.flatnonzero(P["short"])
    add(P["order"][sh], P["line"][sh], P["node"][sh], "short_pick", "medium", False,
        P["picked"][sh], P["picked"][sh] + rng.uniform(1, 8, len(sh)), "count_adjusted")
    rj = np.flatnonzero(SH["reject"])
    add(SH["order"][rj], -1, SH["node"][rj], "carrier_rejection", "medium", False,
        SH["created"][rj] + 0.1, SH["created"][rj] + rng.uniform(2, 20, len(rj)), "relabelled")
    bad = np.flatnonzero(np.isin(SH["status"], ["lost", "failed", "returned_to_sender"]))
    op = np.where(np.isnan(SH["first_attempt"][bad]), SH["shipped"][bad] + 7 * 24,
                  SH["first_attempt"][bad] + 1)
    add(SH["order"][bad], -1, SH["node"][bad], "delivery_exception", "high", False, op,
        op + rng.uniform(24, 120, len(bad)), "carrier_claim")
    # informational: second and later parcels of an order
    so = np.lexsort((SH["created"], SH["order"]))
    later = so[np.r_[False, SH["order"][so][1:] == SH["order"][so][:-1]]]
    add(SH["order"][later], -1, SH["node"][later], "split_shipment_notice", "info", True,
        SH["created"][later], SH["created"][later] + 1 / 60, "auto")
    # inbound: short receipts
    sr = np.flatnonzero(po["got"] < po["qty"])
    add(-1, -1, po["node"][sr], "receipt_discrepancy", "low", False, po["received"][sr],
        po["received"][sr] + rng.uniform(4, 72, len(sr)), "supplier_credit")
    X = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return X


_ = (MKA, MKB)
