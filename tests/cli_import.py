"""``imported_folder(source, files, tmp_path)``: write a small raw export, run ``kpilib import
SOURCE`` on it through the CLI (no backtest forecasts) and return the loaded dataset and its
``import_report.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import kpilib
from kpilib.cli.main import app


def imported_folder(source: str, files: dict[str, str], tmp_path: Path
                    ) -> tuple[kpilib.Dataset, dict[str, Any]]:
    """Files are written in the given order (name -> text); the import must exit 0."""
    src = tmp_path / "raw"
    src.mkdir()
    for name, text in files.items():
        (src / name).write_text(text)
    out = tmp_path / "ds"
    res = CliRunner().invoke(app, ["import", source, str(src), "--out", str(out),
                                   "--no-backtest"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return kpilib.load_dataset(out), json.loads((out / "import_report.json").read_text())
