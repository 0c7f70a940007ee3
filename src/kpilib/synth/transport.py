"""Transport: carrier and service per parcel, transit, delivery outcome and parcel cost.

Rule: service = the order's promised service, upgraded to two-day for parcels leaving a
non-primary node (scenario-dependent probability: the expedited parcels of a split);
delivered = ship day + transit(service, near/far) (+1-3 days for 6% carrier delays) at
14-21h UTC; 0.3% lost, 1.5% failed first attempt (70% redelivered next day), 0.2% delivered
without a delivery scan. Cost = base(service) + per-unit rate, x lognormal noise; the carrier
invoice is final 20-60 days after shipping.
"""

from __future__ import annotations

import numpy as np

from kpilib.synth.orders import SERVICES
from kpilib.synth.state import SimState

CARRIERS = {0: ("UPS", "FedEx", "USPS"), 1: ("UPS", "FedEx"), 2: ("FedEx",), 3: ("XPO",)}
BASE_COST = np.array([7.0, 14.0, 28.0, 80.0])
UNIT_COST = np.array([0.8, 1.2, 2.0, 0.5])


def ship_out(st: SimState, ob: dict, F: dict, SH: dict) -> dict:
    """Complete shipment records: service, carrier, delivery timeline, status and cost."""
    rng, sc = st.rng, st.scenario
    O, _L = ob["O"], ob["L"]
    n = len(SH["order"])
    order, node = SH["order"], SH["node"]
    service = O["service"][order].copy()
    # parcels not leaving the order's primary DC (splits, re-sourcing) travel further
    prim_dc = O["region"][order]
    off_primary = (node < 2) & (node != prim_dc)
    p_up = 0.7 if sc.surge_campaigns else 0.2
    up = off_primary & (service == 0) & (rng.random(n) < p_up)
    late_fill = (SH["created"] - O["created"][order]) > 72
    up |= late_fill & (service == 0) & (rng.random(n) < 0.3)
    service = np.where(up, 1, service)
    carrier = np.empty(n, dtype=object)
    for s_code, names in CARRIERS.items():
        m = service == s_code
        carrier[m] = np.array(names, dtype=object)[rng.integers(0, len(names), m.sum())]
    far = (node == 2) | off_primary
    transit = np.select(
        [service == 0, service == 1, service == 2],
        [np.where(far, rng.integers(4, 6, n), rng.integers(2, 4, n)), np.full(n, 2),
         np.full(n, 1)], rng.integers(2, 5, n)).astype(float)
    transit += np.where(rng.random(n) < 0.06, rng.integers(1, 4, n), 0)
    ship_day = np.floor(SH["shipped"] / 24)
    arrive = (ship_day + transit) * 24 + rng.uniform(14, 21, n)
    u = rng.random(n)
    lost = u < 0.003
    failed = (u >= 0.003) & (u < 0.018)
    redeliver = failed & (rng.random(n) < 0.7)
    first_attempt = np.where(lost, np.nan, arrive)
    delivered = np.where(lost | (failed & ~redeliver), np.nan,
                         np.where(redeliver, arrive + 24 + rng.uniform(-2, 2, n), arrive))
    status = np.where(lost, "lost", np.where(failed & ~redeliver,
                      np.where(rng.random(n) < 0.5, "failed", "returned_to_sender"),
                      "delivered")).astype(object)
    reason = np.where(failed, rng.choice(np.array(["customer_unavailable", "address_issue",
                                                   "refused"], dtype=object), n,
                                         p=[0.7, 0.2, 0.1]), None)
    # units per shipment for costing
    units = np.bincount(SH["sl_ship"], SH["sl_qty"], minlength=n)
    cost = np.round((BASE_COST[service] + UNIT_COST[service] * units)
                    * rng.lognormal(0, 0.15, n), 2)
    final_at = SH["shipped"] + rng.uniform(20, 60, n) * 24
    missing_scan = (status == "delivered") & (rng.random(n) < 0.002)
    # transfers: trucked to the other DC, received before the stock is usable there
    tr = O["chan"][order] == 4
    arr = np.fmin(SH["shipped"][tr] + rng.uniform(24, 30, tr.sum()), O["promise"][order][tr])
    arr = np.fmax(arr, SH["shipped"][tr] + 1.0)
    delivered[tr] = arr
    first_attempt[tr] = arr
    status[tr] = "delivered"
    reason[tr] = None
    missing_scan[tr] = False
    SH.update({"service": service, "service_name": np.array(SERVICES, dtype=object)[service],
               "carrier": carrier, "first_attempt": first_attempt, "delivered": delivered,
               "status": status, "fail_reason": reason, "cost": cost, "final_at": final_at,
               "missing_scan": missing_scan, "upgraded": up})
    return SH
