"""Database sources of a mapping file: PostgreSQL tables or queries, read as Arrow in chunks.

``import_db(URL, MAPPING)`` returns the same :class:`~kpilib.adapters.common.ImportResult` as
a file import (``kpilib import db URL --mapping MAPPING --out DIR`` writes it);
``load_db(URL, MAPPING)`` returns a validated Dataset (``load_dataset(URL, mapping=...)``).
A source of the mapping is ``{table: SCHEMA.NAME}`` (read whole; each dotted part is quoted,
so it is matched as written) or ``{query: SQL}`` (any SELECT, e.g. a join or a filter).

Driver: ADBC (``adbc-driver-postgresql``, Apache Arrow's database connectivity, built on
libpq). It streams the result with PostgreSQL's binary COPY protocol and hands over Arrow
record batches of about ``chunk_bytes`` each, typed from the server's column types
(timestamptz -> UTC timestamps, date, bigint, double, boolean, text), so nothing is re-parsed
from text and the batches go straight into the Arrow/pandas path the contract already reads.
The URL is a libpq connection URI (``postgresql://user@host:5432/db``, or a unix socket with
``?host=/run/postgresql``); libpq reads ``PGPASSWORD`` and ``~/.pgpass``, so a password need
not be written in the URL (it is never printed).

Errors are one line: not a PostgreSQL URL, or a source that is neither a table nor a query, or
a table or query the server rejects (``ParameterError``); a server that cannot be reached or
refuses the login (:class:`DatabaseUnreachable`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib.errors import ParameterError
from kpilib.mapping.build import build, load

SCHEMES = ("postgresql://", "postgres://")
CHUNK_BYTES = 16 * 1024 * 1024
Progress = Callable[[str, int], None]  # (source name, rows read so far)


class DatabaseUnreachable(ParameterError):
    """Raised when the database server cannot be reached or refuses the connection."""


def is_database_url(value: Any) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URL (a ``str``, not a Path)."""
    return isinstance(value, str) and value.lower().startswith(SCHEMES)


def redact(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``."""
    return re.sub(r"^([a-z]+://[^:/?#@]*):[^@/?#]*@", r"\1:***@", url, flags=re.IGNORECASE)


def _first_line(err: Exception) -> str:
    """The server's message without the driver's prefixes ('IO: [libpq] Failed to ...: ')."""
    line = next((s.strip() for s in str(err).splitlines() if s.strip()), type(err).__name__)
    line = re.sub(r"^[A-Z_]+: (\[libpq\] )?(Failed to (connect|prepare query|execute "
                  r"query): )?", "", line)
    return re.sub(r"^ERROR:\s+", "", line)


def _sql(name: str, spec: Mapping[str, Any]) -> tuple[str, str]:
    """(SQL, what) for source ``name``: ``table:`` quoted part by part, or ``query:``."""
    if ("table" in spec) == ("query" in spec):
        raise ParameterError(f"sources.{name}: a database source has exactly one of 'table:' "
                             f"(SCHEMA.NAME) or 'query:' (SQL); got {sorted(spec)}")
    if "query" in spec:
        return str(spec["query"]), "query"
    parts = str(spec["table"]).split(".")
    if not all(parts) or len(parts) > 3:
        raise ParameterError(f"sources.{name}.table: {spec['table']!r} is not [DB.][SCHEMA.]NAME")
    quoted = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
    return f"SELECT * FROM {quoted}", f"table {spec['table']!r}"


def _connect(url: str):
    if not is_database_url(url):
        raise ParameterError(f"{url!r} is not a database URL; kpilib reads PostgreSQL: "
                             "postgresql://USER@HOST:PORT/DATABASE")
    try:
        import adbc_driver_postgresql.dbapi as pg
    except ImportError as err:
        raise ParameterError("reading a database needs the ADBC PostgreSQL driver: "
                             "pip install 'kpilib[postgres]' (adbc-driver-postgresql)") from err
    try:
        return pg.connect(url)
    except pg.Error as err:
        raise DatabaseUnreachable(f"cannot connect to {redact(url)}: {_first_line(err)}") from None


@contextmanager
def database_reader(url: str, chunk_bytes: int = CHUNK_BYTES,
                    progress: Progress | None = None) -> Iterator[Callable]:
    """A reader of ``table:``/``query:`` sources over one connection to ``url`` (a
    :data:`kpilib.mapping.build.Reader`); the connection closes when the block ends."""
    conn = _connect(url)  # first: it says so when the driver is not installed
    import adbc_driver_postgresql.dbapi as pg
    import pyarrow as pa

    def read(name: str, spec: Mapping[str, Any]) -> pd.DataFrame:
        sql, what = _sql(name, spec)
        batches, rows = [], 0
        with conn.cursor() as cur:
            cur.adbc_statement.set_options(
                **{"adbc.postgresql.batch_size_hint_bytes": str(int(chunk_bytes))})
            try:
                cur.execute(sql)
                stream = cur.fetch_record_batch()
                for batch in stream:
                    batches.append(batch)
                    rows += batch.num_rows
                    if progress is not None:
                        progress(name, rows)
            except pg.Error as err:
                conn.rollback()
                raise ParameterError(f"sources.{name}: {what} fails: {_first_line(err)}") \
                    from None
            table = pa.Table.from_batches(batches, schema=stream.schema)
        return table.to_pandas(date_as_object=False)

    try:
        yield read
    finally:
        conn.close()


def import_db(url: str, mapping: str | Path, progress: Progress | None = None,
              chunk_bytes: int = CHUNK_BYTES):
    """Map the database sources of ``mapping`` read from ``url``; rows the contract rejects
    are set aside with their order and counted (as :func:`kpilib.mapping.import_mapped`)."""
    doc = load(mapping)
    with database_reader(url, chunk_bytes, progress) as read:
        return build(doc, read)


def load_db(url: str, mapping: str | Path, chunk_bytes: int = CHUNK_BYTES):
    """The database sources of ``mapping`` as a validated Dataset; raises
    ``DataContractError`` listing every problem (as :func:`kpilib.mapping.load_mapped`)."""
    doc = load(mapping)
    with database_reader(url, chunk_bytes) as read:
        return build(doc, read, reject=False).dataset()
