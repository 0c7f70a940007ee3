"""Adapters that map public ecommerce datasets onto the data contract (docs/data-model.md).

Each adapter documents every mapping choice in its module docstring, invents nothing (a
table or column the source lacks stays absent, so KPIs needing it report ``unavailable``),
and returns an :class:`~kpilib.adapters.common.ImportResult`: the cleaned tables plus a report
of every row set aside, with its reason and count.
"""

from kpilib.adapters.common import ImportResult

__all__ = ["ImportResult"]
