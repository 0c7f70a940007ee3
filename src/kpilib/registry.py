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

from kpilib.errors import ParameterError, UnknownKpiError

DOMAINS = ("order", "fulfillment", "inventory", "forecast", "leading")
KINDS = ("rate", "ratio", "mean", "sum", "custom")
DIRECTIONS = ("higher", "lower", "target", "none")

# Dimensions every segmentable KPI may be cut by (api.md); KPIs declare which they support.
ORDER_DIMS = ("channel", "node", "supplier", "product_class", "fulfillment_model", "sku",
              "abc_class", "xyz_class")
SHIP_DIMS = ("carrier", "service_level")
STANDARD_DIMS = ORDER_DIMS + SHIP_DIMS

KPI_MODULES = tuple(f"kpilib.kpis.{m}" for m in (
    "orders", "fill", "order_flow", "order_handling", "exceptions",  # domain A
    "fulfillment", "warehouse", "costs", "returns",          # domain B
    "inventory", "stock", "ageing", "counts",                # domain C
    "forecast",                                              # domain D
    "leading", "replenishment",                              # domain E
))
# Modules that register fact tables or params used as segments (imported with the KPIs).
SUPPORT_MODULES = ("kpilib.classes",)


@dataclass(frozen=True)
class KpiDef:
    """Metadata of one KPI plus the function that yields its observations."""

    id: str
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


@dataclass(frozen=True)
class ParamDef:
    """A flat ``params`` option (kpi-spec §11.16) with its default and meaning."""

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
     "(None = each KPI's own window, §11.2)"),
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
        KPIS[id] = KpiDef(id, name, domain, unit, direction, grain, kind, tuple(tables),
                          tuple(dims), tuple(params), " ".join(doc.split()), func, snapshot,
                          tuple(requires))
        return func

    return deco


_loaded = False


def load_all() -> dict[str, KpiDef]:
    """Import every KPI module (once) and return the registry."""
    global _loaded
    if not _loaded:
        for mod in SUPPORT_MODULES + KPI_MODULES:
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as err:
                if err.name != mod:
                    raise
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
    """All registered KPIs: id, name, domain, unit, direction, grain, required_tables,
    description (the formula in words), plus kind, dims and params."""
    rows = [
        {
            "id": d.id, "name": d.name, "domain": d.domain, "unit": d.unit,
            "direction": d.direction, "grain": d.grain,
            "required_tables": list(d.required_tables), "description": d.description,
            "kind": d.kind, "dims": list(d.dims), "params": list(d.params),
        }
        for d in load_all().values()
    ]
    cols = ["id", "name", "domain", "unit", "direction", "grain", "required_tables",
            "description", "kind", "dims", "params"]
    order = {d: i for i, d in enumerate(DOMAINS)}
    df = pd.DataFrame(rows, columns=cols)
    if len(df):
        df = df.sort_values(["domain", "id"], key=lambda s: s.map(order) if s.name == "domain"
                            else s, kind="stable").reset_index(drop=True)
    return df
