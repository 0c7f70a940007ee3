"""Cross-row and cross-table rules (placeholder, filled in step 2)."""

from __future__ import annotations

import pandas as pd

from kpilib.errors import DataContractError


def check_relations(tables: dict[str, pd.DataFrame]) -> list[DataContractError]:
    """Problems across rows and tables."""
    return []
