"""Read a dataset folder into raw DataFrames, reporting files that cannot be read.

A folder holds one file per table, named ``<table>.parquet``, ``<table>.csv`` or
``<table>.csv.gz``. CSV files are read as text (``dtype=str``) with only the empty cell as null
so ``"NA"`` or ``"00123"`` survive unchanged; the column checks parse them.
CSV is UTF-8 (a byte-order mark, as Excel writes it, is accepted) and comma-separated.
Files whose name is not a table of the schema but carry a data extension are reported as
``unknown_table``; other files (``truth.json``, ``README.md``) are ignored.

Rules: ``unreadable_file`` (not CSV/parquet, binary junk, undecodable text), ``empty_file``
(0 bytes or only whitespace), ``duplicate_table`` (the same table in two formats),
``unknown_table``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from kpilib import schema
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError

SUFFIXES = (".parquet", ".csv", ".csv.gz")
_PARQUET_MAGIC = b"PAR1"


def split_name(path: Path) -> tuple[str, str]:
    """``("orders", ".csv.gz")`` for ``orders.csv.gz``; suffix ``""`` when not a data file."""
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)], suffix
    return path.stem, ""


def _head(path: Path, suffix: str, n: int = 8192) -> bytes:
    if suffix == ".csv.gz":
        with gzip.open(path, "rb") as fh:
            return fh.read(n)
    with open(path, "rb") as fh:
        return fh.read(n)


def read_table_file(path: Path, table: str) -> tuple[pd.DataFrame | None, DataContractError | None]:
    """Read one file; return ``(frame, None)`` or ``(None, problem)``."""
    _, suffix = split_name(path)
    if not suffix:
        return None, problem(table, None, "unreadable_file",
                             f"{path.name} is not a CSV or parquet file; kpilib reads "
                             "<table>.parquet, <table>.csv or <table>.csv.gz", n_rows=0)
    if path.stat().st_size == 0:
        return None, problem(table, None, "empty_file", f"{path.name} is an empty file (0 bytes)",
                             n_rows=0)
    try:
        head = _head(path, suffix)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        return None, problem(table, None, "unreadable_file",
                             f"{path.name} cannot be read as {suffix[1:]}: {err}", n_rows=0)
    try:
        if suffix == ".parquet":
            if not head.startswith(_PARQUET_MAGIC):
                raise ValueError("no parquet magic bytes 'PAR1' at the start of the file")
            frame = pd.read_parquet(path)
        else:
            if not head.strip():
                return None, problem(table, None, "empty_file",
                                     f"{path.name} holds no header and no rows", n_rows=0)
            if b"\x00" in head:
                raise ValueError("binary content (NUL bytes), not a text CSV file")
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                                encoding="utf-8-sig", compression="infer")
            if frame.shape[1] == 1 and ";" in str(frame.columns[0]):
                raise ValueError("semicolon-separated; kpilib reads comma-separated CSV "
                                 "re-export with ',' as separator")
    except Exception as err:  # noqa: BLE001 - any reader failure is the same contract problem
        kind = "parquet" if suffix == ".parquet" else "CSV"
        msg = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        return None, problem(table, None, "unreadable_file",
                             f"{path.name} is not a readable {kind} file ({msg})", n_rows=0)
    return frame, None


def read_folder(path: str | Path) -> tuple[dict[str, pd.DataFrame], list[DataContractError]]:
    """All table files of folder ``path`` as raw frames, plus the problems met reading them."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {folder}")
    frames: dict[str, pd.DataFrame] = {}
    problems: list[DataContractError] = []
    found: dict[str, list[Path]] = {}
    for file in sorted(folder.iterdir()):
        if not file.is_file() or file.name.startswith("."):
            continue
        stem, suffix = split_name(file)
        if stem in schema.TABLES:
            found.setdefault(stem, []).append(file)
        elif suffix:
            problems.append(problem(stem, None, "unknown_table",
                                    f"{file.name} is not a table of the data model; "
                                    "rename it or move it out of the folder", n_rows=0))
    for table, files in found.items():
        if len(files) > 1:
            names = ", ".join(f.name for f in files)
            problems.append(problem(table, None, "duplicate_table",
                                    f"table given twice ({names}); keep one file", n_rows=0))
            continue
        frame, err = read_table_file(files[0], table)
        if err is not None:
            problems.append(err)
        else:
            frames[table] = frame
    return frames, problems
