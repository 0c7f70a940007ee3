"""Replenishment: the planner's demand view, opening stock, weekly reviews, decisions and POs.

Rule: review SKU-node (s, n) every ``review_days`` days; ``rate`` = mean planned daily demand
over the next lead + review days (forecast, i.e. planned demand x class bias); if
``available + on order < rate x (lead + safety)`` recommend
``ceil((rate x (lead + review + safety) - position) / case) x case``. Planners accept 78%,
modify 8%, reject 5%, let 5% expire and 4% get superseded by a fresh recommendation next day.
"""

from __future__ import annotations

import numpy as np

from kpilib.synth.params import CLASSES
from kpilib.synth.state import DC_NODES, SimState

CASE = 6.0
DECISIONS = ("accepted", "modified", "rejected", "expired", "superseded")
DECISION_P = (0.78, 0.08, 0.05, 0.05, 0.04)


def plan_rates(st: SimState, cat: dict, ob: dict) -> np.ndarray:
    """Planner's daily demand per (day, SKU, DC): planned demand x node share x class bias."""
    sc = st.scenario
    exp = ob["future_expected"]  # (D, S), planned (excludes unplanned spikes), looks ahead
    bias = np.array([sc.forecast_bias[c] for c in CLASSES])[cat["cls"]]
    share = np.array([1 - sc.dc2_region_share, sc.dc2_region_share])[None, :].repeat(cat["n"], 0)
    sat = cat["stocked_at"]
    share = np.where(sat, share, 0.0)
    share = share / np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    plan = exp[:, :, None] * share[None, :, :] * bias[None, :, None]
    if sc.surge_campaigns and "surge" in st.truth:
        # campaign stock is positioned in DC-2: DC-1's plan ignores the uplift
        uplift = ob.get("planned_extra")
        if uplift is not None:
            plan[:, :, 0] -= uplift * share[None, :, 0] * bias[None, :]
            plan[:, :, 1] += uplift * share[None, :, 0] * bias[None, :]
    plan[:, ~cat["stocked_at"][:, 0], 0] = 0.0
    plan[:, ~cat["stocked_at"][:, 1], 1] = 0.0
    return np.clip(plan, 0.0, None)


