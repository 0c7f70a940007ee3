"""pytest setup for ``pytest --nbval notebooks/``: the stored notebooks read ``data/ci``.

The CI dataset is generated deterministically on first use (``kpilib.reports.cidata``) so a
fresh clone needs no extra step; ``make notebooks`` re-executes the stored notebooks on it.
"""

from __future__ import annotations

import matplotlib


def pytest_configure(config):
    """Make sure ``data/ci`` exists before any notebook kernel starts, and point the
    notebooks whose ``data_path`` is None (the explorers) at it (kernels inherit it)."""
    import os

    matplotlib.use("Agg")
    from kpilib.reports.cidata import ensure_ci_data
    from kpilib.reports.explorer import DATA_ENV

    os.environ[DATA_ENV] = str(ensure_ci_data())
