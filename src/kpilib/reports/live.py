"""``live.html``: the store's state after the last batch, as one offline page.

Shows the last batch, data as of, generation, the open alerts and the top 20 of the
early-warning queue. Static HTML (inline CSS, no script, no external URL; every value goes
through ``html.escape``), rewritten atomically after every batch: ``<store>/live.html``, and
``<reports_dir>/live.html`` beside the report runs when the store's ``reports_dir`` is set
(the report index links to ``../live.html``). A report run from the store (``kpilib reports
run --store``) also writes it beside its runs, for the generation the run read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from kpilib.bands.registry import kpi_name
from kpilib.reports.index import CSS, esc, when
from kpilib.store.core import Store

TOP = 20
BAND_CLASS = {"critical": "status-failed", "stressed": "status-partial"}
ALERT_COLUMNS = {"band": "Band", "owner_role": "Owner", "kpi": "KPI", "segment": "Segment",
                 "reason": "Reason"}
QUEUE_COLUMNS = {"item": "Order", "owner_role": "Owner", "node": "Node", "channel": "Channel",
                 "deadline": "Ship-by (UTC)", "hours_left": "Hours left", "risk": "Risk",
                 "order_value": "Order value", "alert": "Alert", "reasons": "Main risk factors"}
NOWRAP = {"deadline", "item"}
FACTORS_NOTE = ("Alert: raised for an order whose risk reaches the store's early-warning "
                "threshold and that is high-value or near its ship-by. Main risk factors: what "
                "raises the order's risk most, strongest first. Node 'unreleased': not yet "
                "released to a node.")


def _table(frame: pd.DataFrame, labels: dict[str, str], band_col: str | None = None) -> str:
    if frame.empty:
        return "<p class='meta'>none</p>"
    cols = [c for c in labels if c in frame.columns]
    head = "".join(f"<th>{esc(labels[c])}</th>" for c in cols)
    body = []
    for rec in frame[cols].to_dict("records"):
        cls = BAND_CLASS.get(str(rec.get(band_col)), "") if band_col else ""
        cells = "".join(f"<td class='{cls}'>{esc(_fmt(rec[c]))}</td>" if c == band_col
                        else f"<td class='nowrap'>{esc(_fmt(rec[c]))}</td>" if c in NOWRAP
                        else f"<td>{esc(_fmt(rec[c]))}</td>" for c in cols)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if pd.isna(v) else f"{v:.3g}"
    if isinstance(v, bool | np.bool_):
        return "raised" if v else ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M")
    return "" if v is None else str(v)


def render(store: Store) -> str:
    """The page as a string."""
    from kpilib.alerts import AlertStore

    return page(store.manifest, store.generation, AlertStore(store.alert_dir()).open_alerts(),
                store.early_warning())


def page(manifest: dict, generation: str, alerts: pd.DataFrame, queue: pd.DataFrame) -> str:
    """The page for a store's ``manifest`` and ``generation``, its open ``alerts`` and its
    early-warning ``queue`` (ranked; the top :data:`TOP` are shown)."""
    m = manifest
    alerts = alerts.sort_values(["band", "kpi"], ascending=[True, True], kind="stable")
    if len(alerts):
        alerts = alerts.assign(kpi=alerts["kpi"].map(kpi_name))
    queue = queue.head(TOP)
    if len(queue):
        queue = queue.assign(risk=queue["risk"].map(lambda r: f"{r:.0%}"),
                             hours_left=queue["hours_left"].round(1))
    note = f"<p class='meta'>{esc(FACTORS_NOTE)}</p>" if len(queue) else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>kpilib live</title><style>" + CSS + "td.nowrap{white-space:nowrap}"
        "</style></head><body>"
        "<h1>kpilib live</h1>"
        f"<p class='meta'>last batch <b>{esc(m['run_id'])}</b> · data as of "
        f"<b>{esc(when(m['data_as_of']))}</b> · generation {esc(generation)} · "
        f"{len(m['batches'])} batch(es) applied · written {esc(when(m['created_at']))}</p>"
        f"<h2>Open alerts ({len(alerts)})</h2>"
        + _table(alerts, ALERT_COLUMNS, "band")
        + f"<h2>Early warning: top {min(TOP, len(queue))} of {m.get('early_warning', 0)} "
        "open order(s)</h2>"
        + _table(queue, QUEUE_COLUMNS) + note
        + "</body></html>\n")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".live.", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write(store: Store, *folders: Path) -> list[Path]:
    """Rewrite ``live.html`` in the store (and in ``reports_dir`` when configured), or, given
    ``folders``, in those only (a report run from the store writes it beside its runs)."""
    text = render(store)
    paths = [Path(f) / "live.html" for f in folders] or [store.root / "live.html"]
    if store.config.get("reports_dir") and not folders:
        paths.append(Path(store.config["reports_dir"]) / "live.html")
    for p in paths:
        _write_atomic(p, text)
    return paths
