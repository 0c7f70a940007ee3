"""Near-miss names: columns and file names that are almost, but not exactly, what kpilib reads.

A near miss is a silent data loss: ``Delivered_At`` would be an extra user column and the real
``delivered_at`` an all-null optional one, so every delivery KPI would read as "never
delivered". Rules:

- ``near_miss_column``: a column not in the table's schema whose name, after case folding and
  trimming, or after one edit (a letter inserted, deleted or changed: ``canceled_at``), is a
  schema column that the table lacks. Reported with "did you mean".
- ``near_miss_table``: a file whose name is almost a table file: another case
  (``Shipments.csv``), a second extension (``shipments.CSV.txt``), spaces or dashes for
  underscores, or one edit away (``shipment.csv``).
- ``duplicate_column``: a CSV header naming one column twice (pandas would silently rename the
  second copy ``channel.1``).
"""

from __future__ import annotations

import csv
import io

from kpilib import schema
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError


def _norm(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` by at most one insertion, deletion or substitution."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:]
    return a[i:] == b[i + 1:]


def closest(name: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The candidate ``name`` nearly equals (case, spaces, one edit), else None."""
    norm = _norm(name)
    exact = [c for c in candidates if _norm(c) == norm]
    if exact:
        return exact[0]
    near = [c for c in candidates if len(norm) > 3 and within_one_edit(norm, c)]
    return near[0] if len(near) == 1 else None


def near_miss_columns(table: str, columns: list[str]) -> list[DataContractError]:
    """``near_miss_column`` problems for the raw column names of ``table``.

    Only optional columns are targets: an absent required column is ``missing_column``,
    whose message carries the same "did you mean" (:func:`did_you_mean`).
    """
    known = schema.TABLES[table].column_names
    present = {str(c) for c in columns}
    absent = [c.name for c in schema.TABLES[table].columns
              if c.name not in present and not c.required]
    problems = []
    for col in columns:
        if str(col) in known:
            continue
        target = closest(str(col), absent)
        if target is not None:
            problems.append(problem(
                table, target, "near_miss_column",
                f"found column {str(col)!r}; did you mean {target!r}? rename it (kpilib "
                "would read it as an extra column and leave the real one empty)", n_rows=0))
    return problems


def did_you_mean(name: str, columns: list[str]) -> str:
    """``"; found 'X', rename it to 'name'"`` when a column of ``columns`` nearly is ``name``."""
    extra = [str(c) for c in columns if str(c) not in schema_names_of(columns)]
    for col in extra:
        if closest(col, [name]) == name:
            return f"; found {col!r}: did you mean {name!r}? rename it"
    return ""


def schema_names_of(columns: list[str]) -> set[str]:
    """The names among ``columns`` that are a column of some table (never near misses)."""
    return {str(c) for c in columns} & _ALL_COLUMNS


_ALL_COLUMNS = {c for t in schema.TABLES.values() for c in t.column_names}


def table_hint(filename: str) -> str | None:
    """The table a file name almost names (``Shipments.csv`` -> ``shipments``), else None."""
    stem = filename.split(".", 1)[0]
    return closest(stem, schema.TABLE_NAMES)


def near_miss_table(filename: str, table: str) -> DataContractError:
    """The ``near_miss_table`` problem for ``filename``, almost the table ``table``."""
    return problem(table, None, "near_miss_table",
                   f"file {filename!r} is not read: did you mean {table + '.csv'!r} or "
                   f"{table + '.parquet'!r}? kpilib reads <table>.csv, .csv.gz or .parquet "
                   "with the table name in lower case", n_rows=0)


def duplicate_headers(first_line: str) -> list[str]:
    """Column names that occur more than once in a CSV header line."""
    try:
        header = next(csv.reader(io.StringIO(first_line)))
    except (StopIteration, csv.Error):
        return []
    seen: set[str] = set()
    dups: list[str] = []
    for name in header:
        if name in seen and name not in dups:
            dups.append(name)
        seen.add(name)
    return dups
