"""The persistent KPI store: tables, banded results, alert state and early warning on disk.

``open_store(DIR).results(kpis=..., by=..., freq=...)`` gives the stored results in the shape
of ``kpilib.compute``; ``kpilib.refresh.refresh`` writes new generations atomically.
"""

from kpilib.store.core import ResultSet, Store, create, open_store

__all__ = ["ResultSet", "Store", "create", "open_store"]
