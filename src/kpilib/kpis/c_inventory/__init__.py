"""Domain C, inventory health: KPIs C1 to C7 (the C8/C9 classes are segments, computed in
kpilib.fact_tables.classes)."""
