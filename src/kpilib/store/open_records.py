"""Order snapshot KPIs in a batch refresh: recompute the periods from ``P0`` on, on a subset.

An **order snapshot** KPI (open orders, backorders, unreleased slices, open exceptions,
returns and RMAs: a value at each period end ``t`` over the records open at ``t`` and nothing
else, :data:`OPEN_RECORDS`) reads only the rows of orders (orders, their lines, events,
exceptions, shipments and their lines, returns), so a record's state is a function of its
own order's rows. With ``since`` and ``P0`` of
:mod:`kpilib.store.incremental` (``P0 <= since`` less the lookback) and ``c = P0 -
ANCHOR_SLACK``, a refresh recomputes such a KPI with ``start=P0`` on the orders active from
``c`` on (``incremental.restrict``) **plus** the orders the previous refresh saw open at its
last snapshot point (``open/<set>.parquet`` of the stored generation, :func:`observed`), and
keeps the stored rows before ``P0``. Exact, because:

- *Rows before P0 do not change.* Every row the batch changes (added, changed or deleted,
  old and new version) has all its times at or after ``since``, and so has its order's
  creation (``touched_since``); a record opens no earlier than its order exists, so no
  changed order has a record open at a period end ``t <= P0 <= since``. A changed
  ``created_at`` counts with both values, a deleted row with its stored one. ``t`` is
  ``min(period end, as_of)``: the same before and after the batch while the new data end is
  not before ``P0`` (else the whole series is recomputed).
- *The subset holds every order with a record open at some ``t >= P0``.* An order left out
  is frozen: all its rows' times are before ``c``, so the batch did not change it and its
  state is constant from ``c`` on (its closing times, at most ``ANCHOR_SLACK`` after its
  own times, lie before ``P0``). Open at some ``t >= P0`` then means open at every later
  point, in particular at the previous data end (``>= since >= P0``), where the previous
  refresh saw it: by induction its subset held every order open from its own ``P0`` on
  (a full recompute holds every order), and its observations at the last point are stored.
  Adding whole orders that are closed from ``P0`` on changes no value.

The open orders are only known when every order snapshot KPI of the set was observed with
its ``order_id``; otherwise (a custom engine, a store written before, a KPI whose records
carry no order) none are stored and the next batch recomputes those KPIs whole.
"""

from __future__ import annotations

import pandas as pd

from kpilib import registry
from kpilib.context import Context

ORDER_ROWS = frozenset({"orders", "order_lines", "order_events", "exceptions", "shipments",
                        "shipment_lines", "returns"})
# Snapshot KPIs whose observations at t are the records open at t and nothing else (read in
# their code). Not: exception_open_count (its denominator counts every exception opened by
# t, closed or not), exception_open_count_daily_mean (a day row for every segment with an
# exception in the whole history).
OPEN_RECORDS = frozenset({
    "backorder_age_hours", "backorder_units_open", "open_order_age_hours",
    "unreleased_order_age_hours", "open_return_age_hours", "open_rma_age_hours",
    "exception_queue_age_hours", "exception_share_over_sla"})


def is_order_snapshot(kdef: registry.KpiDef) -> bool:
    """Whether ``kdef`` is a snapshot KPI over the open records of orders only (see module
    doc): its value at ``t`` counts only the records open at ``t``."""
    return (kdef.snapshot and kdef.id in OPEN_RECORDS and bool(kdef.required_tables)
            and set(kdef.required_tables) <= ORDER_ROWS)


class Observed:
    """Collects, as ``observe`` of ``engine.compute_in``, the orders the order snapshot KPIs
    find open in the last period of ``ctx``; ``complete`` is False once one has no
    ``order_id`` column."""

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.parts, self.complete = ctx, [], True

    def __call__(self, kdef: registry.KpiDef, obs: pd.DataFrame) -> None:
        if not is_order_snapshot(kdef) or self.ctx.freq is None:
            return
        if "order_id" not in obs.columns or "period" not in obs.columns:
            self.complete = False
            return
        last = self.ctx.snapshot_points()["period"].max()
        self.parts.append(obs.loc[obs["period"].eq(last), ["order_id"]])

    def orders(self) -> pd.Series:
        """Distinct text ids of the orders seen open in the last period."""
        if not self.parts:
            return pd.Series([], dtype=object, name="order_id")
        ids = pd.concat(self.parts, ignore_index=True)
        if self.ctx.keys is not None:
            ids = self.ctx.keys.decode(ids)
        return pd.Series(sorted(ids["order_id"].dropna().astype(str).unique()), dtype=object,
                         name="order_id")


def observed(collectors: list[Observed]) -> pd.Series | None:
    """The union of what ``collectors`` saw, or None when one of them is incomplete."""
    if not all(c.complete for c in collectors):
        return None
    parts = [c.orders() for c in collectors]
    if not parts:
        return pd.Series([], dtype=object, name="order_id")
    return pd.Series(sorted(pd.concat(parts).unique()), dtype=object, name="order_id")

