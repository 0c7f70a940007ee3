"""``Report``: the notebook parameters bound to a loaded dataset, so each cell is one call.

A report notebook opens one ``Report`` from its parameters cell and then, per section, calls
``show(ids)`` (compute + band, print the headline table and notes, return both frames),
``show_by_segment(ids)`` (the same cut by ``segment_by``, printed as a KPI x segment table) and
draws with ``kpilib.plotting``. Everything printed is fixed-precision text, so nbval can compare
it; nothing printed depends on the machine (no paths, no timings).
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


def load(data_path: str) -> Any:
    """``kpilib.load_dataset(data_path)``, or the copy a report run already validated.

    ``kpilib reports run`` validates the data once and shares it as a pickle named by
    ``KPILIB_DATASET_CACHE`` for the folder ``KPILIB_DATASET_CACHE_FOR``; any other path (or
    no such variable, e.g. in JupyterLab) loads through the data contract as usual.
    """
    import os
    import pickle
    from pathlib import Path

    cache, target = os.environ.get("KPILIB_DATASET_CACHE"), os.environ.get(
        "KPILIB_DATASET_CACHE_FOR")
    if cache and target and Path(cache).is_file() and (
            Path(data_path).resolve() == Path(target).resolve()):
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    import kpilib

    return kpilib.load_dataset(data_path)


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
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, data_path: str, *, as_of: Any = None, start: Any = None, end: Any = None,
             freq: str | None = "W", segment_by: str | None = "channel",
             filters: dict[str, Any] | None = None, role: str | None = None,
             thresholds: Any = None, kpis: Sequence[str] | None = None) -> Report:
        """Load ``data_path`` through the data contract and bind the parameters."""
        ds = load(data_path)
        return cls(ds=ds, as_of=resolve_as_of(ds, as_of), freq=freq, start=start, end=end,
                   segment_by=segment_by or None, filters=dict(filters or {}), role=role,
                   bands=views.load_bands(thresholds), kpis=list(kpis) if kpis else None)

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
        """``views.kpi_frame`` with this report's parameters, cached per (by, freq, bands).

        KPIs computed together share their fact tables (one engine context), so a notebook
        that calls ``prefetch`` with all its ids first pays for each fact table once.
        """
        freq = self.freq if freq == "default" else freq
        by = as_dims(by)
        key = (by, freq, bool(bands))
        cached = self._cache.setdefault(key, {})
        todo = [k for k in dict.fromkeys(ids) if k not in cached]
        if todo:
            res = views.kpi_frame(
                self.ds, todo, freq=freq, start=self.start, end=self.end, as_of=self.as_of,
                by=by, filters=self.filters, bands=self.bands if bands else False)
            for k in todo:
                cached[k] = res[res["kpi"] == k] if len(res) else res
        parts = [cached[k] for k in dict.fromkeys(ids) if len(cached[k])]
        if not parts:
            return views.kpi_frame(self.ds, [], by=by)
        return pd.concat(parts, ignore_index=True)

    def prefetch(self, ids: Sequence[str], *, segments: bool = True) -> None:
        """Compute ``ids`` in one engine call (shared facts) for later ``show``/``frame``;
        also by ``segment_by`` when ``segments`` (and the report is not filtered on it)."""
        ids = self.role_filter(ids)
        self.frame(ids)
        if segments and self.segment_by and self.segment_by not in self.filters:
            self.frame(ids, by=[self.segment_by])

    def headline(self, frame: pd.DataFrame, *, by: str | Sequence[str] = ()) -> pd.DataFrame:
        return views.headline(frame, freq=self.freq, as_of=self.as_of, by=by)

    def show(self, ids: Sequence[str], *, columns: Sequence[str] | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Compute and band ``ids``; print last complete period, change, band and notes."""
        ids = self.role_filter(ids)
        res = self.frame(ids)
        head = self.headline(res) if len(res) else views.headline(
            res.assign(period=pd.NaT), freq=None, as_of=self.as_of)
        views.print_table(head, columns or ["name", "display", "change_display", "band",
                                            "status", "period"])
        self.print_notes(res, ids)
        return res, head

    def show_by_segment(self, ids: Sequence[str], dim: str | None = None) -> pd.DataFrame:
        """Compute ``ids`` by ``dim`` (default ``segment_by``); print a KPI x segment table."""
        dim = dim or self.segment_by
        if not dim:
            print("No segment dimension chosen (segment_by is None).")
            return pd.DataFrame()
        if dim in self.filters:
            print(f"The report is filtered to one {dim}; no comparison by {dim}.")
            return pd.DataFrame()
        ids = self.role_filter(ids)
        res = self.frame(ids, by=[dim])
        head = self.headline(res, by=[dim]) if len(res) else pd.DataFrame()
        print_wide(head, dim)
        return res

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

    def print_notes(self, res: pd.DataFrame, ids: Sequence[str]) -> None:
        for line in views.unavailable_notes(res, ids):
            print(f"Note: {line}")

    def age_table(self) -> pd.DataFrame | None:
        """Print and return units on hand by node x FIFO age bucket (C3) at ``as_of``."""
        age = self.frame(["inventory_age_buckets"], by=["age_bucket", "node"], freq=None,
                         bands=False)
        table = (age.pivot_table(index="node", columns="age_bucket", values="value",
                                 aggfunc="sum", observed=True)
                 if "age_bucket" in age and age["value"].notna().any() else None)
        print(table.round(0).to_string() if table is not None
              else "Note: ageing buckets unavailable for this data.")
        return table

    def abc_xyz_matrix(self) -> pd.DataFrame | None:
        """Print and return the count of SKUs per ABC (rows) x XYZ (columns) class."""
        classes = self.facts("sku_classes")
        if classes is None or not len(classes):
            return None
        matrix = classes.pivot_table(index="abc_class", columns="xyz_class", values="sku",
                                     aggfunc="count", fill_value=0, observed=True)
        print(matrix.to_string())
        return matrix

    def worst_tracking_signals(self, n: int = 10) -> pd.DataFrame:
        """Print and return the ``n`` SKUs with the largest |tracking signal| (D8)."""
        ts = self.frame(["tracking_signal"], by=["sku"], freq=None, bands=False)
        ts = ts.dropna(subset=["value"]) if len(ts) else ts
        if not len(ts):
            print("Note: tracking signal by SKU unavailable for this data.")
            return ts
        worst = (ts.assign(abs_ts=ts["value"].abs())
                 .sort_values(["abs_ts", "sku"], ascending=[False, True]).head(n))
        print("SKUs with the largest |tracking signal| (limit 4):")
        print(worst[["sku", "value"]].round(2).to_string(index=False))
        return worst

    def facts(self, name: str) -> pd.DataFrame | None:
        """``kpilib.facts(ds, name)`` or None with a printed note when it is not available."""
        import kpilib

        try:
            return kpilib.facts(self.ds, name, as_of=self.as_of)
        except Exception as err:  # noqa: BLE001 - a missing fact is a note, not a failure
            print(f"Note: facts {name!r} unavailable ({type(err).__name__}: {err}).")
            return None


