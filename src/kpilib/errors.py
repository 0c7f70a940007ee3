"""Every exception kpilib raises on purpose, with the context a user needs to act on it."""

from __future__ import annotations

from typing import Any

import pandas as pd


class KpiLibError(Exception):
    """Raised as the base of every kpilib error; catch this to catch them all."""


class DataContractError(KpiLibError, ValueError):
    """Raised when input data breaks the data contract (docs/data-model.md).

    Attributes (docs/api.md): ``table``, ``column``, ``rule`` (machine-readable), ``n_rows``
    (rows breaking it) and ``examples`` (a few offending rows). When several problems were found,
    ``problems`` holds all of them (each a ``DataContractError``) and the attributes describe the
    first.
    """

    def __init__(
        self,
        table: str | None,
        column: str | None,
        rule: str,
        n_rows: int,
        examples: pd.DataFrame | None = None,
        detail: str = "",
        problems: list[DataContractError] | None = None,
    ) -> None:
        self.table = table
        self.column = column
        self.rule = rule
        self.n_rows = int(n_rows)
        self.examples = examples if examples is not None else pd.DataFrame()
        self.detail = detail
        self.problems = problems if problems is not None else [self]
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.table or '?'}.{self.column}" if self.column else (self.table or "dataset")
        if self.n_rows:
            head = f"{where}: rule '{self.rule}' broken by {self.n_rows} row(s)"
            if self.detail:
                head += f" ({self.detail})"
        else:  # a file- or table-level problem: no row is to blame, say what is wrong
            head = f"{where}: rule '{self.rule}': {self.detail or 'the whole file or table'}"
        if len(self.problems) > 1:
            head += f"; {len(self.problems) - 1} more problem(s), see .problems"
        return head

    def as_record(self) -> dict[str, Any]:
        """A flat dict (table, column, rule, n_rows, detail, examples as records)."""
        return {
            "table": self.table,
            "column": self.column,
            "rule": self.rule,
            "n_rows": self.n_rows,
            "detail": self.detail,
            "examples": self.examples.head(5).astype(str).to_dict("records"),
        }

    def __reduce__(self):  # keep pickling working (multiprocessing, papermill workers)
        return (
            DataContractError,
            (self.table, self.column, self.rule, self.n_rows, self.examples, self.detail,
             None if self.problems == [self] else self.problems),
        )


class UnknownKpiError(KpiLibError, KeyError):
    """Raised when a KPI id (or domain name) is not registered."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        super().__init__(name)

    def __str__(self) -> str:
        return (
            f"unknown KPI or domain {self.name!r}; call kpilib.list_kpis() for the "
            f"{len(self.available)} registered ids, or use a domain name "
            "(order, fulfillment, inventory, forecast, leading) or 'all'"
        )


class ParameterError(KpiLibError, ValueError):
    """Raised when an argument or a ``params`` option is unknown or out of range."""


class ConfigError(KpiLibError, ValueError):
    """Raised when a configuration file (bands, roles, alerts) is invalid; names file and key."""

    def __init__(self, path: str, key: str, message: str) -> None:
        self.path = path
        self.key = key
        super().__init__(f"{path}: {key}: {message}")


