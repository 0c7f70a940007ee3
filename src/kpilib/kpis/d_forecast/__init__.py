"""Domain D, forecast quality: KPIs D1 to D8."""
