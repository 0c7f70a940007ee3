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
from matplotlib.ticker import FuncFormatter

BAND_COLOURS = {
    "normal": "#1b7f3b",
    "stressed": "#e0a100",
    "critical": "#c5221f",
    "insufficient_data": "#9aa0a6",
}
LINE = "#1a73e8"
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


def _percent_axis(ax: Axes, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _pos: f"{v:.0%}" if abs(v) < 10 else f"{v:.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _empty(ax: Axes, message: str) -> Axes:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="#5f6368")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def control_chart(results: pd.DataFrame, *, kpi: str, segment: dict[str, object] | None = None,
                  metric: str | None = None, title: str | None = None,
                  ax: Axes | None = None) -> Axes:
    """Control chart of ``kpi``: points by period coloured by band, CL and limits shaded.

    Parameters
    ----------
    results : banded (or plain) ``compute`` output with ``freq`` set.
    kpi : KPI id to draw.
    segment : ``{dim: value}`` to pick one series when ``results`` has segment columns.
    metric : column to draw; default ``band_value`` when present, else ``value``.
    title : axes title; default the KPI id.
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
    if df.empty:
        return _empty(ax, "no values for this period range")
    when = pd.to_datetime(df["period"])
    if when.dt.tz is not None:
        when = when.dt.tz_localize(None)
    x = when.to_numpy()
    y = df[col].to_numpy(dtype=float)
    ax.plot(x, y, color=LINE, lw=1.4, zorder=2)
    if {"cl", "lcl", "ucl"} <= set(df.columns) and df["cl"].notna().any():
        cl, lcl, ucl = (df[c].astype(float).to_numpy() for c in ("cl", "lcl", "ucl"))
        ax.fill_between(x, lcl, ucl, color=BAND_COLOURS["normal"], alpha=0.08, step="mid",
                        label="natural process limits")
        ax.plot(x, cl, color="#5f6368", lw=1, ls="--", label="centre line")
        ax.plot(x, lcl, color="#5f6368", lw=0.8, ls=":")
        ax.plot(x, ucl, color="#5f6368", lw=0.8, ls=":")
    bands = df["band"].fillna("insufficient_data") if "band" in df else pd.Series(
        "insufficient_data", index=df.index)
    for band, colour in BAND_COLOURS.items():
        mask = (bands == band).to_numpy()
        if mask.any():
            ax.scatter(x[mask], y[mask], color=colour, s=28, zorder=3,
                       label=band.replace("_", " "))
    if _is_rate(df["unit"].iloc[0] if "unit" in df else None):
        _percent_axis(ax)
    locator = mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("")
    ax.set_ylabel(col if col != "band_value" else str(df.get("band_metric", pd.Series(
        ["value"])).iloc[0]))
    ax.legend(loc="best", fontsize=7, frameon=False, ncols=3)
    return ax


def control_grid(results: pd.DataFrame, *, kpis: Sequence[str],
                 titles: dict[str, str] | None = None, ncols: int = 2) -> np.ndarray:
    """Small multiples: one ``control_chart`` per KPI in a grid; returns the array of Axes."""
    kpis = [k for k in kpis if (results["kpi"] == k).any()] if len(results) else []
    nrows = max(1, -(-len(kpis) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(FIGSIZE[0], 2.6 * nrows), squeeze=False)
    flat = axes.ravel()
    for ax, kpi in zip(flat, kpis, strict=False):
        control_chart(results, kpi=kpi, title=(titles or {}).get(kpi, kpi), ax=ax)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    for ax in flat[len(kpis):]:
        ax.set_visible(False)
    if not kpis:
        flat[0].set_visible(True)
        _empty(flat[0], "no KPI values to chart")
    fig.tight_layout()
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
    ax.set_title(title or f"{kpi} by {by}")
    df = results[(results["kpi"] == kpi)].dropna(subset=["value"])
    if df.empty or by not in df:
        return _empty(ax, f"no values by {by}")
    if "period" in df and df["period"].notna().any():  # keep the latest period per segment
        df = df.sort_values("period").groupby(by, sort=True, observed=True).tail(1)
    df = df.sort_values("value")
    colours = [BAND_COLOURS.get(b, LINE) for b in (df["band"] if "band" in df
                                                   else [None] * len(df))]
    ax.barh(df[by].astype(str), df["value"].astype(float), color=colours)
    if _is_rate(df["unit"].iloc[0] if "unit" in df else None):
        _percent_axis(ax, "x")
    ax.set_xlabel(kpi)
    ax.set_ylabel(by)
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
    lo = max(0.0, float(v.min()) - 0.05)
    ax.set_xlim(lo, 1.0 if v.max() <= 1 else None)
    _percent_axis(ax, "x")
    return ax
