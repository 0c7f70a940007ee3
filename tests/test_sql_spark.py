"""The SQL fact definitions transpiled to Spark SQL give the same KPIs as DuckDB.

Needs pyspark (``pip install kpilib[spark]``, pinned in requirements-spark.lock; ``make spark``)
and Java; as root with apt-get, Java is installed here (Debian's openjdk-17-jre-headless). One
local Spark session serves the module. Without them the Spark test is skipped with the reason,
except under ``make test`` (``KPILIB_REQUIRE_SPARK=1``), where it fails: CI must run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pandas as pd
import pytest
import sqlglot

import kpilib
from kpilib.reports.cidata import ensure_ci_data
from kpilib.sql import definitions, run

SQL_FACTS = ("orders", "order_flow_lines")


def test_every_definition_parses_without_a_dialect_and_transpiles_to_spark():
    for name in definitions.names():
        spark_sql = definitions.render(name, "spark")
        assert sqlglot.parse_one(spark_sql, read="spark") is not None, name


def _java() -> bool:
    if shutil.which("java"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                        "openjdk-17-jre-headless"], check=False, env=env)
    return shutil.which("java") is not None


def _missing(reason: str) -> None:
    """Skip with ``reason``, or fail when the run requires Spark (``KPILIB_REQUIRE_SPARK=1``)."""
    if os.environ.get("KPILIB_REQUIRE_SPARK") == "1":
        pytest.fail(f"KPILIB_REQUIRE_SPARK=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def spark_session():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _missing("pyspark is not installed (make spark, or pip install kpilib[spark])")
    if not _java():
        _missing("java is missing and could not be installed (apt-get install "
                 "openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("kpilib-test")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    yield session
    session.stop()


def test_order_kpis_on_spark_equal_duckdb(spark_session):
    from kpilib.sql import spark

    ds = kpilib.load_dataset(ensure_ci_data())
    kpis = kpilib.list_kpis()
    ids = kpis.loc[kpis["fact"].isin(SQL_FACTS), "id"].tolist()
    assert "order_cycle_time_hours" in ids and "split_shipment_rate" in ids
    duck = kpilib.compute(ds, ids, by="channel", freq="W")
    duck_facts = {f: kpilib.facts(ds, f) for f in SQL_FACTS}
    with run.use(spark.engine(spark_session)):
        on_spark = kpilib.compute(ds, ids, by="channel", freq="W")
        spark_facts = {f: kpilib.facts(ds, f) for f in SQL_FACTS}
    assert len(duck) > 100
    pd.testing.assert_frame_equal(duck, on_spark, check_exact=True)
    for f in SQL_FACTS:
        pd.testing.assert_frame_equal(duck_facts[f], spark_facts[f], check_exact=True)
