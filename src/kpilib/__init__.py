"""kpilib: ecommerce ERP KPIs from order, inventory and warehouse tables.

Public API: ``load_dataset``, ``Dataset``, ``validate``, ``DataContractError``, ``list_kpis``,
``compute``, ``facts``, ``list_facts``, ``drill`` and ``apply_bands``; ``open_store`` (the KPI
store). Attributes are imported lazily so ``import kpilib`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from kpilib.errors import DataContractError, KpiLibError, ParameterError, UnknownKpiError

__version__ = "0.1.0"

_LAZY = {
    "Dataset": "kpilib.dataset",
    "load_dataset": "kpilib.loading",
    "validate": "kpilib.contracts",
    "list_kpis": "kpilib.registry",
    "compute": "kpilib.engine",
    "facts": "kpilib.engine",
    "list_facts": "kpilib.engine",
    "drill": "kpilib.drilldown",  # not kpilib/drill.py: a submodule would shadow the function
    "apply_bands": "kpilib.bands",
    "open_store": "kpilib.store",
}

__all__ = [
    "DataContractError",
    "KpiLibError",
    "ParameterError",
    "UnknownKpiError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kpilib' has no attribute {name!r}")
