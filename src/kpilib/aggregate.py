"""Reduce KPI observations to the tidy result of ``compute``, one row per (kpi, period, segment).

Observation columns a KPI function returns (one row per record of its population):

- ``anchor`` (UTC timestamp; NaT = pending, outside every period) or ``period`` (already
  bucketed, for snapshot KPIs: see ``Context.snapshot_points``);
- one column per requested ``by`` dimension;
- by kind: ``rate``/``ratio``: ``num``, ``den``; ``mean``: ``x`` (a duration or amount);
  ``sum``: ``num`` (counted) and ``den`` (population size, 0 = empty); ``custom``: already
  reduced rows with ``value``, ``numerator``, ``denominator``, ``n`` (and optionally
  ``p50``, ``p90``);
- optional ``excluded`` (reason code; the row is counted under ``excluded`` and nothing else),
  ``preliminary`` (bool), ``insufficient`` (bool: the KPI's own minimum-data rule failed).

Roll-ups are Σnumerator / Σdenominator; durations recompute mean, p50, p90 (linear
interpolation) from the records. Empty populations give ``value=NaN`` and
``status="undefined"``, never 0 or 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from kpilib import cuts, periods
from kpilib.context import Context
from kpilib.registry import KpiDef

RESULT_COLUMNS = ["kpi", "period", "value", "numerator", "denominator", "n", "p50", "p90",
                  "status", "unit", "excluded", "note"]
UNKNOWN = "(unknown)"


def result_columns(by: tuple[str, ...]) -> list[str]:
    """Column order of a compute result for dimensions ``by``."""
    return ["kpi", "period", *by, *RESULT_COLUMNS[2:]]


def empty_result(kdef: KpiDef, ctx: Context, status: str, note: str) -> pd.DataFrame:
    """One row saying why a KPI has no value (e.g. ``unavailable``: a table is absent)."""
    row = {"kpi": [kdef.id], **{d: [np.nan] for d in ctx.group_by},
           "value": [np.nan], "numerator": [np.nan], "denominator": [np.nan], "n": [0],
           "p50": [np.nan], "p90": [np.nan], "status": [status], "unit": [kdef.unit],
           "excluded": [""], "note": [note]}
    row["period"] = pd.Series([pd.NaT], dtype=f"datetime64[ns, {ctx.tz}]")
    return pd.DataFrame(row, columns=result_columns(ctx.group_by))


def _assign_periods(obs: pd.DataFrame, ctx: Context, kdef: KpiDef) -> pd.DataFrame:
    """The observations in the window with their ``period`` (one copy, not two: large
    observation frames make every full copy count)."""
    if "period" in obs.columns:
        p = obs["period"]
        if isinstance(p.dtype, pd.DatetimeTZDtype):
            p = p.dt.tz_convert(ctx.tz)
        else:  # e.g. all-NaT periods of freq=None built from scalars
            p = pd.to_datetime(p).dt.tz_localize(ctx.tz)
        out = obs.copy(deep=False)
        out["period"] = p
        return out
    if "anchor" not in obs.columns:
        raise TypeError(f"{kdef.id}: observations need an 'anchor' or 'period' column")
    keep = ctx.in_window(obs["anchor"]).to_numpy()
    out = obs.take(np.flatnonzero(keep)) if not keep.all() else obs.copy(deep=False)
    out["period"] = ctx.period_of(out["anchor"])
    return out


def _grid(obs: pd.DataFrame, ctx: Context, kdef: KpiDef, keys: list[str],
          segs: pd.DataFrame) -> pd.DataFrame:
    """Every period of the window crossed with every segment seen: empty cells stay visible."""
    if ctx.freq is None:
        plist = [pd.NaT]
    elif kdef.snapshot or "anchor" not in obs.columns:
        plist = list(ctx.snapshot_points()["period"])
    else:
        first = ctx.start if ctx.start is not None else obs["anchor"].min()
        last = ctx.end - pd.Timedelta(1, "ns") if ctx.end is not None else ctx.as_of
        if pd.isna(first):
            plist = []
        else:
            plist = periods.period_grid(first, min(last, ctx.as_of), ctx.freq, ctx.tz)
    pser = pd.Series(plist, dtype=f"datetime64[ns, {ctx.tz}]", name="period")
    if ctx.group_by:
        if segs.empty:
            segs = pd.DataFrame({d: [np.nan] for d in ctx.group_by})
        grid = pser.to_frame().merge(segs, how="cross")
    else:
        grid = pser.to_frame()
    return grid[keys]


def _group_ids(obs: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """(group number of each row, the key values of each group number) for ``keys``.

    Rows are grouped on integer codes (a million text segment values are hashed once, not
    once per reduction); a null segment value becomes ``UNKNOWN``, a NaT period stays a
    group of its own (freq=None).
    """
    codes, values = [], []
    for k in keys:
        if k == "period":
            c, u = pd.factorize(obs[k], use_na_sentinel=False)
            vals = pd.Series(u, name=k)
        else:
            c, u = pd.factorize(obs[k])
            raw = np.append(np.asarray(u, dtype=object), UNKNOWN)
            dedup, vals = pd.factorize(raw)       # a literal UNKNOWN value joins the nulls
            c = dedup[np.where(c < 0, len(u), c)]
            vals = pd.Series(np.asarray(vals, dtype=object), name=k)
        codes.append(np.asarray(c, dtype=np.int64))
        values.append(vals)
    # combine key by key, renumbering the groups seen so far each time: the product of all
    # key sizes could overflow int64 with many high-cardinality segments, this cannot
    gid = np.zeros(len(obs), dtype=np.int64)
    for c, v in zip(codes, values, strict=True):
        gid = pd.factorize(gid * max(len(v), 1) + c)[0]
    first_row = np.empty(gid.max() + 1 if len(gid) else 0, dtype=np.int64)
    first_row[gid[::-1]] = np.arange(len(gid))[::-1]
    key_frame = pd.DataFrame({k: v.iloc[c[first_row]].reset_index(drop=True)
                              for k, v, c in zip(keys, values, codes, strict=True)})
    return gid, key_frame


def _excluded_json(obs: pd.DataFrame, gid: np.ndarray, hit: np.ndarray) -> pd.Series | None:
    """Per group number, the JSON object {reason: count} of the excluded rows ``hit``
    (reasons sorted), built column by column from a groups x reasons count table (no Python
    code per group)."""
    if not hit.any():
        return None
    ex = pd.DataFrame({"gid": gid[hit], "excluded": obs["excluded"].to_numpy()[hit]})
    wide = ex.groupby(["gid", "excluded"], observed=True).size().unstack(
        "excluded", fill_value=0)
    text = pd.Series("", index=wide.index)
    for reason in sorted(wide.columns):
        count = wide[reason]
        part = ('"' + str(reason) + '": ') + count.astype(str)
        sep = text.where(text == "", text + ", ")
        text = (sep + part).where(count > 0, text)
    return ("{" + text + "}").rename("excluded")


class Buckets(NamedTuple):
    """Observations bucketed for a context (see :func:`bucket`)."""

    obs: pd.DataFrame  # the rows that count, with their ``period``
    gid: np.ndarray  # (period, segment) group number of each row of ``obs``
    key_frame: pd.DataFrame  # period and ``ctx.group_by`` values of each group number
    dated: pd.DataFrame  # every row in the window, before the filters (for the period grid)


def bucket(obs: pd.DataFrame, kdef: KpiDef, ctx: Context) -> Buckets:
    """The observations of one KPI that count in ``ctx`` (anchored in its window, passing its
    filters), each with its period and (period, segment) group: the one bucketing rule of
    results, shared by :func:`aggregate` and ``kpilib.drill``."""
    if ctx.cut is not None and (ctx.cut.relabel or ctx.cut.lines):  # kpilib.segment_plan
        obs = ctx.cut.derive(obs, ctx.ds)
    missing = [d for d in ctx.by if d not in obs.columns]
    if missing:
        raise TypeError(f"{kdef.id}: observations lack requested dimension(s) {missing}")
    dated = _assign_periods(obs, ctx, kdef)
    obs = dated
    if ctx.filters:
        mask = cuts.keep(dated, ctx.filters)
        obs = dated if mask.all() else dated.take(np.flatnonzero(mask))
    gid, key_frame = _group_ids(obs, ["period", *ctx.group_by])
    return Buckets(obs, gid, key_frame, dated)


def aggregate(obs: pd.DataFrame, kdef: KpiDef, ctx: Context) -> pd.DataFrame:
    """Bucket, group and reduce observations of one KPI into result rows (see module doc)."""
    obs, gid, key_frame, dated = bucket(obs, kdef, ctx)
    keys = ["period", *ctx.group_by]
    if "excluded" in obs.columns:
        keep = obs["excluded"].isna().to_numpy()
        excluded = _excluded_json(obs, gid, ~keep)
        inc, inc_gid = obs.loc[keep], gid[keep]
    else:
        excluded = None
        inc, inc_gid = obs, gid

    if kdef.kind == "custom":
        stats = inc.assign(_gid=inc_gid).set_index("_gid")[
            ["value", "numerator", "denominator", "n"]
            + [c for c in ("p50", "p90") if c in inc.columns]]
        if stats.index.duplicated().any():
            raise TypeError(f"{kdef.id}: custom observations repeat a (period, segment) key")
    else:
        g = inc.groupby(inc_gid, sort=False)
        if kdef.kind == "mean":
            x = g["x"]
            stats = pd.DataFrame({"numerator": x.sum(), "n": x.count()})
            stats["denominator"] = stats["n"].astype(float)
            stats["p50"] = x.quantile(0.5) if len(inc) else np.nan
            stats["p90"] = x.quantile(0.9) if len(inc) else np.nan
        else:
            stats = pd.DataFrame({"numerator": g["num"].sum().astype(float),
                                  "denominator": g["den"].sum().astype(float)})
            stats["n"] = g["n"].sum() if "n" in inc.columns else g.size()
    for flag in ("preliminary", "insufficient"):
        if flag in inc.columns:
            raw = inc[flag].to_numpy(dtype=object)
            flags = np.where(pd.isna(raw), False, raw).astype(bool)  # null = not flagged
            stats[flag] = pd.Series(flags).groupby(inc_gid, sort=False).any()
        else:
            stats[flag] = False
    if excluded is not None:
        stats = stats.join(excluded, how="outer")
    else:
        stats["excluded"] = ""
    stats = pd.concat([key_frame.iloc[stats.index.to_numpy()].reset_index(drop=True),
                       stats.reset_index(drop=True)], axis=1)

    grid = _grid(dated, ctx, kdef, keys, key_frame[list(ctx.group_by)].drop_duplicates())
    out = grid.merge(stats, on=keys, how="left") if len(grid) else stats
    out["excluded"] = out["excluded"].fillna("")
    out["n"] = out["n"].fillna(0).astype(int)
    for c in ("numerator", "denominator"):
        out[c] = out[c].astype(float)
    for c in ("p50", "p90"):
        if c not in out.columns:
            out[c] = np.nan
    if kdef.kind == "custom":
        value = out["value"].astype(float)
        empty = value.isna()
    else:
        den = out["denominator"].fillna(0.0)
        empty = den <= 0
        if kdef.kind == "sum":
            value = out["numerator"].where(~empty)
        else:
            value = out["numerator"] / den.where(~empty)
    insufficient = out["insufficient"].astype("boolean").fillna(False).astype(bool)
    out["value"] = value.where(~insufficient)
    out["numerator"] = out["numerator"].fillna(0.0)
    out["denominator"] = out["denominator"].fillna(0.0)
    status = np.where(empty, "undefined", "ok")
    preliminary = out["preliminary"].astype("boolean").fillna(False).astype(bool)
    status = np.where(~empty & preliminary, "preliminary", status)
    status = np.where(insufficient, "insufficient_data", status)
    out["status"] = status
    out["kpi"] = kdef.id
    out["unit"] = kdef.unit
    out["note"] = ""
    out = out[result_columns(ctx.group_by)]
    return out.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)
