"""The registry (``kpilib.registry.KPIS``) is the only list of KPIs: every other place that names
KPI ids (roles.yaml, bands.yaml, the report notebooks) must name registered ones.

Notebook rule: in each code cell, a list or tuple of strings that holds at least one registered
KPI id is a KPI list, so every string in it must be a registered id (a typo next to valid ids
is caught; the parameter cell's ``kpis = None`` holds none).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from kpilib import registry
from kpilib.bands.config import default_config_path
from kpilib.roles import default_roles_path, load_roles_config

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
IDS = frozenset(registry.load_all())


def test_roles_yaml_names_registered_kpis():
    raw = yaml.safe_load(default_roles_path().read_text())
    named = [k for role in raw["roles"].values() for k in role["kpis"]]
    named += list(raw.get("alert_owners", {}).get("kpis", {}))
    assert named, "roles.yaml names no KPI"
    assert sorted(set(named) - IDS) == []
    assert load_roles_config().kpis_for("executive")  # the headline set is not empty


def test_bands_yaml_names_registered_kpis():
    raw = yaml.safe_load(default_config_path().read_text())
    named = [k for fam in raw["families"].values() for k in fam.get("kpis", [])]
    named += list(raw.get("kpis") or {})
    assert named, "bands.yaml names no KPI"
    assert sorted(set(named) - IDS) == []


def _kpi_lists(source: str) -> list[list[str]]:
    """Lists/tuples of string literals in ``source`` that contain a registered KPI id."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    out = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.List | ast.Tuple):
            words = [e.value for e in node.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if words and len(words) == len(node.elts) and IDS & set(words):
                out.append(words)
    return out


def test_kpi_lists_rule_catches_a_typo():
    assert _kpi_lists('x = ["otif_rate", "otif_rat"]\ny = ["a", "b"]') == [
        ["otif_rate", "otif_rat"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_kpi_lists_are_registered(path):
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for words in _kpi_lists("".join(cell["source"])):
            assert sorted(set(words) - IDS) == [], (path.name, words)
