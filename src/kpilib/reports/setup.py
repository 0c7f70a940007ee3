"""One call that starts a report notebook: ``rep = open_report(globals())``.

Reads the notebook's parameters by name from the namespace (``data_path``, ``as_of``,
``start``, ``end``, ``freq``, ``segment_by``, ``filters``, ``role``, ``thresholds``, ``kpis``,
``targets``, ``allow_future_as_of``; missing ones take their defaults), silences library
warnings, applies the chart style, opens the ``Report`` and shows the report's CSS and its
context line. Replaces the setup cell each notebook used to copy.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from kpilib.reports.session import Report, esc, html

PARAMETERS = ("as_of", "start", "end", "freq", "segment_by", "filters", "role", "thresholds",
              "kpis", "targets", "allow_future_as_of")


def open_report(namespace: Mapping[str, Any]) -> Report:
    """Open the ``Report`` of a notebook's parameters (see module docstring)."""
    from kpilib import plotting
    from kpilib.reports import render

    warnings.simplefilter("ignore")
    plotting.set_style()
    options = {k: namespace[k] for k in PARAMETERS if k in namespace}
    rep = Report.open(namespace["data_path"], **options)
    html(render.style() + f"<p class='k-context'>{esc(rep.context_line())}</p>")
    return rep
