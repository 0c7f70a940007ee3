"""``kpilib.compute``, ``kpilib.facts`` and ``kpilib.list_facts`` (``list_kpis`` is the registry's).

compute = for each requested KPI: check its tables, ask it for observations in a shared
:class:`~kpilib.context.Context`, reduce them with :func:`kpilib.aggregate.aggregate`, and
stack the results in a fixed order, so identical input gives identical output.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from kpilib import asof as asof_view
from kpilib import keys, periods, registry
from kpilib.aggregate import aggregate, empty_result, result_columns
from kpilib.context import FACTS, Context
from kpilib.errors import ParameterError
from kpilib.fact_tables.population import fake_order_conditions

# Dimensions beyond the standard ones that some KPIs offer (their breakdowns).
EXTRA_DIMS = ("cancel_initiator", "exception_type", "return_reason", "disposition",
              "age_bucket", "outcome", "severity", "zone", "picker", "planner",
              "forecast_version", "count_program", "storage_zone")


def _known_dims() -> tuple[str, ...]:
    return registry.STANDARD_DIMS + EXTRA_DIMS


def make_context(
    ds,
    *,
    by: Iterable[str] | None = None,
    freq: str | None = None,
    start=None,
    end=None,
    as_of=None,
    params: dict[str, Any] | None = None,
    tz: str = "UTC",
) -> Context:
    """Validate arguments and build the evaluation context (restricting data to ``as_of``)."""
    by = tuple(by or ())
    bad = [d for d in by if d not in _known_dims()]
    if bad:
        raise ParameterError(f"unknown segment dimension(s) {bad}; valid: {list(_known_dims())}")
    if len(set(by)) != len(by):
        raise ParameterError(f"segment dimensions repeat: {list(by)}")
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
    source, id_keys = keys.encode(ds)
    ds = asof_view.restrict(source, as_of) if as_of < data_as_of else source
    return Context(ds=ds, as_of=as_of, by=by, freq=freq, tz=tz, start=start, end=end,
                   params=registry.resolve_params(params), source=source, keys=id_keys)


def compute(
    ds,
    kpis: str | list[str] = "all",
    by: Iterable[str] | None = None,
    freq: str | None = None,
    start=None,
    end=None,
    as_of=None,
    params: dict[str, Any] | None = None,
    tz: str = "UTC",
    role: str | None = None,
) -> pd.DataFrame:
    """Compute KPIs as one tidy DataFrame, one row per (kpi, period, segment) (api.md).

    Parameters
    ----------
    ds : Dataset
    kpis : KPI ids, domain names ("order", "fulfillment", "inventory", "forecast",
        "leading") or "all".
    by : segment dimensions (channel, node, supplier, product_class, fulfillment_model,
        carrier, service_level, sku, abc_class, xyz_class, and KPI-specific breakdowns).
    freq : None (one value for the window), "D", "W", "M" or "Q".
    start, end : half-open window on each KPI's anchor event.
    as_of : evaluation time (default ``ds.data_as_of``); later events are ignored.
    params : flat options (``kpilib.registry.PARAMS``); unknown names are an error.
    tz : reporting time zone for period bucketing.
    role : if given (and ``kpis`` is "all"), only that role's KPIs (packaged roles.yaml).

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
                       params=params, tz=tz)
    parts = [compute_one(registry.KPIS[i], ctx) for i in ids]
    if not parts:
        return pd.DataFrame(columns=result_columns(ctx.by))
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=result_columns(ctx.by))
    return out.reset_index(drop=True)


def compute_one(kdef: registry.KpiDef, ctx: Context) -> pd.DataFrame:
    """One KPI in a prepared context: ``unavailable`` / unsupported cut, or its results."""
    missing = [t for t in kdef.required_tables if not ctx.has(t)]
    if missing:
        return empty_result(kdef, ctx, "unavailable", f"needs table(s): {', '.join(missing)}")
    unrecorded = [r for r in kdef.requires
                  if not ctx.memo(f"_recorded:{r}", lambda r=r: recorded(ctx, r))]
    if unrecorded:
        return empty_result(kdef, ctx, "unavailable",
                            f"not recorded in this data: {', '.join(unrecorded)}")
    unsupported = [d for d in ctx.by if d not in kdef.dims]
    if unsupported:
        return empty_result(kdef, ctx, "unavailable",
                            f"cannot be cut by {', '.join(unsupported)}")
    obs = kdef.func(ctx)
    return aggregate(obs, kdef, ctx)


def recorded(ctx: Context, requirement: str) -> bool:
    """Whether ``"table.column"`` has any value, or ``"table.column=value"`` occurs, anywhere
    in the source data (capture is a property of the source, so the whole dataset counts,
    not only what was known at ``as_of``), in rows of real orders (rows of test, fraud and
    duplicate orders prove nothing about capture)."""
    where, _, value = requirement.partition("=")
    table, _, column = where.partition(".")
    source = ctx.source if ctx.source is not None else ctx.ds
    frame = source.tables.get(table)
    if frame is None or column not in frame.columns:
        return False
    hit = frame[column].eq(value) if value else frame[column].notna()
    if "order_id" in frame.columns and hit.any():
        hit &= ~frame["order_id"].isin(ctx.memo("_fake_order_ids", lambda: _fake_orders(source)))
    return bool(hit.any())


def _fake_orders(source) -> pd.Series:
    """Ids of test, fraud and duplicate orders in the whole source (population's rule)."""
    o = source.orders
    return o.loc[np.logical_or.reduce(fake_order_conditions(o)), "order_id"]


def facts(ds, name: str, as_of=None, params: dict[str, Any] | None = None,
          by: Iterable[str] | None = None) -> pd.DataFrame:
    """The entity-level fact table ``name`` (one row per order, line, shipment...).

    These are the records behind the KPIs, for drill-down. ``by`` adds segment columns where
    the fact supports them. Call ``kpilib.list_facts()`` for the names.
    """
    registry.load_all()
    if name not in FACTS:
        raise ParameterError(f"unknown fact table {name!r}; known: {sorted(FACTS)}")
    ctx = make_context(ds, as_of=as_of, params=params, by=by)
    missing = [t for t in FACTS[name].tables if not ctx.has(t)]
    if missing:
        raise ParameterError(f"fact table {name!r} needs table(s) absent here: {missing}")
    return ctx.keys.decode(ctx.fact(name)).copy()


def list_facts() -> pd.DataFrame:
    """Registered fact tables: name, grain, required tables, description."""
    registry.load_all()
    return pd.DataFrame(
        [{"name": f.name, "grain": f.grain, "tables": list(f.tables), "description": f.doc}
         for f in sorted(FACTS.values(), key=lambda f: f.name)],
        columns=["name", "grain", "tables", "description"])
