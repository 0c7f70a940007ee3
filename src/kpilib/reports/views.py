"""What the report notebooks compute, in one place, so each notebook cell is one call.

- ``kpi_frame``: ``kpilib.compute`` for the registered ids among those asked, with the report
  ``filters`` (``compute(filters=...)``: the spec's segment attribution rules hold, an
  unknown value is an error), then banded (``band``).
- ``headline``: per KPI, the last *complete* period (its end <= ``as_of``) and the one before,
  with ``change = value - previous`` and the band of the last period.
- ``print_table``: a fixed-width text table of selected columns, for nbval-checked cells.
- ``unavailable_notes``: one plain sentence per KPI whose data is unavailable.
- ``view``: a role's banded KPI rows (roles.yaml) and the open alerts of those KPIs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from kpilib import registry
from kpilib.alerts.records import from_bands
from kpilib.bands import apply_bands
from kpilib.cuts import as_dims
from kpilib.reports import units
from kpilib.roles import RolesConfig, kpis_for_role, load_roles_config

_OFFSETS = {"D": pd.DateOffset(days=1), "W": pd.DateOffset(weeks=1),
            "M": pd.DateOffset(months=1), "Q": pd.DateOffset(months=3)}


def catalog() -> pd.DataFrame:
    """``kpilib.list_kpis()`` indexed by id."""
    import kpilib

    return kpilib.list_kpis().set_index("id")


def headline_ids(kpis: Sequence[str] | None = None, role: str | None = None) -> list[str]:
    """KPIs for the headline: ``kpis`` if given (unknown ids are an error), else the role's,
    else the executive role's (roles.yaml)."""
    if kpis:
        return registry.resolve(list(kpis))
    return list(kpis_for_role(role or "executive"))


def load_bands(thresholds: Any = None) -> Any:
    """Band configuration: ``thresholds`` (path or mapping) or the packaged default."""
    from kpilib.bands import load_bands_config

    return load_bands_config(thresholds)


def kpi_frame(ds: Any, kpis: Sequence[str], *, freq: str | None = "W", start: Any = None,
              end: Any = None, as_of: Any = None, by: str | Sequence[str] = (),
              filters: dict[str, Any] | None = None, bands: Any = None,
              params: dict[str, Any] | None = None,
              allow_future_as_of: bool = False) -> pd.DataFrame:
    """Computed (and banded unless ``bands is False``) results for the registered ``kpis``.

    ``by`` is a dimension or a list of them; filters ``{dim: value or [values]}`` keep the
    records of those segment values (``kpilib.compute(filters=...)``); ``allow_future_as_of``
    is ``compute``'s.
    """
    import kpilib

    ids = registry.resolve(list(kpis))
    by = as_dims(by)
    if not ids:
        return pd.DataFrame(columns=["kpi", "period", *by, "value", "status", "unit"])
    res = kpilib.compute(ds, ids, by=by or None, freq=freq, start=start, end=end, as_of=as_of,
                         params=params or {}, filters=filters or None,
                         allow_future_as_of=allow_future_as_of)
    return band(res, ds, bands=bands, as_of=as_of, freq=freq)


def band(res: pd.DataFrame, ds: Any, *, bands: Any, as_of: Any, freq: str | None
         ) -> pd.DataFrame:
    """``apply_bands`` of ``compute`` results as the reports band them (``bands is False``:
    unchanged); the running period (not ended at ``as_of``) gets status "partial": no band,
    no alert."""
    if bands is False or not len(res):
        return res
    return apply_bands(res, bands if bands is not None else load_bands(),
                       as_of=as_of if as_of is not None else ds.data_as_of, freq=freq)


def complete_periods(results: pd.DataFrame, freq: str | None, as_of: Any) -> pd.DataFrame:
    """Rows whose period has ended by ``as_of`` (all rows when ``freq`` is None)."""
    if freq is None or results.empty:
        return results
    as_of = pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of
    period = pd.to_datetime(results["period"])
    if period.dt.tz is None:
        period = period.dt.tz_localize("UTC")
    return results.loc[((period + _OFFSETS[freq]) <= as_of).to_numpy()]


