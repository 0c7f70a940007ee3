"""Column-level rules, checked with pandera on the typed frames built from ``schema.TABLES``.

Rule names (ours, stable) for pandera's failure cases: ``null_in_required`` (NOT NULL column with
a null), ``not_in_enum`` (value not among the allowed ones), ``negative_quantity`` (a column
that cannot be negative holds a negative value), ``duplicate_key`` (two or more rows share the
primary key; ``n_rows`` counts every row involved), ``wrong_type`` (dtype left wrong, which the
parser in :mod:`kpilib.contracts.coerce` normally prevents).
Rows already reported by the parser (``wrong_type``, ``naive_timestamp``, ``missing_column``) are
not reported again as nulls.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from kpilib import schema
from kpilib.contracts.coerce import UTC_DTYPE
from kpilib.contracts.problems import problem
from kpilib.errors import DataContractError

_DTYPES = {
    schema.TEXT: None,  # object; values are str/None by construction
    schema.NUM: "float64",
    schema.INT: "Int64",
    schema.BOOL: "object",  # nullable until finish_bools; required nulls are checked here
    schema.DATE: "datetime64[ns]",
    schema.TS: UTC_DTYPE,
}
_RULES = {
    "not_nullable": "null_in_required",
    "isin": "not_in_enum",
    "greater_than_or_equal_to": "negative_quantity",
    "field_uniqueness": "duplicate_key",
    "multiple_fields_uniqueness": "duplicate_key",
    "dtype": "wrong_type",
}


@cache
def table_schema(name: str) -> pa.DataFrameSchema:
    """The pandera schema of one table (no coercion: :mod:`coerce` has typed the frame)."""
    table = schema.TABLES[name]
    columns = {}
    for col in table.columns:
        checks = []
        if col.enum:
            checks.append(pa.Check.isin(list(col.enum)))
        if col.nonnegative:
            checks.append(pa.Check.ge(0))
        single_pk = table.primary_key == (col.name,)
        columns[col.name] = pa.Column(_DTYPES[col.dtype], checks=checks or None,
                                      nullable=not col.required, unique=single_pk,
                                      report_duplicates="all")
    multi_pk = list(table.primary_key) if len(table.primary_key) > 1 else None
    return pa.DataFrameSchema(columns, unique=multi_pk, report_duplicates="all", strict=False,
                              name=name)


def _describe(name: str, column: str | None, rule: str) -> str:
    col = schema.TABLES[name].column(column) if column in schema.TABLES[name].column_names \
        else None
    if rule == "null_in_required":
        text = f"required column {column!r} has empty values"
        if col is not None and col.absent is not None:
            text += ("; if the source does not record it at all, leave the column out "
                     f"(default: {col.absent[0]!r})")
        return text
    if rule == "not_in_enum" and col is not None:
        return f"allowed: {list(col.enum or ())}"
    if rule == "negative_quantity":
        return f"{column!r} cannot be negative"
    if rule == "duplicate_key":
        return f"primary key {list(schema.TABLES[name].primary_key)} is not unique"
    return f"column {column!r} does not have the expected dtype"


def check_columns(name: str, frame: pd.DataFrame,
                  reported: dict[str, np.ndarray]) -> list[DataContractError]:
    """Run the pandera schema lazily and turn its failure cases into our problems."""
    try:
        table_schema(name).validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return []
    problems: list[DataContractError] = []
    table = schema.TABLES[name]
    cases = cases.assign(rule=cases["check"].astype(str).str.replace(r"\(.*$", "", regex=True)
                         .map(_RULES).fillna("wrong_type"))
    # a composite key is one table-level problem (column None), not one per key column
    composite = len(table.primary_key) > 1
    cases["column"] = cases["column"].astype(object)
    cases.loc[composite & (cases["rule"] == "duplicate_key"), "column"] = ""
    for (column, rule), grp in cases.groupby(["column", "rule"], sort=False, dropna=False):
        column = None if column == "" or pd.isna(column) else str(column)
        idx = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int).unique()
        mask = np.zeros(len(frame), bool)
        mask[idx[(idx >= 0) & (idx < len(frame))]] = True
        if rule == "null_in_required" and column in reported:
            mask &= ~reported[column]
        if rule == "wrong_type" and not mask.any():
            mask[:] = True
        if not mask.any():
            continue
        show = list(table.primary_key) if rule == "duplicate_key" else []
        detail = _describe(name, column, rule)
        if rule == "not_in_enum":
            found = sorted(map(str, frame.loc[mask, column].unique()))[:5]
            detail = f"unexpected value(s) {found}; {detail}"
        problems.append(problem(name, column, rule, detail,
                                frame=frame, mask=mask, show=show))
    return problems
