"""Charts for kpilib results in one consistent seaborn/matplotlib style.

Every function takes tidy data first, options keyword-only, draws into ``ax`` (a new figure when
None) and returns the Axes; none calls ``plt.show()``. Inputs are ``kpilib.compute`` results
(``kpi``, ``period``, segment columns, ``value``...) optionally banded by ``kpilib.apply_bands``
(``band``, ``cl``, ``lcl``, ``ucl``, ``band_value``). Rates (unit ``fraction``) are drawn as
percentages. Band colours: normal green, stressed amber, critical red, no band grey.

- ``control_chart``: one KPI's period series with the centre line, natural process limits and
  the band of each point; the zone between the limits is shaded.
- ``distribution``: histogram + KDE of a fact column (e.g. cycle hours), optionally by hue,
  with median and p90 marked.
- ``segment_comparison``: horizontal bars of one KPI by segment value, coloured by band.
- ``heatmap``: a 2-D table (e.g. ABC x XYZ counts, ageing bucket by node) with annotations.
- ``driver_bars``: the components of a composite KPI (e.g. perfect order) side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, MaxNLocator

BAND_COLOURS = {
    "normal": "#1b7f3b",
    "stressed": "#e0a100",
    "critical": "#c5221f",
    "insufficient_data": "#9aa0a6",
}
LINE = "#1a73e8"
TARGET_COLOUR = "#7b1fa2"
FIGSIZE = (9.0, 3.6)


def set_style() -> None:
    """Apply the kpilib look (seaborn whitegrid, compact fonts, readable figure size)."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.9,
                  rc={"figure.figsize": FIGSIZE, "figure.dpi": 90, "axes.titleweight": "bold",
                      "axes.titlesize": 11, "savefig.bbox": "tight"})


