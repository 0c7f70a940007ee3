"""``kpilib.compute``, ``kpilib.facts`` and ``kpilib.list_facts`` (``list_kpis`` is the registry's).

compute = for each requested KPI: check its tables, ask it for observations in a shared
:class:`~kpilib.context.Context`, reduce them with :func:`kpilib.aggregate.aggregate`, and
stack the results in a fixed order, so identical input gives identical output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kpilib import asof as asof_view
from kpilib import cuts, keys, periods, registry, segment_plan
from kpilib.aggregate import aggregate, empty_result, result_columns
from kpilib.context import FACTS, Context
from kpilib.contracts.plausibility import MAX_TIME, MIN_TIME
from kpilib.errors import ParameterError
from kpilib.fact_tables.population import fake_orders


def _known_dims() -> tuple[str, ...]:
    return registry.STANDARD_DIMS + registry.BREAKDOWN_DIMS


def make_context(
    ds,
    *,
    by: str | Iterable[str] | None = None,
    freq: str | None = None,
    start=None,
    end=None,
    as_of=None,
    params: dict[str, Any] | None = None,
    tz: str = "UTC",
    filters: Mapping[str, Any] | None = None,
    allow_future_as_of: bool = False,
) -> Context:
    """Validate arguments and build the evaluation context (restricting data to ``as_of``).

    ``by`` is a dimension or a list of them; ``filters`` ``{dimension: value or [values]}``
    (see :mod:`kpilib.cuts`): its dimensions join ``ctx.by`` so the observations carry them,
    results are cut by ``ctx.group_by`` only, and a value unknown to the data is an error.
    The dataset's extra dimensions ride on their hosts' columns (``ctx.cut``, a
    :class:`kpilib.segment_plan.Plan`, turns results back: ``ctx.cut.finish``).
    ``as_of`` must lie in [MIN_TIME, MAX_TIME) of the contract and, unless
    ``allow_future_as_of``, not after ``ds.data_as_of`` (a later evaluation time ages every
    open order into a future nobody has observed).
    """
    by = cuts.as_dims(by)
    flt = cuts.normalize(filters)
    known = (*_known_dims(), *(getattr(ds, "dimensions", None) or {}))
    bad = [d for d in (*by, *flt) if d not in known]
    if bad:
        raise ParameterError(f"unknown segment dimension(s) {bad}; valid: {list(known)}")
    if len(set(by)) != len(by):
        raise ParameterError(f"segment dimensions repeat: {list(by)}")
    cuts.check_values(ds, flt)
    ds, by, flt, cut = segment_plan.plan(ds, by, flt)
    periods.check_freq(freq)
    try:
        pd.Timestamp("2024-01-01", tz=tz)
    except Exception as err:
        raise ParameterError(f"tz {tz!r} is not a known IANA time zone") from err
    start, end = periods.to_utc(start, "start"), periods.to_utc(end, "end")
    if start is not None and end is not None and end <= start:
        raise ParameterError(f"end ({end}) must be after start ({start})")
    data_as_of = ds.data_as_of
    as_of = periods.to_utc(as_of, "as_of") if as_of is not None else data_as_of
    check_as_of(as_of, data_as_of, allow_future_as_of)
    source, id_keys = keys.encode(ds)
    ds = asof_view.restrict(source, as_of) if as_of < data_as_of else source
    carried = tuple(d for d in (*by, *(d for d in flt if d not in by)) if d not in cut.lines)
    return Context(ds=ds, as_of=as_of, by=carried, freq=freq, tz=tz, start=start, end=end,
                   params=registry.resolve_params(params), source=source, keys=id_keys,
                   filters=flt, result_by=by, cut=cut)


def check_as_of(as_of: pd.Timestamp, data_as_of: pd.Timestamp, allow_future: bool) -> None:
    """Raise :class:`ParameterError` for an ``as_of`` kpilib cannot or should not evaluate at."""
    if not (MIN_TIME <= as_of < MAX_TIME):
        raise ParameterError(f"as_of {as_of.isoformat()} is outside {MIN_TIME.year}-"
                             f"{MAX_TIME.year}, the range kpilib computes with")
    if not allow_future and pd.notna(data_as_of) and as_of > data_as_of:
        raise ParameterError(
            f"as_of {as_of.isoformat()} is after the data's end ({data_as_of.isoformat()}); "
            "open orders would age into an unobserved future. Use an earlier as_of, or pass "
            "--allow-future-as-of (Python: allow_future_as_of=True) to evaluate anyway")


def future_note(as_of: pd.Timestamp, data_as_of: pd.Timestamp) -> str:
    """The note a result evaluated after the data's end carries ("" when it is not)."""
    if pd.isna(data_as_of) or as_of <= data_as_of:
        return ""
    return (f"as_of {as_of.isoformat()} is after the data's end {data_as_of.isoformat()} "
            "(allow_future_as_of): nothing was observed in between")


