"""Run SQL fact definitions over a context's dataset; pandas frames out.

:func:`frame` is what fact builders call: the first call in a context opens a session on the
current engine (DuckDB unless :func:`use` chose another), loads the dataset tables the
definition reads (Arrow, see :mod:`kpilib.sql.arrow`; a missing optional table is loaded
empty), creates every definition it needs as a table of the session, then fetches the result
in source row order. Everything later in the same context reuses those tables.
:func:`frame_given` applies a definition to rows the caller hands it in place of one it
reads (an SQL rule, such as the order rollup, applied to sub-units of an order).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Protocol

import duckdb
import pandas as pd
import pyarrow as pa

from kpilib.context import Context
from kpilib.sql import arrow, definitions


class Engine(Protocol):
    """What a SQL engine offers a session: load Arrow tables, create and fetch tables."""

    dialect: str

    def load(self, name: str, table: pa.Table) -> None: ...

    def create(self, name: str, sql: str) -> None: ...

    def fetch(self, name: str) -> pa.Table: ...


class DuckDBEngine:
    """An in-process DuckDB connection (spills to disk past its memory limit)."""

    dialect = "duckdb"

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def create(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE TEMP TABLE {name} AS {sql}")

    def fetch(self, name: str) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {name} ORDER BY _row").to_arrow_table()


_ENGINE: ContextVar[Callable[[], Engine]] = ContextVar("kpilib_sql_engine",
                                                       default=DuckDBEngine)
_SESSIONS = itertools.count()


@contextlib.contextmanager
def use(factory: Callable[[], Engine]) -> Iterator[None]:
    """Within the block, contexts that start a SQL session use ``factory()`` as engine."""
    token = _ENGINE.set(factory)
    try:
        yield
    finally:
        _ENGINE.reset(token)


class Session:
    """One context's tables in one engine; names carry a session number, so sessions that
    share an engine (a Spark session's temporary views) never see each other's tables."""

    def __init__(self, ctx: Context, engine: Engine) -> None:
        self.ctx, self.engine = ctx, engine
        self.tag = f"_k{next(_SESSIONS)}"
        self.ready: set[str] = set()

    def _name(self, relation: str) -> str:
        return f"{relation}{self.tag}"

    def _load(self, table: str) -> None:
        if table in self.ready:
            return
        frame = self.ctx.table(table)
        data = arrow.empty(table) if frame is None else arrow.to_arrow(table, frame)
        self.engine.load(self._name(table), data)
        self.ready.add(table)

    def _create(self, rel: str, name: str, fresh: Mapping[str, str]) -> None:
        used = definitions.reads(rel)
        rename = {t: fresh.get(t, self._name(t)) for t in used[0] | used[1]}
        self.engine.create(name, definitions.render(rel, self.engine.dialect, rename))

    def fetch(self, name: str) -> pd.DataFrame:
        """Definition ``name`` over this session's dataset, as pandas."""
        for table in sorted(definitions.base_tables(name)):
            self._load(table)
        for rel in definitions.plan(name):
            if rel not in self.ready:
                self._create(rel, self._name(rel), {})
                self.ready.add(rel)
        return arrow.to_pandas(self.engine.fetch(self._name(name)))

    def fetch_given(self, name: str, given: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """Definition ``name`` with the definitions in ``given`` replaced by those frames.

        What reads a given frame (directly or through another definition) is computed anew,
        under names of its own; everything else is the session's, created once."""
        tag = f"{self.tag}_{next(_SESSIONS)}"
        fresh = {rel: f"{rel}{tag}" for rel in given}
        for rel, data in given.items():
            self.engine.load(fresh[rel], arrow.to_arrow(rel, data))
        for table in sorted(definitions.base_tables(name, frozenset(given))):
            self._load(table)
        for rel in definitions.plan(name, frozenset(given)):
            if definitions.reads(rel)[1] & fresh.keys():
                fresh[rel] = f"{rel}{tag}"
                self._create(rel, fresh[rel], fresh)
            elif rel not in self.ready:
                self._create(rel, self._name(rel), {})
                self.ready.add(rel)
        return arrow.to_pandas(self.engine.fetch(fresh.get(name, self._name(name))))


def _session(ctx: Context) -> Session:
    return ctx.memo("_sql_session", lambda: Session(ctx, _ENGINE.get()()))


def frame(ctx: Context, name: str) -> pd.DataFrame:
    """Definition ``name`` computed over ``ctx.ds`` (see module doc); callers own the frame."""
    return _session(ctx).fetch(name)


def frame_given(ctx: Context, name: str, given: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Definition ``name`` over ``ctx.ds``, with the definitions named in ``given`` read from
    those frames instead (same columns; ``_row`` is each frame's row position): one rule
    applied to rows the caller prepared. Callers own the frame."""
    return _session(ctx).fetch_given(name, given)
