"""``manifest.json`` of a report run: what ran, on which data, with which code, and how it went.

Contents: ``run_id``, ``started_at``/``finished_at`` (UTC ISO), ``status`` (``ok`` when every
notebook succeeded, ``partial`` when some failed, ``failed`` when all did), ``as_of``, the
validated ``parameters``, ``data`` (path, fingerprint, first and last timestamp), ``versions``
(kpilib, Python and the packages that shape the numbers and the pages) and ``notebooks`` (one
entry per job: name, segment, status, ``duration_s``, output paths relative to the run folder,
error).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "kpilib", "pandas", "numpy", "pyarrow", "pandera", "matplotlib", "seaborn", "statsmodels",
    "scikit-learn", "scipy", "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel",
    "apscheduler",
)
MANIFEST = "manifest.json"


def package_versions() -> dict[str, str]:
    """Installed versions of ``PACKAGES`` plus Python (``"missing"`` when not installed)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def run_status(results: list[dict[str, Any]]) -> str:
    """``ok`` if every job succeeded, ``failed`` if none did (or none ran), else ``partial``."""
    n_ok = sum(r["status"] == "ok" for r in results)
    if results and n_ok == len(results):
        return "ok"
    return "failed" if n_ok == 0 else "partial"


def relative(path: str | None, run_dir: Path) -> str | None:
    """``path`` relative to ``run_dir`` (POSIX), for links that survive the rename."""
    if path is None:
        return None
    return Path(path).resolve().relative_to(run_dir.resolve()).as_posix()


def build_manifest(
    run_id: str,
    started_at: str,
    finished_at: str,
    params: dict[str, Any],
    data: dict[str, Any],
    results: list[dict[str, Any]],
    run_dir: Path,
) -> dict[str, Any]:
    """The manifest as a dict (paths in ``results`` made relative to ``run_dir``)."""
    notebooks = []
    for r in results:
        entry = {k: v for k, v in r.items() if k != "records"}
        entry["ipynb"] = relative(r["ipynb"], run_dir)
        entry["html"] = relative(r["html"], run_dir)
        notebooks.append(entry)
    return {
        "run_id": run_id,
        "status": run_status(results),
        "started_at": started_at,
        "finished_at": finished_at,
        "as_of": params.get("as_of"),
        "parameters": params,
        "data": data,
        "versions": package_versions(),
        "notebooks": notebooks,
    }


def write_manifest(manifest: dict[str, Any], run_dir: Path) -> Path:
    """Write ``manifest.json`` (sorted keys, 2-space indent) into ``run_dir``."""
    path = run_dir / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """The manifest of a published run, or None when missing or unreadable."""
    try:
        return json.loads((run_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
