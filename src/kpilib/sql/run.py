"""Run SQL fact definitions over a context's dataset; pandas frames out.

:func:`frame` is what fact builders call: the first call in a context opens a session on the
current engine (DuckDB unless :func:`use` chose another), loads the dataset tables the
definition reads (Arrow, see :mod:`kpilib.sql.arrow`; a missing optional table is loaded
empty), creates every definition it needs as a table of the session, then fetches the result
in source row order. Everything later in the same context reuses those tables.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
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

    def fetch(self, name: str) -> pd.DataFrame:
        """Definition ``name`` over this session's dataset, as pandas."""
        for table in sorted(definitions.base_tables(name)):
            self._load(table)
        for rel in definitions.plan(name):
            if rel in self.ready:
                continue
            used = definitions.reads(rel)
            rename = {t: self._name(t) for t in used[0] | used[1]}
            self.engine.create(self._name(rel),
                               definitions.render(rel, self.engine.dialect, rename))
            self.ready.add(rel)
        return arrow.to_pandas(self.engine.fetch(self._name(name)))


def frame(ctx: Context, name: str) -> pd.DataFrame:
    """Definition ``name`` computed over ``ctx.ds`` (see module doc); callers own the frame."""
    session = ctx.memo("_sql_session", lambda: Session(ctx, _ENGINE.get()()))
    return session.fetch(name)
