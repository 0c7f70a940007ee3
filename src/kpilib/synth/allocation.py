"""Daily allocation loop: lines draw on node stock; backorders, splits, cancels, replenishment.

Rule per day d (vectorised over that day's lines, in time order within each SKU-node):
``confirmed = clip(available - (cumulative requested before the line), 0, requested)`` at the
primary node, then the remainder at the other DC; what is still short is backordered (web,
B2B, replacements) or merchant-cancelled (marketplaces). Stock put away on day d is allocatable
from day d+1. Weekly per SKU-node review orders up to ``rate x (lead + review + safety)``.
"""

from __future__ import annotations

import numpy as np

from kpilib.synth.demand import B2B, MKA, MKB
from kpilib.synth.replenishment import initial_stock, plan_rates, review
from kpilib.synth.state import DC_NODES, SimState, group_cumsum
from kpilib.synth.transfers import rebalance


def _greedy(avail: np.ndarray, sku, node, qty, t, reserve=None) -> np.ndarray:
    """Allocate in time order per SKU-node; returns confirmed qty and lowers ``avail``.

    ``reserve`` (per line) is stock the line may not touch (own-site protection for
    marketplace batches). Earlier requests count in full, so the total never exceeds stock.
    """
    if len(sku) == 0:
        return np.zeros(0)
    key = sku * DC_NODES + node
    o = np.lexsort((t, key))
    k, q = key[o], qty[o]
    cum = group_cumsum(k, q)
    res = 0.0 if reserve is None else reserve[o]
    conf_o = np.clip(avail.reshape(-1)[k] - res - (cum - q), 0.0, q)
    avail -= np.bincount(k, conf_o, minlength=avail.size).reshape(avail.shape)
    conf = np.empty_like(conf_o)
    conf[o] = conf_o
    return conf


class _Log:
    """Collects arrays per record type; ``frame(name)`` concatenates them."""

    def __init__(self) -> None:
        self.parts: dict[str, list[dict]] = {}

    def add(self, name: str, **cols) -> None:
        self.parts.setdefault(name, []).append(cols)

    def get(self, name: str, like: dict | None = None) -> dict:
        ps = self.parts.get(name)
        if not ps:
            return {k: np.zeros(0, dtype=v) for k, v in (like or {}).items()}
        return {k: np.concatenate([p[k] for p in ps]) for k in ps[0]}


def run_allocation(st: SimState, cat: dict, ob: dict) -> dict:
    """Simulate stock and allocation day by day; returns event arrays and the PO book."""
    rng, _sc = st.rng, st.scenario
    O, L = ob["O"], ob["L"]
    S, D = cat["n"], st.sim_days
    plan = plan_rates(st, cat, ob)  # (D, S, 2) planner's daily demand view incl. forecast bias
    avail = initial_stock(st, cat, plan)
    st.art["opening"] = avail.copy()
    supply = np.zeros((D + 60, S, DC_NODES))
    cplan = np.concatenate([np.zeros((1, S, DC_NODES)), np.cumsum(plan, axis=0)])
    log = _Log()

    ol = L["order"]
    chan = O["chan"][ol]
    L["chan"] = chan
    t_req = O["t_req"][ol]
    alloc = ~L["kit_parent"] & ~np.isnan(t_req) & (t_req < D * 24)
    prim = O["region"][ol].copy()
    sat = cat["stocked_at"][L["sku"]]
    prim = np.where(sat[np.arange(len(prim)), prim], prim, 1 - prim)
    L["primary"] = np.where(L["dropship"], 2, prim)
    backorder_ok = ~np.isin(chan, [MKA, MKB]) & (L["primary"] != 2)
    idx = np.flatnonzero(alloc)
    idx = idx[np.argsort(t_req[idx], kind="stable")]
    day_of = np.floor(t_req[idx] / 24).astype(int)
    bounds = np.searchsorted(day_of, np.arange(D + 1))
    # backorder queue (line, remaining, since, customer patience end, merchant deadline)
    q_line = np.zeros(0, np.int64)
    q_rem, q_since, q_pat, q_dead = (np.zeros(0) for _ in range(4))

    for d in range(D):
        avail += supply[d]
        L["rate_now"] = plan[d]
        _counts_and_scrap(st, d, avail, cat["stocked_at"], log)
        t0 = d * 24.0 + 7.0
        # backorder expiry: customer patience or merchant deadline before today's retry
        ends = np.fmin(q_pat, q_dead)
        gone = ends < t0
        if gone.any():
            who = np.where(q_pat[gone] <= q_dead[gone], "customer", "merchant")
            log.add("cancel", line=q_line[gone], t=ends[gone], qty=q_rem[gone], who=who)
            q_line, q_rem, q_since, q_pat, q_dead = (a[~gone] for a in
                                                     (q_line, q_rem, q_since, q_pat, q_dead))
        new = idx[bounds[d]:bounds[d + 1]]
        # retries: queued lines whose primary or other DC has stock now
        pn = L["primary"][q_line]
        has = (avail[L["sku"][q_line], pn] > 0) | (avail[L["sku"][q_line], 1 - pn] > 0)
        retry = np.flatnonzero(has)
        lines = np.r_[q_line[retry], new]
        qty = np.r_[q_rem[retry], L["qty"][new]]
        t = np.r_[t0 + rng.uniform(0, 1, len(retry)), t_req[new]]
        is_retry = np.r_[np.ones(len(retry), bool), np.zeros(len(new), bool)]
        if len(lines):
            rem = _allocate_batch(st, log, avail, L, cat, lines, qty, t)
            filled = is_retry & (rem <= 0)
            log.add("cleared", line=lines[filled], t=t[filled] + 1 / 60)
            # retries update the queue
            q_rem[retry] = rem[:len(retry)]
            keep = np.ones(len(q_line), bool)
            keep[retry[rem[:len(retry)] <= 0]] = False
            q_line, q_rem, q_since, q_pat, q_dead = (a[keep] for a in
                                                     (q_line, q_rem, q_since, q_pat, q_dead))
            short = ~is_retry & (rem > 0)
            bo = short & backorder_ok[lines]
            mc = short & ~bo
            n_bo = int(bo.sum())
            if n_bo:
                tb = t[bo] + 2 / 60
                log.add("backordered", line=lines[bo], t=tb, qty=rem[bo])
                pat = np.where(rng.random(n_bo) < 0.25, tb + rng.uniform(12, 120, n_bo), np.inf)
                q_line = np.r_[q_line, lines[bo]]
                q_rem = np.r_[q_rem, rem[bo]]
                q_since = np.r_[q_since, tb]
                q_pat = np.r_[q_pat, pat]
                q_dead = np.r_[q_dead, tb + np.where(chan[lines[bo]] == B2B, 21, 14) * 24.0]
            if mc.any():
                log.add("cancel", line=lines[mc], t=t[mc] + rng.uniform(0.5, 3, mc.sum()),
                        qty=rem[mc], who=np.full(mc.sum(), "merchant"))
        review(st, d, cat, cplan, avail, supply, log)
        rebalance(st, d, cat, cplan, avail, supply, log)
    st.art["open_backorders"] = {"line": q_line, "qty": q_rem}
    i8, f8, b1 = np.int64, float, bool
    return {
        "attempts": log.get("attempt", dict(line=i8, node=i8, t=f8, qty=f8, conf=f8)),
        "backordered": log.get("backordered", dict(line=i8, t=f8, qty=f8)),
        "cleared": log.get("cleared", dict(line=i8, t=f8)),
        "cancel": log.get("cancel", dict(line=i8, t=f8, qty=f8, who=object)),
        "recs": log.get("rec", dict(sku=i8, node=i8, created=f8, due=f8, qty_rec=f8, dec=i8,
                                    decided=f8, qty_ord=f8, link=i8, successor=b1, po=i8)),
        "counts": log.get("count", dict(sku=i8, node=i8, t=f8, delta=f8)),
        "scrap": log.get("scrap", dict(sku=i8, node=i8, t=f8, qty=f8)),
        "po": log.get("po", dict(sku=i8, node=i8, placed=f8, qty=f8, got=f8, dock=f8,
                                 received=f8, qa=b1, qa_rel=f8, put=f8, xdock=b1)),
        "transfers": log.get("transfer", dict(sku=i8, src=i8, qty=f8, t=f8, day=i8)),
        "plan": plan,
    }


