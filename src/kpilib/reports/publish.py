"""Atomic publication of a report run: temp folder, rename, ``latest`` switch, retention, lock.

Rules:

- A run is built in ``<out>/.tmp-<run_id>`` and appears as ``<out>/<run_id>`` in one
  ``os.rename`` (same file system), so a reader never sees a half-written run.
- ``<out>/latest`` is a relative symlink to the newest published run whose notebooks did not all
  fail. It is switched with ``os.replace`` of a freshly made temporary symlink, which is atomic
  on POSIX: at every instant ``latest`` points to a complete run.
- Retention keeps the newest ``keep`` run folders (run ids sort by time) and never deletes the
  one ``latest`` points to. Stale ``.tmp-*`` folders from killed runs are removed too.
- ``RunLock`` is an exclusive, non-blocking ``fcntl.flock`` on ``<out>/.kpilib-reports.lock``:
  two runs (CLI, cron, scheduler) never overlap; the second is refused at once.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from kpilib.errors import KpiLibError

LATEST = "latest"
LOCK_NAME = ".kpilib-reports.lock"
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


class RunLockedError(KpiLibError):
    """Raised when another report run holds the output folder's lock."""


class RunLock:
    """Exclusive non-blocking lock on ``<out>/.kpilib-reports.lock`` (context manager)."""

    def __init__(self, out_dir: str | Path) -> None:
        self.path = Path(out_dir) / LOCK_NAME
        self._fh = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            fh.close()
            raise RunLockedError(
                f"another report run holds {self.path}; runs never overlap, try again later"
            ) from err
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def new_run_id(out_dir: str | Path, now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ`` of ``now`` (UTC), suffixed ``-2``, ``-3``... if already taken."""
    now = now or datetime.now(UTC)
    base = now.strftime("%Y%m%dT%H%M%SZ")
    out = Path(out_dir)
    run_id, n = base, 1
    while (out / run_id).exists() or (out / f".tmp-{run_id}").exists():
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def build_dir(out_dir: str | Path, run_id: str) -> Path:
    """Create and return the temporary build folder ``<out>/.tmp-<run_id>``."""
    tmp = Path(out_dir) / f".tmp-{run_id}"
    tmp.mkdir(parents=True, exist_ok=False)
    return tmp


def publish_run(tmp: Path, out_dir: str | Path, run_id: str) -> Path:
    """Rename the finished build folder into ``<out>/<run_id>`` (atomic); return it."""
    final = Path(out_dir) / run_id
    os.rename(tmp, final)
    return final


def switch_latest(out_dir: str | Path, run_id: str) -> Path:
    """Point ``<out>/latest`` at ``run_id`` atomically (temp symlink + ``os.replace``)."""
    out = Path(out_dir)
    link = out / LATEST
    tmp_link = out / f".latest-{os.getpid()}-{time.monotonic_ns()}"
    os.symlink(run_id, tmp_link, target_is_directory=True)
    try:
        os.replace(tmp_link, link)
    except IsADirectoryError:  # a real folder named latest (not ours): refuse to clobber it
        os.unlink(tmp_link)
        raise
    return link


def latest_run(out_dir: str | Path) -> str | None:
    """The run id ``<out>/latest`` points to, or None."""
    link = Path(out_dir) / LATEST
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def list_runs(out_dir: str | Path) -> list[str]:
    """Published run ids in ``out_dir``, oldest first."""
    out = Path(out_dir)
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir()
                  if p.is_dir() and not p.is_symlink() and RUN_ID_RE.match(p.name))


def apply_retention(out_dir: str | Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` runs (never ``latest``'s); return deleted ids."""
    out = Path(out_dir)
    runs = list_runs(out)
    protected = {latest_run(out)}
    doomed = [r for r in runs[:-keep] if r not in protected] if keep > 0 else []
    for run_id in doomed:
        shutil.rmtree(out / run_id, ignore_errors=True)
    for tmp in out.glob(".tmp-*"):  # left by killed runs; we hold the lock, so none is live
        shutil.rmtree(tmp, ignore_errors=True)
    return doomed
