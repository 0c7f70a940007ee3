"""``kpilib.drill``: the records behind one number of ``kpilib.compute``.

drill = run the KPI's observation function in a context with the requested ``freq``, segment
dimensions, ``as_of``, ``params`` and filters; bucket the observations exactly as ``compute``
does (:func:`kpilib.aggregate.bucket`); keep the requested period and segment; turn engine id
codes back into the source ids (``order_id``, ``order_line_id``, ``shipment_id``...) with
:mod:`kpilib.keys`. One row per record of the KPI's grain, with the period, the segment
values, the anchor time, ``numerator`` / ``denominator`` (or ``value`` for a duration or
amount), ``excluded`` (the reason a row is left out), ``preliminary`` and ``outcome``.

Outcomes of a rate KPI (``kind="rate"``): ``excluded`` rows are out of the population;
the others count in the denominator, and a row is ``failed`` when it counts against the KPI:
``numerator < denominator`` for a higher-is-better rate (a late or short unit), ``numerator >
0`` for a lower-is-better one (the numerator counts adverse events: a split shipment, a
cancellation, an allocation failure). So, for the same period and segment, the rows of
``outcome="all"`` add up to compute's ``denominator`` (one row each for a count rate), and the
``failed`` rows to ``denominator - numerator`` (higher is better) or ``numerator`` (lower).
For a duration the ``value`` of the rows reproduce mean, p50 and p90. KPIs of other kinds have
no pass or fail, nor does a rate whose rows add units to its numerator and denominator
separately (sell-through: units sold on some rows, units available on others). KPIs reduced
before the engine sees them (``kind="custom"``) have no records and raise
:class:`NoRecordsError` saying what to look at instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilib import periods, registry
from kpilib.aggregate import Buckets, bucket
from kpilib.context import Context
from kpilib.errors import KpiLibError, ParameterError

OUTCOMES = ("all", "failed", "passed", "excluded")
RENAME = {"num": "numerator", "den": "denominator", "x": "value"}


class NoRecordsError(KpiLibError):
    """Raised when a KPI has no records to list (its observations are already reduced)."""


def drill(ds: Any, kpi: str, *, period: Any = None, freq: str | None = None,
          segment: Mapping[str, Any] | None = None, as_of: Any = None,
          params: dict[str, Any] | None = None, outcome: str = "all",
          filters: Mapping[str, Any] | None = None,
          allow_future_as_of: bool = False) -> pd.DataFrame:
    """The records behind ``compute(ds, kpi, by=list(segment), freq=freq, ...)`` for one
    ``period`` (any time inside it; None = every period) and one ``segment``
    (``{dimension: value}``, ``"(unknown)"`` for records without the attribute; None = all).
    ``as_of`` after the data's end needs ``allow_future_as_of=True``, as in ``compute``.

    ``outcome`` is ``"all"`` (the population), ``"failed"``, ``"passed"`` or ``"excluded"``
    (left out, with the reason in ``excluded``). Rows are sorted oldest anchor first.
    """
    from kpilib.engine import make_context

    ids = registry.resolve(kpi)  # an unknown id raises UnknownKpiError naming the valid ones
    if ids != [kpi]:
        raise ParameterError(f"drill takes one KPI id, not {kpi!r} ({len(ids)} KPIs)")
    kdef = registry.KPIS[kpi]
    ctx = make_context(ds, by=list(segment or {}), freq=freq, as_of=as_of, params=params,
                       filters=filters, allow_future_as_of=allow_future_as_of)
    return records(kdef, ctx, period=period, segment=segment, outcome=outcome)


def records(kdef: registry.KpiDef, ctx: Context, *, period: Any = None,
            segment: Mapping[str, Any] | None = None, outcome: str = "all",
            buckets: Buckets | None = None) -> pd.DataFrame:
    """:func:`drill` in a prepared context (``ctx.group_by`` must hold the segment's
    dimensions). The explorer and the tests reuse one context for many drills, and may pass
    the KPI's ``buckets`` (:func:`bucketed`) to skip rebuilding them."""
    if outcome not in OUTCOMES:
        raise ParameterError(f"outcome {outcome!r} is not one of {list(OUTCOMES)}")
    segment = {d: str(v) for d, v in (segment or {}).items()}
    dims = ctx.cut.by if ctx.cut is not None else ctx.group_by
    absent = [d for d in segment if d not in dims]
    if absent:
        raise ParameterError(f"segment dimension(s) {absent} are not in the context's cut "
                             f"{list(dims)}")
    if outcome in ("failed", "passed") and (kdef.kind != "rate"
                                            or kdef.direction not in ("higher", "lower")):
        raise ParameterError(
            f"{kdef.id} is a {kdef.kind} with direction {kdef.direction!r}: no record passes "
            "or fails it; use outcome='all' (each row has its numerator and denominator) or "
            "'excluded'")
    rows, gid, key_frame, _ = buckets if buckets is not None else bucketed(kdef, ctx)
    if ctx.cut is not None:  # extra dimensions: out of their hosts' columns
        key_frame = ctx.cut.split(key_frame)
    keys = ["period", *dims]
    wanted = np.ones(len(key_frame), dtype=bool)
    if period is not None:
        wanted &= _period_match(key_frame["period"], period, ctx)
    for d, v in segment.items():
        wanted &= (key_frame[d].astype(str) == v).to_numpy()
    pick = np.flatnonzero(wanted[gid]) if len(gid) else np.array([], dtype=np.int64)
    out = rows.take(pick)
    for k in keys:  # the group's values: "(unknown)" where the attribute is null
        out[k] = key_frame[k].to_numpy()[gid[pick]]
    out = _with_outcome(out, kdef)
    if outcome in ("failed", "passed") and not _shares(out):
        raise ParameterError(
            f"{kdef.id}: its rows add to the numerator and the denominator separately "
            f"({kdef.grain} figures, some numerator above its row's denominator), so no row "
            "passes or fails; use outcome='all' (each row has its numerator and denominator)")
    if outcome != "all":
        out = out.loc[out["outcome"] == outcome]
    elif "excluded" in out.columns:
        out = out.loc[out["excluded"].isna()]
    out = ctx.keys.decode(out) if ctx.keys is not None else out
    return _tidy(out, keys)


