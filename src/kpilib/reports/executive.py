"""The executive summary's cells: one call each, all shown as HTML.

- ``headline(rep)``: the headline KPIs (annotated: story, target, owner, action, where) and the
  frames behind them;
- ``summary(rep, head)``: the first screen (what needs action, why, since when, where, who owns
  it, what to do), then the headline table;
- ``findings(rep, head)``: the numbered findings, same story as the summary;
- ``alerts(rep, res, seg)``: the open alerts of the last complete period, overall and by
  segment, with the owner's label; the same rows that ``kpilib alerts`` would raise.

Each critical KPI of the summary and findings, and each open critical alert, links to the CSV
of its failing records (``reports.records``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpilib.reports import render, story
from kpilib.reports.nbtools import record
from kpilib.reports.session import esc, html


def headline(rep: Any) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """``(results, results by segment_by or None, annotated headline)``."""
    ids = rep.headline_ids()
    rep.prefetch(ids)
    res = rep.frame(rep.role_filter(ids))
    dim = rep.segment_by
    seg = rep.frame(rep.role_filter(ids), by=[dim]) if dim and dim not in rep.filters else None
    head = rep.annotated(res, seg=seg)
    if seg is not None and len(head):
        head["where"] = [w or _driver(seg, dim, r) for w, (_, r) in
                         zip(head["where"], head.iterrows(), strict=True)]
    return res, seg, head


def _driver(seg: pd.DataFrame, dim: str, row: pd.Series) -> str:
    """``channel web (71% of the change)`` when one segment explains most of an adverse move
    of a stressed or critical KPI (``findings.contributions``), else ``""``."""
    from kpilib.reports.findings import adverse, contributions

    if row["band"] not in story.BAD or pd.isna(row.get("previous_period")) or not adverse(
            row["change"], row["direction"]):
        return ""
    c = contributions(seg, kpi=row["kpi"], dim=dim, period=row["period"],
                      previous=row["previous_period"])
    if c.empty or pd.isna(c["share"].iloc[0]) or c["share"].iloc[0] < 0.5:
        return ""
    share = min(float(c["share"].iloc[0]), 1.0)
    return f"{dim.replace('_', ' ')} {c[dim].iloc[0]} ({share:.0%} of the change)"


def summary(rep: Any, head: pd.DataFrame, seg: pd.DataFrame | None = None) -> None:
    """Show the first screen (with the failing records of each critical KPI as a CSV link)
    and the headline table. With ``seg`` (the headline KPIs by ``segment_by``), the first
    screen also names the segments with an open alert, so "nothing needs action" is never
    said above an alerts section that lists a critical segment."""
    from kpilib.reports.records import links

    records = links(rep, head)
    context = (f"Judged on the last complete period; the running period is shown but not "
               f"judged. Owners from roles.yaml, next steps from the playbook. "
               f"Money in {rep.currency or 'the data currency'}.")
    html(render.summary(head, freq=rep.freq, context=context, records=records,
                        segment_alerts=_segment_alerts(rep, seg))
         + render.kpi_table(head, freq=rep.freq, notes=rep.notes(rep.frame(list(head["kpi"])),
                                                                   list(head["kpi"]))))


def _segment_alerts(rep: Any, seg: pd.DataFrame | None) -> list[dict[str, str]]:
    """``[{name, where, band}]`` of the open segment alerts (critical first), as the alerts
    section lists them."""
    if seg is None or seg.empty:
        return []
    out = []
    for band in ("critical", "stressed"):
        for _, a in rep.alerts(seg, band=band).iterrows():
            where = _where(a)
            if where != "all":
                out.append({"name": rep.titles.get(a["kpi"], a["kpi"]), "where": where,
                            "band": band})
    return out


def _where(alert: pd.Series) -> str:
    """An alert's segment in words: ``channel web`` for ``channel=web``, ``all`` for the total."""
    return str(alert.get("segment") or "").replace("=", " ").replace("_", " ") or "all"


def findings(rep: Any, head: pd.DataFrame) -> None:
    """Show the findings (critical first) with owners, next steps and records."""
    from kpilib.reports.records import links

    html(render.findings(rep.findings(head), links(rep, head)))


