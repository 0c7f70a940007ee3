"""Shared pytest setup.

This file's presence puts ``tests/`` on ``sys.path`` (pytest's default "prepend" import mode),
so test modules in sub-folders can ``from builders import build_dataset``.
"""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test opened."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
