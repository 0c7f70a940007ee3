"""The validated in-memory dataset: one typed DataFrame per table of the data model.

A :class:`Dataset` is only built through the contract (:mod:`kpilib.contracts`):
:func:`kpilib.loading.load_dataset` reads a folder, :meth:`Dataset.from_frames` takes
DataFrames; both raise a single :class:`~kpilib.errors.DataContractError` listing every problem,
so nothing downstream ever sees invalid data.

After loading, every present table has all its schema columns in schema order (optional columns
absent from the input are added as all-null), with the dtypes of the team brief (text object,
num float64, int Int64, bool bool, date naive datetime64[ns], ts datetime64[ns, UTC]) and a
fresh RangeIndex; row order is the input order. Columns that are not in the schema (users' own
attributes) are kept, unchanged, after the schema columns. A NOT NULL column the source may lack
as a whole (``schema.ABSENT_DEFAULTS``: ``orders.channel``, ``shipments.node_id``,
``products.unit_cost``) holds its default when left out, and :attr:`Dataset.defaulted` names it:
the KPIs that require it then report ``unavailable``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from kpilib import schema
from kpilib.errors import DataContractError

__all__ = ["Dataset", "raise_if_problems", "table_digest"]


def raise_if_problems(problems: list[DataContractError]) -> None:
    if problems:
        first = problems[0]
        raise DataContractError(first.table, first.column, first.rule, first.n_rows,
                                first.examples, first.detail, problems=problems)


def table_digest(name: str, frame: pd.DataFrame) -> str:
    """sha256 (hex) of table ``name``'s canonical content: columns by name, rows sorted.

    Rows are sorted by the primary key (by all schema columns for key-less tables), so the
    same rows in another order give the same digest; the name, row count, every column's
    name and dtype, and every value enter it.
    """
    h = hashlib.sha256()
    table = schema.TABLES[name]
    keys = list(table.primary_key) or list(table.column_names)
    cols = sorted(frame.columns)
    canon = frame.sort_values(keys, kind="mergesort", na_position="first")[cols]
    h.update(f"table:{name};rows:{len(canon)};".encode())
    for col in cols:
        h.update(f"col:{col}:{canon[col].dtype};".encode())
    hashes = pd.util.hash_pandas_object(canon.reset_index(drop=True), index=False)
    h.update(np.ascontiguousarray(hashes.to_numpy(np.uint64)).tobytes())
    return h.hexdigest()


class Dataset:
    """Validated tables; ``ds.<table>`` is a DataFrame, or ``None`` for an absent optional table.

    Build one with :func:`load_dataset` or :meth:`from_frames`; the constructor itself does not
    validate (internal use, e.g. :meth:`replace`).
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame],
                 dimensions: Mapping[str, str] | None = None,
                 delivery_events: str = "scan",
                 defaulted: Mapping[str, object] | None = None) -> None:
        from kpilib.contracts import defaulted as filled_by_contract

        self._tables = {n: tables[n] for n in schema.TABLE_NAMES if tables.get(n) is not None}
        self._as_of: pd.Timestamp | None = None
        self._digests: dict[str, str] = {}  # table_digest per table, filled on demand
        self._dimensions = dict(dimensions or {})
        self.delivery_events = delivery_events  # "none": no delivery scans (delivery KPIs n/a)
        # {"table.column": default} the source lacked (not recorded: KPIs requiring it n/a)
        self.defaulted = {**dict(defaulted or {}), **filled_by_contract(self._tables)}

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_frames(cls, assume_tz: str | None = None, dimensions: Mapping[str, str] | None = None,
                    delivery_events: str = "scan", **frames: pd.DataFrame | None) -> Dataset:
        """Check ``frames`` (``table=DataFrame``) against the contract and type them.

        ``dimensions`` ``{column: table}`` declares extra segment columns (``kpilib.dimensions``);
        ``delivery_events="none"`` declares a source without delivery scans.

        Raises
        ------
        DataContractError
            With ``.problems`` listing every problem found.
        """
        from kpilib.contracts import check_frames
        from kpilib.dimensions import check, check_events

        typed, problems = check_frames(frames, assume_tz)
        raise_if_problems(problems)
        return cls(typed, check(dimensions or {}, typed), check_events(delivery_events))

    def replace(self, **frames: pd.DataFrame | None) -> Dataset:
        """A new Dataset with the given tables swapped in (``None`` drops one); not re-validated.

        For internal use by code that derives a consistent subset of already valid tables.
        """
        unknown = sorted(set(frames) - set(schema.TABLE_NAMES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; tables are {list(schema.TABLE_NAMES)}")
        merged = {**self._tables, **frames}
        kept = {n: f for n, f in merged.items() if f is not None}
        out = Dataset(kept, self._dimensions, self.delivery_events,
                      {k: v for k, v in self.defaulted.items() if k.split(".")[0] in kept})
        out.seed_digests({n: d for n, d in self._digests.items() if n not in frames})
        return out

    # access -------------------------------------------------------------------------------
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """``{name: DataFrame}`` of the tables present, in schema order."""
        return dict(self._tables)

    @property
    def dimensions(self) -> dict[str, str]:
        """Extra segment dimensions ``{column: table}`` (see :mod:`kpilib.dimensions`)."""
        return dict(self._dimensions)

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={len(f)}" for n, f in self._tables.items())
        return f"Dataset({parts})"

    @property
    def data_as_of(self) -> pd.Timestamp:
        """Latest observed time in the data (UTC): max over every ts and date column.

        Dates count as midnight UTC of that day. Planned times, deadlines and targets
        (``schema.PLANNED_COLUMNS``: promises, cutoffs, forecast target periods, ...) are
        ignored because they may lie in the future.
        """
        if self._as_of is None:
            latest = pd.NaT
            for name, frame in self._tables.items():
                for col in schema.TABLES[name].columns:
                    if col.dtype not in (schema.TS, schema.DATE):
                        continue
                    if (name, col.name) in schema.PLANNED_COLUMNS:
                        continue
                    value = frame[col.name].max()
                    if pd.isna(value):
                        continue
                    value = value.tz_localize("UTC") if value.tzinfo is None else value
                    latest = value if pd.isna(latest) else max(latest, value)
            self._as_of = latest
        return self._as_of

    def fingerprint(self) -> str:
        """sha256 over the per-table digests (:func:`table_digest`) in sorted table order.

        The same data in another row order gives the same hash; any changed value, column or
        table changes it. Per-table digests are cached (see :meth:`table_digests`), so a
        Dataset derived from another one re-hashes only the tables that differ.
        """
        digests = self.table_digests()
        return hashlib.sha256("".join(digests[n] for n in sorted(digests)).encode()).hexdigest()

    def table_digests(self) -> dict[str, str]:
        """``{table: table_digest(table, frame)}`` of the present tables, computed once each.

        A Dataset never swaps a table (``replace`` builds a new one) and its frames are not
        modified in place, so a digest, once known, stays right.
        """
        for name, frame in self._tables.items():
            if name not in self._digests:
                self._digests[name] = table_digest(name, frame)
        return {n: self._digests[n] for n in self._tables}

    def seed_digests(self, digests: Mapping[str, str]) -> None:
        """Take ``digests`` (``{table: table_digest}``) as known for the present tables named.

        Internal, for code that knows a table equals one already hashed (a store refresh
        reuses the previous generation's digest of a table the batch did not touch); a wrong
        digest makes a wrong fingerprint, so only pass digests of equal data.
        """
        self._digests.update({n: d for n, d in digests.items() if n in self._tables})

    # output -------------------------------------------------------------------------------
    def to_parquet(self, path: str | Path) -> Path:
        """Write ``<table>.parquet`` per present table into folder ``path`` (created if needed).

        ``load_dataset(path)`` gives back equal frames (same values, dtypes and row order).
        A column the source lacked (:attr:`defaulted`) is left out of its file, so reading it
        back fills the default again and still knows it was not recorded.
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        for name in self._tables:
            self.stored_frame(name).to_parquet(out / f"{name}.parquet", index=False)
        self.write_declaration(out)
        return out

    def stored_frame(self, name: str) -> pd.DataFrame:
        """Table ``name`` as it is written to disk: without the columns the source lacked
        (:attr:`defaulted`), so that reading it back fills and marks them again."""
        lacking = [k.split(".", 1)[1] for k in self.defaulted if k.split(".")[0] == name]
        return self._tables[name].drop(columns=lacking)

    def write_declaration(self, folder: str | Path) -> None:
        """Write ``folder/dataset.json`` (extra dimensions, ``delivery_events``) when the
        dataset declares anything; ``load_dataset`` and the store read it back."""
        if self._dimensions or self.delivery_events != "scan":
            from kpilib.dimensions import DECLARATION_FILE, to_tables

            doc = {"dimensions": to_tables(self._dimensions)}
            if self.delivery_events != "scan":
                doc["delivery_events"] = self.delivery_events
            (Path(folder) / DECLARATION_FILE).write_text(json.dumps(doc, indent=2) + "\n")


def _table_property(name: str) -> property:
    def get(self: Dataset) -> pd.DataFrame | None:
        return self._tables.get(name)

    get.__doc__ = f"The ``{name}`` table ({schema.TABLES[name].doc}), or None when absent."
    return property(get)


for _name in schema.TABLE_NAMES:
    setattr(Dataset, _name, _table_property(_name))