def _ax(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _is_rate(unit: object) -> bool:
    return str(unit) in ("fraction", "ratio_0_1", "rate")


class _Percent(Formatter):
    """Percent tick labels with as many decimals as the tick spacing needs, decided from the
    tick locations at draw time (so no two ticks print the same label)."""

    ticks: tuple[float, ...] = ()

    def set_locs(self, locs: Sequence[float]) -> None:
        self.ticks = tuple(float(v) for v in locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        steps = np.diff(np.asarray(self.ticks, dtype=float)) * 100
        step = float(np.min(steps)) if len(steps) and np.min(steps) > 0 else 1.0
        decimals = max(0, int(np.ceil(-np.log10(step) - 1e-9)))
        return f"{x * 100:.{decimals}f}%"


def _percent_axis(ax: Axes, axis: str = "y") -> None:
    """Percent ticks without repeated labels (``_Percent``)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(_Percent())


def _empty(ax: Axes, message: str) -> Axes:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="#5f6368")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


STAT_WORDS = {"p90": "p90", "p50": "median", "value": ""}
UNIT_WORDS = {"hours": "hours", "days": "days", "fraction": "", "turns/year": "turns per year",
              "turns": "turns per period", "currency/order": "per order"}


def _ylabel(unit: object, metric: str) -> str:
    words = [w for w in (STAT_WORDS.get(metric, metric), UNIT_WORDS.get(str(unit), str(unit)))
             if w]
    return ", ".join(words)


def control_chart(results: pd.DataFrame, *, kpi: str, segment: dict[str, object] | None = None,
                  metric: str | None = None, title: str | None = None,
                  target: Sequence[float] = (), ax: Axes | None = None) -> Axes:
    """Control chart of ``kpi``: points by period coloured by band, CL and limits shaded.

    The running period (``status == "partial"``) is a hollow grey point labelled with its
    days; periods with too small a denominator (``below_min_denominator``) are left out of the
    line and counted in a note. ``target`` values are drawn as a dashed purple line. The
    y-axis says which statistic is drawn (value, median, p90) and its unit.

    Parameters
    ----------
    results : banded (or plain) ``compute`` output with ``freq`` set.
    kpi : KPI id to draw.
    segment : ``{dim: value}`` to pick one series when ``results`` has segment columns.
    metric : column to draw; default ``band_value`` when present, else ``value``.
    title : axes title; default the KPI id.
    target : target values to draw (e.g. ``Target.lines()``).
    ax : Axes to draw into.
    """
    ax = _ax(ax)
    df = results[results["kpi"] == kpi]
    for dim, val in (segment or {}).items():
        df = df[df[dim] == val]
    col = metric or ("band_value" if "band_value" in df and df["band_value"].notna().any()
                     else "value")
    df = df.dropna(subset=[col]).sort_values("period")
    ax.set_title(title or kpi)
    signals = df["signals"].astype(str) if "signals" in df else pd.Series("", index=df.index)
    thin = signals.str.contains("below_min_denominator").to_numpy()
    n_thin = int(thin.sum())
    df = df.loc[~thin]
    if df.empty:
        return _empty(ax, "too few records to chart" if n_thin else "no values in this range")
    when = pd.to_datetime(df["period"])
    if when.dt.tz is not None:
        when = when.dt.tz_localize(None)
    x = when.to_numpy()
    y = df[col].to_numpy(dtype=float)
    partial = (df["status"] == "partial").to_numpy() if "status" in df else np.zeros(len(df),
                                                                                      bool)
    ax.plot(x[~partial], y[~partial], color=LINE, lw=1.4, zorder=2)
    if {"cl", "lcl", "ucl"} <= set(df.columns) and df["cl"].notna().any():
        cl, lcl, ucl = (df[c].astype(float).to_numpy() for c in ("cl", "lcl", "ucl"))
        ax.fill_between(x, lcl, ucl, color=BAND_COLOURS["normal"], alpha=0.08, step="mid",
                        label="usual range (control limits)")
        ax.plot(x, cl, color="#5f6368", lw=1, ls="--", label="centre line")
        ax.plot(x, lcl, color="#5f6368", lw=0.8, ls=":")
        ax.plot(x, ucl, color="#5f6368", lw=0.8, ls=":")
    bands = df["band"].fillna("insufficient_data") if "band" in df else pd.Series(
        "insufficient_data", index=df.index)
    for band, colour in BAND_COLOURS.items():
        mask = (bands == band).to_numpy() & ~partial
        if mask.any():
            ax.scatter(x[mask], y[mask], color=colour, s=28, zorder=3,
                       label=band.replace("_", " "))
    unit = df["unit"].iloc[0] if "unit" in df else None
    lo, hi = _y_range(y[~partial] if (~partial).any() else y, df, target)
    if _is_rate(unit):  # a rate lies in [0, 1]: limits beyond it are not drawn past it
        lo, hi = max(lo, min(0.0, float(np.nanmin(y))) - 0.02 * (hi - lo)), min(
            hi, max(1.0, float(np.nanmax(y))) + 0.02 * (hi - lo))
    notes = _target_lines(ax, target, lo, hi, unit)
    if partial.any():
        notes.insert(0, _partial_point(ax, x[partial][-1], float(y[partial][-1]), lo, hi, df,
                                       partial, unit))
    ax.set_ylim(lo, hi)
    if _is_rate(unit):
        _percent_axis(ax)
    elif str(unit) in ("count", "units", "lines", "orders"):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if n_thin:
        notes.append(f"{n_thin} period{'s' if n_thin != 1 else ''} with too few records "
                     "not drawn")
    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlim(x.min() - np.timedelta64(3, "D"), x.max() + np.timedelta64(3, "D"))
    # notes sit under the axis, where they can never cover a point or each other
    ax.set_xlabel("\n".join(notes), fontsize=7, color="#5f6368")
    used = str(df["band_metric"].iloc[0]) if col == "band_value" and "band_metric" in df else col
    ax.set_ylabel(_ylabel(unit, used))
    ax.legend(loc="best", fontsize=7, frameon=False, ncols=3)
    return ax


def _y_range(y: np.ndarray, df: pd.DataFrame, target: Sequence[float]) -> tuple[float, float]:
    """y-limits from the judged points and the control limits (a far target or an odd
    running-period value does not squash the chart)."""
    vals = [y]
    for c in ("lcl", "ucl"):
        if c in df and df[c].notna().any():
            vals.append(df[c].dropna().to_numpy(dtype=float))
    allv = np.concatenate(vals)
    lo, hi = float(np.nanmin(allv)), float(np.nanmax(allv))
    span = hi - lo or abs(hi) * 0.1 or 1.0
    near = [t for t in target if lo - 0.5 * span <= t <= hi + 0.5 * span]
    lo, hi = min([lo, *near]), max([hi, *near])
    pad = (hi - lo or span) * 0.08
    return lo - pad, hi + pad


def _label(v: float, unit: object) -> str:
    if _is_rate(unit):
        return f"{v:.2%}" if 0.995 <= abs(v) < 1 else f"{v:.1%}"
    return f"{v:,.1f}"


def _target_lines(ax: Axes, target: Sequence[float], lo: float, hi: float,
                  unit: object) -> list[str]:
    """Target lines inside the range; a target off the chart is a note (returned)."""
    notes = []
    for t in target:
        if lo <= t <= hi:
            ax.axhline(t, color=TARGET_COLOUR, lw=1.2, ls="-.", label="target", zorder=1)
        else:
            notes.append(f"target {_label(t, unit)} ({'above' if t > hi else 'below'} "
                         "the chart)")
    return notes


def _partial_point(ax: Axes, x: object, y: float, lo: float, hi: float, df: pd.DataFrame,
                   partial: np.ndarray, unit: object) -> str:
    """The running period: hollow grey point (at the edge when off the chart); its note."""
    shown = min(max(y, lo), hi)
    ax.scatter([x], [shown], facecolors="white", edgecolors="#5f6368", s=36, zorder=4,
               label="running period (not judged)")
    note = str(df.loc[partial, "note"].iloc[-1]) if "note" in df else "partial"
    days = note.replace("partial: ", "").replace("partial", "").strip()
    return (f"hollow point: running period{', ' + days if days else ''}, not judged"
            + (f" ({_label(y, unit)}, off the chart)" if shown != y else ""))


def chartable(results: pd.DataFrame, kpi: str) -> bool:
    """True when ``kpi`` has at least two points to draw as a trend: values in complete
    periods whose denominator is large enough (a running period or one point is no chart)."""
    if not len(results):
        return False
    df = results[(results["kpi"] == kpi) & results["value"].notna()]
    if "status" in df:
        df = df[df["status"] != "partial"]
    if "signals" in df:
        df = df[~df["signals"].astype(str).str.contains("below_min_denominator")]
    return len(df) >= 2


def control_grid(results: pd.DataFrame, *, kpis: Sequence[str],
                 titles: dict[str, str] | None = None, ncols: int = 2,
                 targets: dict | None = None) -> np.ndarray:
    """Small multiples: one ``control_chart`` per KPI with values; returns the Axes array.

    ``targets`` maps KPI id -> an object with ``lines()`` (``kpilib.bands.targets.Target``).
    One shared legend explains the marks.
    """
    kpis = [k for k in kpis if chartable(results, k)]
    nrows = max(1, -(-len(kpis) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(FIGSIZE[0], 2.6 * nrows + 0.4),
                             squeeze=False)
    flat = axes.ravel()
    handles: dict[str, object] = {}
    for ax, kpi in zip(flat, kpis, strict=False):
        t = (targets or {}).get(kpi)
        control_chart(results, kpi=kpi, title=(titles or {}).get(kpi, kpi), ax=ax,
                      target=t.lines() if t is not None else ())
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    for ax in flat[len(kpis):]:
        ax.set_visible(False)
    if not kpis:
        flat[0].set_visible(True)
        _empty(flat[0], "no KPI values to chart")
    fig.tight_layout()
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center",
                   ncols=min(4, len(handles)), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, 1.0))
    return axes


def distribution(data: pd.DataFrame, *, x: str, hue: str | None = None,
                 title: str | None = None, clip_quantile: float = 0.99,
                 ax: Axes | None = None) -> Axes:
    """Histogram + KDE of ``data[x]`` (clipped at its ``clip_quantile``), median and p90 marked."""
    ax = _ax(ax)
    ax.set_title(title or x)
    values = pd.to_numeric(data[x], errors="coerce") if x in data else pd.Series(dtype=float)
    if values.notna().sum() < 2:
        return _empty(ax, "not enough values to draw a distribution")
    hi = values.quantile(clip_quantile)
    frame = data.assign(**{x: values}).loc[values.notna() & (values <= hi)]
    sns.histplot(frame, x=x, hue=hue, kde=True, stat="density", common_norm=False,
                 element="step", ax=ax)
    for q, style in ((0.5, "--"), (0.9, ":")):
        v = values.quantile(q)
        ax.axvline(v, color="#202124", ls=style, lw=1)
        ax.text(v, ax.get_ylim()[1] * 0.95, f" p{int(q * 100)} {v:.1f}", fontsize=8,
                va="top")
    return ax


def segment_comparison(results: pd.DataFrame, *, kpi: str, by: str,
                       title: str | None = None, ax: Axes | None = None) -> Axes:
    """Bars of ``kpi`` by ``by`` (one row per segment value, e.g. ``freq=None``), band colours."""
    ax = _ax(ax)
    df = results[(results["kpi"] == kpi)].dropna(subset=["value"])
    name = str(df["name"].iloc[0]) if "name" in df and len(df) else kpi
    ax.set_title(title or f"{name} by {by.replace('_', ' ')}")
    if df.empty or by not in df:
        return _empty(ax, f"no values by {by.replace('_', ' ')}")
    if "period" in df and df["period"].notna().any():  # keep the latest period per segment
        df = df.sort_values("period").groupby(by, sort=True, observed=True).tail(1)
    df = df.sort_values("value")
    colours = [BAND_COLOURS.get(b, LINE) for b in (df["band"] if "band" in df
                                                   else [None] * len(df))]
    ax.barh(df[by].astype(str), df["value"].astype(float), color=colours)
    if _is_rate(df["unit"].iloc[0] if "unit" in df else None):
        _percent_axis(ax, "x")
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax


def heatmap(table: pd.DataFrame, *, title: str | None = None, fmt: str = ".0f",
            cmap: str = "Blues", ax: Axes | None = None) -> Axes:
    """Annotated heatmap of a 2-D ``table`` (index = rows, columns = columns)."""
    ax = _ax(ax, (6.5, 4.0))
    ax.set_title(title or "")
    if table is None or table.empty:
        return _empty(ax, "no data")
    sns.heatmap(table.astype(float), annot=True, fmt=fmt, cmap=cmap, cbar=False,
                linewidths=0.5, ax=ax)
    return ax


def driver_bars(values: pd.Series, *, title: str | None = None,
                bands: Sequence[str] | None = None, ax: Axes | None = None) -> Axes:
    """Horizontal bars of component rates (``values`` indexed by name), weakest first."""
    ax = _ax(ax, (7.5, 3.0))
    ax.set_title(title or "")
    v = values.dropna().astype(float)
    if v.empty:
        return _empty(ax, "no component values")
    order = np.argsort(v.to_numpy())
    colours = ([BAND_COLOURS.get(bands[i], LINE) for i in order] if bands is not None
               else LINE)
    ax.barh(v.index[order].astype(str), v.to_numpy()[order], color=colours)
    ax.set_xlim(0.0, 1.0 if v.max() <= 1 else None)  # bars start at zero
    for i, val in enumerate(v.to_numpy()[order]):
        ax.text(val, i, f" {val:.1%}", va="center", fontsize=8)
    _percent_axis(ax, "x")
    return ax
