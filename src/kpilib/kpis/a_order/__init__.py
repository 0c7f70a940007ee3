"""Domain A, order workflow and customer service: KPIs A1 to A16."""
