"""Generations of a store folder and the atomic pointer that names the current one.

Layout::

    <store>/store.json            the configuration written at creation (what is maintained)
    <store>/CURRENT               the name of the current generation, e.g. ``g000012``
    <store>/generations/g000012/  one complete, immutable state (tables, results, alerts, ...)

A writer builds generation ``N+1`` in a hidden temporary folder, renames it to its final name
(an atomic ``rename``), and only then rewrites ``CURRENT`` through a temporary file and
``os.replace`` (also atomic). A crash at any point leaves ``CURRENT`` naming the previous,
complete generation; an orphan folder left behind is removed by :func:`sweep`. Unchanged
table files are hard links to the previous generation's (files are never modified in place).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CURRENT = "CURRENT"
GENERATIONS = "generations"


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file, fsync, rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    """Parse the JSON file ``path``."""
    return json.loads(path.read_text(encoding="utf-8"))


def current_name(root: Path) -> str | None:
    """Name of the current generation, or None for a store without one yet."""
    pointer = root / CURRENT
    if not pointer.exists():
        return None
    return pointer.read_text(encoding="utf-8").strip() or None


def generation_dir(root: Path, name: str) -> Path:
    """Folder of generation ``name``."""
    return root / GENERATIONS / name


def next_name(root: Path) -> str:
    """The name the next generation gets (``g`` + six digits, one more than the current)."""
    cur = current_name(root)
    number = int(cur[1:]) + 1 if cur else 1
    return f"g{number:06d}"


def begin(root: Path) -> Path:
    """A fresh hidden folder to build the next generation in."""
    (root / GENERATIONS).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=root / GENERATIONS, prefix=".building-"))


def commit(root: Path, building: Path, keep: int = 3) -> str:
    """Publish ``building`` as the next generation and point ``CURRENT`` at it; return its name.

    Older generations beyond the last ``keep`` are removed afterwards.
    """
    name = next_name(root)
    final = generation_dir(root, name)
    if final.exists():  # left by a crash between rename and pointer swap: never current
        shutil.rmtree(final)
    os.rename(building, final)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".CURRENT.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / CURRENT)
    sweep(root, keep)
    return name


def sweep(root: Path, keep: int = 3) -> None:
    """Remove unfinished builds and generations older than the last ``keep``."""
    base = root / GENERATIONS
    if not base.is_dir():
        return
    cur = current_name(root)
    for child in base.iterdir():
        if child.name.startswith(".building-"):
            shutil.rmtree(child, ignore_errors=True)
    done = sorted(c.name for c in base.iterdir() if c.name.startswith("g"))
    if cur in done:
        stale = [n for n in done if n < cur][:-max(keep - 1, 0) or None] + [
            n for n in done if n > cur]
        for n in stale:
            shutil.rmtree(base / n, ignore_errors=True)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (same file system), else copy it."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on the store (``<store>/.lock``) so writers take turns; the
    operating system releases it when the process dies, so a crash leaves no stale lock."""
    with open(root / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
