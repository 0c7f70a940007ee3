"""Domain B, fulfillment operations at the node: KPIs B1 to B9."""
