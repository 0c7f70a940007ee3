"""Fact tables defined in SQL and run by an embedded or a distributed engine.

``facts/*.sql`` hold the definitions (one ``SELECT`` each, :mod:`kpilib.sql.definitions`);
:mod:`kpilib.sql.run` hands a context's dataset to an engine and gives the KPI layer pandas
frames back. DuckDB is the default engine (in process, out of core); :mod:`kpilib.sql.spark`
runs the same definitions, transpiled by sqlglot, on a Spark session.
"""
