"""Line and order outcomes at the horizon: cancelled quantities, assignment, kit parents.

Rule: only what happened by ``t_end`` counts. A line's merchant/customer cancelled quantity is
the sum of its cancellations up to t_end (plus the whole line when its order was cancelled
before release); a kit parent takes the largest cancelled quantity of its components and
ships ``min`` over its components per parcel; an order whose every line ended cancelled with
nothing shipped is itself cancelled (by the merchant for stockouts, else by the customer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib.synth.state import SimState


def line_outcomes(st: SimState, ob: dict, al: dict, F: dict, SH: dict) -> None:
    """Fill L['cxl_cust'], L['cxl_merch'], L['assigned']; add kit-parent shipment lines."""
    O, L = ob["O"], ob["L"]
    T = st.t_end
    nl = len(L["order"])
    c = al["cancel"]
    ok = c["t"] <= T
    cust = np.bincount(c["line"][ok & (c["who"] == "customer")],
                       c["qty"][ok & (c["who"] == "customer")], minlength=nl)
    merch = np.bincount(c["line"][ok & (c["who"] != "customer")],
                        c["qty"][ok & (c["who"] != "customer")], minlength=nl)
    oc = O["cancel_at"][L["order"]]
    full = ~np.isnan(oc) & (oc <= T)
    init = O["cancel_init"][L["order"]]
    cust = np.where(full & (init == "customer"), L["qty"], cust)
    merch = np.where(full & (init != "customer"), L["qty"], merch)
    # assignment: node of the latest fill released by the horizon
    fo = np.lexsort((F["t_fill"], F["line"]))
    fo = fo[F["t_fill"][fo] <= T]
    assigned = np.full(nl, -1)
    assigned[F["line"][fo]] = F["node"][fo]
    # kit parents: from components
    comp = np.flatnonzero(L["is_comp"])
    par = L["parent_line"][comp]
    np.maximum.at(cust, par, cust[comp])
    np.maximum.at(merch, par, merch[comp])
    assigned[par] = np.where(assigned[par] >= 0, assigned[par], assigned[comp])
    L["cxl_cust"], L["cxl_merch"], L["assigned"] = cust, merch, assigned
    _merchant_promise_changes(st, ob, al)
    _kit_parent_shipments(L, SH)
    _order_cancellations(st, ob, al, SH)


def _merchant_promise_changes(st: SimState, ob: dict, al: dict) -> None:
    """Backordered lines get a new promise from the merchant one hour after the backorder:
    the original promise plus the whole days of the expected wait (supplier lead time unknown
    to the customer: 3-10 days); customer changes take precedence."""
    O, L = ob["O"], ob["L"]
    rng = st.rng
    b = al["backordered"]
    nl = len(L["order"])
    at = np.full(nl, np.nan)
    at[b["line"]] = b["t"] + 1.0
    cust = ~np.isnan(O["promise_change_at"][L["order"]])
    at[cust] = np.nan
    L["merchant_change_at"] = at
    L["merchant_promise"] = O["promise"][L["order"]] + rng.integers(3, 11, nl) * 24.0


def _kit_parent_shipments(L: dict, SH: dict) -> None:
    comp = L["is_comp"][SH["sl_line"]]
    if not comp.any():
        return
    df = pd.DataFrame({"ship": SH["sl_ship"][comp], "line": SH["sl_line"][comp],
                       "qty": SH["sl_qty"][comp]})
    df = df.groupby(["ship", "line"], as_index=False)["qty"].sum()
    df["parent"] = L["parent_line"][df["line"]]
    n_comp = pd.Series(L["parent_line"][L["is_comp"]]).value_counts()
    g = df.groupby(["ship", "parent"]).agg(q=("qty", "min"), k=("line", "nunique")).reset_index()
    g = g[(g["k"] == n_comp.reindex(g["parent"]).to_numpy()) & (g["q"] > 0)]
    SH["sl_ship"] = np.r_[SH["sl_ship"], g["ship"].to_numpy()]
    SH["sl_line"] = np.r_[SH["sl_line"], g["parent"].to_numpy()]
    SH["sl_qty"] = np.r_[SH["sl_qty"], g["q"].to_numpy().astype(float)]


def _order_cancellations(st: SimState, ob: dict, al: dict, SH: dict) -> None:
    O, L = ob["O"], ob["L"]
    T = st.t_end
    n = len(O["chan"])
    real = ~L["is_comp"]
    open_q = np.where(real, L["qty"] - L["cxl_cust"] - L["cxl_merch"], 0)
    left = np.bincount(L["order"], open_q, minlength=n)
    shipped_orders = np.zeros(n, bool)
    shipped_orders[SH["order"][SH["shipped"] <= T]] = True
    c = al["cancel"]
    ok = c["t"] <= T
    last = np.full(n, np.nan)
    np.fmax.at(last, L["order"][c["line"][ok]], c["t"][ok])
    any_m = np.zeros(n, bool)
    any_m[L["order"][c["line"][ok & (c["who"] != "customer")]]] = True
    new = (left <= 0) & ~shipped_orders & np.isnan(O["cancel_at"]) & ~np.isnan(last)
    O["cancel_at"][new] = last[new]
    O["cancel_init"][new] = np.where(any_m[new], "merchant", "customer")
    O["cancel_reason"][new] = np.where(any_m[new], "stockout", "other")
    O["late_cancel"] = new
