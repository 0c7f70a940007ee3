"""Execute report notebooks with papermill, in parallel, and export each to HTML.

Rule: one job = one notebook for one segment value (or the whole data). Jobs run in worker
processes (``python -m kpilib.reports.runner``, one per slot), at most ``jobs`` at a time
(default ``os.cpu_count()``). A failing job never stops the others: papermill still writes the
executed notebook with the error, and the job comes back with ``status="failed"``, the error
and the path of that notebook. The kernel is always the running interpreter
(``kernel_name="python3"`` resolved through a kernel spec written for ``sys.executable`` and put
first on ``JUPYTER_PATH``), so a clean venv works without a ``jupyter kernelspec install``.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kpilib.errors import ParameterError

KERNEL_NAME = "python3"
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_RESULT_PREFIX = "KPILIB-JOB-RESULT "
REPORT_DIR_ENV = "KPILIB_REPORT_DIR"  # the running job's report folder, read by its kernel


@dataclass
class Job:
    """One notebook execution: input notebook, parameters, and where its outputs go."""

    notebook: str  # stem, e.g. "01_order_workflow"
    input_path: str
    ipynb_path: str
    html_path: str
    parameters: dict[str, Any]
    segment: str | None = None
    title: str = ""


@dataclass
class JobResult:
    """What a job produced: status, duration, outputs, error and recorded values."""

    notebook: str
    segment: str | None
    status: str  # "ok" | "failed"
    duration_s: float
    ipynb: str
    html: str | None
    error: str | None = None
    records: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def safe_name(value: str) -> str:
    """A file-name-safe, collision-free slug of a segment value.

    Rule: keep ``[A-Za-z0-9_-]``, replace every other run of characters (``/``, ``.``, ``\\``,
    spaces, ``<``...) by ``_``; when anything was replaced, append the first 8 hex digits of
    the value's SHA-1 so ``a/b`` and ``a_b`` never share a file. ``..`` and ``/`` cannot survive,
    so the name cannot leave its folder.
    """
    text = str(value)
    slug = _SAFE.sub("_", text).strip("_")[:60]
    if slug != text or not slug:
        slug = f"{slug or 'value'}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return slug


def inside(base: Path, path: Path) -> Path:
    """``path`` resolved, after checking it lies inside ``base`` (else ``ParameterError``)."""
    b, p = base.resolve(), path.resolve()
    if b != p and b not in p.parents:
        raise ParameterError(f"output path {str(path)!r} would escape {str(base)!r}")
    return p


def kernel_env(workdir: Path) -> dict[str, str]:
    """Environment whose ``JUPYTER_PATH`` maps kernel ``python3`` to ``sys.executable``."""
    spec_dir = workdir / ".kernels" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    old = os.environ.get("JUPYTER_PATH")
    path = str(workdir / ".kernels") + (os.pathsep + old if old else "")
    return {"JUPYTER_PATH": path, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def _records(nb_path: str) -> dict[str, Any]:
    """Values a notebook recorded with ``kpilib.reports.nbtools`` (name -> JSON value)."""
    import nbformat

    from kpilib.reports.export import RECORD_MIME

    out: dict[str, Any] = {}
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if RECORD_MIME in data:
                rec = data[RECORD_MIME]
                out[rec["name"]] = rec["value"]
    return out


def _error_text(err: BaseException) -> str:
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    cell = getattr(err, "exec_count", None)
    where = f" (cell {cell})" if cell is not None else ""
    return f"{ename}: {evalue}{where}".strip()


def execute_job(job: Job, env: dict[str, str] | None = None) -> JobResult:
    """Run one job in this process: papermill, then HTML export. Never raises.

    The kernel finds the job's report folder in ``KPILIB_REPORT_DIR`` (the records' CSVs of
    the report go there, ``reports.records``)."""
    os.environ.update(env or {})
    os.environ[REPORT_DIR_ENV] = str(Path(job.html_path).parent)
    import papermill as pm

    from kpilib.reports.export import notebook_to_html
    from kpilib.reports.kernels import papermill_kernel_args

    t0 = time.perf_counter()
    Path(job.ipynb_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            job.input_path,
            job.ipynb_path,
            parameters=job.parameters,
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=False,
            log_output=False,
            cwd=str(Path(job.input_path).parent),
            **papermill_kernel_args(),
        )
    except Exception as err:  # noqa: BLE001 - a failed notebook is a result, not a crash
        duration = time.perf_counter() - t0
        if not Path(job.ipynb_path).exists():  # failed before papermill wrote anything
            Path(job.ipynb_path).write_text(json.dumps({
                "cells": [], "metadata": {"kpilib_error": traceback.format_exc()},
                "nbformat": 4, "nbformat_minor": 5}))
        return JobResult(job.notebook, job.segment, "failed", round(duration, 2),
                         job.ipynb_path, None, _error_text(err))
    try:
        records = _records(job.ipynb_path)
        notebook_to_html(job.ipynb_path, job.html_path, title=job.title or job.notebook)
    except Exception as err:  # noqa: BLE001
        return JobResult(job.notebook, job.segment, "failed",
                         round(time.perf_counter() - t0, 2), job.ipynb_path, None,
                         f"HTML export failed: {_error_text(err)}")
    return JobResult(job.notebook, job.segment, "ok", round(time.perf_counter() - t0, 2),
                     job.ipynb_path, job.html_path, None, records)


class _Worker:
    """A long-lived ``python -m kpilib.reports.runner`` process fed one job per line.

    Protocol: a ``Job`` as one JSON line on stdin; the ``JobResult`` comes back on stdout as one
    line prefixed ``KPILIB-JOB-RESULT``. Anything else on stdout (kernel noise) is ignored.
    Paying the interpreter and papermill import once per worker, not once per notebook.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kpilib.reports.runner"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, env={**os.environ, **env}, bufsize=1,
        )

    def run(self, job: Job) -> JobResult:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(asdict(job)) + "\n")
            self.proc.stdin.flush()
            for line in self.proc.stdout:
                if line.startswith(_RESULT_PREFIX):
                    return JobResult(**json.loads(line[len(_RESULT_PREFIX):]))
        except (BrokenPipeError, OSError):
            pass
        code = self.proc.poll()
        return JobResult(job.notebook, job.segment, "failed", 0.0, job.ipynb_path, None,
                         f"report worker died (exit code {code})")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_jobs(
    jobs: list[Job],
    max_workers: int,
    env: dict[str, str],
    on_done: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run ``jobs``, at most ``max_workers`` at a time, in worker processes (``_Worker``).

    One thread per worker takes the next job from a shared queue, so a slow notebook never
    holds up the others; a worker that dies is replaced for the next job.
    """
    results: dict[int, JobResult] = {}
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(jobs)):
        todo.put(i)
    lock = threading.Lock()

    def _loop() -> None:
        worker = None
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                if worker is None or worker.proc.poll() is not None:
                    worker = _Worker(env)
                res = worker.run(jobs[i])
                with lock:
                    results[i] = res
                    if on_done is not None:
                        on_done(res)
        finally:
            if worker is not None:
                worker.close()

    threads = [threading.Thread(target=_loop, daemon=True)
               for _ in range(max(1, min(max_workers, len(jobs))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[i] for i in range(len(jobs))]


def _main() -> None:
    """Worker entry point: jobs as JSON lines on stdin, results as prefixed lines on stdout."""
    for line in sys.stdin:
        if not line.strip():
            continue
        res = execute_job(Job(**json.loads(line)))
        print(_RESULT_PREFIX + json.dumps(res.to_dict(), default=str), flush=True)


if __name__ == "__main__":
    _main()
