"""What a KPI function sees: the dataset as of the evaluation time, options, and cached facts.

Fact builders are registered with :func:`fact` and computed at most once per ``Context``, so
KPIs that share a grain (all commit-unit KPIs, all order-line KPIs...) share one fact table.
``kpilib.facts(ds, name)`` exposes the same tables to analysts for drill-down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpilib import periods
from kpilib.errors import ParameterError


@dataclass(frozen=True)
class FactDef:
    """A named entity-level fact table: one row per entity with its segment attributes."""

    name: str
    grain: str
    tables: tuple[str, ...]
    builder: Callable[[Context], pd.DataFrame] = field(repr=False)
    doc: str = ""


FACTS: dict[str, FactDef] = {}


def fact(name: str, *, grain: str, tables: tuple[str, ...]) -> Callable:
    """Register a fact builder ``f(ctx) -> DataFrame`` under ``name``."""

    def deco(func: Callable) -> Callable:
        doc = " ".join((func.__doc__ or "").strip().split("\n\n")[0].split())
        FACTS[name] = FactDef(name, grain, tuple(tables), func, doc)
        return func

    return deco


# Facts of 1M orders peak at about 2.3 GB more than the data with this budget (issue 3
# benchmark: 7.8 GB in all), against 4.7 GB when everything stays cached, at no extra time.
CACHE_BYTES = 1024**3


def _nbytes(value: Any) -> int:
    """Memory of a cached frame, series or array (pointers only for text); 0 otherwise."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(np.sum(value.memory_usage(deep=False)))  # a Series gives one number
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, tuple | list):
        return sum(_nbytes(v) for v in value)
    return 0


@dataclass
class Context:
    """Evaluation context handed to every KPI and fact function.

    Attributes
    ----------
    ds : Dataset already restricted to what was known at ``as_of``.
    as_of : UTC evaluation time. Records whose anchor is later are pending.
    by : segment dimensions the observations carry, in order: those requested, then the
        filtered ones (``group_by`` is what results are cut by).
    filters : ``{dimension: (values...)}`` whose records alone count (:mod:`kpilib.cuts`).
    cut : the requested cut when it has extra dimensions (:class:`kpilib.segment_plan.Plan`:
        ``by`` and ``filters`` above are then its hosts'; ``cut.by`` is what was asked).
    freq, tz, start, end : period bucketing and the half-open anchor window.
    params : every option of the registry, defaults filled in.
    keys : decoder of the integer codes that stand for order, line and shipment ids in
        ``ds`` and ``source`` (:mod:`kpilib.keys`); ``kpilib.facts`` decodes on the way out.
    """

    ds: Any
    as_of: pd.Timestamp
    by: tuple[str, ...] = ()
    freq: str | None = None
    tz: str = "UTC"
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    params: dict[str, Any] = field(default_factory=dict)
    source: Any = None  # the dataset before the as-of restriction (what the source records)
    keys: Any = None  # kpilib.keys.Keys: order/line/shipment ids are integer codes in ds
    cache_bytes: int | None = None  # None: the module's CACHE_BYTES
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    result_by: tuple[str, ...] | None = None  # None: the same as ``by``
    cut: Any = None  # kpilib.segment_plan.Plan: the requested cut, from its hosts' columns
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _sizes: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def group_by(self) -> tuple[str, ...]:
        """The dimensions results are cut by: ``by`` without dimensions only filtered on."""
        return self.by if self.result_by is None else self.result_by

    def table(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` or None when absent."""
        return self.ds.tables.get(name)

    def has(self, *names: str) -> bool:
        """True when every named table is present."""
        return all(self.table(n) is not None for n in names)

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise ParameterError(f"option {name!r} is not declared in the registry")
        return self.params[name]

    def fact(self, name: str) -> pd.DataFrame:
        """The fact table ``name``, built once per context (see :meth:`memo`)."""
        if name not in FACTS:
            raise ParameterError(f"unknown fact table {name!r}; known: {sorted(FACTS)}")
        return self.memo(name, lambda: FACTS[name].builder(self))

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """Cache any intermediate result under ``key`` for the life of this context.

        The cache holds at most ``cache_bytes`` (frames and arrays, measured without the text
        they point to): past that, the least recently used entries are dropped and rebuilt
        if asked for again. Builders are pure functions of the context, so this changes
        only time and memory, never a result.
        """
        if key in self._cache:
            value = self._cache.pop(key)  # re-insert: dicts keep insertion order = recency
        else:
            value = build()
            self._sizes[key] = _nbytes(value)
        self._cache[key] = value
        self._evict(keep=key)
        return value

    def _evict(self, keep: str) -> None:
        budget = CACHE_BYTES if self.cache_bytes is None else self.cache_bytes
        total = sum(self._sizes.get(k, 0) for k in self._cache)
        for k in list(self._cache):
            if total <= budget:
                break
            if k != keep and self._sizes.get(k, 0):
                total -= self._sizes.pop(k)
                del self._cache[k]

    def event_mask(self, *event_types: str) -> np.ndarray:
        """Which rows of ``order_events`` have one of ``event_types`` (a bool array).

        Event types are factorized once per context, so each call compares integers instead
        of millions of strings."""
        codes, names = self.memo("_event_type_codes", lambda: pd.factorize(
            self.table("order_events")["event_type"]))
        wanted = np.flatnonzero(pd.Index(names).isin(event_types))
        return np.isin(codes, wanted)

    def in_window(self, anchor: pd.Series) -> pd.Series:
        """Which anchors belong to the result: known by ``as_of`` and in ``[start, end)``.

        The one window rule of the engine (``aggregate`` applies it to every KPI); KPIs that
        need a period before the engine sees their rows (e.g. to divide by days in a
        period) call it too.
        """
        keep = anchor.notna() & (anchor <= self.as_of)
        if self.start is not None:
            keep &= anchor >= self.start
        if self.end is not None:
            keep &= anchor < self.end
        return keep

    def period_of(self, anchor: pd.Series) -> pd.Series:
        """Reporting period (start, tz-aware in ``tz``) of each anchor; NaT for freq=None."""
        return periods.bucket(anchor, self.freq, self.tz)

    def snapshot_points(self) -> pd.DataFrame:
        """Snapshot times for snapshot KPIs: columns ``period`` and ``t`` (UTC).

        With ``freq=None``: one snapshot at ``as_of`` (or ``end`` if earlier), period NaT.
        With a freq: the end of each period in the window, capped at ``as_of``.
        """
        return self.memo("_snapshot_points", self._snapshot_points).copy()

    def _snapshot_points(self) -> pd.DataFrame:
        stop = min(self.as_of, self.end) if self.end is not None else self.as_of
        if self.freq is None:
            return pd.DataFrame({"period": pd.Series([pd.NaT], dtype=f"datetime64[ns, {self.tz}]"),
                                 "t": [stop]})
        first = self.start if self.start is not None else self.data_start()
        # the window is half-open: a period starting exactly at `end` is outside it
        last = stop - pd.Timedelta(1, "ns") if self.end is not None and stop == self.end \
            else stop
        grid = periods.period_grid(first, last, self.freq, self.tz)
        ends = [min(periods.period_end_utc(p, self.freq), self.as_of) for p in grid]
        return pd.DataFrame({"period": pd.Series(grid, dtype=f"datetime64[ns, {self.tz}]"),
                             "t": pd.Series(ends, dtype="datetime64[ns, UTC]")})

    def data_start(self) -> pd.Timestamp:
        """Earliest order creation time (the natural start of the data)."""
        return self.memo("_data_start", lambda: self.ds.orders["created_at"].min())
