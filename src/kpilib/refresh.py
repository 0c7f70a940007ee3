"""``refresh(store, batch)``: apply an extract batch to a KPI store as one atomic generation.

Steps: read the batch (:mod:`kpilib.store.batch`), upsert it into the stored tables, validate
the merged tables against the contract (a bad batch raises :class:`BatchRejected` and the store
is unchanged), recompute every maintained result set with the engine, band it, update the alert
state and the early-warning queue, write all of it as the next generation and swap the
pointer; then deliver the generation's alert outbox and rewrite the live page.

Recompute (:mod:`kpilib.store.incremental`): a batch recomputes the period-local KPIs only
from the period its changes can reach (with a lookback) on the data restricted to the orders
active since then, keeps the stored rows before it; the order snapshot KPIs likewise, on
that data plus the orders open at the previous refresh's last snapshot (kept per set in
``open/``, see :mod:`kpilib.store.open_records`); it recomputes the other KPIs (other
snapshots, rolling windows, forecasts, stock days) in full; every series is then re-banded
whole. The
store equals a fresh ``compute`` exactly (``tests/test_store_refresh.py`` replays the three
scenarios). A snapshot batch, a store without results and a custom ``engine`` recompute
everything. Skipped outright: a batch already applied (same batch id), and a batch that
leaves the data fingerprint unchanged. The manifest keeps each table's digest
(``table_digests``), so a batch hashes only the tables it has a file for.
Idempotent: a batch id already in the manifest is skipped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib.errors import DataContractError, KpiLibError
from kpilib.store import batch as batches
from kpilib.store import generations as gen
from kpilib.store import incremental
from kpilib.store.core import TRACE_COLUMNS, Store, open_store

log = logging.getLogger(__name__)
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
Engine = Callable[..., pd.DataFrame]


class BatchRejected(KpiLibError):
    """A batch that breaks the contract (alone or once merged); ``problems`` lists why."""

    def __init__(self, batch: str, problems: list[DataContractError]) -> None:
        self.batch = batch
        self.problems = problems
        lines = [f"batch {batch} rejected, store unchanged: {len(problems)} problem(s)"]
        lines += [f"  {p}" for p in problems[:10]]
        super().__init__("\n".join(lines))


@dataclass
class RefreshSummary:
    """What one refresh did (one line of log via ``line()``)."""

    batch: str
    status: str  # applied | already_applied | unchanged
    generation: str | None = None
    data_as_of: Any = None
    rows: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    early_warning: int = 0
    delivered: int = 0
    pending_outbox: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        total = sum(self.seconds.values())
        ev = ", ".join(f"{k} {v}" for k, v in sorted(self.alerts.items())) or "none"
        return (f"batch {self.batch}: {self.status}; generation {self.generation}; data as of "
                f"{self.data_as_of}; rows changed {sum(self.rows.values())}; alerts {ev}; "
                f"early warning {self.early_warning} item(s); delivered {self.delivered}, "
                f"outbox {self.pending_outbox}; {total:.1f} s")


def declared(batch: Path, previous: Path | None) -> dict[str, Any]:
    """The dataset's declarations (extra dimensions, ``delivery_events``): the batch's own
    ``dataset.json`` when it has one, else those the store kept from earlier batches."""
    from kpilib.dimensions import DECLARATION_FILE, read_declaration, read_events

    folder = batch if (batch / DECLARATION_FILE).is_file() else (
        previous / "tables" if previous is not None else None)
    if folder is None:
        return {}
    return {"dimensions": read_declaration(folder), "delivery_events": read_events(folder)}


def _validate(merged: dict[str, pd.DataFrame], batch_id: str, settings: dict[str, Any]):
    from kpilib.dataset import Dataset

    try:
        return Dataset.from_frames(**settings, **merged)
    except DataContractError as err:
        raise BatchRejected(batch_id, list(err.problems or [err])) from err


def _write_tables(building: Path, ds, previous: Path | None, touched: set[str]) -> None:
    out = building / "tables"
    out.mkdir()
    for name in ds.tables:
        old = previous / "tables" / f"{name}.parquet" if previous else None
        if old is not None and name not in touched and old.exists():
            gen.link_or_copy(old, out / f"{name}.parquet")
        else:
            ds.stored_frame(name).to_parquet(out / f"{name}.parquet", index=False)
    ds.write_declaration(out)


def compute_sets(store: Store, ds, run_id: str, fingerprint: str, engine: Engine | None = None,
                 since: pd.Timestamp | None = None,
                 open_orders: dict[str, pd.Series] | None = None) -> dict[str, pd.DataFrame]:
    """Banded results of every maintained set, with ``run_id`` and ``fingerprint`` columns.

    With ``since`` (the earliest time the batch changed, see :mod:`kpilib.store.incremental`)
    and the default engine, only what the batch can reach is recomputed. ``open_orders``
    receives, per set, the orders its order snapshot KPIs saw open last (when known)."""
    from kpilib.bands import apply_bands
    from kpilib.store import incremental

    params = store.config.get("params") or None
    lookback = pd.Timedelta(days=float((store.config.get("refresh") or {}).get(
        "lookback_days", incremental.LOOKBACK.days)))
    out = {}
    for rs in store.sets:
        if engine is None:
            old = store.results(list(rs.kpis), rs.by, rs.freq) if since is not None else None
            known = store.open_orders(rs.name) if since is not None else None
            res, plan = incremental.recompute_set(ds, rs.kpis, rs.by, rs.freq, params, old,
                                                  since, lookback, known)
            log.debug("set %s: %d KPI(s) from %s (%d snapshots), %d in full", rs.name,
                      len(plan.local) + len(plan.snap), plan.start, len(plan.snap),
                      len(plan.full))
            if open_orders is not None and plan.open_orders is not None:
                open_orders[rs.name] = plan.open_orders
        else:
            res = engine(ds, list(rs.kpis), by=list(rs.by), freq=rs.freq, params=params)
        # the running period (not ended at the data's end) is never judged, as in the
        # reports and `kpilib alerts`: band insufficient_data, signal status_partial, not
        # alertable; status and note stay compute's, so the stored rows are compute's
        banded = apply_bands(res, store.config.get("bands"), as_of=ds.data_as_of,
                             freq=rs.freq)
        banded[["status", "note"]] = res[["status", "note"]]
        banded[TRACE_COLUMNS[0]] = run_id
        banded[TRACE_COLUMNS[1]] = fingerprint
        out[rs.name] = banded
    return out


def refresh(root: str | Path, batch: str | Path, *, batch_id: str | None = None,
            engine: Engine | None = None, now: Any = None) -> RefreshSummary:
    """Apply folder ``batch`` to the store in ``root`` (see module docstring).

    Raises
    ------
    BatchRejected
        When the batch, alone or merged, breaks the contract; the store is unchanged.
    """
    open_store(root)  # a clear error when ``root`` is not a store
    with gen.writer_lock(Path(root)):
        return _refresh(root, batch, batch_id, engine, now)


def _refresh(root, batch, batch_id, engine, now) -> RefreshSummary:
    from kpilib.reports import live
    from kpilib.store import alerting as alerts_flow

    t0 = time.perf_counter()
    store = open_store(root)
    batch = Path(batch)
    batch_id = batch_id or batch.name
    if not RUN_ID.fullmatch(batch_id) or ".." in batch_id:
        raise BatchRejected(batch_id, [DataContractError(
            None, None, "invalid_argument", 0, None,
            "batch names use letters, digits, '.', '_', ':', '-' and start with a letter or "
            "digit")])
    cur = store.generation
    manifest = store.manifest if cur else {"batches": []}
    if batch_id in manifest["batches"]:
        return RefreshSummary(batch_id, "already_applied", cur, manifest.get("data_as_of"))
    if not batch.is_dir():
        raise BatchRejected(batch_id, [DataContractError(None, None, "unreadable_file", 0, None,
                                                         f"not a folder: {batch}")])
    frames, problems = batches.read_batch(batch)
    if problems:
        raise BatchRejected(batch_id, problems)
    snapshot = batches.is_snapshot(batch) or cur is None
    stored = store.tables() if cur and not snapshot else {}
    t_read = time.perf_counter()
    merged = batches.merge(stored, frames, snapshot)
    t_merge = time.perf_counter()
    ds = _validate(merged, batch_id, declared(batch, store.dir if cur else None))
    t_valid = time.perf_counter()
    if not snapshot:  # a table the batch has no file for is the stored one: reuse its digest
        known = manifest.get("table_digests") or {}  # absent in stores of older versions
        ds.seed_digests({n: d for n, d in known.items() if n not in frames})
    fingerprint = ds.fingerprint()
    t_print = time.perf_counter()
    rows = {n: len(f) for n, f in frames.items() if len(f)}
    summary = RefreshSummary(batch_id, "applied", data_as_of=str(ds.data_as_of), rows=rows)
    if cur and fingerprint == manifest.get("fingerprint"):
        summary.status = "unchanged"  # results would be identical: record the batch only
    building = gen.begin(store.root)
    try:
        previous = store.dir if cur else None
        _write_tables(building, ds, previous, set(frames) if not snapshot else set(ds.tables))
        t_tables = t_since = time.perf_counter()
        if summary.status == "unchanged":
            for sub in ("results", "open"):
                if sub == "open" and not (previous / sub).is_dir():
                    continue
                os.mkdir(building / sub)
                for f in (previous / sub).iterdir():
                    gen.link_or_copy(f, building / sub / f.name)
            banded = {rs.name: store.banded(rs.name) for rs in store.sets}
        else:
            since = None if snapshot else incremental.touched_since(
                stored, ds.tables, sorted(frames), pd.Timestamp(manifest["data_as_of"]), frames)
            t_since = time.perf_counter()
            seen: dict[str, pd.Series] = {}
            banded = compute_sets(store, ds, batch_id, fingerprint, engine, since, seen)
            (building / "results").mkdir()
            for name, frame in banded.items():
                frame.to_parquet(building / "results" / f"{name}.parquet", index=False)
            if seen:
                (building / "open").mkdir()
            for name, ids in seen.items():
                ids.to_frame().to_parquet(building / "open" / f"{name}.parquet", index=False)
        t_compute = time.perf_counter()
        flow = alerts_flow.update(store, building, previous, ds, banded, batch_id, now)
        summary.alerts, summary.early_warning = flow.counts, flow.early_warning
        t_alerts = time.perf_counter()
        gen.write_json(building / "manifest.json", {
            "run_id": batch_id, "fingerprint": fingerprint, "table_digests": ds.table_digests(),
            "data_as_of": str(ds.data_as_of),
            "batches": [*manifest["batches"], batch_id], "snapshot": snapshot,
            "rows_changed": rows, "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "alerts": flow.counts, "early_warning": flow.early_warning})
        summary.generation = gen.commit(store.root, building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    t_commit = time.perf_counter()
    summary.delivered, summary.pending_outbox = alerts_flow.deliver(store)
    live.write(store)
    summary.seconds = {"read": t_read - t0, "merge": t_merge - t_read,
                       "validate": t_valid - t_merge, "fingerprint": t_print - t_valid,
                       "tables": t_tables - t_print, "since": t_since - t_tables,
                       "compute": t_compute - t_since, "alerts": t_alerts - t_compute,
                       "commit": t_commit - t_alerts,
                       "deliver": time.perf_counter() - t_commit}
    log.info(summary.line())
    return summary
