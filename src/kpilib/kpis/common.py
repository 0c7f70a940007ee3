"""The one builder of KPI observation rows, and the small helpers KPI modules share.

A KPI function returns *observations* (see :mod:`kpilib.aggregate`): one row per record of its
population. :func:`observations` builds them from those records (rows of a fact table, or rows
derived from one) so that every KPI carries the same columns:

- the requested segment dimensions (``ctx.by``) that the records have;
- the records' ids (:data:`ID_COLUMNS`: order, line and shipment ids as the engine's integer
  codes, and the other record ids such as ``exception_id`` or ``return_line_id``) and, when the
  caller knows it, ``fact_row``: each record's row position in its fact table, so the records
  behind a number can be listed;
- the KPI's own columns: ``anchor`` or ``period``, ``num``/``den``, ``x``, ``excluded``,
  ``preliminary``...

:func:`kpilib.aggregate.aggregate` reads only the columns it knows, so ids never change a result.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from kpilib import keys, schema
from kpilib.context import Context

SKU_DIMS = ("sku", "supplier", "product_class", "abc_class", "xyz_class")
# Order/line/shipment id columns (engine codes) and the single-column keys of record tables;
# products and nodes are left out (their keys, sku and node, are segment values).
ID_COLUMNS = tuple(sorted(set(keys.FACT_COLUMNS) | {
    t.primary_key[0] for t in schema.TABLES.values()
    if len(t.primary_key) == 1 and t.name not in ("products", "nodes")}))
FACT_ROW = "fact_row"


def observations(records: pd.DataFrame, ctx: Context, *,
                 rows: Iterable[int] | pd.Index | None = None, **cols) -> pd.DataFrame:
    """Observation rows, one per row of ``records``: its ``ctx.by`` dimensions, its id columns,
    ``fact_row`` (= ``rows``, the records' positions in their fact table, when given) and
    ``cols``. A Series in ``cols`` is taken by position (not aligned on the index); a scalar
    is broadcast."""
    out = pd.DataFrame(index=pd.RangeIndex(len(records)))
    for d in ctx.by:
        if d in records.columns:
            out[d] = records[d].array
    for c in ID_COLUMNS:
        if c in records.columns and c not in ctx.by:
            out[c] = records[c].array
    if rows is not None:
        out[FACT_ROW] = np.asarray(rows, dtype=np.int64)
    for name, values in cols.items():
        out[name] = values.array if isinstance(values, pd.Series) else np.asarray(values)
    return out


def record_columns(records: pd.DataFrame, ctx: Context) -> list[str]:
    """The columns of ``records`` that :func:`observations` keeps: the ``ctx.by`` dimensions
    and the id columns. Select them before expanding records (e.g. once per snapshot)."""
    return [c for c in (*ctx.by, *ID_COLUMNS) if c in records.columns]


def first_reason(reason: pd.Series, cond: pd.Series, code: str) -> pd.Series:
    """First reason wins: set ``code`` where ``cond`` holds and no reason is set yet."""
    return reason.where(reason.notna() | ~cond, code)


def order_node_slices(ctx: Context) -> pd.DataFrame:
    """The ``order_node_slices`` fact (one row per order at a node)."""
    return ctx.fact("order_node_slices")


def slice_duration_obs(ctx: Context, sl: pd.DataFrame, x: pd.Series, anchor: pd.Series,
                       reason: pd.Series) -> pd.DataFrame:
    """Duration observations of slices: ``x`` hours anchored at ``anchor``; a negative
    duration is excluded (``negative_duration``) unless an earlier reason applies."""
    reason = first_reason(reason, anchor.notna() & (x < 0), "negative_duration")
    return observations(sl, ctx, rows=sl.index, anchor=anchor, x=x.where(reason.isna()),
                        excluded=reason)