def bucketed(kdef: registry.KpiDef, ctx: Context, obs: pd.DataFrame | None = None) -> Buckets:
    """The KPI's observations (``obs`` if already built) bucketed as ``compute`` does;
    :class:`NoRecordsError` for a KPI without records, ``ParameterError`` when it cannot be
    computed here (the reason ``compute`` notes as ``unavailable``)."""
    from kpilib.engine import observations

    if kdef.kind == "custom":
        raise NoRecordsError(
            f"{kdef.id} ({kdef.grain}) is reduced per period and segment before the engine "
            "sees it, so it has no records to list; its inputs are in kpilib.facts "
            "(kpilib.engine.list_facts() names them)")
    obs = observations(kdef, ctx) if obs is None else obs
    if isinstance(obs, str):
        raise ParameterError(f"{kdef.id} has no records here: {obs}")
    return bucket(obs, kdef, ctx)


def _period_match(periods_col: pd.Series, period: Any, ctx: Context) -> np.ndarray:
    """Which group periods are the one containing ``period``."""
    if ctx.freq is None:
        raise ParameterError("period given but freq is None (one value for the whole range): "
                             "pass freq='D', 'W', 'M' or 'Q' with it")
    ts = periods.to_utc(period, "period")
    start = periods.period_start(ts, ctx.freq, ctx.tz)
    return (periods_col == start).to_numpy()


def _with_outcome(out: pd.DataFrame, kdef: registry.KpiDef) -> pd.DataFrame:
    """``outcome``: excluded, failed or passed (rates); excluded or counted (other kinds)."""
    excluded = out["excluded"].notna().to_numpy() if "excluded" in out.columns else \
        np.zeros(len(out), dtype=bool)
    if kdef.kind == "rate" and kdef.direction in ("higher", "lower"):
        num = out["num"].to_numpy(dtype=float)
        den = out["den"].to_numpy(dtype=float)
        failed = num < den if kdef.direction == "higher" else num > 0
        label = np.where(failed, "failed", "passed")
    else:
        label = np.full(len(out), "counted", dtype=object)
    out = out.copy(deep=False)
    out["outcome"] = np.where(excluded, "excluded", label)
    return out


def _shares(out: pd.DataFrame) -> bool:
    """Whether every counted row is a share of its own: 0 <= numerator <= denominator."""
    counted = out.loc[out["outcome"] != "excluded"]
    num, den = counted["num"].to_numpy(dtype=float), counted["den"].to_numpy(dtype=float)
    return bool(np.all((num >= 0) & (num <= den)))


def _tidy(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Columns in reading order (period, segment, anchor, ids, figures, flags), oldest first."""
    out = out.rename(columns=RENAME)
    first = [c for c in (*keys, "anchor") if c in out.columns]
    figures = [c for c in ("numerator", "denominator", "value", "outcome", "excluded",
                           "preliminary") if c in out.columns]
    rest = [c for c in out.columns if c not in first and c not in figures]
    out = out[first + rest + figures]
    if "anchor" in out.columns:
        out = out.sort_values("anchor", kind="stable", na_position="last")
    return out.reset_index(drop=True)

