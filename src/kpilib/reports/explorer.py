"""Explorer notebooks: a KPI by segment and period, its control chart, the records behind it.

``Explorer(rep, domain)`` lists the KPIs of ``domain`` ("order" also takes fulfilment and
leading KPIs; "inventory" also forecast KPIs) and answers the three questions of an explorer
notebook, each one call the widgets (:mod:`kpilib.reports.explorer_widgets`) and the
notebooks make:

- ``values(kpi, by, freq, filters)``: the banded ``compute`` rows (``show`` prints them as
  text, ``plot`` draws the control chart of one series or the segment bars);
- ``records(kpi, ..., period, value, outcome)``: ``kpilib.drill`` rows for one period and
  segment value, sorted by what matters first (:func:`sort_records`);
- ``export(rows, path)``: the selection as CSV.

Engine contexts (the dataset encoded and restricted to ``as_of``, with its fact tables) and
results are cached per (segment, period length, filters), so a widget change pays only for
what changed; the cache keeps the few most recent contexts.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from kpilib import plotting, registry
from kpilib.cuts import normalize
from kpilib.reports import views
from kpilib.reports.cidata import repo_root
from kpilib.reports.params import segment_dims
from kpilib.reports.session import Report

DOMAIN_GROUPS = {
    "order": ("order", "fulfillment", "leading"),
    "inventory": ("inventory", "forecast"),
}
DATA_ENV = "KPILIB_NOTEBOOK_DATA"  # the dataset notebooks read when data_path is None
CONTEXTS_KEPT = 4


def default_data_path() -> str:
    """The dataset an explorer opens when ``data_path`` is None: ``$KPILIB_NOTEBOOK_DATA``
    (the CI dataset under nbval and ``make notebooks``), else ``data/sample``, which
    ``make lab`` and ``make data`` prepare."""
    import os

    from kpilib.errors import ParameterError

    env = os.environ.get(DATA_ENV)
    path = Path(env) if env else repo_root() / "data" / "sample"
    if not path.is_dir():
        raise ParameterError(f"dataset folder not found: {path}; run `make data` (or `make "
                             "lab`, which prepares it) or set data_path")
    return str(path)


def sort_records(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by what matters first: the largest ``value`` (longest duration, most overdue,
    highest amount) when rows have one, else the oldest anchor (longest waiting)."""
    if "value" in rows.columns:
        return rows.sort_values("value", ascending=False, kind="stable", na_position="last")
    if "anchor" in rows.columns:
        return rows.sort_values("anchor", kind="stable", na_position="last")
    return rows


