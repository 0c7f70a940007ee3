"""Extra segment dimensions: a dataset's own columns on ``orders`` or ``products``.

A dataset declares them as ``{dimension: table}`` (``Dataset.dimensions``), from a
``dataset.json`` beside the tables (``{"dimensions": {"orders": ["market", "region"]}}``), the
``dimensions=`` argument of the loaders, or a mapping file. Each one is cut exactly like the
standard dimension of its table, its *host*: an ``orders`` column like ``channel`` (a record
goes to the segment of its order), a ``products`` column like ``product_class`` (a record goes
to the segment of its SKU).

Rule: computing by extra dimensions ``E`` of host ``h`` = computing by ``h`` on the dataset
whose ``h`` column holds the tuple (``h`` if asked, then ``E``) of each row, and splitting that
tuple back into columns. The KPIs therefore need no code of their own for extra dimensions,
and a KPI that cannot be cut by ``h`` cannot be cut by them either (``unavailable``). A null
value is the segment ``(unknown)``.

Not offered: columns of ``order_lines``, ``nodes`` or ``suppliers`` (there is no host to
borrow: ``node`` is the node id itself, ``fulfillment_model`` drives pickup logic).
With ``params={"abc_partition": "product_class"}`` a products dimension in ``by`` also
partitions the ABC classes by it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from kpilib.errors import ParameterError

HOSTS = {"orders": "channel", "products": "product_class"}
SEP = "\x1f"
UNKNOWN = "(unknown)"
DECLARATION_FILE = "dataset.json"


def read_declaration(folder: str | Path) -> dict[str, str]:
    """``{dimension: table}`` from ``folder/dataset.json`` (empty when the file is absent)."""
    path = Path(folder) / DECLARATION_FILE
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ParameterError(f"{path}: cannot be read as JSON: {err}") from err
    return from_tables(doc.get("dimensions", {}) if isinstance(doc, dict) else None, str(path))


def read_events(folder: str | Path) -> str:
    """``delivery_events`` of ``folder/dataset.json``: ``"scan"`` (default) or ``"none"``."""
    path = Path(folder) / DECLARATION_FILE
    if not path.is_file():
        return "scan"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return check_events(doc.get("delivery_events", "scan") if isinstance(doc, dict) else "scan")


def check_events(value: object) -> str:
    """``value`` if it is ``"scan"`` or ``"none"``, else a ``ParameterError``."""
    if value not in ("scan", "none"):
        raise ParameterError(f"delivery_events: {value!r} is not 'scan' or 'none'")
    return str(value)


def from_tables(by_table: object, where: str = "dimensions") -> dict[str, str]:
    """``{"orders": ["market"]}`` -> ``{"market": "orders"}``, with a clear error otherwise."""
    if not isinstance(by_table, Mapping) or not all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in by_table.values()):
        raise ParameterError(f"{where}: give {{table: [column, ...]}}, for example "
                             '{"orders": ["market", "region"]}')
    return {col: table for table, cols in by_table.items() for col in cols}


def to_tables(dims: Mapping[str, str]) -> dict[str, list[str]]:
    """The inverse of :func:`from_tables` (what ``dataset.json`` stores)."""
    out: dict[str, list[str]] = {}
    for col, table in dims.items():
        out.setdefault(table, []).append(col)
    return out


def check(dims: Mapping[str, str], tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Validated ``{dimension: table}``: a host table, a non-schema column present there, a
    name that is not already a dimension. Raises :class:`ParameterError` naming the problem."""
    from kpilib import registry, schema

    problems = []
    for col, table in dims.items():
        if table not in HOSTS:
            problems.append(f"{col!r}: table {table!r} cannot carry extra dimensions; use "
                            f"{sorted(HOSTS)}")
        elif col in registry.BREAKDOWN_DIMS or col in registry.STANDARD_DIMS:
            problems.append(f"{col!r} is already a dimension of kpilib; rename the column")
        elif col in schema.TABLES[table].column_names:
            problems.append(f"{table}.{col} is a column of the data model, not an extra one")
        elif tables.get(table) is None or col not in tables[table].columns:
            problems.append(f"{table}.{col} is declared as a dimension but the column is absent")
        elif SEP in col:
            problems.append(f"{col!r}: a dimension name cannot contain the unit separator")
    if problems:
        raise ParameterError("invalid extra dimensions:\n  - " + "\n  - ".join(problems))
    return dict(dims)


def _labels(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), UNKNOWN).astype(str)


def plan(ds, by: Iterable[str] | None) -> tuple[object, tuple[str, ...] | None, Callable]:
    """(dataset, by for the engine, ``finish(result) -> result``) for a request ``by``.

    Without extra dimensions in ``by`` this is ``(ds, by, identity)``.
    """
    if by is None:
        return ds, by, _same
    by = (by,) if isinstance(by, str) else tuple(by)
    declared = getattr(ds, "dimensions", {}) or {}
    if not any(d in declared for d in by):
        return ds, by, _same
    groups: dict[str, list[str]] = {}
    frames = {}
    for table, host in HOSTS.items():
        mine = [d for d in by if declared.get(d) == table]
        if not mine:
            continue
        comps = ([host] if host in by else []) + mine
        frame = ds.tables[table].copy(deep=False)
        parts = [_labels(frame[c]) for c in comps]
        joined = parts[0]
        for p in parts[1:]:
            joined = joined + SEP + p
        frame[host] = joined.to_numpy(dtype=object)
        frames[table] = frame
        groups[host] = comps
    engine_by = tuple(dict.fromkeys(
        next((h for h, comps in groups.items() if d in comps), d) for d in by))

    def finish(res: pd.DataFrame) -> pd.DataFrame:
        res = res.copy()
        for host, comps in groups.items():
            if host not in res.columns:
                continue
            k = len(comps)
            split = res[host].astype(object).map(
                lambda v, k=k: v.split(SEP) if isinstance(v, str) and SEP in v else [v] * k)
            for i, c in enumerate(comps):
                res[c] = split.map(lambda parts, i=i: parts[i])
            if host not in by:
                res = res.drop(columns=host)
            if "note" in res.columns:
                cut = res["note"].astype(str).str.startswith("cannot be cut by")
                res.loc[cut, "note"] = res.loc[cut, "note"].str.replace(
                    host, ", ".join(comps), regex=False)
        front = [c for c in res.columns if c in ("kpi", "period")]
        rest = [c for c in res.columns if c not in front and c not in by]
        return res[[*front, *[d for d in by if d in res.columns], *rest]]

    return ds.replace(**frames), engine_by, finish


def _same(res: pd.DataFrame) -> pd.DataFrame:
    return res
