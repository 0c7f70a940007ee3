"""pytest setup for ``pytest --nbval notebooks/``: the stored notebooks read ``../data/ci``.

The CI dataset is generated deterministically on first use (``kpilib.reports.cidata``) so a
fresh clone needs no extra step; ``make notebooks`` re-executes the stored notebooks on it.
"""

from __future__ import annotations

import matplotlib


def pytest_configure(config):
    """Make sure ``data/ci`` exists before any notebook kernel starts."""
    matplotlib.use("Agg")
    from kpilib.reports.cidata import ensure_ci_data

    ensure_ci_data()
