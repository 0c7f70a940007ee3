"""``make notebooks``: re-execute the stored notebooks in place and strip volatile metadata.

Rule: each ``notebooks/*.ipynb`` is executed top to bottom with its default parameters (the CI
dataset, ``cidata.ensure_ci_data()``) by papermill on the running interpreter's kernel, then
cleaned so that a deliberate change is a small, reviewable diff and nbval compares only what
matters:

- papermill and execution metadata (timings, status, kernel versions) are removed;
- execution counts are renumbered 1, 2, ... in cell order;
- outputs of cells tagged ``nbval-ignore-output`` (charts, widgets, machine records) are
  cleared: nbval does not compare them and base64 images would bloat every diff;
- widget state is dropped; ``language_info`` keeps only the language name; the kernelspec is
  the project's kernel, "Python (kpilib)";
- the notebooks whose ``data_path`` is None (the explorers) read the CI dataset too
  (``KPILIB_NOTEBOOK_DATA``, :func:`kpilib.reports.explorer.default_data_path`);
- cell ids become ``cell-00``, ``cell-01``... so they never churn.

A notebook that fails to execute is left untouched and the command exits 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat

IGNORE_TAG = "nbval-ignore-output"
# the project's kernel, installed into .venv by `make venv` (JupyterLab opens notebooks in it)
KERNELSPEC = {"name": "kpilib", "display_name": "Python (kpilib)", "language": "python"}
VOLATILE_CELL_KEYS = ("papermill", "execution", "ExecuteTime", "collapsed", "scrolled")


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip volatile metadata and ignored outputs (see module docstring); returns ``nb``."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    count = 0
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            continue
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            if IGNORE_TAG in tags:
                cell.outputs = []
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = count
                if "metadata" in out:
                    out["metadata"] = {}
        cell["id"] = f"cell-{len(cells):02d}"  # stable ids: no churn in diffs
        cells.append(cell)
    nb.cells = cells
    return nb


CELL_TIMEOUT_S = 120  # a cell on the CI dataset takes seconds; a silent kernel is a hang


def _execute(pm, path: Path, out: Path, attempts: int = 3) -> None:
    """papermill with a per-cell timeout; a kernel that stops answering is restarted, up to
    ``attempts`` runs, instead of hanging the run, with a ``RuntimeWarning`` saying which
    cell. (Seen under pytest-xdist in fresh clones, cause not yet found; Unix-socket kernels,
    :mod:`kpilib.reports.kernels`, rule out colliding TCP ports, but not this.)"""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from kpilib.reports.kernels import papermill_kernel_args
    from kpilib.reports.runner import KERNEL_NAME

    for attempt in range(1, attempts + 1):
        try:
            pm.execute_notebook(str(path), str(out), kernel_name=KERNEL_NAME,
                                language="python", progress_bar=False, cwd=str(path.parent),
                                execution_timeout=CELL_TIMEOUT_S, start_timeout=120,
                                **papermill_kernel_args())
            return
        except (CellTimeoutError, DeadKernelError, TimeoutError) as err:
            if attempt == attempts:
                raise
            # a warning, not a print: pytest lists it even when the retry then passes
            detail = " ".join(str(err).split())[:400]
            warnings.warn(f"refresh: {path.name}: the kernel stopped answering "
                          f"({type(err).__name__}: {detail}); restarting it "
                          f"(run {attempt + 1} of {attempts})", RuntimeWarning, stacklevel=2)


def refresh(path: Path, data: Path | None = None) -> None:
    """Execute ``path`` in place (via a temporary copy) and clean it."""
    import papermill as pm

    from kpilib.reports.cidata import ci_data_dir
    from kpilib.reports.explorer import DATA_ENV
    from kpilib.reports.runner import kernel_env

    with tempfile.TemporaryDirectory() as tmp:
        env = {**kernel_env(Path(tmp)), DATA_ENV: str(data or ci_data_dir())}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            out = Path(tmp) / path.name
            _execute(pm, path, out)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        nb = clean(nbformat.read(str(out), as_version=4))
    nbformat.write(nb, str(path))


def main(paths: list[str] | None = None) -> int:
    """Refresh ``paths`` (default ``notebooks/*.ipynb``); return the exit code."""
    from kpilib.reports.cidata import ensure_ci_data, repo_root

    ensure_ci_data()
    targets = [Path(p) for p in paths] if paths else sorted(
        (repo_root() / "notebooks").glob("*.ipynb"))
    failed = []
    for path in targets:
        print(f"refreshing {path} ...", flush=True)
        try:
            refresh(path)
        except Exception as err:  # noqa: BLE001 - report every failing notebook
            ename, evalue = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", err)
            print(f"  FAILED: {ename}: {str(evalue)[:800]}", file=sys.stderr)
            failed.append(path)
    if failed:
        print(f"{len(failed)} notebook(s) failed; left unchanged: {[str(p) for p in failed]}",
              file=sys.stderr)
        return 1
    print(f"refreshed {len(targets)} notebook(s); review with `git diff notebooks/`")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
