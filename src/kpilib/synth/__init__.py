"""Synthetic ERP/OMS/WMS data: a seeded, vectorised process simulation of an ecommerce network.

``generate(scenario, seed, start, days, scale, out, fmt)`` returns ``(tables, truth)``: the 19
tables of the data model as DataFrames and a dict of what the scenario injected. Stages: catalog
-> orders (demand, holds, promises) -> daily allocation with replenishment -> release, waves and
picks -> parcels and delivery -> returns -> ledger, counts and snapshots -> forecasts -> events,
exceptions, labour, capacity and costs. See ``kpilib.synth.params`` for the scenarios.
"""

from __future__ import annotations

from kpilib.synth.params import SCENARIOS, get_scenario
from kpilib.synth.pipeline import STAGES, generate

__all__ = ["SCENARIOS", "STAGES", "generate", "get_scenario"]
