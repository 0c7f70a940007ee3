"""Threshold bands (normal / stressed / critical) for KPI results (docs/banding.md).

``apply_bands(results, config)`` is the public entry point (``kpilib.apply_bands``).
"""

from kpilib.bands.apply import apply_bands, series_dims
from kpilib.bands.config import load_bands_config
from kpilib.bands.settings import BandsConfig, KpiBandSettings

__all__ = ["BandsConfig", "KpiBandSettings", "apply_bands", "load_bands_config", "series_dims"]
