"""Build one :class:`~kpilib.errors.DataContractError` from a boolean mask of offending rows.

Every check of the contract ends here, so every problem has the same shape: table, column,
rule, number of offending rows, up to :data:`N_EXAMPLES` example rows (the table's key columns
plus the offending columns, indexed by the row's position in the input) and one sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpilib import schema
from kpilib.errors import DataContractError

N_EXAMPLES = 5


def key_columns(table: str) -> list[str]:
    """Primary key of ``table``; for key-less tables, its required text and date columns."""
    t = schema.TABLES.get(table)
    if t is None:
        return []
    if t.primary_key:
        return list(t.primary_key)
    return [c.name for c in t.columns if c.required and c.dtype in (schema.TEXT, schema.DATE)]


def problem(
    table: str | None,
    column: str | None,
    rule: str,
    detail: str,
    frame: pd.DataFrame | None = None,
    mask: np.ndarray | pd.Series | None = None,
    show: Sequence[str] = (),
    n_rows: int | None = None,
    examples: pd.DataFrame | None = None,
) -> DataContractError:
    """One problem; ``n_rows`` = ``mask.sum()`` and examples = first offending rows of ``frame``.

    The problem's ``rows`` attribute holds the index labels of all offending rows (None when
    the problem was built from counts, not a row mask).

    ``show`` lists extra columns (beyond the key and ``column``) to put in the examples.
    """
    if frame is not None and mask is not None:
        m = np.asarray(mask, dtype=bool)
        if n_rows is None:
            n_rows = int(m.sum())
        if examples is None:
            cols = [c for c in dict.fromkeys([*key_columns(table or ""), column, *show])
                    if c is not None and c in frame.columns]
            examples = frame.loc[m, cols].head(N_EXAMPLES)
    err = DataContractError(table, column, rule, int(n_rows or 0), examples, detail)
    # every offending row's index label, for tools that set rows aside (kpilib.adapters)
    err.rows = frame.index[np.asarray(mask, dtype=bool)] if (
        frame is not None and mask is not None) else None
    return err


def sort_problems(problems: list[DataContractError]) -> list[DataContractError]:
    """Stable order: by table position in the schema, then column position, then rule."""
    tables = {n: i for i, n in enumerate(schema.TABLE_NAMES)}

    def col_pos(p: DataContractError) -> int:
        t = schema.TABLES.get(p.table or "")
        if t is None or p.column not in t.column_names:
            return -1 if p.column is None else len(t.column_names) if t else 0
        return t.column_names.index(p.column)

    return sorted(problems, key=lambda p: (tables.get(p.table or "", -1), col_pos(p), p.rule))
