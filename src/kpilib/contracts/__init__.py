"""The data contract (docs/data-model.md): every check a dataset passes before any KPI runs.

``validate(x)`` returns the list of problems (never raises); :func:`kpilib.load_dataset` and
:meth:`kpilib.Dataset.from_frames` raise one :class:`~kpilib.errors.DataContractError` whose
``problems`` lists all of them. The checks run in five stages, each in its own module:

1. :mod:`.io` and :mod:`.files` read files (``unreadable_file``, ``empty_file``,
   ``duplicate_table``, ``duplicate_column``, ``unknown_table``, ``near_miss_table``,
   ``invalid_manifest``);
2. :mod:`.names` and :mod:`.coerce` check names and parse columns into their dtypes
   (``near_miss_column``, ``missing_column``, ``wrong_type``, ``naive_timestamp``);
3. :mod:`.columns` runs pandera per table (``null_in_required``, ``not_in_enum``,
   ``negative_quantity``, ``duplicate_key``);
4. :mod:`.relations` checks across rows and tables (``foreign_key``, ``time_order``,
   ``shipped_exceeds_ordered``, ``cancelled_exceeds_ordered``, ``inconsistent_available``,
   ``implausible_value``);
5. :mod:`.plausibility` checks what cannot be true of an extract (``timestamp_out_of_range``,
   ``future_event``, ``far_from_bulk``, ``above_ceiling``, ``negative_cost``,
   ``mixed_currency``, ``status_contradiction``, ``cancelled_without_timestamp``,
   ``shipment_without_lines``). Its settings (extract time, ceilings) come from the folder's
   optional ``dataset.json`` or the ``limits`` argument.

Table-level rules: ``missing_table`` (orders / order_lines absent), ``empty_table`` (a required
table with a header and no rows; an optional one is simply empty), ``unknown_table``.
``validate`` reports a bad ``assume_tz`` as ``invalid_argument``; the loaders raise
:class:`~kpilib.errors.ParameterError` for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import schema
from kpilib.contracts.coerce import coerce_table, finish_bools
from kpilib.contracts.dates import resolve_date_only, snap_ship_by
from kpilib.contracts.fast import load_clean
from kpilib.contracts.files import read_limits
from kpilib.contracts.io import read_folder
from kpilib.contracts.names import near_miss_columns
from kpilib.contracts.plausibility import Limits, check_plausibility, narrow_time_units
from kpilib.contracts.problems import problem, sort_problems
from kpilib.errors import DataContractError, ParameterError

RULES: tuple[str, ...] = (
    "unreadable_file", "empty_file", "duplicate_table", "unknown_table", "missing_table",
    "empty_table", "duplicate_column", "missing_column", "wrong_type", "naive_timestamp",
    "null_in_required", "not_in_enum", "negative_quantity", "duplicate_key", "foreign_key",
    "time_order", "shipped_exceeds_ordered", "cancelled_exceeds_ordered",
    "inconsistent_available", "implausible_value", "invalid_argument",
    "near_miss_column", "near_miss_table", "invalid_manifest", "timestamp_out_of_range",
    "future_event", "far_from_bulk", "above_ceiling", "negative_cost", "mixed_currency",
    "status_contradiction", "cancelled_without_timestamp", "shipment_without_lines",
)
# rules about a whole file: the table counts as given (no missing_table on top)
_FILE_RULES = frozenset({"unreadable_file", "empty_file", "duplicate_table", "duplicate_column",
                         "near_miss_table"})

__all__ = ["DEFAULTED", "RULES", "Limits", "check_frames", "check_path", "defaulted", "validate"]
# frame.attrs key: the columns the source lacked, filled with their default by the contract
DEFAULTED = "kpilib_defaulted"


def defaulted(typed: Mapping[str, pd.DataFrame]) -> dict[str, object]:
    """``{"table.column": default}`` of the columns ``check_frames`` filled because the
    source lacked them (``schema.ABSENT_DEFAULTS``)."""
    return {f"{name}.{col}": schema.ABSENT_DEFAULTS[(name, col)]
            for name, frame in typed.items() for col in frame.attrs.get(DEFAULTED, ())}


def check_frames(
    frames: Mapping[str, pd.DataFrame | None],
    assume_tz: str | None = None,
    prior: list[DataContractError] | None = None,
    limits: Limits | None = None,
) -> tuple[dict[str, pd.DataFrame], list[DataContractError]]:
    """Typed tables and every problem found in ``frames`` (``prior``: problems met reading;
    ``limits``: settings of the plausibility rules, default extract time = now)."""
    check_assume_tz(assume_tz)
    frames = resolve_date_only(frames)
    problems = list(prior or [])
    blocked = {p.table for p in problems if p.column is None or p.rule in _FILE_RULES}
    raw: dict[str, pd.DataFrame] = {}
    for name, frame in frames.items():
        if frame is None:
            continue
        if name not in schema.TABLES:
            problems.append(problem(name, None, "unknown_table",
                                    f"{name!r} is not a table of the data model",
                                    n_rows=len(frame)))
            continue
        if not isinstance(frame, pd.DataFrame):
            problems.append(problem(name, None, "wrong_type",
                                    f"expected a pandas DataFrame, got {type(frame).__name__}",
                                    n_rows=0))
            continue
        raw[name] = frame
    for name in schema.REQUIRED_TABLES:
        if name in blocked:
            continue
        if name not in raw:
            problems.append(problem(name, None, "missing_table",
                                    f"required table {name!r} is absent", n_rows=0))
        elif len(raw[name]) == 0:
            problems.append(problem(name, None, "empty_table",
                                    f"required table {name!r} has no rows", n_rows=0))
    from kpilib.contracts.columns import check_columns  # pandera: 0.7 s the fast path skips

    typed: dict[str, pd.DataFrame] = {}
    for name in schema.TABLE_NAMES:
        if name not in raw:
            continue
        problems += near_miss_columns(name, list(raw[name].columns))
        narrowed, found, out_of_range = narrow_time_units(name, raw[name])
        problems += found
        frame, found, reported = coerce_table(name, narrowed, assume_tz)
        for col, mask in out_of_range.items():
            reported[col] = reported.get(col, False) | mask
        problems += found
        problems += check_columns(name, frame, reported)
        typed[name] = finish_bools(name, frame)
    snap_ship_by(typed)
    for name, frame in typed.items():
        lacking = [c for t, c in schema.ABSENT_DEFAULTS if t == name and c not in raw[name]]
        if lacking:
            frame.attrs[DEFAULTED] = lacking
    from kpilib.contracts.relations import check_relations

    # a table with a table-level problem (e.g. empty_table) would make every reference to it
    # dangle; its own problem says enough
    broken = {p.table for p in problems if p.rule == "empty_table"}
    usable = {n: f for n, f in typed.items() if n not in broken}
    problems += check_relations(usable)
    problems += check_plausibility(usable, limits)
    return typed, sort_problems(problems)


def check_assume_tz(assume_tz: str | None) -> None:
    """Raise :class:`~kpilib.errors.ParameterError` unless ``assume_tz`` is None or a zone."""
    if assume_tz is None:
        return
    try:
        pd.Timestamp("2024-01-01").tz_localize(assume_tz)
    except Exception as err:  # noqa: BLE001 - pytz/zoneinfo raise different types
        raise ParameterError(
            f"assume_tz={assume_tz!r} is not a time zone; use an IANA name such as "
            "'Europe/Berlin' or 'UTC'") from err


def check_path(path: str | Path, assume_tz: str | None = None,
               ) -> tuple[dict[str, pd.DataFrame], list[DataContractError]]:
    """Read folder ``path`` and check it: typed tables and every problem.

    A clean folder of typed parquet takes the fast path (:mod:`.fast`: pyarrow and DuckDB);
    anything else, and any folder with a problem, runs the pandas checks below.
    """
    check_assume_tz(assume_tz)
    clean = load_clean(path)
    if clean is not None:
        return clean, []
    frames, problems = read_folder(path)
    limits, manifest_problems = read_limits(Path(path))
    return check_frames(frames, assume_tz, prior=problems + manifest_problems, limits=limits)


def validate(data: Any, assume_tz: str | None = None) -> list[DataContractError]:
    """Every contract problem of ``data``; an empty list when it is clean. Never raises.

    ``data`` is a folder path, a :class:`kpilib.Dataset` or a mapping ``{table: DataFrame}``.
    A missing folder is reported as one ``unreadable_file`` problem.
    """
    try:
        if isinstance(data, str | Path):
            return check_path(data, assume_tz)[1]
        tables = getattr(data, "tables", data)
        if not isinstance(tables, Mapping):
            return [problem(None, None, "invalid_argument",
                            "expected a folder path, a Dataset or a mapping {table: DataFrame}, "
                            f"got {type(data).__name__}", n_rows=0)]
        return check_frames(dict(tables), assume_tz)[1]
    except FileNotFoundError as err:
        return [problem(None, None, "unreadable_file", str(err), n_rows=0)]
    except ParameterError as err:
        return [problem(None, None, "invalid_argument", str(err), n_rows=0)]
    except Exception as err:  # noqa: BLE001 - validate promises never to raise
        return [problem(None, None, "invalid_argument",
                        f"could not check the data: {type(err).__name__}: {err}", n_rows=0)]
