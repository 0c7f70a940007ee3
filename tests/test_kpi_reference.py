"""docs/kpis.md and docs/data-model.md are generated from the code and must be current.

``tools/gen_reference.py`` renders both from the registry, the KPI docstrings, the packaged
bands configuration and ``kpilib.schema``; these tests regenerate them in memory and compare.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import kpilib
from kpilib import registry, schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "tools" /
                                                  "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_reference"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_references_are_current(gen):
    stale = gen.stale()
    assert not stale, (f"{stale} differ from what the code generates; regenerate with "
                       f"`{gen.COMMAND}` and commit the result")


def test_a_changed_docstring_makes_the_reference_stale(gen, tmp_path, monkeypatch):
    for rel, render in gen.OUTPUTS.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(render(), encoding="utf-8")
    assert gen.stale(tmp_path) == []
    func = registry.load_all()["otif_rate"].func
    monkeypatch.setattr(func, "__doc__", func.__doc__ + "\n\nEdge cases: a new rule.\n")
    assert gen.stale(tmp_path) == ["docs/kpis.md"]
    assert gen.main(["--check"]) == 1


def test_reference_covers_every_kpi_with_code_formula_and_defaults(gen):
    text = gen.kpi_reference()
    kpis = kpilib.list_kpis()
    for row in kpis.itertuples():
        heading = f"### {row.code} · `{row.id}`: {row.name}"
        assert text.count(heading) == 1, heading
        section = text.split(heading, 1)[1].split("\n### ", 1)[0]
        formula = gen.doc_sections(registry.KPIS[row.id].func.__doc__)[0]
        assert formula and f"**Formula.** {formula}" in section, row.id
        assert "| default bands |" in section, row.id
        for name in row.params:
            default = registry.PARAMS[name].default
            assert f"| `{name}` | `{default!r}` |" in section, (row.id, name)
    assert f"{len(kpis)} KPIs." in text


def test_band_method_reads_the_packaged_configuration(gen):
    text = gen.kpi_reference()
    section = text.split("`tracking_signal`: ", 1)[1].split("\n### ", 1)[0]
    # bands.yaml: tracking_signal has no chart and fixed critical limits at -4 and +4
    assert "fixed: critical below -4; fixed: critical above 4" in section
    section = text.split("`order_cycle_time_hours`: ", 1)[1].split("\n### ", 1)[0]
    # family durations: XmR on p90, min_denominator 30 counted on n
    assert "XmR chart on `p90`" in section and "min denominator 30 (`n`)" in section


def test_doc_sections_splits_formula_labels_and_prose(gen):
    doc = """a / b over orders.

    Grain: order; the ``created_at``
    day.

    Edge cases: none.

    Free prose.
    """
    formula, labelled, other = gen.doc_sections(doc)
    assert formula == "a / b over orders."
    assert labelled == {"Grain": "order; the `created_at` day.", "Edge cases": "none."}
    assert other == ["Free prose."]
    numpydoc = """a / b.

    Edge cases
    ----------
    - first case;
    - second case.
    """
    assert gen.doc_sections(numpydoc)[1] == {"Edge cases": "first case; second case."}


def test_a_kpi_pointing_at_its_module_notes_gets_them(gen):
    # split_shipment_rate's docstring sends the reader to the module's "A14 notes"
    text = gen.kpi_reference()
    section = text.split("`split_shipment_rate`: ", 1)[1].split("\n### ", 1)[0]
    assert "module docstring" not in section
    assert "Several packages under one shipment id are one shipment" in section


def test_data_model_lists_every_column_with_its_meaning(gen):
    text = gen.data_model()
    for table in schema.TABLES.values():
        assert f"## {table.name} (" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text and f"| {col.doc} |" in text, col.name
