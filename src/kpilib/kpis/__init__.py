"""KPI definitions, one module per family; each registers its KPIs with kpilib.registry.kpi."""
