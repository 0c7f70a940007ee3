"""Entity-level fact tables (one row per commit unit, order, line, slice, shipment...)."""