def headline(results: pd.DataFrame, *, freq: str | None, as_of: Any,
             by: str | Sequence[str] = (), currency: str = "") -> pd.DataFrame:
    """One row per KPI (and segment): last complete period, previous value, change, band.

    The figure is the statistic the KPI is banded and charted on (``band_metric``: the value,
    or p90 for durations), named in ``statistic``, so table and chart agree.

    Columns: kpi, <by...>, name, unit, direction, statistic, period, value, previous,
    previous_period, change, band, signals, status, display (``units.fmt`` of value),
    change_display, and the chart lines cl, lcl, ucl, alertable, band_value.
    """
    cat = catalog()
    by = list(as_dims(by))
    cols = ["kpi", *by, "name", "unit", "direction", "statistic", "period", "value",
            "previous", "previous_period", "change", "band", "signals", "status", "display",
            "change_display", "cl", "lcl", "ucl", "alertable", "band_value"]
    done = complete_periods(results, freq, as_of)
    rows = []
    keys = ["kpi", *by]
    groups = dict(iter(done.groupby(keys, sort=False, dropna=False)))
    for key, g in results.groupby(keys, sort=False, dropna=False):
        # a series with no complete period (unavailable, or only the running period) is
        # listed with no value, so the reader sees it is missing
        g = groups[key] if key in groups else g.head(1).assign(value=np.nan, band=None)
        key = key if isinstance(key, tuple) else (key,)
        kpi = key[0]
        metric = str(g["band_metric"].iloc[0]) if "band_metric" in g else "value"
        col = metric if metric in g and g[metric].notna().any() else "value"
        g = g.sort_values("period")
        valued = g.dropna(subset=[col])
        last = valued.iloc[-1] if len(valued) else g.iloc[-1]
        prev_row = valued.iloc[-2] if len(valued) > 1 else None
        prev = float(prev_row[col]) if prev_row is not None else np.nan
        unit = str(last.get("unit", cat.loc[kpi, "unit"] if kpi in cat.index else ""))
        value = float(last[col]) if pd.notna(last[col]) else np.nan
        change = value - prev if pd.notna(prev) and pd.notna(value) else np.nan
        band = last.get("band", None)
        rows.append({
            **dict(zip(keys, key, strict=True)),
            "name": cat.loc[kpi, "name"] if kpi in cat.index else kpi,
            "unit": unit, "direction": cat.loc[kpi, "direction"] if kpi in cat.index else "",
            "statistic": units.statistic(col, unit),
            "period": last["period"], "value": value, "previous": prev,
            "previous_period": prev_row["period"] if prev_row is not None else pd.NaT,
            "change": change,
            "band": (band if isinstance(band, str) else "no band") if last["status"] !=
            "unavailable" else "unavailable",
            "signals": last.get("signals", ""), "status": last["status"],
            "display": units.fmt(value, unit, currency),
            "change_display": units.fmt_change(change, unit, currency),
            **{c: last.get(c, np.nan) for c in ("cl", "lcl", "ucl")},
            "alertable": bool(last.get("alertable", False)), "band_value": value,
        })
    order = {k: i for i, k in enumerate(dict.fromkeys(results["kpi"]))}
    out = pd.DataFrame(rows, columns=cols)
    out["_o"] = out["kpi"].map(order)
    return out.sort_values(["_o", *by], kind="stable").drop(columns="_o").reset_index(drop=True)


def open_alerts(banded: Sequence[pd.DataFrame], *, freq: str | None, as_of: Any,
                band: str = "critical") -> pd.DataFrame:
    """Alerts (``kpilib.alerts.from_bands``) of the latest complete period, in ``band``."""
    from kpilib.alerts import from_bands

    frames = [complete_periods(b, freq, as_of) for b in banded if b is not None and len(b)]
    parts = [from_bands(f, None, run_id="report", as_of=as_of) for f in frames if len(f)]
    if not parts:
        return pd.DataFrame(columns=["kpi", "segment", "period", "band", "reason", "owner_role"])
    alerts = pd.concat(parts, ignore_index=True)
    alerts = alerts[alerts["band"] == band]
    return alerts.sort_values(["kpi", "segment"]).reset_index(drop=True)


