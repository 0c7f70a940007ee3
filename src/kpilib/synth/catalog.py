"""Catalogue and network: SKUs, suppliers, kits and the three fulfilment nodes.

Rule: unit cost ~ lognormal around a class mean; price = cost x U(1.8, 2.8); popularity is a
heavy-tailed lognormal weight; 'fast movers' are the top 5% of stocked SKUs by weight.
Kits are made-to-order parents whose component SKUs are stocked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.params import CLASSES
from kpilib.synth.state import NODES, SimState, ids

CLASS_COST = {"apparel": 12.0, "beauty": 8.0, "home": 20.0, "electronics": 45.0, "bundles": 22.0}
N_SUPPLIERS = 12
NODE_ROWS = (
    ("DC-1", "dc", "owned_dc", "America/New_York"),
    ("DC-2", "3pl", "3pl", "America/Chicago"),
    ("DS-1", "supplier", "dropship", "America/Los_Angeles"),
)


def build_catalog(st: SimState) -> dict:
    """Draw the catalogue; returns arrays keyed by name (one entry per SKU unless noted)."""
    rng, sc = st.rng, st.scenario
    # the catalogue grows with volume up to scale 1, then with its square root (a 20x busier
    # shop does not sell 20x as many SKUs); at least 40 SKUs
    growth = st.scale if st.scale <= 1 else float(np.sqrt(st.scale))
    n = max(40, int(round(sc.n_skus * growth)))
    mix = np.array([sc.class_mix[c] for c in CLASSES])
    cls = rng.choice(len(CLASSES), size=n, p=mix / mix.sum())
    cls.sort(kind="stable")
    cls = rng.permutation(cls)
    mean_cost = np.array([CLASS_COST[CLASSES[c]] for c in cls])
    unit_cost = np.round(mean_cost * rng.lognormal(0.0, 0.45, n), 2).clip(0.5)
    price = np.round(unit_cost * rng.uniform(1.8, 2.8, n), 2)
    # suppliers: each class buys from three suppliers; lead time per supplier
    sup_of_class = rng.integers(0, N_SUPPLIERS, size=(len(CLASSES), 3))
    supplier = sup_of_class[cls, rng.integers(0, 3, n)]
    lead_days = rng.integers(6, 21, N_SUPPLIERS)

    policy = np.full(n, "stocked", dtype=object)
    drop_ok = np.isin(cls, [CLASSES.index("home"), CLASSES.index("electronics")])
    policy[drop_ok & (rng.random(n) < 0.18)] = "dropship"
    weight = rng.lognormal(0.0, 1.2, n)

    launch = np.where(rng.random(n) < 0.86, -rng.integers(60, 900, n),
                      rng.integers(10, max(11, st.days - 30), n)).astype(float)
    disc = np.full(n, np.nan)
    dmask = (launch < 0) & (rng.random(n) < 0.04) & (st.days > 120)
    disc[dmask] = rng.integers(60, max(61, st.days - 10), dmask.sum())

    # kits: made-to-order parents built from 2-3 stocked components
    n_kits = max(3, int(round(0.012 * n)))
    comp_pool = np.flatnonzero((policy == "stocked") & (launch < 0) & np.isnan(disc)
                               & (cls != CLASSES.index("bundles")))
    kit_idx = rng.choice(np.setdiff1d(np.arange(n), comp_pool), n_kits, replace=False)
    policy[kit_idx] = "made_to_order"
    cls[kit_idx] = CLASSES.index("bundles")
    launch[kit_idx] = -100
    disc[kit_idx] = np.nan
    kit_parent, kit_comp = [], []
    for k in kit_idx:  # a handful of kits: tiny loop
        comps = rng.choice(comp_pool, rng.integers(2, 4), replace=False)
        kit_parent += [k] * len(comps)
        kit_comp += list(comps)
    is_kit = np.zeros(n, bool)
    is_kit[kit_idx] = True
    unit_cost[kit_idx] = 0.0
    for p, c in zip(kit_parent, kit_comp, strict=True):
        unit_cost[p] += unit_cost[c]
    price[kit_idx] = np.round(unit_cost[kit_idx] * 2.2, 2)

    stocked = policy == "stocked"
    eligible = stocked & (launch < 0) & np.isnan(disc)
    if st.scenario.fast_mover_class:
        eligible &= cls == CLASSES.index(st.scenario.fast_mover_class)
    order = np.argsort(-np.where(eligible, weight, -1.0), kind="stable")
    n_fast = max(3, int(round(0.05 * stocked.sum())))
    fast = np.zeros(n, bool)
    fast[order[:n_fast]] = True

    stocked_at = np.repeat(stocked[:, None], 2, axis=1)  # DC-1, DC-2
    slow_bundle = np.zeros(n, bool)
    if st.scenario.slow_bundles:
        slow_bundle = stocked & (cls == CLASSES.index("bundles"))
        weight[slow_bundle] *= 0.04
        stocked_at[slow_bundle, 0] = False  # promotional bundles sit only in DC-2
    return {
        "n": n, "sku": ids("SKU-", n, 5), "cls": cls, "unit_cost": unit_cost, "price": price,
        "supplier": supplier, "supplier_id": ids("SUP-", N_SUPPLIERS, 2), "lead_days": lead_days,
        "policy": policy, "weight": weight, "launch": launch, "disc": disc, "is_kit": is_kit,
        "kit_parent": np.array(kit_parent, dtype=np.int64),
        "kit_comp": np.array(kit_comp, dtype=np.int64),
        "fast": fast, "stocked_at": stocked_at, "slow_bundle": slow_bundle,
    }


def products_frame(st: SimState, cat: dict) -> pd.DataFrame:
    """products table (launch/discontinue as calendar dates)."""
    day0 = st.start.tz_localize(None).normalize()
    launch = day0 + pd.to_timedelta(cat["launch"], unit="D")
    disc = day0 + pd.to_timedelta(cat["disc"], unit="D")
    return pd.DataFrame({
        "sku": cat["sku"],
        "product_class": np.array(CLASSES, dtype=object)[cat["cls"]],
        "supplier_id": cat["supplier_id"][cat["supplier"]],
        "unit_cost": cat["unit_cost"],
        "is_kit": cat["is_kit"],
        "stocking_policy": cat["policy"],
        "launch_date": launch,
        "discontinue_date": disc,
    })


def nodes_frame() -> pd.DataFrame:
    """nodes table: DC-1 owned DC, DC-2 secondary 3PL, DS-1 dropship supplier."""
    assert tuple(r[0] for r in NODE_ROWS) == NODES
    return pd.DataFrame(NODE_ROWS, columns=["node_id", "node_type", "fulfillment_model",
                                            "timezone"])
