"""KPI definitions, one subpackage per domain (a_order ... e_leading), one module per KPI family.

Each module registers its KPIs with :func:`kpilib.registry.kpi`; the records they read come
from the fact tables of :mod:`kpilib.fact_tables`.
"""
