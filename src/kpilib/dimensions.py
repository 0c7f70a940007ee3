"""Extra segment dimensions: a dataset's own columns on ``orders``, ``products`` or ``nodes``.

A dataset declares them as ``{dimension: table}`` (``Dataset.dimensions``), from a
``dataset.json`` beside the tables (``{"dimensions": {"orders": ["market", "region"]}}``), the
``dimensions=`` argument of the loaders, or a mapping file. Each one is cut and filtered
exactly like the standard dimension of its table, its *host*: an ``orders`` column like
``channel`` (a record goes to the segment of its order), a ``products`` column like
``product_class`` (a record goes to the segment of its SKU), a ``nodes`` column like ``node``
(a record goes to the segment of its node). They work wherever a dimension does: ``by=``,
``filters=``, ``kpilib.drill`` segments, report filters and ``--per``, the explorer.

Rule for ``orders`` and ``products``: computing by extra dimensions ``E`` of host ``h`` =
computing by ``h`` on the dataset whose ``h`` column holds the tuple (``h`` if asked, then
``E``) of each row, and splitting that tuple back into columns. Filters on a table's
dimensions keep the table's rows matching them all: the others' ``h`` reads :data:`OUT`, and
the engine filters ``h`` on the values of the matching rows (:data:`IN` when nothing of the
table is cut). So the KPIs need no code of their own, a filter on ``market`` gives exactly the
``market`` segment of ``by``, and a KPI that cannot be cut by ``h`` cannot be cut or filtered
by ``E`` either (``unavailable``). A null value is the segment ``(unknown)`` and matches no
filter.

``nodes``: ``node`` is the node id, which the tables join on, so the table is left alone and
each record's ``node`` is relabelled by the same tuple rule before the engine buckets it
(:meth:`Plan.derive`; a node the table lacks is ``(unknown)``). Records of several nodes then
meet in one segment, which suits records each counted once, but not a KPI reduced per node
(``kind="custom"``), an order or commit unit that counts once at each node that shipped it,
or a daily mean whose denominator counts each node's days: those are ``unavailable`` with
the reason (:meth:`Plan.refuses`).

Not offered: columns of ``order_lines`` (no standard dimension is a line's own column to
carry them) and of a suppliers table (the data model has none; ``supplier`` is the
``products.supplier_id``). With ``params={"abc_partition": "product_class"}`` a products
dimension in ``by`` also partitions the ABC classes by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kpilib.errors import ParameterError

HOSTS = {"orders": "channel", "products": "product_class", "nodes": "node"}
# tables whose host is their key: the records' host values are relabelled, not the table
KEYED = {"nodes": "node_id"}
SEP = "\x1f"
# grains whose records split into per-node sub-units when cut by node (an order, a commit unit)
SUB_UNIT_GRAINS = ("order", "commit unit")
UNKNOWN = "(unknown)"
# host values of rows a filter on their table keeps / drops, and of none (no row matches)
IN, OUT, NONE = SEP + "in", SEP + "out", SEP + "none"
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


def matches(values: pd.Series, wanted: Iterable[str]) -> np.ndarray:
    """Which of ``values`` are one of the filter values ``wanted`` (as text; null: none)."""
    return (values.notna() & values.astype(str).isin(list(wanted))).to_numpy()


@dataclass(frozen=True)
class Plan:
    """How a request's extra dimensions ride on their hosts' columns, and come back.

    ``by``: the requested cut; ``groups``: ``{host: requested dimensions its column holds}``
    (the cut); ``named``: ``{host: requested dimensions, cut or filtered, it stands for}``."""

    by: tuple[str, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    named: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    relabel: Mapping[str, tuple[pd.Series, bool]] = field(default_factory=dict)

    def refuses(self, kdef) -> str | None:
        """Why ``kdef`` cannot be cut or filtered by a relabelled host's dimensions (None
        when it can): its observations are already reduced per host value, or several
        records of one unit (an order's per-node sub-units) would meet in one segment."""
        for host in self.relabel:
            if host not in kdef.dims:
                continue
            names = ", ".join(d for d in self.named[host] if d != host)
            if kdef.kind == "custom":
                return f"reduced per {host}, so it cannot be cut or filtered by {names}"
            if "daily snapshot" in kdef.grain:
                return (f"its denominator counts the days of each {host}, so it cannot be cut "
                        f"or filtered by {names}")
            unit = kdef.grain.split(" (")[0]
            if unit in SUB_UNIT_GRAINS:
                return (f"its {unit}s count once at each {host} that shipped them, so it "
                        f"cannot be cut or filtered by {names}")
        return None

    def derive(self, obs: pd.DataFrame) -> pd.DataFrame:
        """Observations with each relabelled host column holding its requested tuple (or
        :data:`IN` / :data:`OUT` under a filter), looked up from the record's host value."""
        for host, (lookup, filtered) in self.relabel.items():
            if host not in obs.columns:
                continue
            ids = obs[host]
            out = ids.map(lookup)
            gone = out.isna()
            if gone.any():  # a host value the table lacks (or none): no filter matches it
                comps = self.groups.get(host, ())
                fill = pd.Series(OUT, index=ids.index) if filtered else _labels(
                    ids if comps and comps[0] == host else pd.Series(np.nan, index=ids.index))
                for _ in comps[1:] if not filtered else ():
                    fill = fill + SEP + UNKNOWN
                out = out.where(~gone, fill)
            obs = obs.assign(**{host: out.to_numpy(dtype=object)})
        return obs

    def split(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each host column split back into the dimensions it holds."""
        if not self.groups:
            return frame
        out = frame.copy(deep=False)
        for host, comps in self.groups.items():
            if host not in out.columns:
                continue
            k = len(comps)
            parts = out[host].astype(object).map(
                lambda v, k=k: v.split(SEP) if isinstance(v, str) and SEP in v else [v] * k)
            for i, c in enumerate(comps):
                out[c] = parts.map(lambda p, i=i: p[i])
            if host not in self.by:
                out = out.drop(columns=host)
        return out

    def columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A fact table's rows with the requested extra dimensions as columns: a host column
        that carried them reads its own value again, or goes when it was not asked for (a
        relabelled host, a key of its records, stays)."""
        if not self.groups:
            return frame
        split = self.split(self.derive(frame))
        out = frame.copy(deep=False)
        for host, comps in self.groups.items():
            if host not in out.columns:
                continue
            for c in comps:
                if c != host or host not in self.relabel:
                    out[c] = split[c].to_numpy()
            if host not in self.by and host not in self.relabel:
                out = out.drop(columns=host)
        return out

    def finish(self, res: pd.DataFrame) -> pd.DataFrame:
        """A result of the engine as the request reads it: extra dimensions as columns in
        ``by`` order, and notes naming them instead of their hosts."""
        if not self.named:
            return res
        res = self.split(res)
        if "note" in res.columns:
            res = res.copy()
            cut = res["note"].astype(str).str.startswith("cannot be cut")
            for host, names in self.named.items():
                res.loc[cut, "note"] = res.loc[cut, "note"].str.replace(
                    rf"\b{host}\b", ", ".join(names), regex=True)
        front = [c for c in res.columns if c in ("kpi", "period")]
        rest = [c for c in res.columns if c not in front and c not in self.by]
        return res[[*front, *[d for d in self.by if d in res.columns], *rest]]


def plan(ds, by: tuple[str, ...], filters: Mapping[str, tuple[str, ...]]
         ) -> tuple[object, tuple[str, ...], dict[str, tuple[str, ...]], Plan]:
    """(dataset, by and filters for the engine, :class:`Plan`) of a request.

    Cut: the host column holds the tuple of the requested dimensions of its table (the host
    first if asked). Filters on a table's dimensions (host or extra) keep its rows that match
    them all: the others' host column reads :data:`OUT`, and the engine keeps the host values
    of the matching rows (:data:`IN` when the table's dimensions are only filtered on).
    Without extra dimensions this is ``(ds, by, filters, Plan(by))``.
    """
    declared = getattr(ds, "dimensions", {}) or {}
    asked = tuple(dict.fromkeys((*by, *filters)))
    if not any(d in declared for d in asked):
        return ds, by, dict(filters), Plan(by)
    groups: dict[str, tuple[str, ...]] = {}
    named: dict[str, tuple[str, ...]] = {}
    relabel: dict[str, tuple[pd.Series, bool]] = {}
    frames = {}
    flt = dict(filters)
    for table, host in HOSTS.items():
        mine = [d for d in asked if declared.get(d) == table]
        if not mine:
            continue
        comps = tuple(([host] if host in by else []) + [d for d in by if d in mine])
        frame = ds.tables[table].copy(deep=False)
        column = {host: KEYED.get(table, host)}
        joined = pd.Series(IN, index=frame.index, dtype=object)
        if comps:
            joined = _labels(frame[column.get(comps[0], comps[0])])
            for c in comps[1:]:
                joined = joined + SEP + _labels(frame[c])
        conds = {d: flt.pop(d) for d in (host, *mine) if d in flt}
        if conds:
            hit = np.logical_and.reduce([matches(frame[column.get(d, d)], v)
                                         for d, v in conds.items()])
            joined = joined.where(hit, OUT)
            flt[host] = tuple(sorted(set(joined[hit]))) or (NONE,)
        if table in KEYED:
            keyed = pd.Series(joined.to_numpy(dtype=object), index=frame[KEYED[table]])
            relabel[host] = (keyed[~keyed.index.duplicated()], bool(conds))
        else:
            frame[host] = joined.to_numpy(dtype=object)
            frames[table] = frame
        if comps:
            groups[host] = comps
        named[host] = tuple(d for d in asked if d == host or d in mine)
    engine_by = tuple(dict.fromkeys(
        next((h for h, comps in groups.items() if d in comps), d) for d in by))
    return ds.replace(**frames), engine_by, flt, Plan(by, groups, named, relabel)