MAX_SEGMENTS = 12


def print_wide(head: pd.DataFrame, dim: str) -> None:
    """Print KPI names down, segment values across, ``display (band)`` in the cells."""
    if head is None or head.empty:
        print("(no values by segment)")
        return
    values = head[dim].astype(str)
    shown = values.unique()
    if len(shown) > MAX_SEGMENTS:  # e.g. 1,904 marketplace sellers: show the worst ones
        score = (head.assign(_seg=values, _bad=head["band"].isin(["stressed", "critical"]),
                             _val=head["value"].notna())
                 .groupby("_seg")[["_bad", "_val"]].sum()
                 .sort_values(["_bad", "_val"], ascending=False, kind="stable"))
        keep = set(score.index[:MAX_SEGMENTS])
        print(f"(showing {MAX_SEGMENTS} of {len(shown)} {dim} values: the most stressed or "
              "critical first, then those with the most KPI values)")
        head = head.loc[values.isin(keep)]
    cell = head["display"] + head["band"].map(
        {"critical": " !!", "stressed": " !"}).fillna("")
    wide = head.assign(cell=cell).pivot_table(index="name", columns=dim, values="cell",
                                              aggfunc="first", sort=False)
    wide.columns = [str(c) for c in wide.columns]
    wide.index.name = None
    print(f"By {dim}:")
    print(wide.fillna("n/a").to_string())
    print("(!! critical, ! stressed; last complete period)")


def badges(head: pd.DataFrame) -> list[dict[str, str]]:
    """Headline rows as plain strings for the run index (``record('headline', ...)``)."""
    cols = ["kpi", "name", "display", "change_display", "band", "period"]
    out = head.loc[:, cols].copy()
    out["period"] = out["period"].map(
        lambda p: "" if pd.isna(p) else f"{pd.Timestamp(p):%Y-%m-%d}")
    return out.astype(str).to_dict("records")


def print_alerts(alerts: pd.DataFrame) -> None:
    """Numbered plain-text list of alerts (KPI, segment, reason, owner)."""
    if alerts is None or alerts.empty:
        print("No open critical alerts in the last complete period (alerts fire on final "
              "values only, not on preliminary ones).")
        return
    for i, (_, a) in enumerate(alerts.iterrows(), 1):
        seg = a.get("segment") or "all"
        print(f"{i}. [{a['band']}] {a['kpi']} ({seg}): {a['reason']} Owner: {a['owner_role']}.")
