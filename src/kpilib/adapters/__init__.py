"""The result of an import (:class:`~kpilib.adapters.common.ImportResult`) and the contract's
order-wise rejection of rows, shared by every mapping (:mod:`kpilib.mapping`).

The public datasets kpilib imports (``kpilib import olist | online-retail``) are mapping files
in ``kpilib/mappings/`` (``olist.yaml``, ``online_retail.yaml``): each documents every mapping
choice in its comments, invents nothing (a table or column the source lacks stays absent, so
KPIs needing it report ``unavailable``), and its import returns an ``ImportResult``: the
cleaned tables plus a report of every row set aside, with its reason and count.
"""

from kpilib.adapters.common import ImportResult

__all__ = ["ImportResult"]