def print_table(frame: pd.DataFrame, columns: Sequence[str], *, max_rows: int = 40) -> None:
    """Print ``columns`` of ``frame`` as fixed-width text: text left-aligned, numbers right
    (floats with 4 decimals), dates as ``YYYY-MM-DD``."""
    if frame is None or frame.empty:
        print("(no rows)")
        return
    view = frame.loc[:, [c for c in columns if c in frame.columns]].head(max_rows).copy()
    left = []
    for c in view.columns:
        if pd.api.types.is_float_dtype(view[c]):
            view[c] = view[c].map(lambda v: "n/a" if pd.isna(v) else f"{v:.4f}")
        elif pd.api.types.is_datetime64_any_dtype(view[c]):
            view[c] = view[c].dt.strftime("%Y-%m-%d").fillna("")
        else:
            view[c] = view[c].map(lambda v: "" if v is None or (
                isinstance(v, float) and np.isnan(v)) else str(v))
            left.append(c)
    width = {c: max(len(str(c)), int(view[c].str.len().max() or 0)) for c in view.columns}
    def cell(c: str, v: str) -> str:
        return v.ljust(width[c]) if c in left else v.rjust(width[c])
    print("  ".join(cell(c, str(c)) for c in view.columns).rstrip())
    for _, row in view.iterrows():
        print("  ".join(cell(c, row[c]) for c in view.columns).rstrip())
    if len(frame) > max_rows:
        print(f"... {len(frame) - max_rows} more rows")


def unavailable_notes(results: pd.DataFrame, asked: Sequence[str] = (),
                      titles: dict[str, str] | None = None) -> list[str]:
    """Plain sentences for KPIs whose data is unavailable (``asked``: the ids the caller
    asked for; an unknown id is an error)."""
    titles = titles or {}
    registry.resolve(list(asked))
    notes: list[str] = []
    if not results.empty and "status" in results:
        bad = results[results["status"] == "unavailable"]
        for kpi, g in bad.groupby("kpi", sort=False):
            if (results.loc[results["kpi"] == kpi, "status"] != "unavailable").any():
                continue
            note = g["note"].dropna().astype(str) if "note" in g else pd.Series(dtype=str)
            why = note.iloc[0] if len(note) else "its data is not in this dataset"
            notes.append(f"{titles.get(kpi, kpi)}: unavailable ({why}).")
    return notes


class RoleView(NamedTuple):
    """A role's banded KPI rows and its open alerts."""

    role: str
    kpis: pd.DataFrame
    alerts: pd.DataFrame


def view(
    results: pd.DataFrame,
    role: str,
    config: RolesConfig | Mapping | str | Path | None = None,
    *,
    bands_config: Any = None,
    alerts: pd.DataFrame | None = None,
) -> RoleView:
    """The role's KPIs with bands, and open alerts for them.

    ``results`` may be plain ``compute`` output (banded here with ``bands_config``) or already
    banded. ``alerts`` (e.g. ``AlertStore.open_alerts()``) is filtered to the role's KPIs; when
    omitted, alerts are derived from the banded rows (latest period per series).
    """
    cfg = load_roles_config(config)
    ids = cfg.kpis_for(role)
    banded = results if "band" in results.columns else apply_bands(results, bands_config)
    mine = banded[banded["kpi"].isin(ids)].copy()
    order = {k: i for i, k in enumerate(ids)}
    mine = mine.sort_values("kpi", key=lambda s: s.map(order), kind="stable")
    if alerts is None:
        alerts = from_bands(mine, cfg, run_id="view")
    open_alerts = alerts[alerts["kpi"].isin(ids)]
    if "state" in open_alerts:
        open_alerts = open_alerts[open_alerts["state"] == "open"]
    return RoleView(role, mine.reset_index(drop=True), open_alerts.reset_index(drop=True))
