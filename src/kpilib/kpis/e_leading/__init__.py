"""Domain E, leading indicators: KPIs E1 to E5."""
