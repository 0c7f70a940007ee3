"""How a request with extra dimensions (:mod:`kpilib.dimensions`) reaches the engine: ``plan``.

:func:`plan` turns ``by`` and ``filters`` into the engine's (hosts' columns, relabelled
records, line columns) and gives the :class:`Plan` that turns results back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kpilib.dimensions import HOSTS, IN, KEYED, LINES, NONE, OUT, SEP, SUB_UNIT_GRAINS, UNKNOWN


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
    lines: tuple[str, ...] = ()  # order_lines columns asked for: read off each record's line

    def refuses_lines(self, kdef, obs: pd.DataFrame | None = None) -> str | None:
        """Why ``kdef`` cannot be cut or filtered by line columns (None when it can): its
        records are not each of one order (it cannot be cut by ``channel``), or some of them
        (``obs``, when given) are not order lines or parts of one (no ``order_line_id``), so
        they have no line value."""
        if not self.lines:
            return None
        names = ", ".join(self.lines)
        unlined = obs is not None and (
            "order_line_id" not in obs.columns or obs["order_line_id"].isna().any())
        if kdef.kind == "custom" or kdef.grain.split(" (")[0] in SUB_UNIT_GRAINS or (
                "channel" not in kdef.dims) or unlined:
            return f"its records ({kdef.grain}) are not all order lines, so it cannot be cut " \
                   f"or filtered by {names}"
        return None

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

    def derive(self, obs: pd.DataFrame, ds=None) -> pd.DataFrame:
        """Observations with each relabelled host column holding its requested tuple (or
        :data:`IN` / :data:`OUT` under a filter), looked up from the record's host value, and
        each asked line column read off the record's line in ``ds`` (``(unknown)`` if null)."""
        if self.lines and ds is not None and "order_line_id" in obs.columns:
            lines = ds.tables[LINES].drop_duplicates("order_line_id").set_index("order_line_id")
            obs = obs.assign(**{d: _labels(obs["order_line_id"].map(lines[d])).to_numpy()
                                for d in self.lines})
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

    def columns(self, frame: pd.DataFrame, ds=None) -> pd.DataFrame:
        """A fact table's rows (engine ids, lines of ``ds``) with the requested extra
        dimensions as columns: a host column that carried them reads its own value again, or
        goes when it was not asked for (a relabelled host, a key of its records, stays)."""
        if not self.groups and not self.lines:
            return frame
        derived = self.derive(frame, ds)
        split = self.split(derived)
        out = frame.copy(deep=False)
        for d in self.lines:
            if d in self.by and d in derived.columns:
                out[d] = derived[d].to_numpy()
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
    lines = tuple(d for d in asked if declared.get(d) == LINES)
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
    return ds.replace(**frames), engine_by, flt, Plan(by, groups, named, relabel, lines)
