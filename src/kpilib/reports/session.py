"""``Report``: the notebook parameters bound to a loaded dataset, so each cell is one call.

A report notebook opens one ``Report`` (``reports.setup.open_report``) and then, per section,
calls ``show(ids)`` (compute + band, show the headline table as HTML, return both frames),
``show_by_segment(ids)`` (the same cut by ``segment_by``: KPIs down, segment values across) and
``trends(frame, ids)`` (control charts). The executive summary calls ``summary(head)``.
Everything shown is deterministic text (no paths, no timings), so nbval can compare it.
When ``data_path`` is a KPI store, ``results`` reads what the store holds instead of computing
it (``reports.fromstore``); what is shown is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kpilib.cuts import as_dims
from kpilib.reports import views

FREQ_WORDS = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", None: "whole-range"}


def resolve_as_of(ds: Any, as_of: Any) -> pd.Timestamp:
    """``as_of`` as a UTC timestamp (naive means UTC); ``ds.data_as_of`` when empty."""
    if as_of in (None, ""):
        return pd.Timestamp(ds.data_as_of)
    ts = pd.Timestamp(as_of)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def load(data_path: str, source: Any = None) -> Any:
    """``kpilib.load_dataset(data_path)``, or the copy a report run already validated.

    ``kpilib reports run`` validates the data once and shares it as a pickle named by
    ``KPILIB_DATASET_CACHE`` for the folder ``KPILIB_DATASET_CACHE_FOR``; any other path (or
    no such variable, e.g. in JupyterLab) loads through the data contract as usual. With a
    KPI store's ``source`` (``fromstore.StoreSource``) the dataset is its generation's, its
    fingerprint checked.
    """
    import os
    import pickle
    from pathlib import Path

    cache, target = os.environ.get("KPILIB_DATASET_CACHE"), os.environ.get(
        "KPILIB_DATASET_CACHE_FOR")
    if cache and target and Path(cache).is_file() and (
            Path(data_path).resolve() == Path(target).resolve()):
        with open(cache, "rb") as fh:
            ds = pickle.load(fh)
        return source.dataset(ds) if source is not None else ds
    import kpilib

    return source.dataset() if source is not None else kpilib.load_dataset(data_path)


@dataclass
class Report:
    """A loaded dataset plus the report parameters (see ``open``)."""

    ds: Any
    as_of: pd.Timestamp
    freq: str | None = "W"
    start: Any = None
    end: Any = None
    segment_by: str | None = "channel"
    filters: dict[str, Any] = field(default_factory=dict)
    role: str | None = None
    bands: Any = None
    kpis: list[str] | None = None
    targets: dict = field(default_factory=dict)
    currency: str = ""
    allow_future_as_of: bool = False  # as_of after the data's end (the KPIs' notes say so)
    source: Any = None  # a KPI store's generation the results are read from (fromstore)
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, data_path: str, *, as_of: Any = None, start: Any = None, end: Any = None,
             freq: str | None = "W", segment_by: str | None = "channel",
             filters: dict[str, Any] | None = None, role: str | None = None,
             thresholds: Any = None, kpis: Sequence[str] | None = None,
             targets: Any = "benchmarks", allow_future_as_of: bool = False) -> Report:
        """Load ``data_path`` through the data contract and bind the parameters.

        ``data_path`` may be a KPI store folder: the dataset and every result the store holds
        for the report's cut come from one generation of it (``reports.fromstore``).
        ``targets``: ``"benchmarks"`` (published industry figures), a YAML path, or None.
        ``allow_future_as_of``: accept an ``as_of`` after the data's end (as ``compute``).
        """
        from kpilib.bands.targets import load_targets
        from kpilib.reports import fromstore
        from kpilib.reports.units import currency_of

        source = fromstore.StoreSource.open(data_path) if fromstore.is_store(data_path) else None
        ds = load(data_path, source)
        return cls(ds=ds, source=source, as_of=resolve_as_of(ds, as_of), freq=freq,
                   start=start, end=end, segment_by=segment_by or None,
                   filters=dict(filters or {}), role=role,
                   bands=views.load_bands(thresholds), kpis=list(kpis) if kpis else None,
                   targets=load_targets(targets), currency=currency_of(ds),
                   allow_future_as_of=bool(allow_future_as_of))

    # -- text ---------------------------------------------------------------------------
    def context_line(self) -> str:
        """One line: data as-of, report as-of, period length, filters, role."""
        scope = ", ".join(f"{d} = {v[0] if isinstance(v, list | tuple) else v}"
                          for d, v in self.filters.items()) or "all data"
        return (f"Data as of {pd.Timestamp(self.ds.data_as_of):%Y-%m-%d %H:%M} UTC; report as "
                f"of {self.as_of:%Y-%m-%d %H:%M} UTC; {FREQ_WORDS.get(self.freq, self.freq)} "
                f"periods; scope: {scope}; role: {self.role or 'all'}.")

    @property
    def titles(self) -> dict[str, str]:
        """KPI id -> display name."""
        cat = views.catalog()
        return dict(zip(cat.index, cat["name"], strict=True))

    def headline_ids(self) -> list[str]:
        """Headline KPIs: ``kpis`` if set, else the role's, else the executive set."""
        return views.headline_ids(self.kpis, self.role)

    def role_filter(self, ids: Sequence[str]) -> list[str]:
        """``ids`` restricted to the role's KPIs (all of them when no role is set)."""
        if not self.role:
            return list(ids)
        from kpilib.roles import kpis_for_role

        allowed = set(kpis_for_role(self.role))
        return [k for k in ids if k in allowed]

    # -- numbers ------------------------------------------------------------------------
    def frame(self, ids: Sequence[str], *, by: str | Sequence[str] = (), freq: Any = "default",
              bands: bool = True) -> pd.DataFrame:
        """Banded (``bands``) results of ``ids`` with this report's parameters (``results``:
        from the KPI store when it holds them, else ``views.kpi_frame``), cached per
        (by, freq, bands).

        KPIs computed together share their fact tables (one engine context), so a notebook
        that calls ``prefetch`` with all its ids first pays for each fact table once.
        """
        freq = self.freq if freq == "default" else freq
        by = as_dims(by)
        key = (by, freq, bool(bands))
        cached = self._cache.setdefault(key, {})
        todo = [k for k in dict.fromkeys(ids) if k not in cached]
        for part, res in self.results(todo, by, freq, bool(bands)) if todo else []:
            for k in part:
                cached[k] = res[res["kpi"] == k] if len(res) else res
        parts = [cached[k] for k in dict.fromkeys(ids) if len(cached[k])]
        if not parts:
            return views.kpi_frame(self.ds, [], by=by)
        return pd.concat(parts, ignore_index=True)

    def results(self, ids: list[str], by: tuple[str, ...], freq: Any, bands: bool
                ) -> list[tuple[list[str], pd.DataFrame]]:
        """``(ids, frame)`` parts: read from the KPI store for the ids it holds for this cut
        (``fromstore``), computed with ``views.kpi_frame`` for the rest (all without a store)."""
        parts = self.source.results(self, ids, by, freq, bands) if self.source else []
        done = {k for part, _ in parts for k in part}
        rest = [k for k in ids if k not in done]
        if rest:
            parts.append((rest, views.kpi_frame(
                self.ds, rest, freq=freq, start=self.start, end=self.end, as_of=self.as_of,
                by=by, filters=self.filters, bands=self.bands if bands else False,
                allow_future_as_of=self.allow_future_as_of)))
            if self.source:
                self.source.note_computed(rest, by, freq)
        return parts

    def prefetch(self, ids: Sequence[str], *, segments: bool = True) -> None:
        """Compute ``ids`` in one engine call (shared facts) for later ``show``/``frame``;
        also by ``segment_by`` when ``segments`` (and the report is not filtered on it)."""
        ids = self.role_filter(ids)
        self.frame(ids)
        if segments and self.segment_by and self.segment_by not in self.filters:
            self.frame(ids, by=[self.segment_by])

    def headline(self, frame: pd.DataFrame, *, by: str | Sequence[str] = ()
                 ) -> pd.DataFrame:
        """``views.headline`` in this report's currency (last complete period per series)."""
        return views.headline(frame, freq=self.freq, as_of=self.as_of, by=by,
                              currency=self.currency)

    def annotated(self, frame: pd.DataFrame, *, seg: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
        """The headline of ``frame`` with band story, target, owner, action and where."""
        from kpilib.reports.actions import annotate
        from kpilib.roles import load_roles_config

        head = self.headline(frame) if len(frame) else views.headline(
            frame.assign(period=pd.NaT), freq=None, as_of=self.as_of)
        dim = self.segment_by if seg is not None else None
        seg_head = self.headline(seg, by=[dim]) if dim and len(seg) else None
        return annotate(head, frame, targets=self.targets, roles=load_roles_config(),
                        currency=self.currency, bands=self.bands, seg_head=seg_head, dim=dim)

    def show(self, ids: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Compute and band ``ids``; show the headline table (HTML); return frame and head."""
        from kpilib.reports import render

        ids = self.role_filter(ids)
        res = self.frame(ids)
        head = self.annotated(res)
        html(render.kpi_table(head, freq=self.freq, notes=self.notes(res, ids)))
        record_bad(head, self._cache)
        return res, head

    def cuttable(self, ids: Sequence[str], dim: str) -> dict[str, str]:
        """``{kpi: sentence}`` for the ``ids`` that cannot be cut by ``dim``."""
        cat = views.catalog()
        out = {}
        for k in ids:
            dims = cat.loc[k, "dims"] if k in cat.index else ()
            if dim not in (dims if isinstance(dims, list | tuple) else str(dims).split(",")):
                out[k] = f"cannot be cut by {dim.replace('_', ' ')}"
        return out

    def show_by_segment(self, ids: Sequence[str], dim: str | None = None) -> pd.DataFrame:
        """Compute ``ids`` by ``dim`` (default ``segment_by``); show KPIs x segment values."""
        from kpilib.reports import render

        dim = dim or self.segment_by
        if not dim:
            html("<p class='k-small'>No segment dimension chosen.</p>")
            return pd.DataFrame()
        if dim in self.filters:
            html(f"<p class='k-small'>This report is for one {esc(dim)}: no comparison by "
                 f"{esc(dim)}.</p>")
            return pd.DataFrame()
        ids = self.role_filter(ids)
        uncut = self.cuttable(ids, dim)
        res = self.frame([k for k in ids if k not in uncut], by=[dim])
        head = self.headline(res, by=[dim]) if len(res) else pd.DataFrame(
            columns=["kpi", dim, "period", "display", "band"])
        head, intro = top_segments(head, dim)
        for k in ids:
            if k not in uncut and not (head["kpi"] == k).any():
                uncut[k] = f"no values by {dim.replace('_', ' ')} in this period range"
        names = [(k, self.titles.get(k, k)) for k in ids]
        html(render.segment_table(head, dim, names=names, uncut=uncut, freq=self.freq,
                                  intro=intro))
        return res

    def trends(self, frame: pd.DataFrame, ids: Sequence[str]) -> None:
        """Control charts of ``ids`` (target lines, partial period hollow), then shown."""
        import matplotlib.pyplot as plt

        from kpilib import plotting

        asked = [k for k in self.role_filter(ids) if len(frame) and (
            frame.loc[frame["kpi"] == k, "value"].notna().any())]
        ids = [k for k in asked if plotting.chartable(frame, k)]
        thin = [self.titles.get(k, k) for k in asked if k not in ids]
        if thin:
            html("<p class='k-small'>Not charted (fewer than two complete periods with "
                 f"enough records to draw a trend): {esc(', '.join(thin))}.</p>")
        if not ids:
            if not thin:
                html("<p class='k-small'>No values to chart in this period range.</p>")
            return
        plotting.control_grid(frame, kpis=ids, titles=self.titles, targets=self.targets)
        plt.show()

    def findings(self, head: pd.DataFrame) -> list:
        """Plain-language findings for ``head``, drivers by ``segment_by`` and node."""
        from kpilib.reports import findings as fnd

        flagged = list(head.loc[head["band"].isin(["stressed", "critical"]), "kpi"])
        dims = [d for d in dict.fromkeys([self.segment_by, "node"])
                if d and d not in self.filters]
        segs = {d: self.frame(flagged, by=[d], bands=False) for d in dims} if flagged else {}
        return fnd.findings(head, freq=self.freq, segments=segs)

    def alerts(self, *frames: pd.DataFrame, band: str = "critical") -> pd.DataFrame:
        """Open alerts in ``band`` for the latest complete period of the banded ``frames``."""
        return views.open_alerts(list(frames), freq=self.freq, as_of=self.as_of, band=band)

    def notes(self, res: pd.DataFrame, ids: Sequence[str]) -> list[str]:
        """Reader notes: KPIs without values, and the running period left unjudged."""
        out = list(views.unavailable_notes(res, ids, self.titles))
        if len(res) and "status" in res and (res["status"] == "partial").any():
            note = res.loc[res["status"] == "partial", "note"].astype(str).iloc[0]
            out.append(f"The running period ({note}) is drawn hollow and not judged.")
        return out

    def print_notes(self, res: pd.DataFrame, ids: Sequence[str]) -> None:
        """Print the ``notes`` (for text-only views such as the explorer)."""
        for line in self.notes(res, ids):
            print(f"Note: {line}")

    def facts(self, name: str) -> pd.DataFrame | None:
        """``kpilib.facts(ds, name)`` or None with a note when it is not available."""
        import kpilib

        try:
            return kpilib.facts(self.ds, name, as_of=self.as_of,
                                allow_future_as_of=self.allow_future_as_of)
        except Exception as err:  # noqa: BLE001 - a missing fact is a note, not a failure
            print(f"Note: facts {name!r} unavailable ({type(err).__name__}: {err}).")
            return None


MAX_SEGMENTS = 12


def esc(text: object) -> str:
    import html as _html

    return _html.escape(str(text), quote=True)


def html(fragment: str) -> None:
    """Show an HTML fragment in the notebook."""
    from IPython.display import HTML, display

    display(HTML(fragment))


def top_segments(head: pd.DataFrame, dim: str) -> tuple[pd.DataFrame, str]:
    """At most ``MAX_SEGMENTS`` values of ``dim`` (the most stressed or critical first, then
    those with the most values), and a sentence saying so when some were left out."""
    values = head[dim].astype(str) if len(head) else pd.Series(dtype=str)
    shown = values.unique()
    if len(shown) <= MAX_SEGMENTS:
        return head, ""
    score = (head.assign(_seg=values, _bad=head["band"].isin(["stressed", "critical"]),
                         _val=head["value"].notna())
             .groupby("_seg")[["_bad", "_val"]].sum()
             .sort_values(["_bad", "_val"], ascending=False, kind="stable"))
    keep = set(score.index[:MAX_SEGMENTS])
    return head.loc[values.isin(keep)], (
        f"Showing {MAX_SEGMENTS} of {len(shown)} {dim.replace('_', ' ')} values: the most "
        "stressed or critical first, then those with the most KPI values.")


def badges(head: pd.DataFrame) -> list[dict[str, str]]:
    """Headline rows as plain strings for the run index (``record('headline', ...)``): the
    same value, state and owner as the summary."""
    cols = ["kpi", "name", "display", "change_display", "band", "period"]
    out = head.loc[:, cols].copy()
    out["state"] = head.get("state", out["band"])
    if "note" in head:  # a KPI the report's segment cannot cut says so, not just "no band"
        uncut = head["note"].astype(str).str.startswith("cannot be cut")
        out.loc[uncut, "state"] = head.loc[uncut, "note"].astype(str).str.replace(
            "cannot be cut or filtered by", "cannot be cut by", regex=False).str.replace(
            "_", " ", regex=False)
    out["statistic"] = head.get("statistic", "")
    out["period"] = out["period"].map(
        lambda p: "" if pd.isna(p) else f"{pd.Timestamp(p):%Y-%m-%d}")
    return out.astype(str).to_dict("records")


# Text versions kept for the explorer notebooks' setup cell until they switch to open_report.
def print_wide(head: pd.DataFrame, dim: str) -> None:
    """Print KPI names down, ``dim`` values across, ``display`` in the cells."""
    if head is None or head.empty:
        print("(no values by segment)")
        return
    head, intro = top_segments(head, dim)
    if intro:
        print(intro)
    wide = head.pivot_table(index="name", columns=dim, values="display", aggfunc="first",
                            sort=False)
    print(wide.fillna("n/a").to_string())


def print_alerts(alerts: pd.DataFrame) -> None:
    """Numbered plain-text list of alerts (KPI, segment, band)."""
    if alerts is None or alerts.empty:
        print("No open alerts in the last complete period.")
        return
    for i, (_, a) in enumerate(alerts.iterrows(), 1):
        print(f"{i}. [{a['band']}] {a['kpi']} ({a.get('segment') or 'all'})")


def record_bad(head: pd.DataFrame, cache: dict[Any, Any]) -> None:
    """Record the stressed and critical rows of a shown table (``bands:<n>``, n counting the
    tables of the notebook), so the run index can name them beside the headline."""
    from kpilib.reports.nbtools import record
    from kpilib.reports.story import BAD

    n = cache["_tables_shown"] = cache.get("_tables_shown", 0) + 1
    if "band" not in head:
        return
    bad = head[head["band"].isin(BAD)]
    record(f"bands:{n}", [{"kpi": str(r["kpi"]), "name": str(r.get("name", r["kpi"])),
                           "display": str(r.get("display", "")), "band": str(r["band"])}
                          for _, r in bad.iterrows()])
