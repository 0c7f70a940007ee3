"""Reading and checking the YAML configuration files (bands, roles): one place for the
file handling and for the two checks every section needs, so every error names the file and
the key the same way (:class:`~kpilib.errors.ConfigError`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kpilib.errors import ConfigError


def read_config(config: Mapping[str, Any] | str | Path) -> tuple[str, Any]:
    """``(path label, raw content)`` of a YAML file path, or of an in-memory mapping."""
    if not isinstance(config, str | Path):
        return "<mapping>", config
    path = str(config)
    try:
        return path, yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
    except FileNotFoundError as err:
        raise ConfigError(path, "-", "file not found") from err
    except yaml.YAMLError as err:
        raise ConfigError(path, "-", f"not valid YAML: {err}") from err


def reject_unknown_keys(d: Mapping[str, Any], allowed: Iterable[str], path: str,
                        prefix: str) -> None:
    """Raise on the first key of ``d`` that is not in ``allowed``."""
    allowed = frozenset(allowed)
    for k in d:
        if k not in allowed:
            raise ConfigError(path, f"{prefix}{k}",
                              f"unknown key; allowed: {', '.join(sorted(allowed))}")


def check_kpi_id(kpi: Any, known: frozenset[str], path: str, key: str) -> None:
    """Raise unless ``kpi`` is a known KPI id."""
    if kpi not in known:
        raise ConfigError(path, key, f"unknown KPI id {kpi!r}; see kpilib.list_kpis()")
