"""Which values of a ``--per`` dimension get a report set: ``plan_segments``.

Rule: a value whose orders hold no customer order in the report's period range gets no report
set, since every customer KPI would read n/a. Customer orders are orders that are neither
transfers (stock moved between nodes, e.g. the ``internal`` channel) nor test orders, created
in ``[start, end)``, or in ``[start, as_of]`` without ``end`` (``as_of`` defaults to the data's
end). Only dimensions read from the orders table are checked (``channel``, or an order column
added by a mapping): a node, supplier or product class without orders still has stock KPIs.
The skipped values and why go into the manifest and onto the run's index. When no value has a
customer order, nothing is skipped (the reports then say n/a), so a run never silently
produces no report at all.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpilib import cuts
from kpilib.reports.params import segment_values


def _order_column(ds: Any, dim: str) -> str | None:
    extra = getattr(ds, "dimensions", None) or {}
    if dim in extra:
        return dim if extra[dim] == "orders" else None
    src = cuts.SOURCES.get(dim, ())
    return src[1] if len(src) == 2 and src[0] == "orders" else None


def _utc(value: Any) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def plan_segments(ds: Any, dim: str, *, start: Any = None, end: Any = None,
                  as_of: Any = None) -> tuple[list[str], dict[str, str]]:
    """``(values that get a report set, {skipped value: reason sentence})``."""
    values = list(segment_values(ds, dim))
    column = _order_column(ds, dim)
    orders = getattr(ds, "orders", None)
    if column is None or orders is None or column not in orders:
        return values, {}
    created = pd.to_datetime(orders["created_at"], utc=True)
    lo, stop = _utc(start), _utc(end)
    if stop is not None:  # end is exclusive; as_of includes what happened at that instant
        inside = created < stop
    else:
        stop = _utc(as_of) or _utc(ds.data_as_of)
        inside = created <= stop if stop is not None else pd.Series(True, index=orders.index)
    if lo is not None:
        inside &= created >= lo
    none = pd.Series(False, index=orders.index)
    transfer = orders["order_type"].eq("transfer") if "order_type" in orders else none
    test = orders["is_test"].fillna(False).astype(bool) if "is_test" in orders else none
    customer = inside & ~transfer & ~test
    counts = orders.loc[customer, column].astype(str).value_counts()
    skipped = {}
    for v in values:
        if counts.get(v, 0):
            continue
        mine = inside & orders[column].astype(str).eq(v)
        n_transfer, n_test = int((mine & transfer).sum()), int((mine & test & ~transfer).sum())
        kind = ", ".join(x for x in (
            f"{n_transfer:,} transfer order{'s' if n_transfer != 1 else ''} between nodes"
            if n_transfer else "",
            f"{n_test:,} test order{'s' if n_test != 1 else ''}" if n_test else "") if x)
        skipped[v] = ("no customer orders in the period range ("
                      + (f"only {kind}" if kind else "no orders at all")
                      + "), so every customer KPI would be n/a")
    if len(skipped) == len(values):
        return values, {}
    return [v for v in values if v not in skipped], skipped
