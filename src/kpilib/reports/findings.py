"""Plain-language findings generated from the numbers (executive summary).

Rules:

1. Each headline KPI in band ``critical`` or ``stressed`` gives one finding, critical first:
   "<name> is <state>: <value> in <period> (<change> vs the previous period), <why>", where
   state and why are the band story (``story.tell``: e.g. "critical, recovering: 1 of 2
   periods back within limits"), then the owner and the next step of an annotated headline.
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

from kpilib.reports.units import fmt, fmt_change

SEVERITY_ORDER = {"critical": 0, "stressed": 1}


@dataclass(frozen=True)
class Finding:
    """One sentence about one KPI (``kpi`` None for summary sentences)."""

    text: str
    severity: str  # critical | stressed | info
    kpi: str | None = None


def short_period(period: object, freq: str | None) -> str:
    """``week of 23 Dec 2024``, ``Dec 2024``, ``2024-Q4`` or ``23 Dec 2024``."""
    if period is None or pd.isna(period):
        return "the whole range"
    ts = pd.Timestamp(period)
    if freq == "W":
        return f"week of {ts.day} {ts:%b %Y}"
    if freq == "M":
        return f"{ts:%b %Y}"
    if freq == "Q":
        return f"{ts.year}-Q{ts.quarter}"
    return f"{ts.day} {ts:%b %Y}"


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
    return f"; {dim.replace('_', ' ')} {value} {verb}"


def adverse(change: float, direction: str) -> bool:
    """True when ``change`` moves the KPI the bad way (both ways for target KPIs)."""
    if pd.isna(change) or change == 0:
        return False
    if direction == "higher":
        return change < 0
    if direction == "lower":
        return change > 0
    return direction == "target"


def _bad_text(row: pd.Series, freq: str | None, segments: dict[str, pd.DataFrame],
              previous_periods: dict[str, object]) -> str:
    """``<name> is <state>: <value> in <period> (<change> vs the previous period), <why>``,
    then the segment that explains the change, the owner and the next step when known."""
    state = row.get("state") if isinstance(row.get("state"), str) else row["band"]
    stat = f" ({row['statistic']})" if isinstance(row.get("statistic"), str) and row.get(
        "statistic") else ""
    when = period_label(row["period"], freq)
    text = f"{row['name']} is {state}: {row['display']}{stat} in {when}"
    if pd.notna(row["change"]) and row["change"] != 0:
        text += f" ({row['change_display']} vs the previous period)"
    reason = row.get("why") if isinstance(row.get("why"), str) else ""
    text += f", {reason}" if reason else ""
    if isinstance(row.get("target_note"), str) and row["target_note"]:
        text += f"; {row['target_note']}"
    prev = previous_periods.get(row["kpi"], row.get("previous_period"))
    if prev is not None and pd.notna(prev) and adverse(row["change"], row["direction"]):
        text += _driver_text(segments, row, prev)
    if row.get("status") == "preliminary":
        text += " (preliminary: still inside its maturity window, no alert yet)"
    text += "."
    if isinstance(row.get("owner_label"), str) and row["owner_label"]:
        text += f" Owner: {row['owner_label']}. Next step: {row['action']}."
    return text


def headline_period(head: pd.DataFrame, freq: str | None) -> str:
    """The period a headline speaks of, as words: the latest period of its rows (KPIs whose
    data ends earlier show their own last period in the table)."""
    period = head["period"].dropna() if "period" in head else pd.Series(dtype=object)
    return period_label(period.max(), freq) if len(period) else "the whole range"


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
        out.append(Finding(_bad_text(row, freq, segments, previous_periods), row["band"],
                           row["kpi"]))
    valued = head.dropna(subset=["value"])
    if bad.empty and len(valued):
        when = headline_period(head, freq)
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
