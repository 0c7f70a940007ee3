"""HTML fragments for the report notebooks, from the Jinja templates in ``reports/html/``.

Every function returns an ``IPython.display.HTML``-ready string; autoescaping is on, so names
and segment values from the data are always text. ``style()`` is the CSS every fragment uses
(the notebook setup shows it once). Fragments:

- ``summary``: the first screen of the executive summary (what needs action, why, since when,
  where, who owns it, what to do);
- ``kpi_table``: the headline table (value with unit, vs previous, target, vs target, band);
- ``segment_table``: KPIs down, segment values across, a band chip per cell; a KPI that cannot
  be cut by the dimension says so;
- ``findings``: the numbered findings;
- ``attachment``: the link to the failing records' CSV of a critical KPI (or why there is none).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

import jinja2
import pandas as pd
from markupsafe import escape

from kpilib.reports.findings import Finding, headline_period, period_label, short_period
from kpilib.reports.story import JUDGED, state_detail

CHIPS = {"critical": "critical", "stressed": "stressed", "normal": "normal"}


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    folder = str(resources.files("kpilib") / "reports" / "html")
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def style() -> str:
    """``<style>`` with the report CSS."""
    css = (resources.files("kpilib") / "reports" / "html" / "style.css").read_text("utf-8")
    return f"<style>{css}</style>"


def chip(band: Any, status: Any = None) -> str:
    """CSS class suffix of a band chip; ``none`` for no band, partial or unavailable."""
    if status == "partial":
        return "none"
    return CHIPS.get(str(band), "none")


def _state(r: pd.Series) -> str:
    state = r.get("state")
    if isinstance(state, str) and state:
        return state
    band = str(r.get("band") or "no band")
    return band if band in CHIPS else ("unavailable" if band == "unavailable" else "no band")


def _band_word(r: pd.Series) -> str:
    return re.split(r"[,(]", _state(r), maxsplit=1)[0].strip()


def _state_rest(r: pd.Series) -> str:
    """The state after its band word: ``recovering: ...`` or ``peak season, within peak limits``."""
    return state_detail(_state(r), _band_word(r))


def _story_note(r: pd.Series) -> str:
    """What the chip does not say: recovery, a calendar window, preliminary, the target gap of a
    normal KPI."""
    rest = _state_rest(r)
    parts = [rest] if rest else []
    if r.get("status") == "preliminary" and r["band"] in ("critical", "stressed"):
        parts.append("preliminary, no alert yet")
    if r["band"] == "normal" and r.get("target_note"):
        parts.append(str(r["target_note"]))
    return "; ".join(parts)


def kpi_table(head: pd.DataFrame, *, freq: str | None, notes: Sequence[str] = ()) -> str:
    """The headline table of ``views.headline`` (optionally ``actions.annotate``-d) rows."""
    with_target = "target_display" in head and head["target_display"].astype(bool).any()
    period = head["period"].dropna()
    title = ("Last complete " + {"W": "week", "M": "month", "Q": "quarter", "D": "day"}.get(
        freq or "", "period")) if freq else "Whole range"
    if len(period):
        title += f": {period_label(period.max(), freq)}"
    rows = [{"name": r["name"], "statistic": r.get("statistic", ""),
             "display": r["display"], "change_display": r["change_display"],
             "target_display": r.get("target_display", ""), "vs_target": r.get("vs_target", ""),
             "state": _band_word(r), "chip": chip(r["band"]), "note": _story_note(r)}
            for _, r in head.iterrows()]
    return _env().get_template("kpi_table.html.j2").render(
        rows=rows, period_title=title, with_target=with_target, notes=list(notes))


def summary(head: pd.DataFrame, *, freq: str | None, context: str,
            records: dict[str, Any] | None = None,
            segment_alerts: Sequence[dict[str, str]] = ()) -> str:
    """First screen: KPIs needing action (critical first), then in-control-but-off-target.

    ``records``: ``{kpi: reports.records.Attachment}``, the failing records' CSV of each
    critical KPI (or why there is none). ``segment_alerts``: ``[{name, where, band}]`` of
    open alerts on segments, named on this screen too (the totals may all be normal).
    """
    records = records or {}
    bad = head[head["band"].isin(["critical", "stressed"])].copy()
    bad = bad.assign(_o=bad["band"].map({"critical": 0, "stressed": 1})).sort_values(
        ["_o"], kind="stable")
    when = headline_period(head, freq)
    actions = [{
        "name": r["name"], "display": r["display"], "statistic": r.get("statistic", ""),
        "state": _band_word(r), "chip": chip(r["band"]),
        "why": "; ".join(x for x in (_state_rest(r), r.get("why", "")) if x),
        "target_note": r.get("target_note", ""), "alerted": bool(r.get("alerted", True)),
        "since": short_period(r["since"], freq) if pd.notna(r.get("since")) else "",
        "where": r.get("where", ""), "owner_label": r.get("owner_label", ""),
        "action": r.get("action", ""), "records": records.get(r["kpi"]),
    } for _, r in bad.iterrows()]
    off = head[(head["band"] == "normal") & head.get(
        "target_note", pd.Series("", index=head.index)).astype(str).str.startswith(
            "in control")]
    n_crit = int((bad["band"] == "critical").sum())
    n_seg = len(segment_alerts)
    seg_crit = sum(a["band"] == "critical" for a in segment_alerts)
    seg_part = (f"{n_seg} segment alert{'s' if n_seg != 1 else ''} open"
                + (f" ({seg_crit} critical)" if seg_crit else "")) if n_seg else ""
    title = (f"{len(actions)} KPI{'s need' if len(actions) != 1 else ' needs'} action in {when}"
             + (f" ({n_crit} critical)" if n_crit else "")) if actions else (
        f"No headline total needs action in {when}; {seg_part}" if n_seg else
        f"Nothing needs action in {when}" if head["band"].isin(JUDGED).any() else
        f"No headline KPI could be judged in {when}")
    return _env().get_template("summary.html.j2").render(
        headline=title, actions=actions, period=when, total=len(head),
        segment_alerts=list(segment_alerts),
        unjudged=int((head["value"].notna() & ~head["band"].isin(JUDGED)).sum()),
        unavailable=int(head["value"].isna().sum()),
        off_target=[{"name": r["name"], "display": r["display"],
                     "target_note": r["target_note"]} for _, r in off.iterrows()],
        footer=context)


def segment_table(head: pd.DataFrame, dim: str, *, names: Sequence[tuple[str, str]],
                  uncut: dict[str, str], freq: str | None, intro: str = "") -> str:
    """KPIs (``names``: ``(kpi, name)``) down, ``dim`` values across; ``uncut[kpi]`` a reason
    sentence for a KPI without values by ``dim``."""
    valued = head.dropna(subset=["value"]) if "value" in head else head
    segments = sorted(valued[dim].astype(str).unique()) if len(valued) else []
    empty = sorted(set(head[dim].dropna().astype(str)) - set(segments)) if len(head) else []
    if empty:
        intro = " ".join(x for x in (intro, f"No values for {dim.replace('_', ' ')} "
                                     f"{', '.join(empty)} in these KPIs.") if x)
    if not segments:  # nothing to compare: one line instead of an empty table
        what = ", ".join(name for _, name in names)
        return (f"<div class='k-wrap'><p class='k-small'>No values by {dim.replace('_', ' ')}"
                f" in this period range for {escape(what)}.</p></div>")
    cells = {(str(r["kpi"]), str(r[dim])): r for _, r in head.iterrows()}
    period = head["period"].dropna()
    title = short_period(period.max(), freq) if len(period) else "last complete period"
    rows = []
    for kpi, name in names:
        if kpi in uncut:
            rows.append({"name": name, "uncut": uncut[kpi], "cells": []})
            continue
        row = []
        for s in segments:
            r = cells.get((kpi, s))
            text = r["display"] if r is not None else "n/a"
            row.append({"text": text, "chip": chip(r["band"]) if r is not None and r["band"]
                        in CHIPS and text != "n/a" else ""})
        rows.append({"name": name, "uncut": "", "cells": row})
    return _env().get_template("segment_table.html.j2").render(
        rows=rows, segments=segments, period_title=title, intro=intro)


def findings(items: Sequence[Finding], records: dict[str, Any] | None = None) -> str:
    """Numbered findings, a chip for critical and stressed ones, the records' CSV link (or why
    there is none) where ``records`` (``{kpi: Attachment}``) has one."""
    return _env().get_template("findings.html.j2").render(items=list(items),
                                                          records=records or {})


def attachment(att: Any) -> str:
    """`` · 12 failing records (CSV)`` linking the CSV of ``att`` (a
    ``reports.records.Attachment``), or the one line saying why there is none; "" for None."""
    return str(_env().get_template("attachment.html.j2").module.attachment(att))