class Explorer:
    """Interactive KPI explorer bound to a ``Report`` (dataset + parameters)."""

    def __init__(self, rep: Report, domain: str = "order") -> None:
        self.rep = rep
        cat = views.catalog()
        domains = DOMAIN_GROUPS.get(domain, (domain,))
        self.kpis = sorted(cat.index[cat["domain"].isin(domains)])
        self.names = {k: str(cat.loc[k, "name"]) for k in self.kpis}
        self._contexts: OrderedDict[tuple, Any] = OrderedDict()
        self._values: dict[tuple, tuple] = {}

    def describe(self) -> str:
        """One line: how many KPIs, which segments."""
        dims = ", ".join(segment_dims(self.rep.ds))
        return (f"{len(self.kpis)} KPIs available; segments: {dims}; "
                f"{self.rep.context_line()}")

    def dims(self, kpi: str) -> list[str]:
        """Dimensions ``kpi`` can be cut and filtered by: its own, then the dataset's extra
        dimensions whose host table's dimension it supports (``channel`` for an order_lines
        column; the values then say when its records are not lines)."""
        from kpilib.dimensions import HOSTS, LINES

        own = list(registry.KPIS[kpi].dims)
        extra = getattr(self.rep.ds, "dimensions", None) or {}
        hosts = {**HOSTS, LINES: "channel"}
        return own + [d for d in segment_dims(self.rep.ds)
                      if d in extra and hosts.get(extra[d]) in own]

    # -- cached engine work -------------------------------------------------------------
    def context(self, by: str | None, freq: str | None, filters: dict | None) -> Any:
        """The engine context for one cut (cached; the oldest of more than four is dropped)."""
        from kpilib.engine import make_context

        flt = normalize({**self.rep.filters, **(filters or {})})
        key = (by, freq, tuple(sorted(flt.items())))
        if key in self._contexts:
            self._contexts.move_to_end(key)
            return self._contexts[key]
        ctx = make_context(self.rep.ds, by=by, freq=freq, start=self.rep.start,
                           end=self.rep.end, as_of=self.rep.as_of, filters=flt,
                           allow_future_as_of=self.rep.allow_future_as_of)
        self._contexts[key] = ctx
        while len(self._contexts) > CONTEXTS_KEPT:
            old, _ = self._contexts.popitem(last=False)
            self._values = {k: v for k, v in self._values.items() if k[1:] != old}
        return ctx

    def values(self, kpi: str, by: str | None = None, freq: str | None = "W",
               filters: dict | None = None) -> pd.DataFrame:
        """Banded ``compute`` rows of ``kpi`` cut by ``by`` (cached per cut)."""
        return self._computed(kpi, by, freq, filters)[0]

    def records(self, kpi: str, by: str | None = None, freq: str | None = "W",
                filters: dict | None = None, period: Any = None, value: Any = None,
                outcome: str = "failed") -> pd.DataFrame:
        """``kpilib.drill`` rows of one period and segment ``value`` (None: all of them),
        sorted by :func:`sort_records`."""
        from kpilib.drilldown import bucketed, records

        kdef = registry.KPIS[kpi]
        ctx = self.context(by, freq, filters)
        _, obs, cache = self._computed(kpi, by, freq, filters)
        if "buckets" not in cache:
            cache["buckets"] = bucketed(kdef, ctx, obs)
        segment = {by: value} if by and value is not None else None
        rows = records(kdef, ctx, period=period, segment=segment, outcome=outcome,
                       buckets=cache["buckets"])
        return sort_records(rows).reset_index(drop=True)

    def _computed(self, kpi: str, by: str | None, freq: str | None,
                  filters: dict | None) -> tuple[pd.DataFrame, Any, dict]:
        """(banded rows, observations or the reason there are none, a cache for more) of one
        KPI and cut, computed once: the values and every drill of the cut share them."""
        import kpilib
        from kpilib.engine import compute_one, observations

        ctx = self.context(by, freq, filters)
        key = (kpi, by, freq, tuple(sorted(ctx.filters.items())))
        if key not in self._values:
            kdef = registry.KPIS[kpi]
            obs = observations(kdef, ctx)
            res = ctx.cut.finish(compute_one(kdef, ctx, obs=obs))
            if len(res) and res["value"].notna().any():
                res = kpilib.apply_bands(res, self.rep.bands)
            self._values[key] = (res, obs, {})
        return self._values[key]

    @staticmethod
    def export(rows: pd.DataFrame, path: str | Path) -> Path:
        """Write ``rows`` as CSV to ``path`` (folders created); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.to_csv(path, index=False)
        return path

    # -- text and charts for the notebooks ----------------------------------------------
    def show(self, kpi: str, by: str | None = None, freq: Any = "W",
             filters: dict | None = None, chart: bool = True) -> pd.DataFrame:
        """Print ``kpi`` by ``by`` (last complete period) as text, draw it; return the rows."""
        if kpi not in self.names:
            print(f"Note: no KPI is named {kpi!r}; `kpilib kpis` lists them.")
            return pd.DataFrame()
        res = self.values(kpi, by, freq, filters)
        dims = [by] if by else []
        head = views.headline(res, freq=freq, as_of=self.rep.as_of, by=dims) \
            if len(res) else pd.DataFrame()
        print(f"{self.names[kpi]} ({kpi}), {'by ' + by if by else 'total'}:")
        if len(head):
            views.print_table(head, [*dims, "display", "change_display", "band", "period"])
        self.rep.print_notes(res, [kpi])
        if chart:
            self.plot(res, kpi, by, freq=freq)
            plt.show()
        return res

    def plot(self, res: pd.DataFrame, kpi: str, by: str | None = None, value: Any = None,
             freq: str | None = "W", ax: Any = None) -> Any:
        """The control chart of the series (of segment ``value`` when given), else segment
        bars when cut by ``by``; returns the Axes."""
        title = self.names.get(kpi, kpi)
        if by and value is not None:
            return plotting.control_chart(res, kpi=kpi, segment={by: value},
                                          title=f"{title}, {by} = {value}", ax=ax)
        if by and by in res:
            head = views.headline(res, freq=freq, as_of=self.rep.as_of, by=[by])
            return plotting.segment_comparison(head.assign(kpi=kpi), kpi=kpi, by=by,
                                               title=f"{title} by {by}", ax=ax)
        return plotting.control_chart(res, kpi=kpi, title=title, ax=ax)

    def latest_complete(self, res: pd.DataFrame, freq: str | None = "W") -> Any:
        """The last period of ``res`` that has ended by ``as_of`` and has records (None for
        ``freq=None`` or when there is none)."""
        done = views.complete_periods(res.loc[res["n"] > 0], freq, self.rep.as_of)
        return None if freq is None or done.empty else done["period"].max()

    @staticmethod
    def print_records(rows: pd.DataFrame, n: int = 10) -> None:
        """Print how many records and the first ``n`` of them as fixed-precision text."""
        print(f"{len(rows)} record(s)" + (f"; the first {n}:" if len(rows) > n else ":"))
        if len(rows):
            with pd.option_context("display.width", 160, "display.max_columns", 14,
                                   "display.precision", 2):
                print(rows.head(n).to_string(index=False, max_colwidth=28))

    def widget(self) -> Any:
        """The explorer's controls, chart and records (:class:`ExplorerWidget`)."""
        from kpilib.reports.explorer_widgets import ExplorerWidget

        return ExplorerWidget(self).box
