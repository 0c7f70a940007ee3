"""The KPI registry: one entry per KPI id with its metadata and the function computing it.

A KPI module declares each KPI with the :func:`kpi` decorator. The decorated function takes a
:class:`kpilib.context.Context` and returns *observations*: one row per record of the KPI's
population (see :mod:`kpilib.aggregate` for the columns), which the engine buckets into periods
and segments and reduces to ``value``, ``numerator``, ``denominator``. Metadata lives here, not in
function signatures (style.md anchor 5).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpilib import schema
from kpilib.errors import ParameterError, UnknownKpiError

DOMAINS = ("order", "fulfillment", "inventory", "forecast", "leading")
KINDS = ("rate", "ratio", "mean", "sum", "custom")
DIRECTIONS = ("higher", "lower", "target", "none")

# Dimensions every segmentable KPI may be cut by (api.md); KPIs declare which they support.
ORDER_DIMS = ("channel", "node", "supplier", "product_class", "fulfillment_model", "sku",
              "abc_class", "xyz_class")
SHIP_DIMS = ("carrier", "service_level")
STANDARD_DIMS = ORDER_DIMS + SHIP_DIMS
# Dimensions beyond the standard ones that some KPIs offer (their breakdowns).
BREAKDOWN_DIMS = ("cancel_initiator", "exception_type", "return_reason", "disposition",
                  "age_bucket", "outcome", "severity", "zone", "picker", "planner",
                  "forecast_version", "count_program", "storage_zone")

# KPI modules, one subpackage per domain, in the order of the codes they define.
KPI_MODULES = tuple(f"kpilib.kpis.{m}" for m in (
    "a_order.perfect_order", "a_order.fill", "a_order.cycle_time_cancellation",
    "a_order.release", "a_order.split_touches", "a_order.exceptions",
    "b_fulfillment.shipping", "b_fulfillment.picking", "b_fulfillment.receiving",
    "b_fulfillment.capacity", "b_fulfillment.costs", "b_fulfillment.returns",
    "c_inventory.turnover_sell_through", "c_inventory.stock", "c_inventory.ageing",
    "c_inventory.counts",
    "d_forecast.forecast_error",
    "e_leading.exception_queue", "e_leading.allocation", "e_leading.replenishment",
    "e_leading.wave_backlog", "e_leading.rma_delay",
))
# Modules that register fact tables (kpilib.facts(ds, name)) and their params.
FACT_MODULES = tuple(f"kpilib.fact_tables.{m}" for m in (
    "classes", "commit_units", "order_lines", "orders", "slices", "warehouse", "stock",
    "layers", "counts", "forecast_cells", "exceptions", "allocation", "replenishment", "rma",
))


@dataclass(frozen=True)
class KpiDef:
    """Metadata of one KPI plus the function that yields its observations."""

    id: str
    code: str
    name: str
    domain: str
    unit: str
    direction: str
    grain: str
    kind: str
    required_tables: tuple[str, ...]
    dims: tuple[str, ...]
    params: tuple[str, ...]
    description: str
    func: Callable[..., pd.DataFrame] = field(repr=False, compare=False)
    snapshot: bool = False
    requires: tuple[str, ...] = ()
    fact: str | None = None


@dataclass(frozen=True)
class ParamDef:
    """A flat ``params`` option with its default and meaning."""

    name: str
    default: Any
    doc: str


KPIS: dict[str, KpiDef] = {}
PARAMS: dict[str, ParamDef] = {}


def register_param(name: str, default: Any, doc: str) -> None:
    """Declare a ``params`` option; a second declaration must agree on the default."""
    old = PARAMS.get(name)
    if old is not None and old.default != default:
        raise ValueError(
            f"param {name!r} declared twice with defaults {old.default!r}, {default!r}")
    PARAMS[name] = ParamDef(name, default, doc)


for _name, _default, _doc in (
    ("maturity_days", None, "days after delivery before evidence-based KPIs are final "
     "(None = each KPI's own window)"),
    ("tol_units", 0.0, "in-full tolerance in units per line (A2)"),
    ("early_tolerance_hours", None, "early deliveries beyond this many hours are not on time"),
    ("count_failed_attempt_by_customer", False, "A3: failed attempt by customer counts as "
     "delivery at first_delivery_attempt_at"),
    ("cohort", "due", "A1-A6 anchor: 'due' (deadline) or 'delivered' (final delivery)"),
    ("commit_basis", "original", "promise basis: 'original', 'current' or 'requested'"),
    ("exclude_customer_requested", True, "A14: count splits on commit units"),
    ("dos_window_days", 28, "C2 trailing demand window in days"),
    ("dos_horizon_days", 28, "C2 forward horizon in days"),
    ("aging_buckets", (30, 60, 90), "C3 inclusive upper bounds of the age buckets (days)"),
    ("xyz_min_periods", 6, "C9 minimum active periods before a SKU is classified"),
    ("ts_window", 12, "D8 tracking-signal window (periods)"),
    ("ts_limit", 4.0, "D8 alert limit in MADs"),
    ("forecast_lag", 1, "D forecasts must be made at least this many periods before target"),
    ("error_level", "sku_node_week", "D cell level"),
    ("include_transfers", False, "B7: count transfer shipments in the denominator"),
):
    register_param(_name, _default, _doc)


def kpi(
    id: str,
    *,
    code: str,
    fact: str | None,
    name: str,
    domain: str,
    unit: str,
    direction: str,
    grain: str,
    kind: str,
    tables: tuple[str, ...],
    dims: tuple[str, ...] = (),
    params: tuple[str, ...] = (),
    snapshot: bool = False,
    description: str | None = None,
    requires: tuple[str, ...] = (),
) -> Callable:
    """Register the decorated observation function as KPI ``id``.

    ``code`` is the KPI's code in the reference ("A1" ... "E5"; companions and variants share
    their parent's code). ``fact`` names the fact table holding the KPI's records
    (``kpilib.facts(ds, fact)``), or None when no record-level fact exists.

    ``description`` defaults to the first paragraph of the function's docstring, which must
    open with the formula. ``requires`` lists data the KPI cannot do without beyond its
    tables, as ``"table.column"`` (not entirely null) or ``"table.column=value"`` (the value
    occurs at least once, e.g. ``"order_events.event_type=backordered"``): when it is not
    recorded anywhere, the KPI is ``unavailable`` instead of reporting a misleading 0 or 1.
    """
    if domain not in DOMAINS or kind not in KINDS or direction not in DIRECTIONS:
        raise ValueError(f"bad metadata for {id}: {domain=}, {kind=}, {direction=}")

    def deco(func: Callable) -> Callable:
        unknown = [p for p in params if p not in PARAMS]
        if unknown:
            raise ValueError(f"{id}: undeclared params {unknown}; call register_param first")
        doc = description or (func.__doc__ or "").strip().split("\n\n")[0]
        KPIS[id] = KpiDef(id, code, name, domain, unit, direction, grain, kind,
                          tuple(tables), tuple(dims), tuple(params), " ".join(doc.split()),
                          func, snapshot, tuple(requires), fact)
        return func

    return deco


_loaded = False


def load_all() -> dict[str, KpiDef]:
    """Import every fact and KPI module (once) and return the registry."""
    global _loaded
    if not _loaded:
        for mod in FACT_MODULES + KPI_MODULES:
            importlib.import_module(mod)
        _loaded = True
    return KPIS


def resolve(kpis: str | list[str] | tuple[str, ...]) -> list[str]:
    """Expand ids, domain names and 'all' into a list of KPI ids (registry order kept)."""
    registry = load_all()
    wanted = [kpis] if isinstance(kpis, str) else list(kpis)
    out: list[str] = []
    for item in wanted:
        if item == "all":
            ids = list(registry)
        elif item in DOMAINS:
            ids = [k for k, d in registry.items() if d.domain == item]
        elif item in registry:
            ids = [item]
        else:
            raise UnknownKpiError(item, sorted(registry))
        out.extend(i for i in ids if i not in out)
    return out


def requiring(requirement: str) -> list[str]:
    """Ids of the KPIs whose ``requires`` names ``requirement`` (registry order): the KPIs a
    source that does not record it reports ``unavailable``."""
    return [k for k, d in load_all().items() if requirement in d.requires]


def absent_note(table: str, column: str) -> str:
    """What leaving out ``table.column`` (``schema.ABSENT_DEFAULTS``) means: its default and
    the KPIs that then report ``unavailable``."""
    default = schema.ABSENT_DEFAULTS[(table, column)]
    filled = "left empty" if default is None else f"filled with {default!r}"
    ids = requiring(f"{table}.{column}")
    return (f"not in the source: {filled}; KPIs unavailable without it: "
            + (", ".join(ids) if ids else "none"))


def resolve_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with ``params``; an unknown name is an error naming the valid ones."""
    load_all()
    params = dict(params or {})
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ParameterError(
            f"unknown option(s) {unknown} in params; valid options: {sorted(PARAMS)}"
        )
    return {name: params.get(name, p.default) for name, p in PARAMS.items()}


def list_kpis() -> pd.DataFrame:
    """All registered KPIs: id, code, name, domain, unit, direction, grain, required_tables,
    description (the formula in words), plus kind, dims, params and fact (the fact table
    holding the KPI's records, None when there is none)."""
    rows = [
        {
            "id": d.id, "code": d.code, "name": d.name, "domain": d.domain, "unit": d.unit,
            "direction": d.direction, "grain": d.grain,
            "required_tables": list(d.required_tables), "description": d.description,
            "kind": d.kind, "dims": list(d.dims), "params": list(d.params),
            "fact": d.fact,
        }
        for d in load_all().values()
    ]
    cols = ["id", "code", "name", "domain", "unit", "direction", "grain", "required_tables",
            "description", "kind", "dims", "params", "fact"]
    order = {d: i for i, d in enumerate(DOMAINS)}
    df = pd.DataFrame(rows, columns=cols)
    if len(df):
        df = df.sort_values(["domain", "id"], key=lambda s: s.map(order) if s.name == "domain"
                            else s, kind="stable").reset_index(drop=True)
    return df
