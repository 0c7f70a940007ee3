"""The explorer's ipywidgets: pick a KPI, segment, period length and filters, see the control
chart, pick a period and segment value, list its records, export them to CSV.

Rule: nothing recomputes per keystroke. Dropdowns apply when a choice is made; the filter box
(``continuous_update=False``) applies on Enter, and the Update button recomputes on demand.
Every handler shows a failure as one line in the message area (``message``), never a
traceback. Outputs are widget values (the chart a PNG in ``chart``, the records an HTML table
in ``table``, the rows themselves in ``rows``), so a test can set values, trigger and read.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from kpilib.drilldown import OUTCOMES
from kpilib.errors import ParameterError
from kpilib.reports.views import complete_periods

FREQ_CHOICES = (("weekly", "W"), ("daily", "D"), ("monthly", "M"), ("quarterly", "Q"),
                ("whole range", None))

SHOWN_ROWS = 20
PASS_FAIL_KINDS = ("rate",)


def parse_filters(text: str) -> dict[str, list[str]]:
    """``"channel=web,b2b; node=DC-2"`` -> ``{"channel": ["web", "b2b"], "node": ["DC-2"]}``."""
    out: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        dim, eq, values = part.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not eq or not dim.strip() or not vals:
            raise ParameterError(f"filter {part!r}: write dimension=value[,value], several "
                                 "separated by ';' (e.g. channel=web; node=DC-2)")
        out[dim.strip()] = vals
    return out


def one_line(err: BaseException) -> str:
    """``"ParameterError: 'wbe' is not a channel; ..."``: the first line of the message."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


