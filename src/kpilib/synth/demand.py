"""Customer demand: orders per channel and day, their lines, and the planned demand curve.

Rule: orders(day, channel) ~ Poisson(base_c x weekly_c(dow) x season(doy) x promo_c(day));
lines per order, quantities and SKUs are drawn per channel; a SKU is sold only between its
launch and discontinue dates. ``expected[d, s]`` is the planned mean of units of SKU s on day d
(what a forecaster could know); unplanned marketplace spikes are added on top of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.state import SimState

CHANNELS = ("web", "marketplace_a", "marketplace_b", "b2b", "internal")
WEB, MKA, MKB, B2B, INTERNAL = range(5)
WEEKLY = {  # Monday .. Sunday
    WEB: (1.10, 1.05, 1.00, 1.00, 0.95, 0.85, 1.05),
    MKA: (1.00, 1.00, 1.00, 1.00, 1.00, 1.05, 1.10),
    MKB: (1.00, 1.00, 1.00, 1.00, 1.00, 1.05, 1.10),
    B2B: (1.30, 1.30, 1.25, 1.20, 0.95, 0.0, 0.0),
}
LINE_MEAN = {WEB: 0.8, MKA: 0.3, MKB: 0.3, B2B: 3.0}  # extra lines ~ Poisson(mean)
LINE_BASE = {WEB: 1, MKA: 1, MKB: 1, B2B: 2}
QTY_MEAN = {WEB: 0.25, MKA: 0.10, MKB: 0.10, B2B: 0.5}
QTY_MULT = {WEB: 1, MKA: 1, MKB: 1, B2B: 4}
HOUR_PROFILE = np.array([6, 5, 4, 3, 2, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 6, 6.0])
B2B_HOURS = np.array([0] * 13 + [3, 4, 4, 4, 4, 3, 3, 2, 1, 0, 0], dtype=float)


def day_factors(st: SimState) -> dict:
    """Calendar: day of week, season multiplier and promotion windows over the simulated days."""
    rng = st.rng
    nd = st.sim_days
    dates = st.start.tz_localize(None).normalize() + pd.to_timedelta(np.arange(nd), unit="D")
    dow = np.asarray(dates.dayofweek)
    doy = np.asarray(dates.dayofyear)
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (doy - 100) / 365.0)
    season = season * np.where((doy >= 328) & (doy <= 334), 1.8,
                               np.where((doy > 334) & (doy <= 356), 1.3, 1.0))
    n_promo = max(1, int(st.days / 45))
    promo_start = np.sort(rng.choice(np.arange(3, max(4, st.days - 5)), n_promo, replace=False))
    promo = np.zeros(nd, bool)
    for s in promo_start:  # a few windows
        promo[s:s + 4] = True
    return {"dow": dow, "season": season, "promo": promo, "promo_start": promo_start}


def order_rates(st: SimState, cal: dict) -> np.ndarray:
    """Expected orders per (day, channel) for the four customer channels."""
    sc = st.scenario
    per_day = sc.orders_per_year * st.scale / 365.0
    rates = np.zeros((st.sim_days, 4))
    for c, name in enumerate(CHANNELS[:4]):
        weekly = np.asarray(WEEKLY[c])[cal["dow"]]
        weekly = weekly / np.asarray(WEEKLY[c]).mean()
        promo = np.where(cal["promo"], 1.6 if c == WEB else 1.25, 1.0)
        if c == B2B:
            promo = np.ones_like(promo)
        rates[:, c] = per_day * sc.channel_mix[name] * weekly * cal["season"] * promo
    return rates


def sku_probs(st: SimState, cat: dict) -> np.ndarray:
    """P(SKU | channel, day) as an array (4, days, n_sku), zero outside the selling window."""
    d = np.arange(st.sim_days)[:, None]
    active = (cat["launch"][None, :] <= d) & ~(cat["disc"][None, :] <= d)
    w = cat["weight"]
    w_mkt = w * np.where(cat["fast"], st.scenario.marketplace_fast_mover_boost, 1.0)
    w_mkt = np.where(cat["policy"] == "made_to_order", 0.0, w_mkt)
    w_b2b = np.where(cat["policy"] == "stocked", w, 0.0)
    out = np.empty((4, st.sim_days, cat["n"]))
    for c, wc in enumerate((w, w_mkt, w_mkt, w_b2b)):
        m = active * wc[None, :]
        out[c] = m / np.maximum(m.sum(axis=1, keepdims=True), 1e-12)
    return out


def draw_orders(st: SimState, rates: np.ndarray) -> dict:
    """Order headers per day and channel: counts, creation hour."""
    rng = st.rng
    counts = rng.poisson(rates)  # (days, 4)
    counts[st.days:, :] = 0  # no orders are drawn after the horizon
    day = np.repeat(np.tile(np.arange(st.sim_days)[:, None], (1, 4)).ravel(), counts.ravel())
    chan = np.repeat(np.tile(np.arange(4)[None, :], (st.sim_days, 1)).ravel(), counts.ravel())
    n = len(day)
    hour = np.where(chan == B2B,
                    rng.choice(24, n, p=B2B_HOURS / B2B_HOURS.sum()),
                    rng.choice(24, n, p=HOUR_PROFILE / HOUR_PROFILE.sum()))
    created = day * 24.0 + hour + rng.random(n)
    return {"day": day, "chan": chan, "created": created}


def draw_lines(st: SimState, orders: dict, probs: np.ndarray, cat: dict,
               sku_pool: dict | None = None) -> dict:
    """Lines for ``orders``: count, SKU (per channel and day), quantity, price."""
    rng = st.rng
    chan, day = orders["chan"], orders["day"]
    lam = np.select([chan == c for c in range(4)], [LINE_MEAN[c] for c in range(4)])
    base = np.select([chan == c for c in range(4)], [LINE_BASE[c] for c in range(4)])
    nlines = base + rng.poisson(lam)
    if sku_pool is not None:
        nlines = np.minimum(nlines, 3)
    l_order = np.repeat(np.arange(len(chan)), nlines)
    l_chan, l_day = chan[l_order], day[l_order]
    sku = np.empty(len(l_order), dtype=np.int64)
    if sku_pool is None:
        key = l_day * 4 + l_chan
        order = np.argsort(key, kind="stable")
        ks, starts = np.unique(key[order], return_index=True)
        ends = np.r_[starts[1:], len(order)]
        for k, a, b in zip(ks, starts, ends, strict=True):  # one draw per (day, channel)
            sku[order[a:b]] = rng.choice(cat["n"], b - a, p=probs[k % 4, k // 4])
    else:
        p = sku_pool["weights"] / sku_pool["weights"].sum()
        sku = sku_pool["skus"][rng.choice(len(p), len(l_order), p=p)]
    qlam = np.select([l_chan == c for c in range(4)], [QTY_MEAN[c] for c in range(4)])
    qmul = np.select([l_chan == c for c in range(4)], [QTY_MULT[c] for c in range(4)])
    qty = ((1 + rng.poisson(qlam)) * qmul).astype(float)
    return {"order": l_order, "sku": sku, "qty": qty}


def expected_units(st: SimState, rates: np.ndarray, probs: np.ndarray, cat: dict) -> np.ndarray:
    """Planned mean units per (day, SKU) over the four customer channels, kits exploded.

    Days after the horizon keep their planned rate (forecasts and replenishment look ahead);
    no orders are drawn for them.
    """
    exp = np.zeros((st.sim_days, cat["n"]))
    for c in range(4):
        per_order = (LINE_BASE[c] + LINE_MEAN[c]) * (1 + QTY_MEAN[c]) * QTY_MULT[c]
        exp += rates[:, c:c + 1] * per_order * probs[c]
    if len(cat["kit_parent"]):
        np.add.at(exp.T, cat["kit_comp"], exp.T[cat["kit_parent"]])
    return exp
