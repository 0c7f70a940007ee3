"""Inter-node stock transfers: weekly rebalancing and pre-campaign positioning.

Rule (weekly, Mondays): when a DC holds less than 3 days of its planned demand and the other
DC more than 21 days + 6 units, move ``min(excess over 14 days, 10 days of need)`` units.
In ``apparel_surge`` campaign SKUs are also pushed from DC-1 to DC-2 four days before each
campaign (60% of DC-1's available stock): the inventory mismatch behind the surge splits.
Each transfer becomes a ``transfer`` order (channel ``internal``) that is picked and shipped
like any order; the ledger gets a ``transfer_out`` at ship time and a ``transfer_in`` at
arrival linked by ``transfer_group_id``. Stock is usable at the destination from day d + 4.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.state import DC_NODES, SimState

ARRIVAL_DAYS = 4


def rebalance(st: SimState, d: int, cat: dict, cplan: np.ndarray, avail: np.ndarray,
              supply: np.ndarray, log) -> None:
    """Decide today's transfers and move the stock in the simulation state."""
    if d >= st.days - 7:
        return
    day = st.start + pd.Timedelta(days=d)
    qty = np.zeros_like(avail)  # qty[s, src]
    if day.dayofweek == 0:
        both = cat["stocked_at"].all(axis=1)
        hi = min(d + 14, cplan.shape[0] - 1)
        rate = (cplan[hi] - cplan[d]) / max(hi - d, 1)
        for src in range(DC_NODES):
            dst = 1 - src
            low = avail[:, dst] < 3 * rate[:, dst]
            excess = avail[:, src] - 14 * rate[:, src]
            ok = both & low & (avail[:, src] > 21 * rate[:, src] + 6) & (rate[:, dst] > 0)
            q = np.floor(np.minimum(excess, 10 * rate[:, dst]))
            qty[:, src] = np.where(ok & (q >= 1), q, 0.0)
    for c in st.truth.get("surge", {}).get("campaigns", []):
        if (pd.Timestamp(c["start"], tz="UTC") - st.start).days - 4 == d:
            camp = np.isin(cat["sku"], st.truth["surge"]["campaign_skus"])
            qty[camp, 0] = np.floor(0.6 * np.maximum(avail[camp, 0], 0))
    s, src = np.nonzero(qty > 0)
    if not len(s):
        return
    q = qty[s, src]
    avail[s, src] -= q
    np.add.at(supply, (d + ARRIVAL_DAYS, s, 1 - src), q)
    log.add("transfer", sku=s, src=src, qty=q, t=d * 24.0 + 6.0 + st.rng.uniform(0, 1, len(s)),
            day=np.full(len(s), d))


def append_transfer_orders(st: SimState, ob: dict, tr: dict) -> dict:
    """Add one transfer order per (day, source) with a line per SKU; returns their fills."""
    from kpilib.synth.orders import KINDS

    O, L = ob["O"], ob["L"]
    n_tr = len(tr["sku"])
    if not n_tr:
        return {"line": np.zeros(0, np.int64), "node": np.zeros(0, np.int64),
                "t_fill": np.zeros(0), "qty": np.zeros(0)}
    key = tr["day"] * DC_NODES + tr["src"]
    uk, inv = np.unique(key, return_inverse=True)
    n_o0, n_l0 = len(O["chan"]), len(L["order"])
    t_o = np.full(len(uk), np.inf)
    np.minimum.at(t_o, inv, tr["t"])  # the order exists before any of its lines is released
    src_o = uk % DC_NODES
    arrive = (uk // DC_NODES + ARRIVAL_DAYS) * 24.0 - 1.0
    new_o = {
        "chan": np.full(len(uk), 4), "created": t_o, "kind": np.full(len(uk),
                                                                    KINDS.index("transfer")),
        "template": np.full(len(uk), -1), "parent": np.full(len(uk), -1),
        "region": 1 - src_o, "auth": t_o, "t_req": np.full(len(uk), np.nan),
        "cancel_init": np.full(len(uk), None, object),
        "cancel_reason": np.full(len(uk), None, object), "quick_cancel": np.zeros(len(uk), bool),
        "is_test": np.zeros(len(uk), bool), "service": np.full(len(uk), 3),
        "repl_reason": np.full(len(uk), -1),
        "ship_by": (uk // DC_NODES + 1) * 24.0 + 23.0, "promise_is_date": np.zeros(len(uk), bool),
        "promise": arrive, "channel_name": np.full(len(uk), "internal", object),
    }
    for k, v in O.items():
        add = new_o.get(k)
        if add is None:
            add = np.full(len(uk), np.nan) if v.dtype.kind == "f" else np.full(
                len(uk), None if v.dtype == object else 0, dtype=v.dtype)
        O[k] = np.concatenate([v, np.asarray(add, dtype=v.dtype)])
    new_l = {"order": n_o0 + inv, "sku": tr["sku"], "qty": tr["qty"],
             "parent_line": np.full(n_tr, -1), "created": t_o[inv],
             "kit_parent": np.zeros(n_tr, bool), "is_comp": np.zeros(n_tr, bool),
             "unit_price": np.zeros(n_tr), "dropship": np.zeros(n_tr, bool),
             "primary": tr["src"], "chan": np.full(n_tr, 4)}
    for k, v in list(L.items()):
        if not isinstance(v, np.ndarray) or v.ndim != 1 or len(v) != n_l0:
            continue
        add = new_l.get(k)
        if add is None:
            add = np.zeros(n_tr, dtype=v.dtype)
        L[k] = np.concatenate([v, np.asarray(add, dtype=v.dtype)])
    return {"line": n_l0 + np.arange(n_tr), "node": tr["src"], "t_fill": tr["t"],
            "qty": tr["qty"], "arrive_by": arrive[inv]}
