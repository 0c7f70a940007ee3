"""Pre-flight checks of a report run that need the file system or the loaded data.

Run by :func:`kpilib.reports.params.validate_params` before any kernel starts, each returning
the problems it found as sentences naming the path or value and what to do:

- ``out_dir_problems``: the output folder is a folder we can create and write, and its
  ``latest`` is ours to switch (a symbolic link or absent, not a real folder or file);
- ``filter_problems``: every ``--filter DIM=VALUE`` value occurs in the data (a value that
  matches nothing would publish a report of empty cards), with a "did you mean";
- ``targets_problems``: ``--targets`` is a preset (``benchmarks``, ``none``) or a readable
  targets file (``kpilib.bands.targets.load_targets``), with a "did you mean" for a preset typo.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path


def out_dir_problems(out_dir: str) -> list[str]:
    """Why ``out_dir`` cannot receive a published run (empty when it can)."""
    out = Path(out_dir)
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return [f"out {out_dir!r}: {str(existing)!r} is a file, not a folder; choose another "
                "--out or move the file"]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [f"out {out_dir!r}: {str(existing)!r} is not writable (read-only file system or "
                "permissions); choose a writable --out"]
    latest = out / "latest"
    if latest.exists() and not latest.is_symlink():
        kind = "folder" if latest.is_dir() else "file"
        return [f"out {out_dir!r}: {str(latest)!r} is a real {kind}, not the symbolic link "
                "kpilib switches to the newest run; rename or remove it"]
    return []


def filter_problems(filters: dict[str, list[str]], known: dict[str, list[str]]) -> list[str]:
    """Filter values that occur nowhere in the data, each with the closest existing value.

    ``known`` maps each segment dimension to the values the data has (dimensions absent from
    it are reported elsewhere as unknown)."""
    problems = []
    for dim, values in filters.items():
        if dim not in known:
            continue  # reported as an unknown dimension
        if not known[dim]:
            problems.append(f"filter {dim}: the data has no values for this dimension")
            continue
        for value in values:
            if value in known[dim]:
                continue
            near = difflib.get_close_matches(value, known[dim], n=1) or [
                k for k in known[dim] if k.lower() == value.strip().lower()]
            hint = f"; did you mean {near[0]!r}?" if near else ""
            shown = known[dim][:10] + (["..."] if len(known[dim]) > 10 else [])
            problems.append(f"filter {dim}={value!r} matches no row of the data{hint} "
                            f"(values: {shown})")
    return problems


def targets_problems(targets: str | None) -> list[str]:
    """Why ``targets`` is neither a preset nor a valid targets file (empty when it is)."""
    from kpilib.bands.targets import NONE, PRESETS, load_targets
    from kpilib.errors import ConfigError

    if targets in (None, "", NONE, *PRESETS):
        return []
    if not Path(targets).is_file():
        near = difflib.get_close_matches(targets, [*PRESETS, NONE], n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        return [f"targets {targets!r} is neither a preset ({', '.join([*PRESETS, NONE])}) nor "
                f"an existing file; {hint}`kpilib config init config` writes an editable "
                "config/targets.yaml"]
    try:
        load_targets(targets)
    except ConfigError as err:  # names file, key and problem (unknown KPI ids included)
        return [f"targets: {err}"]
    return []
