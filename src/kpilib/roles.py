"""Role-based views (roles.yaml): each role's KPIs, alert owners, and a banded view per role.

``kpis_for_role(role)`` gives the KPI ids of a role (for ``kpilib.compute(..., role=...)``);
``owner_of(kpi)`` the role that owns its alerts (a role's banded view is
:func:`kpilib.reports.views.view`). The packaged ``kpilib/config/roles.yaml`` is the
default; ``kpilib config init DIR`` writes a copy to edit.

Invalid files raise ``ConfigError(path, key, message)``: unknown keys, unknown KPI ids (checked
against ``known_ids``, default the KPI registry), an alert owner that is not a defined role, and
asking for a role that is not defined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kpilib.bands import registry
from kpilib.configfile import check_kpi_id, read_config, reject_unknown_keys
from kpilib.errors import ConfigError

TOP_KEYS = frozenset({"version", "roles", "alert_owners"})
ROLE_KEYS = frozenset({"label", "description", "kpis"})
OWNER_KEYS = frozenset({"default", "kpis"})


@dataclass(frozen=True)
class RolesConfig:
    """Validated roles: ``roles`` (name -> KPI ids), ``owners`` (KPI -> role), ``default``."""

    path: str
    roles: Mapping[str, tuple[str, ...]]
    descriptions: Mapping[str, str]
    owners: Mapping[str, str]
    default_owner: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def kpis_for(self, role: str) -> list[str]:
        """KPI ids of ``role`` in file order; unknown role -> ConfigError."""
        if role not in self.roles:
            raise ConfigError(self.path, f"roles.{role}",
                              f"unknown role; defined roles: {', '.join(self.roles)}")
        return list(self.roles[role])

    def label_of(self, role: str) -> str:
        """The role's human label (``roles.<role>.label``), else its name with spaces."""
        return self.labels.get(role) or role.replace("_", " ").capitalize()

    def owner_of(self, kpi: str) -> str:
        """Role owning the alerts of ``kpi`` (``alert_owners.kpis`` or the default)."""
        return self.owners.get(kpi, self.default_owner)


def default_roles_path() -> Path:
    """The packaged default ``roles.yaml``."""
    return Path(str(resources.files("kpilib") / "config" / "roles.yaml"))


def load_roles_config(
    config: RolesConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    known_ids: Iterable[str] | None = None,
) -> RolesConfig:
    """Read and validate roles (mapping, YAML path or None = packaged default)."""
    if isinstance(config, RolesConfig):
        return config
    if config is None:
        config = default_roles_path()
    path, raw = read_config(config)
    known = frozenset(known_ids) if known_ids is not None else registry.known_ids()
    return _validate(raw, path, known)


def _validate(raw: Any, path: str, known: frozenset[str]) -> RolesConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(path, "-", "top level must be a mapping")
    reject_unknown_keys(raw, TOP_KEYS, path, "")
    roles: dict[str, tuple[str, ...]] = {}
    descriptions: dict[str, str] = {}
    labels: dict[str, str] = {}
    for name, entry in (raw.get("roles") or {}).items():
        key = f"roles.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(path, key, "must be a mapping with 'kpis'")
        reject_unknown_keys(entry, ROLE_KEYS, path, key + ".")
        kpis = list(entry.get("kpis") or [])
        for kpi in kpis:
            check_kpi_id(kpi, known, path, f"{key}.kpis")
        if len(set(kpis)) != len(kpis):
            raise ConfigError(path, f"{key}.kpis", "a KPI is listed twice")
        roles[str(name)] = tuple(kpis)
        descriptions[str(name)] = str(entry.get("description", ""))
        if entry.get("label"):
            labels[str(name)] = str(entry["label"])
    if not roles:
        raise ConfigError(path, "roles", "no roles defined")
    owners_raw = raw.get("alert_owners") or {}
    reject_unknown_keys(owners_raw, OWNER_KEYS, path, "alert_owners.")
    default = owners_raw.get("default", next(iter(roles)))
    if default not in roles:
        raise ConfigError(path, "alert_owners.default", f"unknown role {default!r}; defined "
                          f"roles: {', '.join(roles)}")
    owners: dict[str, str] = {}
    for kpi, role in (owners_raw.get("kpis") or {}).items():
        key = f"alert_owners.kpis.{kpi}"
        check_kpi_id(kpi, known, path, key)
        if role not in roles:
            raise ConfigError(path, key, f"unknown role {role!r}; defined roles: "
                              f"{', '.join(roles)}")
        owners[str(kpi)] = str(role)
    return RolesConfig(path, roles, descriptions, owners, str(default), labels)


def kpis_for_role(role: str, config: RolesConfig | Mapping | str | Path | None = None
                  ) -> list[str]:
    """KPI ids of ``role`` (for ``kpilib.compute(..., role=role)``)."""
    return load_roles_config(config).kpis_for(role)


def owner_of(kpi: str, config: RolesConfig | Mapping | str | Path | None = None) -> str:
    """The role owning the alerts of ``kpi``."""
    return load_roles_config(config).owner_of(kpi)