def _levels(rate: np.ndarray, lead: np.ndarray, sc) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point and order-up-to level: cycle stock + safety days + z * sqrt(demand)."""
    z = 2.0
    rop = rate * (lead + sc.safety_days) + z * np.sqrt(rate * (lead + sc.review_days)) + 2.0
    return rop, rop + rate * sc.review_days


def _horizon(cat: dict) -> np.ndarray:
    return cat["lead_days"][cat["supplier"]].astype(int)


def initial_stock(st: SimState, cat: dict, plan: np.ndarray) -> np.ndarray:
    """Opening available stock per SKU-DC: about half a cycle plus safety, whole units."""
    rng, sc = st.rng, st.scenario
    lead = _horizon(cat)[:, None]
    rate = plan[:28].mean(axis=0)
    rop, target = _levels(rate, lead, sc)
    stock = np.round((rop + target) / 2 * rng.uniform(0.8, 1.2, rate.shape))
    stock = np.where(cat["launch"][:, None] <= 0, stock, 0.0)
    stock = np.where(cat["stocked_at"], stock, 0.0)
    if sc.slow_bundles:
        sb = cat["slow_bundle"]
        stock[sb, 1] = rng.integers(250, 600, sb.sum())
    return stock


def review(st: SimState, d: int, cat: dict, cplan: np.ndarray, avail: np.ndarray,
           supply: np.ndarray, log) -> None:
    """Weekly order-up-to review of the SKU-DCs due today; schedules put-away supply."""
    if d >= st.days:
        return
    rng, sc = st.rng, st.scenario
    S = cat["n"]
    due = ((np.arange(S) + d) % sc.review_days) == 0
    cells = np.flatnonzero((due[:, None] & cat["stocked_at"]).ravel())
    if not len(cells):
        return
    s, n = cells // DC_NODES, cells % DC_NODES
    lead = _horizon(cat)[s]
    hi = np.minimum(d + lead + sc.review_days, cplan.shape[0] - 1)
    rate = (cplan[hi, s, n] - cplan[d, s, n]) / np.maximum(hi - d, 1)
    pipe = supply[d + 1:, s, n].sum(axis=0)
    pos = avail[s, n] + pipe
    rop, target = _levels(rate, lead, sc)
    need = (rate > 0) & (pos < rop)
    if not need.any():
        return
    s, n, lead, rate, pos, target = (a[need] for a in (s, n, lead, rate, pos, target))
    m = len(s)
    qty_rec = np.ceil(np.maximum(target - pos, 1) / CASE) * CASE
    created = d * 24.0 + 5.0 + rng.uniform(0, 0.5, m)
    dec = rng.choice(len(DECISIONS), m, p=DECISION_P)
    decided = created + rng.uniform(1, 40, m)
    factor = np.where(dec == 1, rng.choice([0.5, 0.6, 1.4, 1.6], m), 1.0)
    qty_ord = np.where(dec <= 1, np.ceil(qty_rec * factor / CASE) * CASE, np.nan)
    # superseded: a fresh recommendation next day, accepted
    sup = dec == 4
    link = np.where(sup, d * 100_000 + np.arange(m), -1)
    d2 = created + 24.0 + rng.uniform(1, 30, m)  # successor decision time (superseded only)
    placed = np.where(sup, d2, decided)
    qty_po = np.where(sup, qty_rec, qty_ord)
    ordered = ~np.isnan(qty_po)
    start = st.art.get("po_counter", 0)
    po_idx = np.full(m, -1)
    po_idx[ordered] = start + np.arange(ordered.sum())
    st.art["po_counter"] = start + int(ordered.sum())
    log.add("rec", sku=s, node=n, created=created, due=created + 48.0, qty_rec=qty_rec, dec=dec,
            decided=np.where(dec <= 2, decided, np.nan), qty_ord=qty_ord, link=link,
            successor=np.zeros(m, bool), po=np.where(sup, -1, po_idx))
    if sup.any():
        c2 = created[sup] + 24.0
        log.add("rec", sku=s[sup], node=n[sup], created=c2, due=c2 + 48.0, qty_rec=qty_rec[sup],
                dec=np.zeros(sup.sum(), int), decided=d2[sup], qty_ord=qty_rec[sup],
                link=link[sup], successor=np.ones(sup.sum(), bool), po=po_idx[sup])
    _schedule_receipts(st, cat, s[ordered], n[ordered], placed[ordered], qty_po[ordered],
                       supply, log)


def _schedule_receipts(st, cat, s, n, placed, qty, supply, log) -> None:
    """PO -> dock arrival -> receipt scan -> (QA hold) -> put-away; supply usable next day."""
    rng = st.rng
    m = len(s)
    lead = _horizon(cat)[s]
    arr_day = np.floor(placed / 24) + lead + rng.integers(-1, 4, m)
    dock = arr_day * 24.0 + rng.uniform(12, 20, m)
    received = dock + rng.uniform(0.5, 6, m)
    qa = rng.random(m) < 0.04
    qa_rel = np.where(qa, received + rng.uniform(18, 72, m), np.nan)
    xdock = rng.random(m) < 0.02
    put = np.where(xdock, received + rng.uniform(0.2, 1, m),
                   np.fmax(received, np.nan_to_num(qa_rel, nan=-1)) + rng.uniform(1, 20, m))
    short = rng.random(m) < 0.06
    got = np.where(short, np.floor(qty * rng.uniform(0.7, 0.98, m)), qty)
    ready_day = (np.floor(put / 24) + 1).astype(int)
    ok = ready_day < supply.shape[0]
    np.add.at(supply, (ready_day[ok], s[ok], n[ok]), got[ok])
    log.add("po", sku=s, node=n, placed=placed, qty=qty, got=got, dock=dock, received=received,
            qa=qa, qa_rel=qa_rel, put=put, xdock=xdock)