def alerts(rep: Any, *frames: pd.DataFrame | None,
           head: pd.DataFrame | None = None) -> pd.DataFrame:
    """Show and return the open critical and stressed alerts of the last complete period.

    The reason is told from the same control limits as the summary (``story.why`` on the
    alert joined with its series' centre line and limits). With ``head`` (the annotated
    headline), a stressed or critical headline KPI that raises no alert yet (preliminary
    value) is listed too, marked so, so this section and the summary name the same KPIs.
    Each critical alert links the CSV of its failing records (``records.alert_links``).
    """
    from kpilib.reports.records import alert_links
    from kpilib.roles import load_roles_config

    roles = load_roles_config()
    frames = tuple(f for f in frames if f is not None)
    parts = [rep.alerts(*frames, band=b) for b in ("critical", "stressed")]
    found = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame()
    waiting = _not_yet_alerted(head, found)
    if found.empty and waiting.empty:
        html("<p>No open alerts in the last complete period: no series is stressed or "
             "critical on final values.</p>")
        return found
    found = _with_limits(found, frames) if len(found) else found
    files = alert_links(rep, found) if len(found) else {}
    rows, listed = [], []
    for _, a in found.iterrows():
        seg = _where(a)
        listed.append({"name": rep.titles.get(a["kpi"], a["kpi"]), "where": seg,
                       "band": a["band"]})
        rows.append(_alert_row(rep.titles.get(a["kpi"], a["kpi"]), seg, _value(rep, a),
                               a["band"], story.why(a, rep.currency),
                               roles.label_of(a["owner_role"]),
                               render.attachment(files.get(str(a["alert_key"])))))
    for _, r in waiting.iterrows():
        why = "; ".join(x for x in (r.get("why", ""), "preliminary: alert when final") if x)
        rows.append(_alert_row(r["name"], "all", r["display"], r["band"], why,
                               str(r.get("owner_label", ""))))
    html('<div class="k-wrap"><table class="k-table k-alerts"><thead><tr><th>KPI</th>'
         '<th>Where</th><th class="num">Value</th><th>State and why</th><th>Owner</th></tr>'
         "</thead><tbody>" + "".join(rows) + "</tbody></table></div>")
    record("open_alerts", listed)  # the run index names the same alerts
    return found


def _alert_row(name: str, where: str, value: str, band: str, why: str, owner: str,
               attachment: str = "") -> str:
    """One alerts-table row; ``attachment`` is ready HTML (the records link, or nothing)."""
    return (f"<tr><td>{esc(name)}</td><td>{esc(where)}</td>"
            f'<td class="num">{esc(value)}</td>'
            f'<td><span class="k-chip k-{esc(band)}">{esc(band)}</span> {esc(why)}'
            f"{attachment}</td>"
            f"<td>{esc(owner)}</td></tr>")


def _not_yet_alerted(head: pd.DataFrame | None, found: pd.DataFrame) -> pd.DataFrame:
    """Headline rows that are stressed or critical but raise no alert (preliminary)."""
    if head is None or head.empty:
        return pd.DataFrame()
    overall = set(found.loc[found["segment"].fillna("") == "", "kpi"]) if len(found) else set()
    bad = head[head["band"].isin(story.BAD) & ~head["kpi"].isin(overall)]
    return bad[~bad.get("alerted", pd.Series(True, index=bad.index)).astype(bool)]


def _with_limits(found: pd.DataFrame, frames: tuple[pd.DataFrame, ...]) -> pd.DataFrame:
    """``found`` with the centre line and limits of each alert's series and period."""
    from kpilib.alerts.records import segment_label
    from kpilib.bands.apply import series_dims

    cols = ["cl", "lcl", "ucl"]
    limits = []
    for f in frames:
        if not len(f) or not set(cols) <= set(f.columns):
            continue
        dims = series_dims(f)
        lim = f[["kpi", "period", *cols]].copy()
        lim["segment"] = [segment_label(r, dims) for _, r in f.iterrows()]
        limits.append(lim)
    if not limits:
        return found
    lim = pd.concat(limits, ignore_index=True).drop_duplicates(["kpi", "segment", "period"])
    keep = [c for c in found.columns if c not in cols]
    return found[keep].merge(lim, on=["kpi", "segment", "period"], how="left")


def _value(rep: Any, a: pd.Series) -> str:
    from kpilib.reports import units

    stat = units.statistic(a.get("metric", "value"), a.get("unit"))
    text = units.fmt(a["value"], a.get("unit"), rep.currency)
    return f"{text} ({stat})" if stat and stat != "mean" else text
