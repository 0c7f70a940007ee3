"""Stored rows before a period plus recomputed rows from it on, as one compute result.

Used by :mod:`kpilib.store.incremental`: the period grid crosses every segment with a record
in either part; empty cells (the grid's, see ``kpilib.aggregate``) are rebuilt, never kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpilib import registry
from kpilib.aggregate import result_columns


def _is_filler(rows: pd.DataFrame) -> pd.Series:
    """Rows the period grid added for a segment without records in that period."""
    return (rows["status"].eq("undefined") & rows["n"].eq(0) & rows["excluded"].eq("")
            & rows["numerator"].eq(0) & rows["denominator"].eq(0))


def merge(old: pd.DataFrame, new: pd.DataFrame, kdef: registry.KpiDef, by: tuple[str, ...],
          start: pd.Timestamp) -> pd.DataFrame:
    """Stored rows of one KPI before ``start`` plus recomputed rows from it on, on the grid of
    every segment with a record in either (empty cells as ``aggregate`` makes them; no
    segment at all: one empty cell per period with a null segment)."""
    return merge_all(old, new, [kdef.id], by, start)[kdef.id]


def merge_all(old: pd.DataFrame, new: pd.DataFrame, ids: list[str], by: tuple[str, ...],
              start: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """:func:`merge` of every KPI in ``ids`` at once (one grid, one sort), per KPI id.

    Empty cells of either part are rebuilt, not kept: a segment whose only records were
    after ``start`` in the stored rows and are gone now leaves no empty cells before it."""
    cols = result_columns(by)
    before = old[old["kpi"].isin(ids) & (old["period"] < start)]
    after = new[new["kpi"].isin(ids) & (new["period"] >= start)]
    pieces = [before, after]
    if by:
        seg = ["kpi", *by]
        pieces = [before[~_is_filler(before)], after[~_is_filler(after)]]
        have = pd.concat([p[["kpi", "period", *by]] for p in pieces])
        segs = have[seg].drop_duplicates()
        none = [k for k in ids if k not in set(segs["kpi"])]
        if none:  # no record in any segment: the grid's one null segment
            segs = pd.concat([segs, pd.DataFrame({"kpi": none, **{d: np.nan for d in by}})])
        grid = pd.concat([before[["kpi", "period"]], after[["kpi", "period"]]]
                         ).drop_duplicates().merge(segs, on="kpi")
        missing = grid.merge(have, how="left", indicator=True)
        missing = missing.loc[missing["_merge"] == "left_only", ["kpi", "period", *by]]
        if len(missing):
            units = missing["kpi"].map({k: registry.KPIS[k].unit for k in ids})
            fill = missing.assign(value=np.nan, numerator=0.0, denominator=0.0, n=0,
                                  p50=np.nan, p90=np.nan, status="undefined", unit=units,
                                  excluded="", note="")
            pieces.append(fill[cols])
    out = pd.concat(pieces, ignore_index=True)[cols]
    order = pd.Series(pd.Categorical(out["kpi"], categories=ids).codes, index=out.index)
    keys = ["_order", "period", *by]
    out = out.assign(_order=order).sort_values(keys, kind="stable", na_position="first")
    parts = {k: g.drop(columns="_order").reset_index(drop=True)
             for k, g in out.groupby("_order", sort=False)}
    return {k: parts.get(i, out.iloc[:0][cols]) for i, k in enumerate(ids)}
