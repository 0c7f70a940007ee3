"""Weekly forecasts per SKU-node with an injected multiplicative bias per product class.

Rule: for every ISO week w fully inside the horizon and lag k in {1, 2, 4} weeks, a snapshot
made at ``w - k weeks - 18 h`` forecasts ``bias[class] x planned_units(w) x node_share x
exp(sigma_k Z - sigma_k^2 / 2)`` (a mean-one lognormal error growing with the lag). Planned
units exclude unplanned marketplace spikes, so the bias a KPI sees is
``bias x planned / actual`` (recorded in truth.json as ``expected_bias_ratio``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.orders import KINDS
from kpilib.synth.params import CLASSES
from kpilib.synth.state import SimState

LAGS = (1, 2, 4)
FUTURE_WEEKS = 4  # forecasts also cover the 4 weeks after the horizon (forward days of supply)
SIGMA = {1: 0.25, 2: 0.32, 4: 0.4}


def week_starts(st: SimState, ahead: int = 0) -> np.ndarray:
    """Day offsets of Mondays whose whole week lies inside the horizon (+ ``ahead`` weeks)."""
    dow0 = st.start.dayofweek
    first = (7 - dow0) % 7
    return np.arange(first, st.days - 6 + 7 * ahead, 7)


def build_forecasts(st: SimState, cat: dict, ob: dict) -> dict:
    """Forecast rows as arrays plus the per-class truth."""
    rng, sc = st.rng, st.scenario
    weeks = week_starts(st, ahead=FUTURE_WEEKS)
    exp = ob["future_expected"]
    wk = np.stack([exp[w:w + 7].sum(axis=0) for w in weeks]) if len(weeks) else np.zeros((0,
                                                                                         cat["n"]))
    share = np.zeros((cat["n"], 3))
    sat = cat["stocked_at"]
    share[:, 0] = np.where(sat[:, 0], 1 - sc.dc2_region_share, 0.0)
    share[:, 1] = np.where(sat[:, 1], sc.dc2_region_share, 0.0)
    share[:, :2] /= np.maximum(share[:, :2].sum(axis=1, keepdims=True), 1e-12)
    share[cat["policy"] == "dropship"] = [0, 0, 1]
    share[cat["policy"] == "made_to_order"] = 0
    bias = np.array([sc.forecast_bias[c] for c in CLASSES])[cat["cls"]]
    w_i, s_i, n_i = np.nonzero((wk[:, :, None] * share[None]) > 0)
    mean = wk[w_i, s_i] * share[s_i, n_i] * bias[s_i]
    parts = []
    for k in LAGS:
        sig = SIGMA[k]
        q = np.round(mean * np.exp(sig * rng.standard_normal(len(mean)) - sig**2 / 2), 1)
        made = (weeks[w_i] - 7 * k) * 24.0 - 18.0
        ok = made <= st.t_end  # future weeks: only snapshots already made by the horizon
        q, made = q[ok], made[ok]
        parts.append({"sku": s_i[ok], "node": n_i[ok], "week": weeks[w_i][ok], "made": made,
                      "qty": q, "lag": np.full(len(q), k)})
    Fc = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    st.truth["forecast_bias"] = _truth(st, cat, ob, week_starts(st), Fc)
    return Fc


def _truth(st: SimState, cat: dict, ob: dict, weeks: np.ndarray, Fc: dict) -> dict:
    """Injected multiplier per class and the bias ratio it implies on the generated demand."""
    O, L = ob["O"], ob["L"]
    okind = O["kind"][L["order"]]
    real = ~np.isin(okind, [KINDS.index(k) for k in ("test", "fraud", "duplicate", "transfer")])
    day = np.floor(L["created"] / 24).astype(int)
    in_w = np.zeros(st.sim_days + 7, bool)
    for w in weeks:
        in_w[w:w + 7] = True
    m = real & in_w[day] & ~L["kit_parent"]
    actual = np.bincount(cat["cls"][L["sku"][m]], L["qty"][m], minlength=len(CLASSES))
    lag1 = (Fc["lag"] == 1) & np.isin(Fc["week"], weeks)
    fsum = np.bincount(cat["cls"][Fc["sku"][lag1]], Fc["qty"][lag1], minlength=len(CLASSES))
    out = {}
    for i, c in enumerate(CLASSES):
        out[c] = {"multiplier": st.scenario.forecast_bias[c],
                  "expected_bias_ratio": round(float(fsum[i] / actual[i] - 1), 4)
                  if actual[i] else None}
    return out


def forecast_frame(st: SimState, cat: dict, Fc: dict) -> pd.DataFrame:
    day0 = st.start.tz_localize(None).normalize()
    return pd.DataFrame({"sku": Fc["sku"], "node": Fc["node"],
                         "target_period_start": day0 + pd.to_timedelta(Fc["week"], unit="D"),
                         "made": Fc["made"], "qty": Fc["qty"],
                         "version": np.char.add("ets-lag", Fc["lag"].astype(str)).astype(object)})
