"""Extra demand on top of the base order stream: marketing campaigns and marketplace spikes.

Rule: a campaign day adds ``(surge_multiplier - 1) x 0.5 x`` the day's web + marketplace order
rate; each campaign basket holds 1 + Poisson(0.5) campaign SKUs and Poisson(0.8) regular items,
and is planned (in the forecasters' expected demand). A marketplace spike multiplies a fast
mover's marketplace demand by ``spike_multiplier`` for ``spike_length_days`` days and is
unplanned (never seen by forecasts or replenishment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.demand import HOUR_PROFILE, MKA, MKB, WEB
from kpilib.synth.params import CLASSES
from kpilib.synth.state import SimState


def _pool_lines(rng, n_orders: int, pool: np.ndarray, weights: np.ndarray) -> dict:
    nl = 1 + rng.poisson(0.5, n_orders)
    order = np.repeat(np.arange(n_orders), nl)
    sku = pool[rng.choice(len(pool), len(order), p=weights / weights.sum())]
    return {"order": order, "sku": sku, "qty": (1 + rng.poisson(0.2, len(order))).astype(float)}


def extra_orders(st: SimState, cat: dict, rates, probs) -> tuple[list, np.ndarray]:
    """Campaign surge orders (planned) and marketplace spike orders (unplanned)."""
    rng, sc = st.rng, st.scenario
    groups, planned_extra = [], np.zeros((st.sim_days, cat["n"]))
    if sc.surge_campaigns:
        app = np.flatnonzero((cat["cls"] == CLASSES.index("apparel")) & (cat["policy"] == "stocked")
                             & (cat["launch"] < 0))
        pool = app[np.argsort(-cat["weight"][app], kind="stable")][: max(5, len(app) * 3 // 10)]
        gap = max(sc.surge_length_days + 7, (st.days - 40) // sc.surge_campaigns)
        starts = [int(20 + i * gap + rng.integers(0, max(1, gap - sc.surge_length_days - 7)))
                  for i in range(sc.surge_campaigns)]
        starts = [s for s in starts if s + sc.surge_length_days <= st.days]
        st.truth["surge"] = {"campaign_skus": list(cat["sku"][pool]), "campaigns": []}
        for s in starts:
            d = np.arange(s, s + sc.surge_length_days)
            lam = (sc.surge_multiplier - 1) * 0.5 * rates[d][:, [WEB, MKA, MKB]].sum(axis=1)
            n = rng.poisson(lam)
            day = np.repeat(d, n)
            o = {"day": day, "chan": rng.choice([WEB, MKA, MKB], len(day), p=[.6, .25, .15]),
                 "created": day * 24.0 + rng.choice(24, len(day), p=_hp()) + rng.random(len(day))}
            w = cat["weight"][pool]
            lines = _pool_lines(rng, len(day), pool, w)
            # campaign baskets also carry regular items drawn like any web order
            extra = rng.poisson(0.8, len(day))
            eo = np.repeat(np.arange(len(day)), extra)
            ed = day[eo]
            esku = _draw_by_day(rng, probs[WEB], ed, cat["n"])
            lines = {"order": np.r_[lines["order"], eo], "sku": np.r_[lines["sku"], esku],
                     "qty": np.r_[lines["qty"], 1 + rng.poisson(0.25, len(eo))].astype(float)}
            planned_extra[d] += (lam[:, None] * 0.8 * 1.25) * probs[WEB, d]
            groups.append(("surge", o, lines))
            planned_extra[d[:, None], pool[None, :]] += lam[:, None] * 1.5 * 1.2 * (w / w.sum())
            last = int(s + sc.surge_length_days - 1)
            st.truth["surge"]["campaigns"].append(
                {"start": str((st.start + pd.Timedelta(days=int(s))).date()),
                 "end": str((st.start + pd.Timedelta(days=last)).date())})
        st.truth["surge"]["dates"] = sorted(
            str((st.start + pd.Timedelta(days=int(s + k))).date())
            for s in starts for k in range(sc.surge_length_days))
    if sc.spike_days_per_sku:
        fast = np.flatnonzero(cat["fast"])
        spikes = []
        for s in fast:  # a few dozen fast movers
            k = sc.spike_length_days
            n_spk = max(1, int(round(sc.spike_days_per_sku * st.days / 365)))
            days = rng.choice(np.arange(0, max(1, st.days - k)),
                              min(n_spk, max(1, st.days - k)), replace=False)
            for d0 in days:
                d = np.arange(d0, d0 + k)
                base_units = (rates[d][:, [MKA, MKB]] * 1.3 * 1.1
                              * probs[[MKA, MKB]][:, d, s].T).sum(axis=1)
                n = rng.poisson(base_units * sc.spike_multiplier)
                spikes.append((np.repeat(d, n), np.full(n.sum(), s)))
            st.truth.setdefault("spikes", []).append(
                {"sku": str(cat["sku"][s]),
                 "start_dates": sorted(str((st.start + pd.Timedelta(days=int(x))).date())
                                       for x in days)})
        day = np.concatenate([x[0] for x in spikes]) if spikes else np.zeros(0, int)
        sku = np.concatenate([x[1] for x in spikes]) if spikes else np.zeros(0, int)
        o = {"day": day, "chan": rng.choice([MKA, MKB], len(day)),
             "created": day * 24.0 + rng.choice(24, len(day), p=_hp()) + rng.random(len(day))}
        lines = {"order": np.arange(len(day)), "sku": sku,
                 "qty": (1 + rng.poisson(0.3, len(day))).astype(float)}
        groups.append(("spike", o, lines))
    return groups, planned_extra


def _draw_by_day(rng, probs_c: np.ndarray, day: np.ndarray, n: int) -> np.ndarray:
    """One SKU per entry of ``day`` from P(SKU | channel, day): one draw per distinct day."""
    out = np.empty(len(day), dtype=np.int64)
    for d in np.unique(day):
        m = day == d
        out[m] = rng.choice(n, m.sum(), p=probs_c[d])
    return out


def _hp() -> np.ndarray:
    return HOUR_PROFILE / HOUR_PROFILE.sum()
