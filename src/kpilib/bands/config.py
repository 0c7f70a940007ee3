"""Loading a band configuration: the packaged ``kpilib/config/bands.yaml`` or a given file.

A file is parsed here and checked by :mod:`kpilib.bands.validate`, which builds the
:class:`~kpilib.bands.settings.BandsConfig`; every problem raises
``kpilib.errors.ConfigError(path, key, message)``. Use ``kpilib config init DIR`` for an
editable copy of the packaged file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from kpilib.bands import registry
from kpilib.bands.settings import BandsConfig
from kpilib.bands.validate import validate_mapping
from kpilib.configfile import read_config


def default_config_path() -> Path:
    """The packaged default ``bands.yaml``."""
    return Path(str(resources.files("kpilib") / "config" / "bands.yaml"))


def load_bands_config(
    config: BandsConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    known_ids: Iterable[str] | None = None,
) -> BandsConfig:
    """Read and validate a bands configuration (mapping, YAML path, or None = package default).

    ``known_ids`` defaults to the ids of the KPI registry.
    """
    if isinstance(config, BandsConfig):
        return config
    if config is None:
        config = default_config_path()
    path, raw = read_config(config)
    return validate_mapping(raw, path, frozenset(known_ids) if known_ids is not None
                            else registry.known_ids())
