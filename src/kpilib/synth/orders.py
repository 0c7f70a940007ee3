"""Order book: base demand plus campaigns, spikes, fraud, duplicates, tests and replacements.

Each order gets its process clock before any stock moves: authorization, holds, pre-order
date, the moment the OMS asks for stock (``t_req``: web within minutes, marketplaces at the
next batch boundary, B2B after credit check) and its promise (ship-by and delivery date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.campaigns import extra_orders
from kpilib.synth.demand import (
    B2B,
    CHANNELS,
    MKA,
    MKB,
    WEB,
    day_factors,
    draw_lines,
    draw_orders,
    expected_units,
    order_rates,
    sku_probs,
)
from kpilib.synth.state import SimState, next_time_of_day

KINDS = ("normal", "test", "fraud", "duplicate", "payment_failed", "replacement", "spike", "surge",
         "transfer")
SERVICES = ("ground", "two_day", "overnight", "ltl")
TRANSIT_PLAN = np.array([4, 2, 1, 3])
SHIP_TZ = ("America/New_York", "America/Los_Angeles")
REPL_REASONS = ("lost", "wrong_item", "damaged")


def _copies(st: SimState, base_o: dict, base_l: dict, kind: str, frac: float, chans) -> tuple:
    """Extra orders copying the lines of random template orders (fraud, duplicates, tests...)."""
    rng = st.rng
    cand = np.flatnonzero(np.isin(base_o["chan"], chans) & (base_o["day"] < st.days))
    n = min(len(cand), rng.binomial(len(cand), frac))
    tmpl = np.sort(rng.choice(cand, n, replace=False))
    lo = np.searchsorted(base_l["order"], tmpl)
    hi = np.searchsorted(base_l["order"], tmpl, side="right")
    if kind == "replacement":
        hi = lo + 1
    cnt = hi - lo
    idx = np.repeat(lo, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    shift = {"duplicate": rng.uniform(1, 4, n) / 60, "replacement": rng.uniform(7, 12, n) * 24}
    created = base_o["created"][tmpl] + shift.get(kind, rng.uniform(-6, 6, n))
    created = np.clip(created, 0, None)
    o = {"day": np.floor(created / 24).astype(int), "chan": base_o["chan"][tmpl],
         "created": created, "template": tmpl}
    lines = {"order": np.repeat(np.arange(n), cnt), "sku": base_l["sku"][idx],
             "qty": base_l["qty"][idx]}
    return kind, o, lines


def build_orders(st: SimState, cat: dict) -> dict:
    """All orders and lines as arrays, with process clocks and promises; also expected demand."""
    _rng, _sc = st.rng, st.scenario
    cal = day_factors(st)
    rates = order_rates(st, cal)
    probs = sku_probs(st, cat)
    base_o = draw_orders(st, rates)
    base_l = draw_lines(st, base_o, probs, cat)
    groups = [("normal", base_o, base_l)]
    extra, planned_extra = extra_orders(st, cat, rates, probs)
    groups += extra
    for kind, frac, chans in (("test", 0.001, [WEB]), ("fraud", 0.004, [WEB]),
                              ("duplicate", 0.003, [WEB, MKA, MKB]),
                              ("payment_failed", 0.003, [WEB]),
                              ("replacement", 0.006, [WEB, MKA, MKB])):
        groups.append(_copies(st, base_o, base_l, kind, frac, chans))
    # concatenate groups
    o_parts, l_parts, off = [], [], 0
    for kind, o, lines in groups:
        n = len(o["created"])
        o_parts.append({"chan": o["chan"], "created": o["created"],
                        "kind": np.full(n, KINDS.index(kind)),
                        "template": o.get("template", np.full(n, -1)) + 0})
        l_parts.append({"order": lines["order"] + off, "sku": lines["sku"], "qty": lines["qty"]})
        off += n
    O = {k: np.concatenate([p[k] for p in o_parts]) for k in o_parts[0]}
    L = {k: np.concatenate([p[k] for p in l_parts]) for k in l_parts[0]}
    # keep only orders created inside the horizon
    keep = O["created"] < st.t_end
    # the template index refers to base orders (group 0, offset 0)
    O["parent"] = np.where(O["kind"] == KINDS.index("replacement"), O["template"], -1)
    # sort orders by creation time -> stable ids
    order = np.flatnonzero(keep)[np.argsort(O["created"][keep], kind="stable")]
    new_idx = np.full(len(O["created"]), -1)
    new_idx[order] = np.arange(len(order))
    O = {k: v[order] for k, v in O.items()}
    O["parent"] = np.where(O["parent"] >= 0, new_idx[np.maximum(O["parent"], 0)], -1)
    lk = new_idx[L["order"]] >= 0
    L = {k: v[lk] for k, v in L.items()}
    L["order"] = new_idx[L["order"]]
    L = _explode_kits(L, cat)
    lo = np.lexsort((L["seq"], L["order"]))
    L = {k: v[lo] for k, v in L.items()}
    remap = np.empty(len(lo), dtype=np.int64)
    remap[lo] = np.arange(len(lo))
    L["parent_line"] = np.where(L["parent_line"] >= 0, remap[np.maximum(L["parent_line"], 0)], -1)
    del L["seq"]
    future = expected_units(st, rates, probs, cat) + planned_extra
    expected = future.copy()
    expected[st.days:] = 0.0
    _clock(st, O, L, cat, cal)
    return {"O": O, "L": L, "expected": expected, "future_expected": future, "cal": cal,
            "planned_extra": planned_extra}


def _explode_kits(L: dict, cat: dict) -> dict:
    """Add one component line per kit component under each kit line (parent_line = kit line)."""
    n = len(L["order"])
    L["seq"] = np.arange(n) * 10
    L["parent_line"] = np.full(n, -1)
    kp, kc = cat["kit_parent"], cat["kit_comp"]
    if not len(kp):
        return L
    is_kit_line = cat["is_kit"][L["sku"]]
    kl = np.flatnonzero(is_kit_line)
    # components per kit line via a join on the kit sku
    order = np.argsort(kp, kind="stable")
    kp_s, kc_s = kp[order], kc[order]
    lo = np.searchsorted(kp_s, L["sku"][kl])
    hi = np.searchsorted(kp_s, L["sku"][kl], side="right")
    cnt = hi - lo
    rep = np.repeat(kl, cnt)
    pos = np.repeat(lo, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    comp = {"order": L["order"][rep], "sku": kc_s[pos], "qty": L["qty"][rep],
            "seq": L["seq"][rep] + 1 + (np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt)),
            "parent_line": rep}
    return {k: np.concatenate([L[k], comp[k]]) for k in L}


def _local_midnight_hours(st: SimState, day: np.ndarray, region: np.ndarray) -> np.ndarray:
    """UTC hours (since start) of local midnight of calendar day ``day`` in the ship-to zone."""
    out = np.empty(len(day))
    base = st.start.tz_localize(None).normalize()
    for r, tz in enumerate(SHIP_TZ):
        m = region == r
        local = (base + pd.to_timedelta(day[m], unit="D")).tz_localize(tz)
        out[m] = (local.tz_convert("UTC") - st.start).total_seconds().to_numpy() / 3600.0
    return out


def _clock(st: SimState, O: dict, L: dict, cat: dict, cal: dict) -> None:
    """Authorization, holds, pre-orders, cancellations, stock request time and promises."""
    rng, sc = st.rng, st.scenario
    n = len(O["created"])
    chan, kind, created = O["chan"], O["kind"], O["created"]
    K = {k: KINDS.index(k) for k in KINDS}
    O["region"] = (rng.random(n) < sc.dc2_region_share).astype(int)
    O["auth"] = np.select([chan == WEB, chan == B2B], [created + rng.uniform(0.5, 5, n) / 60,
                          created + rng.uniform(0.5, 3, n)], created)
    hold = (((chan == WEB) & (rng.random(n) < 0.035)) | ((chan == B2B) & (rng.random(n) < 0.05))
            | (kind == K["fraud"]))
    O["hold_start"] = np.where(hold, O["auth"] + 1 / 60, np.nan)
    O["hold_end"] = np.where(hold, O["hold_start"] + rng.lognormal(1.6, 0.7, n), np.nan)
    normal = np.isin(kind, [K["normal"], K["spike"], K["surge"]])
    pre = normal & (chan == WEB) & (rng.random(n) < 0.012)
    O["earliest"] = np.where(pre, (np.floor(created / 24) + rng.integers(5, 21, n)) * 24 + 8,
                             np.nan)
    quick = normal & ~pre & ~hold & np.isin(chan, [WEB, MKA, MKB]) & (rng.random(n) < 0.02)
    ready = np.fmax(O["auth"], np.nan_to_num(O["hold_end"], nan=-1))
    B = sc.marketplace_batch_hours
    mkt_t = (np.ceil((created + rng.uniform(5, 30, n) / 60) / B) * B
             + rng.uniform(5, 25, n) / 60)
    t_req = np.select([chan == WEB, chan == B2B, np.isin(chan, [MKA, MKB])],
                      [ready + rng.uniform(3, 20, n) / 60, ready + rng.uniform(1, 6, n), mkt_t],
                      ready + rng.uniform(0.1, 1, n))
    t_req = np.fmax(t_req, np.nan_to_num(O["earliest"], nan=-1))
    never = quick | np.isin(kind, [K["test"], K["fraud"], K["duplicate"], K["payment_failed"]])
    O["t_req"] = np.where(never, np.nan, t_req)
    # order-level cancellations known up front
    O["cancel_at"] = np.full(n, np.nan)
    O["cancel_init"] = np.full(n, None, dtype=object)
    O["cancel_reason"] = np.full(n, None, dtype=object)
    for m, t, who, why in (
        (quick, created + rng.uniform(1, 10, n) / 60, "customer", "other"),
        (kind == K["test"], created + rng.uniform(5, 30, n) / 60, "merchant", "other"),
        (kind == K["fraud"], O["hold_end"], "fraud", "other"),
        (kind == K["duplicate"], created + rng.uniform(5, 60, n) / 60, "system", "duplicate"),
        (kind == K["payment_failed"], created + rng.uniform(10, 120, n) / 60, "system",
         "payment_failed"),
    ):
        O["cancel_at"][m] = t[m]
        O["cancel_init"][m] = who
        O["cancel_reason"][m] = why
    O["quick_cancel"] = quick
    O["is_test"] = kind == K["test"]
    O["service"] = np.select(
        [chan == B2B, kind == K["replacement"], chan == WEB],
        [3, 1, rng.choice(3, n, p=[0.78, 0.18, 0.04])], rng.choice(2, n, p=[0.85, 0.15]))
    O["repl_reason"] = np.where(kind == K["replacement"], rng.choice(3, n, p=[.3, .4, .3]), -1)
    # promise: ship-by = next 23:00 UTC pickup at least 4.5 h after authorization (the last
    # wave starts 19:00 UTC), B2B two days later
    base = np.fmax(np.where(np.isin(chan, [MKA, MKB]), created, O["auth"]) + 4.5,
                   np.nan_to_num(O["earliest"], nan=-1))
    ship_by = next_time_of_day(base, 23.0) + np.where(chan == B2B, 48.0, 0.0)
    O["ship_by"] = ship_by
    pday = np.floor(ship_by / 24).astype(int) + TRANSIT_PLAN[O["service"]]
    is_date = chan != B2B
    O["promise_is_date"] = is_date
    O["promise"] = np.where(is_date, _local_midnight_hours(st, pday, O["region"]),
                            (pday + 1) * 24.0 + 15.0)
    change = normal & (chan == WEB) & (rng.random(n) < 0.015)
    O["promise_change_at"] = np.where(change, created + rng.uniform(2, 30, n), np.nan)
    O["promise_current"] = np.where(change, O["promise"] + rng.integers(3, 8, n) * 24.0, np.nan)
    # lines
    ol = L["order"]
    L["created"] = created[ol]
    L["kit_parent"] = cat["is_kit"][L["sku"]]
    L["is_comp"] = L["parent_line"] >= 0
    price = cat["price"][L["sku"]]
    promo_day = cal["promo"][np.floor(created[ol] / 24).astype(int)] & (chan[ol] == WEB)
    L["unit_price"] = np.round(np.select([chan[ol] == B2B, kind[ol] == K["replacement"]],
                                         [price * 0.6, 0 * price], price * np.where(promo_day,
                                                                                   0.85, 1.0)), 2)
    L["unit_price"][L["is_comp"]] = 0.0
    L["dropship"] = cat["policy"][L["sku"]] == "dropship"
    O["channel_name"] = np.array(CHANNELS, dtype=object)[chan]
