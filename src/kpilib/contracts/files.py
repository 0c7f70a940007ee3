"""Which files of a dataset folder hold which table, and what the folder says about itself.

Rules:

- A table is ``<table>.parquet``, ``<table>.csv`` or ``<table>.csv.gz``, or a *partitioned
  parquet directory* ``<table>.parquet/`` or ``<table>/`` holding ``*.parquet`` parts (as
  Spark, DuckDB and pyarrow write them; ``_SUCCESS`` and hidden files are ignored, hive
  ``key=value`` sub-folders become columns).
- ``unreadable_file``: a symbolic link whose target does not exist (dangling), or an entry
  that cannot be listed; both are named with the path and what to do.
- ``near_miss_table`` (see :mod:`.names`): a file or folder almost named like a table.
- ``unknown_table``: a data file (csv/parquet) named after no table.
- ``dataset.json`` (optional) describes the extract: ``extracted_at`` (ISO timestamp with an
  offset: when the data was taken from the source system), ``max_quantity`` and
  ``max_amount`` (ceilings of the ``above_ceiling`` rule). A file that is not such a JSON
  object is ``invalid_manifest``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from kpilib import schema
from kpilib.contracts.names import near_miss_table, table_hint
from kpilib.contracts.plausibility import Limits
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError

SUFFIXES = (".parquet", ".csv", ".csv.gz")
MANIFEST = "dataset.json"
_MANIFEST_KEYS = ("extracted_at", "max_quantity", "max_amount")


def split_name(path: Path) -> tuple[str, str]:
    """``("orders", ".csv.gz")`` for ``orders.csv.gz``; suffix ``""`` when not a data file."""
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)], suffix
    return path.stem, ""


def parquet_parts(folder: Path) -> list[Path]:
    """The ``*.parquet`` parts under ``folder`` (recursively), hidden and ``_`` files skipped."""
    return sorted(p for p in folder.rglob("*.parquet")
                  if p.is_file() and not any(part.startswith((".", "_"))
                                             for part in p.relative_to(folder).parts))


def _dir_table(entry: Path) -> str | None:
    """The table a partitioned parquet directory holds, or None when it is not one."""
    stem = entry.name[: -len(".parquet")] if entry.name.lower().endswith(".parquet") \
        else entry.name
    if stem in schema.TABLES and parquet_parts(entry):
        return stem
    return None


def list_tables(folder: Path) -> tuple[dict[str, list[Path]], list[DataContractError]]:
    """Table name -> the files or directories holding it, and the problems of the listing."""
    found: dict[str, list[Path]] = {}
    problems: list[DataContractError] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() and not entry.exists():
            problems.append(problem(
                table_hint(entry.name), None, "unreadable_file",
                f"{entry} is a symbolic link to {entry.readlink()}, which does not exist; "
                "point it at the real file or remove it", n_rows=0))
            continue
        if entry.is_dir():
            table = _dir_table(entry)
            if table is not None:
                found.setdefault(table, []).append(entry)
            elif (hint := table_hint(entry.name)) is not None and parquet_parts(entry):
                problems.append(near_miss_table(entry.name + "/", hint))
            continue
        if not entry.is_file() or entry.name == MANIFEST:
            continue
        stem, suffix = split_name(entry)
        if stem in schema.TABLES:
            found.setdefault(stem, []).append(entry)
        elif (hint := table_hint(entry.name)) is not None:
            problems.append(near_miss_table(entry.name, hint))
        elif suffix:
            problems.append(problem(stem, None, "unknown_table",
                                    f"{entry.name} is not a table of the data model; "
                                    "rename it or move it out of the folder", n_rows=0))
    return found, problems


def read_parquet_dir(folder: Path) -> pd.DataFrame:
    """A partitioned parquet directory as one frame.

    Parts are read one by one and concatenated with their schemas unified (a part whose column
    is all null has type null in some writers); hive ``key=value`` folders become text columns.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for part in parquet_parts(folder):
        table = pq.read_table(part)
        for piece in part.relative_to(folder).parts[:-1]:
            key, sep, value = piece.partition("=")
            if sep and key not in table.column_names:
                table = table.append_column(key, pa.array([value] * table.num_rows, pa.string()))
        tables.append(table)
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()


def read_limits(folder: Path) -> tuple[Limits, list[DataContractError]]:
    """The plausibility settings of ``folder/dataset.json`` (defaults when absent)."""
    path = folder / MANIFEST
    if not path.is_file():
        return Limits(), []

    def bad(why: str) -> tuple[Limits, list[DataContractError]]:
        return Limits(), [problem(None, None, "invalid_manifest",
                                  f"{path}: {why}; see `kpilib validate --help`", n_rows=0)]

    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return bad(f"not readable JSON ({err})")
    if not isinstance(meta, dict):
        return bad("must be a JSON object")
    kwargs = {}
    if meta.get("extracted_at") is not None:
        try:
            ts = pd.Timestamp(meta["extracted_at"])
        except (ValueError, TypeError):
            return bad(f"extracted_at {meta['extracted_at']!r} is not an ISO timestamp")
        if ts.tzinfo is None:
            return bad(f"extracted_at {meta['extracted_at']!r} needs a UTC offset such as 'Z'")
        kwargs["extracted_at"] = ts.tz_convert("UTC")
    for key in _MANIFEST_KEYS[1:]:
        if key in meta:
            value = meta[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                return bad(f"{key} must be a positive number, got {value!r}")
            kwargs[key] = float(value)
    return Limits(**kwargs), []
