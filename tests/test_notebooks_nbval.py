"""nbval really guards the numbers: a stored KPI value altered by hand makes it fail.

A stored notebook is first refreshed in a temporary folder (``kpilib.reports.refresh``, as
``make notebooks`` does), so the test does not depend on the committed outputs being current
(the nbval step of ``make test`` checks that). Then one pytest run executes two copies against
the CI dataset: the refreshed copy (every cell must pass) and a copy whose first printed
percentage in a checked cell was changed by 0.1 point (that cell, and only that one, must fail
with a stdout mismatch).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kpilib.reports.cidata import ensure_ci_data
from kpilib.reports.explorer import DATA_ENV
from kpilib.reports.refresh import refresh

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore_orders.ipynb"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
PERCENT = re.compile(r"(\d+)\.(\d)%")


def tamper(nb: nbformat.NotebookNode) -> tuple[int, str, str]:
    """Change the first ``NN.N%`` printed by a checked cell; return (code cell index, old,
    new)."""
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(code_cells):  # nbval numbers code cells from 0
        if "nbval-ignore-output" in cell.metadata.get("tags", []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and (m := PERCENT.search(out["text"])):
                digit = (int(m.group(2)) + 1) % 10
                new = f"{m.group(1)}.{digit}%"
                out["text"] = out["text"][:m.start()] + new + out["text"][m.end():]
                return index, m.group(0), new
    raise AssertionError("no printed percentage found in a checked cell")


@pytest.mark.slow
def test_nbval_catches_a_changed_kpi_number(tmp_path):
    data = ensure_ci_data()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ci").symlink_to(data, target_is_directory=True)
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    original = nbdir / "original.ipynb"
    original.write_bytes(NOTEBOOK.read_bytes())
    refresh(original)
    nb = nbformat.read(str(original), as_version=4)
    index, old, new = tamper(nb)
    nbformat.write(nb, str(nbdir / "tampered.ipynb"))

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-sanitize-with", str(SANITIZE),
         "-p", "no:cacheprovider", "-p", "no:randomly", "-q", "-rf", "-o", "addopts=",
         str(nbdir / "original.ipynb"), str(nbdir / "tampered.ipynb")],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
        env={**os.environ, DATA_ENV: str(data)},  # the explorer's data_path is None
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    # exactly one cell fails: the tampered one; every cell of the original copy passes
    assert re.search(r"\b1 failed, \d+ passed", out), out[-3000:]
    assert re.findall(r"FAILED \S+::Cell (\d+)", out) == [str(index)], out[-3000:]
    assert "mismatch 'stdout'" in out
    assert old in out and new in out  # the diff shows the stored and the recomputed value
