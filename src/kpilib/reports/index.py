"""``index.html`` of a report run: KPI badges, links to each report, failures, run history.

Rules: one static page, inline CSS, no script, no external URL. Every value that can come from
the data or the parameters (segment values, KPI names, errors, paths) goes through
``html.escape`` (``esc``) before it is written, and link targets are relative paths inside the
output folder, percent-encoded. Badge colour = band: normal green, stressed amber, critical red,
anything else grey.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from kpilib.reports.story import JUDGED, state_detail

BAND_COLOURS = {
    "normal": ("#1b7f3b", "#e6f4ea"),
    "stressed": ("#8a5a00", "#fff4d6"),
    "critical": ("#a50e0e", "#fce8e6"),
}
GREY = ("#4d4d4d", "#eeeeee")
TITLES = {
    "00_executive_summary": "Executive summary",
    "01_order_workflow": "Order workflow",
    "02_inventory_health": "Inventory health",
    "03_fulfillment_cost": "Fulfillment and cost",
    "explore_orders": "Explore orders",
    "explore_inventory": "Explore inventory",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:0 auto;padding:1.5rem 2rem;color:#202124}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#5f6368;font-size:.9rem}
.badges{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}
.badge{border-radius:8px;padding:.5rem .8rem;min-width:11rem;border:1px solid rgba(0,0,0,.08)}
.badge .name{font-size:.8rem} .badge .value{font-size:1.3rem;font-weight:600}
.badge .band{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e0e0e0}
.status-ok{color:#1b7f3b;font-weight:600} .status-failed{color:#a50e0e;font-weight:600}
.status-partial{color:#8a5a00;font-weight:600}
.chip{border-radius:10px;padding:.05rem .5rem;font-size:.8rem;font-weight:600}
ul.attention{list-style:none;padding-left:0} ul.attention li{margin:.3rem 0}
.error{color:#a50e0e;font-family:monospace;font-size:.85rem;white-space:pre-wrap}
"""


def esc(value: Any) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def href(path: str) -> str:
    """A safe relative link: percent-encoded, never absolute, never a scheme."""
    return esc(quote(path.lstrip("/"), safe="/._-"))


FREQ_WORDS = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly"}


def when(iso: Any) -> str:
    """An ISO timestamp as ``2024-12-30 23:59 UTC`` (anything unreadable as it is)."""
    try:
        ts = pd.Timestamp(iso)
    except (TypeError, ValueError):
        return "" if iso is None else str(iso)
    if pd.isna(ts):
        return ""
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return f"{ts:%Y-%m-%d %H:%M} UTC"


def title_of(notebook: str) -> str:
    return TITLES.get(notebook, notebook.replace("_", " "))


def badge(item: dict[str, Any]) -> str:
    """One KPI badge: name (and statistic), value text, band story (coloured by band)."""
    band = str(item.get("band") or "no band")
    fg, bg = BAND_COLOURS.get(band, GREY)
    period = (f' title="period from {esc(item.get("period"))}" data-period="'
              f'{esc(item.get("period"))}"' if item.get("period") else "")
    state = str(item.get("state") or band)  # the summary's band story, e.g. "recovering"
    stat = f" ({esc(item['statistic'])})" if item.get("statistic") else ""
    return (
        f'<div class="badge band-{esc(band.replace(" ", "_"))}" style="color:{fg};background:{bg}"'
        f"{period}>"
        f'<div class="name">{esc(item.get("name") or item.get("kpi"))}{stat}</div>'
        f'<div class="value">{esc(item.get("display", item.get("value")))}</div>'
        f'<div class="band">{esc(state.replace("_", " "))}</div></div>'
    )


