"""Report suite: parameterised notebooks run with papermill, published as offline HTML.

``run_reports(ReportParams(...))`` runs the suite once (``kpilib reports run``);
``schedule.serve`` runs it on a cron expression (``kpilib reports schedule``); ``record`` is
what a notebook calls to hand a value to the run index; ``findings`` turns numbers into
sentences. Heavy modules are imported lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ReportParams": "kpilib.reports.params",
    "validate_params": "kpilib.reports.params",
    "run_reports": "kpilib.reports.suite",
    "RunOutcome": "kpilib.reports.suite",
    "record": "kpilib.reports.nbtools",
    "note": "kpilib.reports.nbtools",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kpilib.reports' has no attribute {name!r}")
