"""Explorer notebooks: ipywidgets to pick a KPI, segment, period and filters, and drill down.

``Explorer(rep, domain)`` lists the KPIs of ``domain`` ("order" also takes fulfilment and
leading KPIs; "inventory" also forecast KPIs). ``show(kpi, by, freq, ...)`` prints the values as
text and draws the control chart (or segment bars); ``widget()`` wraps ``show`` in dropdowns
and date pickers; ``drill(fact, ...)`` returns and prints the head of ``kpilib.facts`` rows
behind a KPI, ``drill_widget()`` the same with a filter box. Values from the data are shown as
text (escaped on HTML export) or in DataFrames (escaped by pandas).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from kpilib import plotting
from kpilib.reports import views
from kpilib.reports.params import SEGMENT_DIMS
from kpilib.reports.session import Report

DOMAIN_GROUPS = {
    "order": ("order", "fulfillment", "leading"),
    "inventory": ("inventory", "forecast"),
}
FREQ_CHOICES = (("weekly", "W"), ("daily", "D"), ("monthly", "M"), ("quarterly", "Q"),
                ("whole range", None))


class Explorer:
    """Interactive KPI explorer bound to a ``Report`` (dataset + parameters)."""

    def __init__(self, rep: Report, domain: str = "order") -> None:
        self.rep = rep
        cat = views.catalog()
        domains = DOMAIN_GROUPS.get(domain, (domain,))
        self.kpis = sorted(cat.index[cat["domain"].isin(domains)])
        self.names = {k: str(cat.loc[k, "name"]) for k in self.kpis}

    def describe(self) -> str:
        """One line: how many KPIs, which segments."""
        return (f"{len(self.kpis)} KPIs available; segments: {', '.join(SEGMENT_DIMS)}; "
                f"{self.rep.context_line()}")

    def show(self, kpi: str, by: str | None = None, freq: Any = "W", start: Any = None,
             end: Any = None, filter_dim: str | None = None, filter_value: str | None = None,
             chart: bool = True) -> pd.DataFrame:
        """Print ``kpi`` by ``by`` and period as text, draw it; return the frame."""
        if kpi not in self.names:
            print(f"Note: no KPI is named {kpi!r}; `kpilib kpis` lists them.")
            return pd.DataFrame()
        rep = Report(ds=self.rep.ds, as_of=self.rep.as_of, freq=freq, start=start or
                     self.rep.start, end=end or self.rep.end, segment_by=by,
                     filters={**self.rep.filters, **({filter_dim: [filter_value]}
                                                     if filter_dim and filter_value else {})},
                     role=None, bands=self.rep.bands)
        dims = [by] if by and by not in rep.filters else []
        res = rep.frame([kpi], by=dims)
        head = rep.headline(res, by=dims) if len(res) else pd.DataFrame()
        print(f"{self.names[kpi]} ({kpi}), {'by ' + by if dims else 'total'}:")
        if len(head):
            views.print_table(head, [*dims, "display", "change_display", "band", "period"])
        rep.print_notes(res, [kpi])
        if chart:
            self.plot(res, kpi, dims[0] if dims else None)
        return res

    def plot(self, res: pd.DataFrame, kpi: str, by: str | None = None) -> None:
        """Segment bars (last complete period) when ``by`` is set, else the control chart."""
        if not len(res) or not res["value"].notna().any():
            print("Nothing to draw: no values.")
            return
        if by and by in res:
            head = views.headline(res, freq=self.rep.freq, as_of=self.rep.as_of, by=[by])
            plotting.segment_comparison(head.assign(kpi=kpi), kpi=kpi, by=by,
                                        title=f"{self.names.get(kpi, kpi)} by {by}")
        else:
            plotting.control_chart(res, kpi=kpi, title=self.names.get(kpi, kpi))
        plt.show()

    def widget(self) -> Any:
        """Dropdowns (KPI, segment, period, filter) and date pickers driving ``show``."""
        import ipywidgets as w

        kpi = w.Dropdown(options=[(self.names[k], k) for k in self.kpis], description="KPI")
        by = w.Dropdown(options=[("total", None), *[(d, d) for d in SEGMENT_DIMS]],
                        description="segment")
        freq = w.Dropdown(options=FREQ_CHOICES, value="W", description="period")
        start = w.DatePicker(description="from")
        end = w.DatePicker(description="to")
        fdim = w.Dropdown(options=[("no filter", None), *[(d, d) for d in SEGMENT_DIMS]],
                          description="filter")
        fval = w.Text(description="value")
        out = w.interactive_output(
            lambda kpi, by, freq, start, end, fdim, fval: self.show(
                kpi, by, freq, start and pd.Timestamp(start, tz="UTC"),
                end and pd.Timestamp(end, tz="UTC"), fdim, fval or None),
            {"kpi": kpi, "by": by, "freq": freq, "start": start, "end": end, "fdim": fdim,
             "fval": fval})
        controls = w.VBox([w.HBox([kpi, by, freq]), w.HBox([start, end]), w.HBox([fdim, fval])])
        return w.VBox([controls, out])

    def drill(self, fact: str, query: str | None = None, n: int = 10) -> pd.DataFrame | None:
        """``kpilib.facts(ds, fact)`` (optionally ``DataFrame.query(query)``); print its size
        and first ``n`` rows; return it."""
        frame = self.rep.facts(fact)
        if frame is None:
            return None
        if query:
            frame = frame.query(query)
        print(f"{fact}: {len(frame)} rows, {frame.shape[1]} columns")
        with pd.option_context("display.max_columns", 12, "display.width", 120):
            print(frame.head(n).to_string(max_colwidth=24))
        return frame

    def drill_widget(self) -> Any:
        """A fact picker and a pandas ``query`` box driving ``drill``."""
        import ipywidgets as w

        from kpilib.engine import list_facts

        names = list(list_facts()["name"])
        fact = w.Dropdown(options=names, description="facts")
        query = w.Text(description="query", placeholder="e.g. channel == 'web'")
        out = w.interactive_output(lambda fact, query: self.drill(fact, query or None),
                                   {"fact": fact, "query": query})
        return w.VBox([w.HBox([fact, query]), out])
