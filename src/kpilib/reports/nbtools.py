"""Notebook-side helpers: hand values to the run index, and print clear notes.

``record(name, value)`` displays ``value`` (JSON-serialisable) under the MIME type
``application/vnd.kpilib.record+json``. The runner reads it back from the executed notebook
(``runner._records``) to build the index badges; the HTML export drops it, so readers never see
it. Jupyter shows nothing for it. Cells that call it carry the ``nbval-ignore-output`` tag: the
same numbers are printed as text in a checked cell.
"""

from __future__ import annotations

import json
from typing import Any

RECORD_MIME = "application/vnd.kpilib.record+json"


def record(name: str, value: Any) -> None:
    """Attach ``value`` to the executed notebook under ``name`` (machine-readable)."""
    from IPython.display import display

    payload = json.loads(json.dumps({"name": name, "value": value}, default=str))
    display({RECORD_MIME: payload, "text/plain": f"<kpilib record {name}>"}, raw=True)


def note(text: str) -> None:
    """Print a reader-facing note (e.g. a KPI whose data is unavailable) as plain text."""
    print(f"Note: {text}")
