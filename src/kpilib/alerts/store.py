"""A directory that remembers alerts across runs: de-duplicate, close on recovery, outbox.

Layout::

    <store>/state.json                 open alerts by key, undelivered webhook payloads, runs
    <store>/runs/<run_id>/alerts.jsonl the records emitted by that run (one JSON per line)
    <store>/runs/<run_id>/alerts.csv   the same as CSV

Per run (``update``): an alert whose key is not open is emitted as ``opened``; one already open
with the same or an easier band is not re-sent (only ``last_seen`` moves); a band that got worse
(stressed -> critical) is emitted as ``escalated``. An open alert whose series' latest band is
now ``normal`` is emitted as ``closed``; a series missing from the run or without a band
(insufficient data) keeps its alert open, since recovery was not observed. ``state.json`` is
written atomically (temporary file + rename).

A run id already recorded (an orchestrator retrying the same ``as_of``) is a replay: the state,
the run record and ``runs/<run_id>/`` stay as they are, the summary repeats that run's records
and only the outbox is flushed, so a retry neither duplicates nor erases alerts. Outbox
payloads go to the webhook of the current run when one is given (a corrected URL reaches the
alerts kept from before), else to the URL they were queued for.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib.alerts.records import ALERT_COLUMNS, fmt_value, kpi_name
from kpilib.alerts.webhook import DeliveryError, post_json

SEVERITY = {"stressed": 1, "critical": 2}


@dataclass
class RunSummary:
    """What one run did: emitted records and delivery outcome."""

    run_id: str
    emitted: pd.DataFrame
    suppressed: int
    delivered: int = 0
    pending_outbox: int = 0
    errors: list[str] = field(default_factory=list)
    replayed: bool = False

    def counts(self) -> dict[str, int]:
        """Number of emitted records per event (opened, escalated, closed)."""
        return {str(k): int(v) for k, v in self.emitted["event"].value_counts().items()}


def _jsonable(rec: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in rec.items():
        if isinstance(v, pd.Timestamp):
            out[k] = v.isoformat()
        elif v is None or (isinstance(v, float) and pd.isna(v)):
            out[k] = None
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = v
    return out


class AlertStore:
    """Alert state kept in a directory (see module docstring)."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_path = self.dir / "state.json"
        self.state = self._load()

    def _load(self) -> dict[str, Any]:
        if self.state_path.exists():
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        else:
            state = {}
        state.setdefault("open", {})
        state.setdefault("outbox", [])
        state.setdefault("runs", [])
        return state

    def save(self) -> None:
        """Write ``state.json`` atomically."""
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".state.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.state, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.state_path)

    def open_alerts(self) -> pd.DataFrame:
        """Currently open alerts (one row per key) with ``state='open'``."""
        rows = list(self.state["open"].values())
        frame = pd.DataFrame(rows, columns=[*ALERT_COLUMNS, "first_run_id", "last_seen_run_id"])
        return frame.sort_values(["kpi", "segment"], kind="stable").reset_index(drop=True)

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """Webhook payloads not delivered yet (oldest first)."""
        return self.state["outbox"]

    def update(
        self,
        alerts: pd.DataFrame,
        latest: pd.DataFrame,
        run_id: str,
        as_of: Any = None,
        *,
        webhook: str | None = None,
        webhook_options: dict[str, Any] | None = None,
    ) -> RunSummary:
        """Merge this run's ``alerts`` (``from_bands``) and close recovered series.

        ``latest`` is ``latest_per_series(banded)``: the latest row of every series of the run,
        used to see which open alerts recovered.
        """
        as_of = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
        if any(r.get("run_id") == run_id for r in self.state["runs"]):
            return self._replay(run_id, webhook, webhook_options)
        emitted: list[dict[str, Any]] = []
        suppressed = 0
        seen = set()
        for rec in alerts.to_dict("records"):
            key = rec["alert_key"]
            seen.add(key)
            rec = _jsonable(rec)
            prev = self.state["open"].get(key)
            if prev is None:
                rec.update(event="opened", state="open")
                emitted.append(rec)
                self.state["open"][key] = {**rec, "first_run_id": run_id,
                                           "last_seen_run_id": run_id}
            elif SEVERITY[rec["band"]] > SEVERITY.get(prev["band"], 0):
                rec.update(event="escalated", state="open")
                emitted.append(rec)
                self.state["open"][key] = {**rec, "first_run_id": prev["first_run_id"],
                                           "last_seen_run_id": run_id}
            else:
                suppressed += 1
                self.state["open"][key] = {**rec, "event": prev["event"], "state": "open",
                                           "first_run_id": prev["first_run_id"],
                                           "last_seen_run_id": run_id}
        recovered = latest[latest["band"] == "normal"] if not latest.empty else latest
        for r in recovered.to_dict("records"):
            key = r["alert_key"]
            if key in seen or key not in self.state["open"]:
                continue
            prev = self.state["open"].pop(key)
            value = r.get("band_value", r.get("value"))
            emitted.append(_jsonable({
                **{c: prev.get(c) for c in ALERT_COLUMNS},
                "period": r["period"], "band": "normal", "signals": r.get("signals", ""),
                "value": value, "run_id": run_id, "as_of": as_of, "event": "closed",
                "state": "closed",
                "reason": (f"{kpi_name(prev['kpi'])} recovered to "
                           f"{fmt_value(value, prev.get('unit'))} (normal) "
                           f"{'for ' + prev['segment'] if prev['segment'] else 'overall'}; "
                           f"alert opened in run {prev['first_run_id']}"),
            }))
        frame = pd.DataFrame(emitted, columns=list(ALERT_COLUMNS))
        self._write_run(run_id, frame)
        self.state["runs"].append({"run_id": run_id, "as_of": as_of.isoformat(),
                                   "emitted": len(frame), "suppressed": suppressed})
        summary = RunSummary(run_id, frame, suppressed)
        if webhook:
            if len(frame):
                self.outbox.append({"url": webhook, "payload": {
                    "run_id": run_id, "as_of": as_of.isoformat(),
                    "alerts": [_jsonable(r) for r in frame.to_dict("records")]}})
            self.flush_outbox(summary, url=webhook, **(webhook_options or {}))
        self.save()
        return summary

    def _replay(self, run_id: str, webhook: str | None,
                webhook_options: dict[str, Any] | None) -> RunSummary:
        """The summary of an already recorded run; only the outbox is flushed."""
        record = next(r for r in self.state["runs"] if r.get("run_id") == run_id)
        path = self.dir / "runs" / run_id / "alerts.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()] if path.is_file() else []
        frame = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
        summary = RunSummary(run_id, frame, int(record.get("suppressed", 0)), replayed=True)
        if webhook:
            self.flush_outbox(summary, url=webhook, **(webhook_options or {}))
        return summary

    def flush_outbox(self, summary: RunSummary | None = None, url: str | None = None,
                     **options: Any) -> int:
        """Try every outbox payload (oldest first); delivered ones leave the outbox.

        ``url`` (the current webhook) replaces the address each payload was queued for.
        """
        kept, delivered = [], 0
        for item in self.outbox:
            if url:
                item["url"] = url
            try:
                post_json(item["url"], item["payload"], **options)
                delivered += 1
            except DeliveryError as err:
                item["attempts"] = item.get("attempts", 0) + err.attempts
                item["last_error"] = err.last_error
                kept.append(item)
                if summary is not None:
                    summary.errors.append(str(err))
        self.state["outbox"] = kept
        if summary is not None:
            summary.delivered, summary.pending_outbox = delivered, len(kept)
        self.save()
        return delivered

    def _write_run(self, run_id: str, frame: pd.DataFrame) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]*", run_id) or ".." in run_id:
            raise ValueError(f"run_id {run_id!r}: use letters, digits, '.', '_', ':', '-'")
        out = self.dir / "runs" / run_id
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "alerts.jsonl", "w", encoding="utf-8") as fh:
            for rec in frame.to_dict("records"):
                fh.write(json.dumps(_jsonable(rec), default=str, ensure_ascii=False) + "\n")
        frame.to_csv(out / "alerts.csv", index=False)
