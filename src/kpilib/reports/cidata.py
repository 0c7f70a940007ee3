"""The small deterministic CI dataset the stored notebooks are executed against (nbval).

Rule: ``data/ci`` (gitignored) = ``kpilib.synth.generate(**CI_ARGS)``: fixed scenario, seed,
start, horizon and scale, so every machine gets the same tables and the notebooks' printed
numbers are reproducible. ``ensure_ci_data()`` generates it once (into a temporary folder,
renamed into place, under an ``fcntl`` lock so parallel test workers never race) and reuses it
while its stamp file records the same arguments and the same generator source hash. The
notebooks' default ``data_path`` is ``../data/ci`` (relative to ``notebooks/``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

CI_ARGS = {"scenario": "omnichannel", "seed": 7, "start": "2024-01-01", "days": 182,
           "scale": 0.05}


def repo_root() -> Path:
    """The source checkout (``src/kpilib/reports`` -> repo), else the working directory."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def ci_data_dir() -> Path:
    """``<repo>/data/ci`` (override with ``KPILIB_CI_DATA``)."""
    env = os.environ.get("KPILIB_CI_DATA")
    return Path(env) if env else repo_root() / "data" / "ci"


def generator_hash() -> str:
    """SHA-256 of the generator's source (``kpilib/synth/*.py``): a code change regenerates."""
    import hashlib

    import kpilib.synth

    h = hashlib.sha256()
    for path in sorted(Path(kpilib.synth.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


STAMP = ".kpilib-ci.json"


def _matches(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"args": CI_ARGS, "generator": generator_hash()}


def ensure_ci_data(folder: Path | None = None) -> Path:
    """Generate the CI dataset into ``folder`` unless it is already there; return the path."""
    folder = Path(folder) if folder else ci_data_dir()
    if _matches(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if _matches(folder):  # another worker made it while we waited
            return folder
        from kpilib.synth import generate

        tmp = folder.parent / f".{folder.name}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        generate(out=tmp, fmt="parquet", **CI_ARGS)
        (tmp / STAMP).write_text(json.dumps({"args": CI_ARGS, "generator": generator_hash()}))
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(tmp, folder)
    return folder


if __name__ == "__main__":
    print(ensure_ci_data())
