"""Plain-language findings generated from the numbers (executive summary).

Rules:

1. Each headline KPI in band ``critical`` or ``stressed`` gives one finding, critical first:
   "<name> fell to <value> (critical) in <period>, <change> vs the previous period".
   "fell"/"rose" is the sign of the change; the band says whether that is bad.
2. When segment results are given and the change is adverse (down for higher-is-better, up
   for lower-is-better, either way for target KPIs), the finding names the segment that
   explains most of the change. For a KPI with numerator and denominator,
   ``r_t = ΣN_t / ΣD_t`` and the change splits exactly into segment contributions
   ``c_s = N_s,t / D_t − N_s,t−1 / D_t−1`` (Σ_s c_s = Δr when the segments partition the
   population). The segment with the largest contribution in the direction of the change is
   named with its share ``c_s / Δr`` (over 100%: other segments moved the other way).
   A preliminary value is said to be preliminary.
3. With no stressed or critical KPI: one finding saying so, counting the KPIs in their normal
   band and those without a band (too little data).
4. The largest favourable move among normal KPIs (if any) is mentioned last.
5. KPIs with no value are listed in one closing finding.

Findings are plain text; callers print them (stream output is HTML-escaped on export) or
escape them with ``html.escape`` before putting them in HTML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpilib.reports.views import fmt, fmt_change

SEVERITY_ORDER = {"critical": 0, "stressed": 1}


@dataclass(frozen=True)
class Finding:
    """One sentence about one KPI (``kpi`` None for summary sentences)."""

    text: str
    severity: str  # critical | stressed | info
    kpi: str | None = None


def period_label(period: object, freq: str | None) -> str:
    """``week 34 of 2024 (from 2024-08-19)``, ``2024-08``, ``2024-Q3``, or the date."""
    if period is None or pd.isna(period):
        return "the whole range"
    ts = pd.Timestamp(period)
    if freq == "W":
        iso = ts.isocalendar()
        return f"week {iso.week} of {iso.year} (from {ts:%Y-%m-%d})"
    if freq == "M":
        return f"{ts:%Y-%m}"
    if freq == "Q":
        return f"{ts.year}-Q{ts.quarter}"
    return f"{ts:%Y-%m-%d}"


def contributions(seg: pd.DataFrame, *, kpi: str, dim: str, period: object,
                  previous: object) -> pd.DataFrame:
    """Segment contributions to the change of ``kpi`` between ``previous`` and ``period``.

    Returns columns ``dim``, ``contribution`` (``N_s,t/D_t − N_s,t−1/D_t−1``) and ``share``
    (contribution / Σ contributions), sorted by share descending. Empty when numerators or
    denominators are missing.
    """
    g = seg[(seg["kpi"] == kpi) & seg["period"].isin([period, previous])]
    if g.empty or not {"numerator", "denominator", dim} <= set(g.columns):
        return pd.DataFrame(columns=[dim, "contribution", "share"])
    g = g.dropna(subset=["numerator", "denominator"])
    tot = g.groupby("period")["denominator"].sum()
    if period not in tot.index or previous not in tot.index or (tot <= 0).any():
        return pd.DataFrame(columns=[dim, "contribution", "share"])
    piv = g.pivot_table(index=dim, columns="period", values="numerator", aggfunc="sum",
                        fill_value=0.0, observed=True)
    c = piv.get(period, 0.0) / tot[period] - piv.get(previous, 0.0) / tot[previous]
    total = float(c.sum())
    out = pd.DataFrame({dim: c.index.astype(str), "contribution": c.to_numpy()})
    out["share"] = out["contribution"] / total if total != 0 else np.nan
    return out.sort_values(["share", dim], ascending=[False, True]).reset_index(drop=True)


def _driver_text(seg_frames: dict[str, pd.DataFrame], row: pd.Series,
                 prev_period: object) -> str:
    best: tuple[float, str, str] | None = None
    for dim, seg in seg_frames.items():
        c = contributions(seg, kpi=row["kpi"], dim=dim, period=row["period"],
                          previous=prev_period)
        if c.empty or c["share"].isna().all():
            continue
        top = c.iloc[0]
        if top["share"] > 0 and (best is None or top["share"] > best[0]):
            best = (float(top["share"]), dim, str(top[dim]))
    if best is None:
        return ""
    share, dim, value = best
    if share >= 1.0:
        verb = "accounts for all of it (other segments moved the other way)"
    elif share >= 0.5:
        verb = f"explains most of it ({share:.0%} of the change)"
    else:
        verb = f"is the largest part of it ({share:.0%})"
    return f"; {dim} {value} {verb}"


def adverse(change: float, direction: str) -> bool:
    """True when ``change`` moves the KPI the bad way (both ways for target KPIs)."""
    if pd.isna(change) or change == 0:
        return False
    if direction == "higher":
        return change < 0
    if direction == "lower":
        return change > 0
    return direction == "target"


def findings(head: pd.DataFrame, *, freq: str | None = "W",
             segments: dict[str, pd.DataFrame] | None = None,
             previous_periods: dict[str, object] | None = None) -> list[Finding]:
    """Findings from a ``views.headline`` frame (see module docstring for the rules).

    Parameters
    ----------
    head : output of ``views.headline``.
    freq : period length, for the period labels.
    segments : ``{dim: kpi_frame(..., by=[dim])}`` for the driver attribution.
    previous_periods : ``{kpi: previous period start}``; default the ``previous_period``
        column of ``head``.
    """
    out: list[Finding] = []
    segments = segments or {}
    previous_periods = previous_periods or {}
    bad = head[head["band"].isin(list(SEVERITY_ORDER))].copy()
    bad["_order"] = bad["band"].map(SEVERITY_ORDER)
    for _, row in bad.sort_values(["_order", "kpi"]).iterrows():
        moved = ""
        if pd.notna(row["change"]) and row["change"] != 0:
            verb = "fell" if row["change"] < 0 else "rose"
            moved = (f"{verb} to {row['display']} ({row['band']}) in "
                     f"{period_label(row['period'], freq)}, {row['change_display']} vs the "
                     "previous period")
        else:
            when = period_label(row["period"], freq)
            moved = f"is at {row['display']} ({row['band']}) in {when}"
        prev = previous_periods.get(row["kpi"], row.get("previous_period"))
        driver = ""
        if prev is not None and pd.notna(prev) and adverse(row["change"], row["direction"]):
            driver = _driver_text(segments, row, prev)
        prelim = " (preliminary: still inside its maturity window)" if row.get(
            "status") == "preliminary" else ""
        out.append(Finding(f"{row['name']} {moved}{driver}{prelim}.", row["band"], row["kpi"]))
    valued = head.dropna(subset=["value"])
    if bad.empty and len(valued):
        when = period_label(valued["period"].iloc[0], freq)
        n_normal = int((valued["band"] == "normal").sum())
        n_other = len(valued) - n_normal
        if n_other == 0:
            text = f"All {len(valued)} headline KPIs are within their normal bands in {when}."
        else:
            text = (f"No headline KPI is stressed or critical in {when}: {n_normal} in their "
                    f"normal band, {n_other} without a band (too little data to judge).")
        out.append(Finding(text, "info"))
    good = valued[(valued["band"] == "normal") & valued["change"].notna()].copy()
    if len(good):
        sign = good["direction"].map({"higher": 1.0, "lower": -1.0}).fillna(0.0)
        rel = good["change"] * sign / good["previous"].abs().replace(0, np.nan)
        good = good.assign(_rel=rel).dropna(subset=["_rel"])
        good = good[good["_rel"] > 0]
        if len(good):
            top = good.sort_values(["_rel", "kpi"], ascending=[False, True]).iloc[0]
            out.append(Finding(f"Largest improvement: {top['name']} at {top['display']} "
                               f"({top['change_display']}).", "info", top["kpi"]))
    missing = head[head["value"].isna()]
    if len(missing):
        out.append(Finding("No value for: " + ", ".join(missing["name"].astype(str)) + ".",
                           "info"))
    return out


def print_findings(items: list[Finding]) -> None:
    """Print findings as a numbered plain-text list (an nbval-checked cell)."""
    if not items:
        print("No findings: no headline KPI has a value.")
    for i, f in enumerate(items, 1):
        print(f"{i}. {f.text}")


__all__ = ["Finding", "contributions", "findings", "fmt", "fmt_change", "period_label",
           "print_findings"]
