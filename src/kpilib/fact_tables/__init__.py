"""Entity-level fact tables: one row per commit unit, order, line, slice, shipment, SKU...

Each module registers its builders with :func:`kpilib.context.fact`; KPI modules ask for a
table with ``ctx.fact(name)``, and analysts get the same records with ``kpilib.facts(ds, name)``
(:func:`kpilib.engine.facts`). Modules here import only the context, the registry of
parameters and each other, never the engine or the KPI modules.
"""