def compute(
    ds,
    kpis: str | list[str] = "all",
    by: str | Iterable[str] | None = None,
    freq: str | None = None,
    start=None,
    end=None,
    as_of=None,
    params: dict[str, Any] | None = None,
    tz: str = "UTC",
    role: str | None = None,
    filters: Mapping[str, Any] | None = None,
    allow_future_as_of: bool = False,
) -> pd.DataFrame:
    """Compute KPIs as one tidy DataFrame, one row per (kpi, period, segment) (api.md).

    Parameters
    ----------
    ds : Dataset
    kpis : KPI ids, domain names ("order", "fulfillment", "inventory", "forecast",
        "leading") or "all".
    by : a segment dimension or a list of them (channel, node, supplier, product_class,
        fulfillment_model, carrier, service_level, sku, abc_class, xyz_class, and
        KPI-specific breakdowns, and the dataset's extra dimensions ``ds.dimensions``, see
        :mod:`kpilib.dimensions`).
    freq : None (one value for the window), "D", "W", "M" or "Q".
    start, end : half-open window on each KPI's anchor event.
    as_of : evaluation time (default ``ds.data_as_of``); later events are ignored.
    params : flat KPI options (each KPI's in docs/kpis.md); unknown names are an error.
    tz : reporting time zone for period bucketing.
    role : if given (and ``kpis`` is "all"), only that role's KPIs (packaged roles.yaml).
    filters : ``{dimension: value or [values]}``, e.g. ``{"channel": ["web"], "node":
        "DC-2"}``: only the records of those segment values count (same attribution as
        ``by``; the dataset's extra dimensions too). A value the data does not have is an
        error naming the closest valid ones.
        A KPI that cannot be cut by a filtered dimension is ``unavailable``.
    allow_future_as_of : accept an ``as_of`` after ``ds.data_as_of``; every result row's
        ``note`` then says so. By default (``False``) such an ``as_of`` raises
        ``ParameterError`` naming the data's end, as the CLI does without
        ``--allow-future-as-of``. An ``as_of`` equal to the data's end is always accepted.

    Returns
    -------
    DataFrame with columns kpi, period, <by...>, value, numerator, denominator, n, p50, p90,
    status, unit, excluded (JSON reason counts), note.
    """
    if role is not None:
        from kpilib.roles import kpis_for_role

        role_ids = kpis_for_role(role)
        kpis = role_ids if kpis == "all" else [k for k in registry.resolve(kpis)
                                               if k in role_ids]
    ids = registry.resolve(kpis)
    ctx = make_context(ds, by=by, freq=freq, start=start, end=end, as_of=as_of,
                       params=params, tz=tz, filters=filters,
                       allow_future_as_of=allow_future_as_of)
    return compute_in(ctx, ids, ds, filters)


def compute_in(ctx: Context, ids: list[str], ds, filters: Mapping[str, Any] | None = None,
               observe: Callable[[registry.KpiDef, pd.DataFrame], None] | None = None
               ) -> pd.DataFrame:
    """The body of :func:`compute` in a prepared context ``ctx`` (of dataset ``ds``) for the
    resolved KPI ids ``ids``; ``observe(kdef, obs)`` sees each KPI's observations."""
    seen: dict[str, set] = {}
    parts = []
    for i in ids:
        obs = observations(registry.KPIS[i], ctx)
        if observe is not None and not isinstance(obs, str):
            observe(registry.KPIS[i], obs)
        parts.append(compute_one(registry.KPIS[i], ctx, seen, obs))
    cuts.check_values(ds, cuts.normalize(filters), seen)  # breakdowns: the values observed
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=result_columns(ctx.group_by))
    note = future_note(ctx.as_of, ds.data_as_of)
    if note and len(out):
        old = out["note"].fillna("").astype(str)
        out["note"] = np.where(old == "", note, old + "; " + note)
    return ctx.cut.finish(out.reset_index(drop=True))


def compute_one(kdef: registry.KpiDef, ctx: Context, seen: dict[str, set] | None = None,
                obs: pd.DataFrame | str | None = None) -> pd.DataFrame:
    """One KPI in a prepared context: ``unavailable`` / unsupported cut, or its results.

    ``seen`` collects, per filtered dimension, the values its observations had (to check
    filter values of KPI-specific breakdowns, which no table lists); ``obs`` are the KPI's
    :func:`observations` in ``ctx`` when the caller already has them."""
    obs = observations(kdef, ctx) if obs is None else obs
    if isinstance(obs, str):
        return empty_result(kdef, ctx, "unavailable", obs)
    if seen is not None:
        for d in ctx.filters:
            if d in obs.columns:  # (a line column is read off the lines when bucketing)
                seen.setdefault(d, set()).update(str(v) for v in pd.unique(obs[d].dropna()))
    return aggregate(obs, kdef, ctx)