def _allocate_batch(st, log, avail, L, cat, lines, qty, t) -> np.ndarray:
    """One allocation round: primary node, then the other DC; returns the unfilled remainder."""
    rng = st.rng
    sku = L["sku"][lines]
    prim = L["primary"][lines]
    drop = prim == 2
    conf = np.zeros(len(lines))
    # dropship: the supplier confirms unless it rejects (2%)
    conf[drop] = np.where(rng.random(drop.sum()) < 0.02, 0.0, qty[drop])
    dc = ~drop
    mkt = np.isin(L["chan"][lines], [MKA, MKB])
    rd = st.scenario.marketplace_reserve_days
    res_on = mkt & (rd > 0)
    reserve = np.where(res_on, np.ceil(rd * L["rate_now"][sku, np.clip(prim, 0, 1)]) + 1, 0.0)
    conf[dc] = _greedy(avail, sku[dc], prim[dc], qty[dc], t[dc], reserve[dc])
    log.add("attempt", line=lines, node=prim, t=t, qty=qty, conf=conf)
    rem = qty - conf
    other = 1 - prim
    sec = dc & (rem > 0) & cat["stocked_at"][sku, np.clip(other, 0, 1)]
    if sec.any():
        c2 = _greedy(avail, sku[sec], other[sec], rem[sec], t[sec] + 1 / 60,
                     np.where(res_on, np.ceil(rd * L["rate_now"][sku, np.clip(other, 0, 1)])
                              + 1, 0.0)[sec])
        log.add("attempt", line=lines[sec], node=other[sec], t=t[sec] + 1 / 60, qty=rem[sec],
                conf=c2)
        rem[sec] -= c2
    return rem


def _counts_and_scrap(st: SimState, d: int, avail: np.ndarray, stocked_at: np.ndarray,
                      log: _Log) -> None:
    """Cycle counts (with discrepancies) and scrapped damaged units, applied to stock."""
    rng = st.rng
    if d >= st.days:
        return
    pool = np.flatnonzero(stocked_at.reshape(-1))
    n = rng.binomial(len(pool), 0.006)
    cells = rng.choice(pool, n, replace=False)
    s, nd = cells // DC_NODES, cells % DC_NODES
    delta = np.where(rng.random(n) < 0.12, rng.choice([-3, -2, -1, -1, 1, 2], n), 0).astype(float)
    delta = np.where(avail[s, nd] > 0, np.maximum(delta, -avail[s, nd]), 0.0)
    avail[s, nd] += delta
    log.add("count", sku=s, node=nd, t=d * 24.0 + rng.uniform(9, 19, n), delta=delta)
    m = rng.binomial(len(pool), 0.001)
    cells = rng.choice(pool, m, replace=False)
    s, nd = cells // DC_NODES, cells % DC_NODES
    q = np.minimum(rng.integers(1, 3, m), np.maximum(avail[s, nd], 0)).astype(float)
    ok = q > 0
    avail[s[ok], nd[ok]] -= q[ok]
    log.add("scrap", sku=s[ok], node=nd[ok], t=d * 24.0 + rng.uniform(9, 19, ok.sum()), qty=q[ok])