def _attention_section(manifest: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """First lines of the page: the stressed and critical headline KPIs, critical first."""
    per = str(manifest["parameters"].get("per") or "").replace("_", " ")
    items = [(rec.get("segment"), i) for rec in records
             for i in (rec.get("records") or {}).get("headline") or []]
    if not items:
        return ""
    bad = sorted(((s, i) for s, i in items if i.get("band") in ("critical", "stressed")),
                 key=lambda si: si[1]["band"] != "critical")
    if not bad:
        segs = [a for rec in records for a in (rec.get("records") or {}).get("open_alerts") or []
                if a.get("where") not in (None, "", "all")]
        line = nothing_needs_action(items, totals_only=bool(segs))
        if segs:
            crit = sum(a.get("band") == "critical" for a in segs)
            line += (f" But {len(segs)} segment alert{'s are' if len(segs) != 1 else ' is'} open"
                     + (f" ({crit} critical)" if crit else "") + ": "
                     + "; ".join(f"{a.get('name')} in {a.get('where')} ({a.get('band')})"
                                 for a in segs) + ".")
        return f'<p class="attention">{esc(line)}</p>'
    rows = [_band_row(i, per, seg) for seg, i in bad]
    n = sum(i["band"] == "critical" for _, i in bad)
    return (f"<h2>Needs action: {len(bad)} headline KPI{'s' if len(bad) != 1 else ''}"
            f"{f' ({n} critical)' if n else ''}</h2>"
            '<ul class="attention">' + "".join(rows) + "</ul>"
            '<p class="meta">Why, who owns it and what to do: the executive summary.</p>')



def _band_row(item: dict[str, Any], per: str, seg: Any, after: str = "") -> str:
    """One ``<li>``: band chip, KPI name in bold, value, segment, state detail, then ``after``
    (trusted HTML)."""
    fg, bg = BAND_COLOURS[item["band"]]
    where = f" · {esc(per)} {esc(seg)}" if seg is not None else ""
    state = esc(state_detail(str(item.get("state") or item["band"]), item["band"]))
    return (f'<li><span class="chip" style="color:{fg};background:{bg}">'
            f'{esc(item["band"])}</span> <b>{esc(item.get("name") or item.get("kpi"))}</b> '
            f'{esc(item.get("display", ""))}{where}'
            + (f' <span class="meta">({state})</span>' if state else "") + after + "</li>")


def nothing_needs_action(items: list[tuple[Any, dict[str, Any]]], totals_only: bool = False
                         ) -> str:
    """The all-clear line, which also counts the headline values that could not be judged
    (no band: too few complete periods or too small a denominator), so "nothing needs action"
    never hides that most cards were never judged."""
    judged = sum(i.get("band") in JUDGED for _, i in items)
    uncut = sum(str(i.get("state", "")).startswith("cannot be cut") for _, i in items)
    missing = sum(i.get("band") not in JUDGED and i.get("display") == "n/a"
                  for _, i in items) - uncut
    unjudged = len(items) - judged - missing - uncut
    line = (f"{'No headline total' if totals_only else 'Nothing'} needs action: none of the "
            f"{judged} judged headline value"
            f"{'s' if judged != 1 else ''} is stressed or critical in the last complete period."
            if judged else "No headline value could be judged in the last complete period.")
    if unjudged:
        line += (f" {unjudged} of {len(items)} could not be judged (too few complete periods "
                 "or too small a denominator): their cards are grey.")
    if missing:
        line += (f" {missing} of {len(items)} have no value in this data (n/a; the executive "
                 "summary says what each needs).")
    if uncut:
        line += (f" {uncut} of {len(items)} cannot be cut by this segment (the report on all "
                 "data shows them).")
    return line


def detail_bands(records: list[dict[str, Any]]) -> list[tuple[Any, str, dict[str, Any]]]:
    """``(segment, report title, row)`` of the stressed and critical KPIs that the detailed
    reports show and the headline does not (recorded as ``bands:<n>`` by their tables)."""
    head = {(rec.get("segment"), i.get("kpi")) for rec in records
            for i in (rec.get("records") or {}).get("headline") or []}
    out, seen = [], set()
    for rec in records:
        for name, rows in (rec.get("records") or {}).items():
            if not name.startswith("bands:"):
                continue
            for r in rows or []:
                key = (rec.get("segment"), r.get("kpi"))
                if key not in head and key not in seen:
                    seen.add(key)
                    out.append((rec.get("segment"), title_of(str(rec.get("notebook"))), r))
    return sorted(out, key=lambda x: x[2].get("band") != "critical")


def _detail_line(manifest: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """A short list of the stressed/critical KPIs outside the headline, each with its report."""
    rows = detail_bands(records)
    if not rows:
        return ""
    per = str(manifest["parameters"].get("per") or "").replace("_", " ")
    items = [_band_row(r, per, seg, f' <span class="meta">· {esc(report)}</span>')
             for seg, report, r in rows if r.get("band") in BAND_COLOURS]
    return ("<h3>Also stressed or critical, outside the headline (detailed reports)</h3>"
            '<ul class="attention">' + "".join(items) + "</ul>")


def _badges_section(manifest: dict[str, Any], records: list[dict[str, Any]]) -> str:
    parts = ["<h2>Headline KPIs</h2>"]
    found = False
    for rec in records:
        items = (rec.get("records") or {}).get("headline") or []
        if not items:
            continue
        found = True
        seg = rec.get("segment")
        attr = f' data-segment="{esc(seg)}"' if seg is not None else ""
        parts.append(f"<section{attr}>")
        if seg is not None:
            parts.append(f"<h3>{esc(str(manifest['parameters'].get('per')).replace('_', ' '))}"
                         f" {esc(seg)}</h3>")
        parts.append('<div class="badges">' + "".join(badge(i) for i in items) + "</div>")
        parts.append("</section>")
    per = str(manifest["parameters"].get("per") or "").replace("_", " ")
    for seg, reason in (manifest.get("skipped_segments") or {}).items():
        parts.append(f'<p class="meta skipped">No report set for {esc(per)} {esc(seg)}: '
                     f"{esc(reason)}.</p>")
    if not found:
        parts.append('<p class="meta">No headline values: the executive summary did not run '
                     "or failed (see below).</p>")
    return "\n".join(parts)


def _reports_section(manifest: dict[str, Any]) -> str:
    rows = []
    for nb in manifest["notebooks"]:
        seg = esc(nb["segment"]) if nb.get("segment") is not None else "all"
        status = esc(nb["status"])
        if nb["status"] == "ok" and nb.get("html"):
            link = f'<a href="{href(nb["html"])}">{esc(title_of(nb["notebook"]))}</a>'
            detail = ""
        else:
            link = esc(title_of(nb["notebook"]))
            detail = (f'<div class="error">{esc(nb.get("error"))}</div>'
                      f'<a href="{href(nb["ipynb"])}">executed notebook with the error</a>')
        rows.append(f"<tr><td>{link}{detail}</td><td>{seg}</td>"
                    f'<td class="status-{status}">{status}</td>'
                    f'<td>{nb["duration_s"]:.1f} s</td></tr>')
    return ("<h2>Reports</h2><table><thead><tr><th>report</th><th>segment</th><th>status</th>"
            "<th>duration</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _history_section(history: list[dict[str, Any]], current: str) -> str:
    rows = []
    for m in sorted(history, key=lambda m: m["run_id"], reverse=True):
        n_ok = sum(nb["status"] == "ok" for nb in m.get("notebooks", []))
        n = len(m.get("notebooks", []))
        rid = esc(m["run_id"])
        name = f"<strong>{rid}</strong> (this run)" if m["run_id"] == current else (
            f'<a href="../{href(m["run_id"])}/index.html">{rid}</a>')
        rows.append(f'<tr><td>{name}</td><td class="status-{esc(m["status"])}">'
                    f'{esc(m["status"])}</td><td>{n_ok}/{n}</td><td>{esc(when(m.get("as_of")))}</td>'
                    f'<td>{esc(when(m.get("finished_at")))}</td></tr>')
    return ("<h2>Run history</h2><table><thead><tr><th>run</th><th>status</th>"
            "<th>reports ok</th><th>as of</th><th>finished</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def render_index(manifest: dict[str, Any], records: list[dict[str, Any]],
                 history: list[dict[str, Any]], live: bool = False) -> str:
    """The whole page.

    Parameters
    ----------
    manifest : this run's manifest (``manifest.build_manifest``).
    records : job results as dicts (``segment``, ``records``), for the headline badges.
    history : manifests of the runs to list (this one included).
    live : link ``../live.html`` (a KPI store's live page beside the runs, kpilib.reports.live).
    """
    p = manifest["parameters"]
    data = manifest.get("data", {})
    status = esc(manifest["status"])
    meta = (f'Run {esc(manifest["run_id"])} · status <span class="status-{status}">'
            f'{esc(manifest["status"])}</span> · data as of {esc(when(manifest.get("as_of")))}'
            f' · {esc(FREQ_WORDS.get(p.get("freq"), p.get("freq") or "whole-range"))} periods'
            f' · {esc("role " + str(p["role"]) if p.get("role") else "all roles")}'
            f' · data fingerprint {esc(str(data.get("fingerprint", ""))[:12])}'
            + (' · <a href="../live.html">live state</a>' if live else ''))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>KPI reports {esc(manifest['run_id'])}</title><style>{CSS}</style></head><body>"
        f"<h1>KPI reports</h1><p class=\"meta\">{meta}</p>"
        + _attention_section(manifest, records)
        + _detail_line(manifest, records)
        + _badges_section(manifest, records)
        + _reports_section(manifest)
        + _history_section(history, manifest["run_id"])
        + "</body></html>\n"
    )


def write_index(run_dir: Path, manifest: dict[str, Any], records: list[dict[str, Any]],
                history: list[dict[str, Any]]) -> Path:
    """Write ``index.html`` into ``run_dir``."""
    path = run_dir / "index.html"
    live = (run_dir.parent / "live.html").exists()
    path.write_text(render_index(manifest, records, history, live), encoding="utf-8")
    return path
