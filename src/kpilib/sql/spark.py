"""Run the SQL fact definitions on Apache Spark (``pip install kpilib[spark]``).

The definitions in ``facts/*.sql`` are transpiled by sqlglot to Spark SQL; the dataset's
tables are handed to Spark as Arrow tables (BIGINT-ns timestamps, see
:mod:`kpilib.sql.arrow`), each definition becomes a cached temporary view and results come
back as Arrow, then pandas: the KPI layer computes on them as on DuckDB's. Use it with::

    from pyspark.sql import SparkSession
    from kpilib.sql import run, spark

    session = SparkSession.builder.getOrCreate()
    with run.use(spark.engine(session)):
        res = kpilib.compute(ds, ["order_cycle_time_hours"], by="channel", freq="W")

:func:`script` writes the Spark SQL of one fact (with what it needs) for a cluster job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from kpilib.sql import definitions


class SparkEngine:
    """A Spark session as a kpilib SQL engine (see :class:`kpilib.sql.run.Engine`)."""

    dialect = "spark"

    def __init__(self, session: Any) -> None:
        self.spark = session

    def load(self, name: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def create(self, name: str, sql: str) -> None:
        self.spark.sql(sql).cache().createOrReplaceTempView(name)

    def fetch(self, name: str) -> pa.Table:
        return self.spark.sql(f"SELECT * FROM {name} ORDER BY _row").toArrow()


def engine(session: Any) -> Callable[[], SparkEngine]:
    """An engine factory for :func:`kpilib.sql.run.use` on ``session``."""
    return lambda: SparkEngine(session)


def script(name: str) -> str:
    """Spark SQL that creates fact ``name`` and every definition it needs as temporary views
    over tables named like the dataset's (``orders``, ``order_lines``...)."""
    return "\n\n".join(f"CREATE OR REPLACE TEMPORARY VIEW {rel} AS\n"
                       f"{definitions.render(rel, 'spark')};" for rel in definitions.plan(name))
