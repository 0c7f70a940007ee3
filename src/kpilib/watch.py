"""``watch(store, inbox)``: apply every batch that lands in an inbox folder, once, in order.

A batch is a folder (see :mod:`kpilib.store.batch`) moved into the inbox with an atomic
``rename`` (build it elsewhere on the same file system, or under a name starting with ``.``,
then ``mv`` it in); names starting with ``.`` are ignored. Batches are taken in name order.
Each one is refreshed into the store and moved to ``<inbox>/done/``; a rejected one is moved
to ``<inbox>/rejected/`` with ``<name>.reason.txt`` beside it.

Exactly once: the store's manifest lists the batch ids it applied. A crash before the
generation swap leaves the store as it was and the batch in the inbox (it is redone); a crash
after the swap leaves the batch id in the manifest, so on restart the batch is only moved to
``done`` and not applied again. Alerts are sent from the committed generation's outbox, also
on start-up (what a crash left unsent); a crash between a successful POST and the outbox save
would send that payload again (at-least-once delivery, payloads carry the batch id).

Stopping: SIGTERM or SIGINT set a flag checked between batches; the batch in progress is
finished first. ``once=True`` processes what is there and returns (for cron).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kpilib.refresh import BatchRejected, refresh
from kpilib.store import generations as gen
from kpilib.store import open_store
from kpilib.store.alerting import deliver

log = logging.getLogger("kpilib.watch")
DONE, REJECTED = "done", "rejected"


@dataclass
class WatchStats:
    """Counts of one watch session."""

    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def pending(inbox: Path) -> list[Path]:
    """Batch folders waiting in ``inbox``, in name order."""
    return sorted(p for p in inbox.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name not in (DONE, REJECTED))


def _move(src: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    dst, n = folder / src.name, 1
    while dst.exists():
        dst, n = folder / f"{src.name}.{n}", n + 1
    src.rename(dst)
    return dst


def process(store_dir: Path, batch: Path, stats: WatchStats) -> None:
    """Apply one batch (or recognise it as applied) and file it under done / rejected."""
    inbox = batch.parent
    store = open_store(store_dir)
    if store.generation and batch.name in store.manifest.get("batches", []):
        log.info("batch %s was applied before a restart; filing it", batch.name)
        stats.skipped.append(batch.name)
        _move(batch, inbox / DONE)
        return
    log.info("batch %s: refreshing", batch.name)
    try:
        summary = refresh(store_dir, batch)
    except BatchRejected as err:
        (inbox / REJECTED).mkdir(exist_ok=True)
        (inbox / REJECTED / f"{batch.name}.reason.txt").write_text(str(err) + "\n",
                                                                   encoding="utf-8")
        _move(batch, inbox / REJECTED)
        stats.rejected.append(batch.name)
        log.error("batch %s rejected: %s", batch.name, str(err).splitlines()[0])
        return
    _move(batch, inbox / DONE)
    stats.applied.append(batch.name)
    log.info(summary.line())


def watch(store_dir: str | Path, inbox: str | Path, *, once: bool = False,
          poll: float = 1.0, stop: threading.Event | None = None) -> WatchStats:
    """Process batches landing in ``inbox`` until stopped (see module docstring)."""
    store_dir, inbox = Path(store_dir), Path(inbox)
    store = open_store(store_dir)  # fails clearly when it is not a store
    inbox.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    stats = WatchStats()
    try:
        gen.sweep(store_dir)
        if store.generation:
            sent, left = deliver(store)
            if sent or left:
                log.info("outbox at start: delivered %d, pending %d", sent, left)
        log.info("watching %s for batches (store %s)", inbox, store_dir)
        while not stop.is_set():
            waiting = pending(inbox)
            for i, batch in enumerate(waiting, 1):
                if stop.is_set():
                    break
                log.info("batch %d of %d waiting: %s", i, len(waiting), batch.name)
                process(store_dir, batch, stats)
            if once:
                break
            stop.wait(poll)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped: applied %d, already applied %d, rejected %d", len(stats.applied),
             len(stats.skipped), len(stats.rejected))
    return stats
