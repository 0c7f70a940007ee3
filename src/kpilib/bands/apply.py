"""Band a tidy KPI result frame: ``apply_bands(results, config)`` (docs/banding.md).

Per series (one KPI × one segment, ordered by period): guards, the configured chart (XmR
by default, or p-chart), fixed targets, the worse band winning, then hysteresis. Adds columns
``band`` (normal / stressed / critical / insufficient_data), ``signals`` (``;``-joined rule names),
``cl``, ``lcl``, ``ucl`` (chart lines for plotting), ``alertable`` (``status == "ok"``, or
also ``preliminary`` with ``alert_on_preliminary``), ``band_metric`` (the column charted:
value, p50 or p90) and ``band_value`` (its value).

The running period (not ended at ``as_of``: the argument, else the frame's ``data_as_of``) is
first set to ``status = "partial"`` (``kpilib.bands.partial``): it is never judged.
Rows whose status is not ``ok``/``preliminary``, whose charted value is missing, or whose
denominator is below ``min_denominator`` get ``insufficient_data`` with the reason in
``signals``; they are skipped by the chart (moving ranges join the neighbouring banded points).
The baseline is the first ``baseline_k`` ``ok`` points (or the ``ok`` points with period in
``[baseline_start, baseline_end)``); fewer than ``baseline_min`` leaves the chart without a band,
and so does a baseline without variation (MR̄ = 0 would make every change "beyond 3σ").

Periods overlapping a declared ``calendar`` window (peak season, disruption) stay out of the
baseline, the runs and the moving ranges; they are judged alone, capped at ``stressed`` and
banded against the window's own limits (``kpilib.bands.windows``), with the signal
``window:<kind>:<name>`` and a ``note`` such as ``stressed (peak season, within peak limits)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kpilib.bands import chart, registry
from kpilib.bands.calendar import Window, assign, describe
from kpilib.bands.config import load_bands_config
from kpilib.bands.fixed import fixed_evaluate
from kpilib.bands.partial import OFFSETS, infer_freq, mark_partial
from kpilib.bands.settings import BandsConfig, KpiBandSettings
from kpilib.bands.windows import judge_windows
from kpilib.bands.xmr import CRITICAL

BANDS = ("normal", "stressed", "critical")
INSUFFICIENT = "insufficient_data"
RESULT_COLUMNS = frozenset({
    "kpi", "period", "value", "numerator", "denominator", "n", "p50", "p90", "status", "unit",
    "excluded", "note", "data_as_of", "computed_at", "mean", "period_end",
})
OUTPUT_COLUMNS = ("band", "signals", "cl", "lcl", "ucl", "alertable", "band_metric", "band_value")


def series_dims(results: pd.DataFrame) -> list[str]:
    """Segment columns of a result frame: every column that is not part of the result contract."""
    return [c for c in results.columns if c not in RESULT_COLUMNS and c not in OUTPUT_COLUMNS]


def apply_bands(
    results: pd.DataFrame,
    config: BandsConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    by: Sequence[str] | None = None,
    as_of: Any = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """Add ``band``, ``signals``, ``cl``, ``lcl``, ``ucl`` and ``alertable`` to a result frame.

    Parameters
    ----------
    results : DataFrame
        ``kpilib.compute`` output (kpi, period, <dims>, value, numerator, denominator, n, p50,
        p90, status, unit).
    config : mapping, YAML path, BandsConfig or None
        Band settings (``config/bands.yaml`` format); None uses the packaged defaults.
    by : list of str, optional
        Segment columns; default every column outside the result contract.
    as_of : timestamp, optional
        Evaluation time: rows of a period not ended by then become ``status = "partial"``
        (no band, no alert). Default: the latest ``data_as_of`` of ``results`` if present.
    freq : D, W, M or Q, optional
        Period length for that test; default read from the spacing of the periods.

    Returns
    -------
    DataFrame
        A copy of ``results`` (same row order and index) with the band columns.
    """
    cfg = load_bands_config(config)
    out = mark_partial(results, freq=freq, as_of=as_of).copy()
    n = len(out)
    band = np.full(n, INSUFFICIENT, dtype=object)
    signals = np.full(n, "", dtype=object)
    cl, lcl, ucl = (np.full(n, np.nan) for _ in range(3))
    alertable = np.zeros(n, dtype=bool)
    metric = np.full(n, "value", dtype=object)
    bvalue = np.full(n, np.nan)
    if n:
        dims = list(by) if by is not None else series_dims(out)
        work = out.reset_index(drop=True)
        stamps = pd.DatetimeIndex(pd.to_datetime(work["period"]))
        keys = stamps.asi8 if stamps.tz is None else stamps.tz_convert("UTC").asi8
        order = np.argsort(keys, kind="stable")
        work = work.iloc[order].reset_index(drop=True)  # period-sorted; positions -> order
        cols = _columns(work)
        cache: dict[tuple, KpiBandSettings] = {}
        step = OFFSETS.get(freq or infer_freq(work["period"]) or "") if cfg.calendar else None
        notes = np.full(n, "", dtype=object)
        for key, idx in work.groupby(["kpi", *dims], dropna=False, sort=True).indices.items():
            key = key if isinstance(key, tuple) else (key,)
            kpi = str(key[0])
            unit = str(cols["unit"][idx[0]]) if "unit" in cols else None
            segment = {d: str(v) for d, v in zip(dims, key[1:], strict=True) if pd.notna(v)}
            ck = (kpi, unit, tuple(sorted(segment.items())) if cfg.has_segments(kpi) else ())
            if ck not in cache:
                cache[ck] = cfg.settings_for(kpi, unit, segment)
            sub = {c: a[idx] for c, a in cols.items()}
            windows = cfg.windows_for(kpi)
            where = assign(sub["period"], step, windows) if windows else None
            res = _band_arrays(sub, cache[ck], where, windows)
            pos = order[idx]
            band[pos], signals[pos] = res["band"], res["signals"]
            cl[pos], lcl[pos], ucl[pos] = res["cl"], res["lcl"], res["ucl"]
            alertable[pos] = res["alertable"]
            metric[pos], bvalue[pos] = res["band_metric"], res["band_value"]
            notes[pos] = res["window_note"]
        if (notes != "").any():
            _add_notes(out, notes)
    out["band"], out["signals"] = band, signals
    out["cl"], out["lcl"], out["ucl"] = cl, lcl, ucl
    out["alertable"] = alertable
    out["band_metric"], out["band_value"] = metric, bvalue
    return out


def _add_notes(out: pd.DataFrame, extra: np.ndarray) -> None:
    """Append ``extra`` to ``out["note"]`` (``"; "``-joined) where ``extra`` is not empty."""
    mask = extra != ""
    note = (out["note"].astype(object) if "note" in out
            else pd.Series("", index=out.index, dtype=object))
    old = note[mask].fillna("").astype(str).to_numpy()
    note[mask] = np.where(old != "", old + "; " + extra[mask], extra[mask])
    out["note"] = note


def _columns(frame: pd.DataFrame) -> dict[str, Any]:
    """The result columns banding reads, as arrays (period as a DatetimeIndex)."""
    cols: dict[str, Any] = {}
    for c in ("value", "p50", "p90", "numerator", "denominator", "n"):
        if c in frame:
            cols[c] = frame[c].to_numpy(dtype=float, na_value=np.nan)
    cols["status"] = (frame["status"].astype(str).to_numpy() if "status" in frame
                      else np.full(len(frame), "ok", dtype=object))
    if "unit" in frame:
        cols["unit"] = frame["unit"].to_numpy()
    cols["period"] = pd.DatetimeIndex(pd.to_datetime(frame["period"]))
    return cols


def _adverse(direction: str) -> tuple[int, ...]:
    return {registry.HIGHER: (-1,), registry.LOWER: (1,), registry.TARGET: (-1, 1)}.get(
        direction, ())


def _baseline_mask(period: pd.DatetimeIndex, ok: np.ndarray, s: KpiBandSettings) -> np.ndarray:
    if s.baseline_start is None and s.baseline_end is None:
        first = np.cumsum(ok) <= s.baseline_k
        return ok & first
    inside = np.ones(len(period), dtype=bool)
    for bound, op in ((s.baseline_start, "__ge__"), (s.baseline_end, "__lt__")):
        if bound is None:
            continue
        b = bound.tz_convert(period.tz) if period.tz is not None else bound.tz_localize(None)
        inside &= np.asarray(getattr(period, op)(b))
    return ok & inside


def _band_arrays(cols: Mapping[str, Any], s: KpiBandSettings,
                 where: np.ndarray | None = None,
                 windows: Sequence[Window] = ()) -> dict[str, np.ndarray]:
    """Band one series given its columns as arrays (sorted by period).

    ``where``: index into ``windows`` of each period's calendar window (-1 = none).
    """
    g = cols
    m = len(g["status"])
    status = g["status"]
    x = g[chart.metric_name(g, s.metric)]
    den_col = s.denominator_column if s.denominator_column in g else "denominator"
    den = g[den_col] if den_col in g else np.full(m, np.nan)
    thin = ~np.isnan(den) & (den < s.min_denominator)
    usable = np.isin(status, ("ok", "preliminary")) & ~np.isnan(x) & ~thin
    reason = np.where(~np.isin(status, ("ok", "preliminary")), "status_" + status,
                      np.where(thin, "below_min_denominator", "missing_value"))
    sig: list[list[str]] = [[] if usable[i] else [str(reason[i])] for i in range(m)]
    level = np.full(m, -1)  # -1 = no method gave a band
    cl, lcl, ucl = (np.full(m, np.nan) for _ in range(3))
    adverse = _adverse(s.direction)
    inside = where >= 0 if where is not None else np.zeros(m, dtype=bool)
    idx = np.flatnonzero(usable)
    seq, alone = np.flatnonzero(usable & ~inside), np.flatnonzero(usable & inside)

    def baseline(mask: np.ndarray) -> np.ndarray:
        return _baseline_mask(g["period"], mask, s)

    if s.chart != "none" and adverse and len(idx):
        fitted = chart.fit(x, g.get("numerator"), den, baseline(usable & (status == "ok")
                                                               & ~inside), s)
        if isinstance(fitted, str):
            for i in idx:
                sig[i].append(fitted)
        else:
            for part, single in ((seq, False), (alone, True)):
                if not len(part):
                    continue
                lv, ss, lo, hi = chart.judge(fitted, x, den, part, s, adverse, alone=single)
                _merge(level, sig, part, lv, ss)
                lcl[part], ucl[part] = lo, hi
            cl[:] = fitted.pbar if fitted.xmr is None else fitted.xmr.cl
            if fitted.xmr is not None:
                lcl[:], ucl[:] = fitted.xmr.lcl, fitted.xmr.ucl

    if s.fixed is not None and len(idx):
        xf = g[chart.metric_name(g, s.fixed.metric or s.metric)]
        lv, ss = fixed_evaluate(xf[idx], s.fixed)
        _merge(level, sig, idx, lv, ss)

    if len(alone) and (s.chart != "none" and adverse or s.fixed is not None):
        judge_windows(level, sig, g, x, den, usable, where, windows, s, adverse, baseline)

    if s.hysteresis > 1:
        _hysteresis(level, sig, idx, s.hysteresis)

    band = np.array([BANDS[v] if v >= 0 else INSUFFICIENT for v in level], dtype=object)
    if s.chart == "none" and s.fixed is None or not adverse and s.fixed is None:
        for i in idx:
            sig[i].append("not_banded")
    prelim = status == "preliminary"
    for i in np.flatnonzero(prelim & usable):
        sig[i].append("preliminary")
    ok_status = (status == "ok") | (prelim & s.alert_on_preliminary)
    joined = np.array([";".join(dict.fromkeys(v)) for v in sig], dtype=object)
    return {
        "band": band,
        "signals": joined,
        "cl": cl, "lcl": lcl, "ucl": ucl,
        "alertable": ok_status & (band != INSUFFICIENT),
        "band_metric": chart.metric_name(g, s.metric),
        "band_value": x,
        "window_note": np.array([describe(b, j) if inside[i] else ""
                                 for i, (b, j) in enumerate(zip(band, joined, strict=True))],
                                dtype=object),
    }


def _merge(level: np.ndarray, sig: list[list[str]], idx: np.ndarray,
           lv: np.ndarray, ss: list[list[str]]) -> None:
    """Worse band wins: keep the maximum level, collect every method's signals."""
    level[idx] = np.maximum(level[idx], lv)
    for j, i in enumerate(idx):
        sig[i].extend(ss[j])


def _hysteresis(level: np.ndarray, sig: list[list[str]], idx: np.ndarray, m: int) -> None:
    """Leaving critical needs ``m`` consecutive better periods; held points stay critical."""
    held, better = False, 0
    for i in idx:
        if level[i] < 0:
            continue
        if level[i] == CRITICAL:
            held, better = True, 0
        elif held:
            better += 1
            if better >= m:
                held = False
            else:
                level[i] = CRITICAL
                sig[i].append("hysteresis_hold")
