"""Next steps per KPI family, from the editable ``config/playbook.yaml``.

``action_for(kpi)`` returns the family's action (or the file's ``default_action``);
``load_playbook(path)`` reads another file in the same format.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from kpilib.configfile import read_config
from kpilib.errors import ConfigError


def default_playbook_path() -> Path:
    return Path(str(resources.files("kpilib") / "config" / "playbook.yaml"))


@functools.lru_cache(maxsize=8)
def load_playbook(path: str | None = None) -> dict[str, str]:
    """``{kpi: action}`` plus ``"*"`` for the default action."""
    where, raw = read_config(Path(path) if path else default_playbook_path())
    families = raw.get("families") if isinstance(raw, dict) else None
    if not isinstance(families, dict):
        raise ConfigError(where, "families", "must map family names to {kpis, action}")
    out = {"*": " ".join(str(raw.get("default_action", "")).split())}
    for name, fam in families.items():
        if not isinstance(fam, dict) or "action" not in fam:
            raise ConfigError(where, f"families.{name}", "needs kpis and action")
        for kpi in fam.get("kpis") or ():
            out[str(kpi)] = " ".join(str(fam["action"]).split())
    return out


def action_for(kpi: str, path: str | None = None) -> str:
    """The playbook's next step for ``kpi``."""
    book = load_playbook(path)
    return book.get(kpi, book["*"])