# Requirements that are not a table column, in the words a reader of the note needs.
REQUIREMENT_WORDS = {"capture:delivery_events": "delivery scans (delivery_events: none)"}


def observations(kdef: registry.KpiDef, ctx: Context) -> pd.DataFrame | str:
    """The KPI's observations in ``ctx``, or a sentence saying why it has none here."""
    missing = [t for t in kdef.required_tables if not ctx.has(t)]
    if missing:
        return f"needs table(s): {', '.join(missing)}"
    unrecorded = [r for r in kdef.requires
                  if not ctx.memo(f"_recorded:{r}", lambda r=r: recorded(ctx, r))]
    if unrecorded:
        return ("not recorded in this data: "
                + ", ".join(REQUIREMENT_WORDS.get(r, r) for r in unrecorded))
    unsupported = [d for d in ctx.by if d not in kdef.dims]
    if unsupported:
        verb = "cut" if all(d in ctx.group_by for d in unsupported) else "cut or filtered"
        return f"cannot be {verb} by {', '.join(unsupported)}"
    refused = ctx.cut.refuses(kdef) or ctx.cut.refuses_lines(kdef) \
        if ctx.cut is not None else None
    if refused:
        return refused
    pooled = [d for d, v in ctx.filters.items() if len(v) > 1 and d not in ctx.group_by]
    if kdef.kind == "custom" and pooled:
        return (f"reduced per {', '.join(pooled)} value, so several values cannot be pooled: "
                f"filter on one value or cut by {', '.join(pooled)}")
    obs = kdef.func(ctx)
    refused = ctx.cut.refuses_lines(kdef, obs) if ctx.cut is not None else None
    return refused or obs


def recorded(ctx: Context, requirement: str) -> bool:
    """Whether ``"table.column"`` has any value, or ``"table.column=value"`` occurs, anywhere
    in the source data (capture is a property of the source, so the whole dataset counts,
    not only what was known at ``as_of``), in rows of real orders (rows of test, fraud and
    duplicate orders prove nothing about capture). ``"capture:delivery_events"`` is false only
    for a dataset declared without delivery scans (``Dataset.delivery_events == "none"``).
    A column the source lacked, filled with its default (``Dataset.defaulted``), is not
    recorded."""
    source = ctx.source if ctx.source is not None else ctx.ds
    if requirement == "capture:delivery_events":
        return getattr(source, "delivery_events", "scan") != "none"
    where, _, value = requirement.partition("=")
    if where in getattr(source, "defaulted", {}):
        return False
    table, _, column = where.partition(".")
    frame = source.tables.get(table)
    if frame is None or column not in frame.columns:
        return False
    hit = frame[column].eq(value) if value else frame[column].notna()
    if "order_id" in frame.columns and hit.any():
        hit &= ~frame["order_id"].isin(fake_orders(ctx))
    return bool(hit.any())


def facts(ds, name: str, as_of=None, params: dict[str, Any] | None = None,
          by: str | Iterable[str] | None = None, *,
          allow_future_as_of: bool = False) -> pd.DataFrame:
    """The entity-level fact table ``name`` (one row per order, line, shipment...).

    These are the records behind the KPIs, for drill-down. ``by`` adds segment columns where
    the fact supports them; ``as_of`` and ``allow_future_as_of`` are those of ``compute``.
    Call ``kpilib.list_facts()`` for the names.
    """
    registry.load_all()
    if name not in FACTS:
        raise ParameterError(f"unknown fact table {name!r}; known: {sorted(FACTS)}")
    ctx = make_context(ds, as_of=as_of, params=params, by=by,
                       allow_future_as_of=allow_future_as_of)
    missing = [t for t in FACTS[name].tables if not ctx.has(t)]
    if missing:
        raise ParameterError(f"fact table {name!r} needs table(s) absent here: {missing}")
    out = ctx.fact(name) if ctx.cut is None else ctx.cut.columns(ctx.fact(name), ctx.ds)
    return ctx.keys.decode(out).copy()


def list_facts() -> pd.DataFrame:
    """Registered fact tables: name, grain, required tables, description."""
    registry.load_all()
    return pd.DataFrame(
        [{"name": f.name, "grain": f.grain, "tables": list(f.tables), "description": f.doc}
         for f in sorted(FACTS.values(), key=lambda f: f.name)],
        columns=["name", "grain", "tables", "description"])