class ExplorerWidget:
    """The controls and outputs of one explorer; ``box`` is what a notebook displays.

    ``ex`` is a :class:`kpilib.reports.explorer.Explorer` (not imported here: the explorer
    builds its widget, so this module stays below it).
    """

    def __init__(self, ex: Any) -> None:
        import ipywidgets as w

        self.ex = ex
        self.rows = pd.DataFrame()
        self.result = pd.DataFrame()
        self._quiet = False
        self._drawn: tuple | None = None
        self.kpi = w.Dropdown(options=[(ex.names[k], k) for k in ex.kpis], description="KPI")
        self.by = w.Dropdown(description="segment")
        self.freq = w.Dropdown(options=FREQ_CHOICES, value="W", description="period")
        self.filters = w.Text(description="filters", continuous_update=False,
                              placeholder="channel=web; node=DC-2 (Enter applies)")
        self.update = w.Button(description="Update", icon="refresh")
        self.period = w.Dropdown(description="records of")
        self.value = w.Dropdown(description="value")
        self.outcome = w.Dropdown(options=list(OUTCOMES), value="failed", description="rows")
        self.csv_path = w.Text(description="CSV", continuous_update=False)
        self.export_button = w.Button(description="Export CSV", icon="download")
        self.message = w.HTML()
        self.chart = w.Image(format="png")
        self.table = w.HTML()
        self._set_dims()
        self.kpi.observe(self._on_kpi, names="value")
        for control in (self.by, self.freq, self.filters):
            control.observe(lambda _c: self.refresh(), names="value")
        for control in (self.period, self.value, self.outcome):
            control.observe(lambda _c: self.refresh_records(), names="value")
        self.update.on_click(lambda _b: self.refresh())
        self.export_button.on_click(lambda _b: self.export())
        self.box = w.VBox([
            w.HBox([self.kpi, self.by, self.freq]), w.HBox([self.filters, self.update]),
            self.message, self.chart,
            w.HBox([self.period, self.value, self.outcome]),
            w.HBox([self.csv_path, self.export_button]), self.table])
        self.refresh()

    # -- handlers -----------------------------------------------------------------------
    def _on_kpi(self, _change: Any) -> None:
        self._set_dims()
        self.refresh()

    def _set_dims(self) -> None:
        """Segment choices the KPI supports; rows choices its kind allows."""
        kdef = self._kdef()
        with self._hold():
            keep = self.by.value
            dims = self.ex.dims(kdef.id)
            self.by.options = [("total", None), *[(d, d) for d in dims]]
            self.by.value = keep if keep in dims else None
            pass_fail = kdef.kind in PASS_FAIL_KINDS and kdef.direction in ("higher", "lower")
            self.outcome.options = list(OUTCOMES) if pass_fail else ["all", "excluded"]
            self.outcome.value = "failed" if pass_fail else "all"
            self.csv_path.value = f"drill_{kdef.id}.csv"

    def refresh(self) -> None:
        """Recompute the values and chart of the chosen cut, then the records."""
        if self._quiet:
            return
        try:
            flt = parse_filters(self.filters.value)
            self.result = self.ex.values(self.kpi.value, self.by.value, self.freq.value, flt)
            self._set_choices()
            self.message.value = ""
        except Exception as err:  # noqa: BLE001 - shown as one line, never a traceback
            self.rows, self.table.value = pd.DataFrame(), ""  # no stale records beside it
            self._fail(err)
            return
        self.refresh_records()

    def refresh_records(self) -> None:
        """List the records of the chosen period, segment value and outcome; redraw."""
        if self._quiet:
            return
        try:
            flt = parse_filters(self.filters.value)
            self._draw()
            self.rows = self.ex.records(self.kpi.value, self.by.value, self.freq.value, flt,
                                        period=self.period.value, value=self.value.value,
                                        outcome=self.outcome.value)
            self.table.value = self._table_html()
            self.message.value = ""
        except Exception as err:  # noqa: BLE001 - shown as one line, never a traceback
            self.rows, self.table.value = pd.DataFrame(), ""
            self._fail(err)

    def export(self) -> None:
        """Write the listed records (all of them, not only those shown) to the CSV path."""
        try:
            path = self.ex.export(self.rows, self.csv_path.value)
            self.message.value = html.escape(f"Wrote {len(self.rows)} rows to {path}.")
        except Exception as err:  # noqa: BLE001 - shown as one line, never a traceback
            self._fail(err)

    # -- helpers ------------------------------------------------------------------------
    def _kdef(self) -> Any:
        from kpilib import registry

        return registry.KPIS[self.kpi.value]

    @contextmanager
    def _hold(self) -> Iterator[None]:
        """Change options without each change recomputing."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _set_choices(self) -> None:
        """Periods (latest first) and segment values of the result, keeping the current
        choice when it is still there."""
        res = self.result
        with self._hold():
            if self.freq.value is None or "period" not in res or res["period"].isna().all():
                periods = [("whole range", None)]
            else:
                ps = sorted(res.loc[res["n"] > 0, "period"].dropna().unique(), reverse=True)
                periods = [(f"{pd.Timestamp(p):%Y-%m-%d}", pd.Timestamp(p)) for p in ps] or [
                    ("no records", None)]
            done = set(complete_periods(res, self.freq.value, self.ex.rep.as_of)["period"])
            default = next((p for _, p in periods if p in done), periods[0][1])
            keep = self.period.value
            self.period.options = periods
            self.period.value = keep if keep in [p for _, p in periods] else default
            by = self.by.value
            values = sorted(res[by].dropna().astype(str).unique()) if by and by in res else []
            keep = self.value.value
            self.value.options = [("all", None), *[(v, v) for v in values]]
            self.value.value = keep if keep in values else None

    def _draw(self) -> None:
        """Redraw the chart when what it shows changed (a period or outcome change does not);
        a fixed layout, not ``bbox_inches="tight"``, which costs twice the drawing."""
        import matplotlib.pyplot as plt

        key = (self.kpi.value, self.by.value, self.freq.value, self.filters.value,
               self.value.value)
        if key == self._drawn:
            return
        fig, ax = plt.subplots(figsize=(8, 3.2))
        fig.subplots_adjust(left=0.2, right=0.97, bottom=0.16, top=0.88)
        try:
            self.ex.plot(self.result, self.kpi.value, self.by.value, self.value.value,
                         freq=self.freq.value, ax=ax)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=72)
            self.chart.value = buf.getvalue()
            self._drawn = key
        finally:
            plt.close(fig)

    def _table_html(self) -> str:
        rows = self.rows
        when = self.period.label if self.period.value is not None else "all periods"
        seg = f"{self.by.value} = {self.value.value}" if self.value.value is not None \
            else "all segments"
        where = f"{when}, {seg}"
        head = html.escape(f"{len(rows)} {self.outcome.value} record(s) of "
                           f"{self.kpi.value}, {where}"
                           + (f"; the first {SHOWN_ROWS} shown" if len(rows) > SHOWN_ROWS
                              else ""))
        return f"<p>{head}</p>" + rows.head(SHOWN_ROWS).to_html(index=False, na_rep="")

    def _fail(self, err: BaseException) -> None:
        self.message.value = f'<span style="color:#b3261e">{html.escape(one_line(err))}</span>'
