"""Labour hours, storage capacity and fulfilment cost pools, all driven by the volumes.

Rules: pick hours = lines picked / productivity (45 lines/h DC-1, 38 DC-2); pack 0.04 h/parcel
+ 0.01 h/unit; ship 0.015 h/parcel; receive 0.25 h/line + 0.002 h/unit; putaway 0.2 h/line;
returns 0.2 h/line; indirect 12% of direct. On surge days agency temps pick and pack at 50% of
normal productivity. Occupied positions = Σ_sku ceil(on_hand / units per position). Costs:
labour = hours x wage (x2 agency/overtime premium on surge days), packaging per parcel and
unit, 3PL fees per parcel and unit at DC-2 (+3 per parcel peak surcharge on surge days), per parcel
at the dropship node, booked weekly; facility/systems/other fixed per month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.params import CLASSES
from kpilib.synth.state import DC_NODES, SimState

PRODUCTIVITY = np.array([45.0, 38.0])
WAGE = np.array([26.0, 0.0])  # DC-2 is a 3PL: its labour is billed as fees
UNITS_PER_POSITION = {"apparel": 40, "beauty": 60, "home": 10, "electronics": 12, "bundles": 20}
ACTS = ("pick", "pack", "receive", "putaway", "ship", "returns", "indirect")


def _per_day(st: SimState, t, node, w, n_nodes=DC_NODES) -> np.ndarray:
    day = np.floor(np.asarray(t, float) / 24)
    m = (day >= 0) & (day < st.days) & (node < n_nodes)
    out = np.zeros((st.days, n_nodes))
    np.add.at(out, (day[m].astype(int), node[m]), np.broadcast_to(w, day.shape)[m])
    return out


def surge_days(st: SimState) -> np.ndarray:
    m = np.zeros(st.days, bool)
    for c in st.truth.get("surge", {}).get("campaigns", []):
        a = (pd.Timestamp(c["start"], tz="UTC") - st.start).days
        b = (pd.Timestamp(c["end"], tz="UTC") - st.start).days
        m[a:b + 1] = True
    return m


def labor(st: SimState, P: dict, SH: dict, po: dict, R: dict) -> dict:
    """Hours per (day, node, activity) as a (days, 2, 7) array."""
    rng = st.rng
    surge = surge_days(st)
    picked_ok = P["qty_picked"] > 0
    lines = _per_day(st, P["picked"][picked_ok], P["node"][picked_ok], 1.0)
    slow = np.where(surge, 0.5, 1.0)[:, None]
    prod = PRODUCTIVITY[None, :] * slow
    units_sh = np.bincount(SH["sl_ship"], SH["sl_qty"], minlength=len(SH["order"]))
    parcels = _per_day(st, SH["shipped"], SH["node"], 1.0)
    units = _per_day(st, SH["shipped"], SH["node"], units_sh)
    rec_l = _per_day(st, po["received"], po["node"], 1.0)
    rec_u = _per_day(st, po["received"], po["node"], po["got"])
    put_l = _per_day(st, po["put"], po["node"], 1.0)
    rn = R["node"]
    ret = _per_day(st, R["received"], np.where(rn < 0, 9, rn), 1.0)
    H = np.stack([lines / prod, (0.04 * parcels + 0.01 * units) / slow,
                  0.25 * rec_l + 0.002 * rec_u, 0.2 * put_l, 0.015 * parcels, 0.2 * ret], axis=2)
    H = H * rng.lognormal(0, 0.05, H.shape)
    ind = 0.12 * H.sum(axis=2, keepdims=True)
    return {"hours": np.round(np.concatenate([H, ind], axis=2), 2), "surge": surge,
            "parcels": parcels, "units": units}


def capacity(st: SimState, cat: dict, snap: dict) -> dict:
    """Occupied positions per (day, node) from the snapshot on-hand, usable ~ peak / 0.92."""
    upp = np.array([UNITS_PER_POSITION[c] for c in CLASSES])[cat["cls"]]
    oh = np.maximum(snap["on_hand"], 0).reshape(st.days, cat["n"], DC_NODES)
    occ = np.ceil(oh / upp[None, :, None]).sum(axis=1)
    usable = np.ceil(occ.max(axis=0) / 0.92 / 100) * 100 + 100
    return {"occupied": occ, "usable": usable}


def fulfillment_costs(st: SimState, LB: dict, SH: dict) -> pd.DataFrame:
    """Cost rows (node, period_start, period_end, pool, amount) in USD."""
    day0 = st.start.tz_localize(None).normalize()
    days = day0 + pd.to_timedelta(np.arange(st.days), unit="D")
    H = LB["hours"]
    ot = np.where(LB["surge"], 2.0, 1.0)[:, None]
    labor = H.sum(axis=2) * WAGE[None, :] * ot
    pack = 0.9 * LB["parcels"] + 0.12 * LB["units"]
    fee = np.zeros_like(pack)
    fee[:, 1] = 2.5 * LB["parcels"][:, 1] + 0.35 * LB["units"][:, 1] + np.where(
        LB["surge"], 3.0, 0.0) * LB["parcels"][:, 1]
    ds = _per_day(st, SH["shipped"], SH["node"], 1.0, n_nodes=3)[:, 2]
    rows = []
    week = (days - pd.to_timedelta(days.dayofweek, unit="D"))
    month = days.to_period("M").to_timestamp()
    scale = max(st.scale, 0.05)
    for node_i, node in enumerate(("DC-1", "DC-2", "DS-1")):
        daily = {"labor": labor[:, node_i] if node_i < 2 else np.zeros(st.days),
                 "packaging": pack[:, node_i] if node_i < 2 else np.zeros(st.days),
                 "3pl_fees": fee[:, node_i] if node_i < 2 else 3.0 * ds}
        for pool, v in daily.items():
            if not v.any():
                continue
            g = pd.Series(v).groupby(np.asarray(week)).sum()
            for ws, amt in g.items():
                rows.append((node, ws, min(ws + pd.Timedelta(days=6), days[-1]), pool, amt))
        if node_i < 2:
            fixed = {"facility": (3_000.0, 1_500.0)[node_i], "systems": 600.0,
                     "other": 200.0}
            for ms in np.unique(np.asarray(month)):
                ms = pd.Timestamp(ms)
                me = min(ms + pd.offsets.MonthEnd(0), days[-1])
                first = max(ms, days[0])
                frac = ((me - first).days + 1) / ms.days_in_month
                for pool, amt in fixed.items():
                    rows.append((node, first, me, pool, amt * scale * frac))
    df = pd.DataFrame(rows, columns=["node_id", "period_start", "period_end", "cost_pool",
                                     "amount"])
    df["period_start"] = df["period_start"].clip(lower=days[0])
    df["amount"] = df["amount"].round(2)
    df["currency"] = "USD"
    return df
