"""Write the generated references under docs/ from the code, so they cannot drift from it.

- ``docs/kpis.md``: one section per KPI of ``kpilib.list_kpis()`` from the registry metadata
  (code, name, domain, unit, direction, grain, tables, fact table, segments, parameters with
  their defaults), the KPI's docstring (formula first, then its labelled paragraphs such as
  ``Grain:``, ``Anchor:``, ``Population:``, ``Edge cases:``) and its default band method
  resolved from the packaged ``bands.yaml``;
- ``docs/data-model.md``: every table and column of ``kpilib.schema`` with its meaning.

Usage, from the repository root::

    make docs                                     # rewrite both files
    .venv/bin/python tools/gen_reference.py --check   # exit 1 naming stale files; write nothing

``tests/test_kpi_reference.py`` fails when a committed file differs from what this writes.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

from kpilib import registry, templates
from kpilib.bands.config import KpiBandSettings, load_bands_config

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "make docs"

DOMAIN_TITLES = {
    "order": "A. Order workflow and customer service",
    "fulfillment": "B. Fulfillment operations",
    "inventory": "C. Inventory health",
    "forecast": "D. Forecast quality",
    "leading": "E. Leading indicators",
}
DIRECTION_TEXT = {
    "higher": "higher is better", "lower": "lower is better",
    "target": "on target (both sides adverse)", "none": "a measure, not judged",
}
# Labels a docstring paragraph may open with, in the order they are shown.
LABELS = ("Grain", "Anchor", "Population", "Exclusions", "Edge cases")
# "see the A14 notes in the module docstring": replaced by those notes (module_notes).
POINTER_RE = re.compile(r"see the \w+ notes in the module docstring\.?")
LABEL_RE = re.compile(r"^([A-Z][A-Za-z0-9 /,'-]{1,40}):\s+(.*)$", re.S)


def _md(text: str) -> str:
    """Docstring reST to Markdown: ``code`` becomes `code`; lines are joined."""
    return " ".join(text.replace("``", "`").split())


def _paragraphs(doc: str | None) -> list[str]:
    """Paragraphs of a docstring; a numpydoc heading (``Notes`` over ``-----``) becomes a
    ``Notes:`` label on the paragraph below it, and its bullet lines are kept apart."""
    out: list[str] = []
    for para in inspect.cleandoc(doc or "").split("\n\n"):
        lines = para.strip().split("\n")
        if len(lines) >= 2 and re.fullmatch(r"-{3,}", lines[1].strip()):
            body = "\n".join(lines[2:]).strip()
            para = f"{lines[0].strip()}: {body}" if body else f"{lines[0].strip()}:"
        if para.strip():
            out.append(para.strip())
    merged: list[str] = []
    for para in out:  # a heading alone ("Edge cases:") takes the next paragraph as its body
        if merged and merged[-1].endswith(":") and LABEL_RE.match(merged[-1] + " x"):
            merged[-1] = f"{merged[-1]} {para}"
        else:
            merged.append(para)
    return merged


def _bullets(text: str) -> str:
    """Join a paragraph's lines; ``- item`` lines become `; `-separated items."""
    items = re.split(r"(?:^|\n)\s*-\s+", text)
    items = [_md(i) for i in items if i.strip()]
    return "; ".join(i.rstrip(".;") for i in items) + "." if len(items) > 1 else _md(text)


def doc_sections(doc: str | None) -> tuple[str, dict[str, str], list[str]]:
    """Split a KPI docstring into (formula, labelled paragraphs, other paragraphs).

    The first paragraph is the formula. A later paragraph opening with ``Label:`` (or under
    a numpydoc heading) is filed under that label; a second paragraph with the same label is
    appended to it.
    """
    paragraphs = _paragraphs(doc)
    if not paragraphs:
        return "", {}, []
    labelled: dict[str, str] = {}
    other: list[str] = []
    for para in paragraphs[1:]:
        m = LABEL_RE.match(para)
        if m:
            label = m.group(1).strip()
            labelled[label] = " ".join(filter(None, (labelled.get(label), _bullets(m.group(2)))))
        else:
            other.append(_bullets(para))
    return _md(paragraphs[0]), labelled, other


def module_notes(d: registry.KpiDef) -> list[str]:
    """The ``<code> notes`` section of the KPI module's docstring (with the headings that
    follow it up to the next notes section), when the KPI's docstring points there."""
    if "module docstring" not in (d.func.__doc__ or ""):
        return []
    module = sys.modules[d.func.__module__]
    out: list[str] = []
    inside = False
    for para in _paragraphs(module.__doc__):
        m = LABEL_RE.match(para) or re.match(r"^(.{1,40}):$", para)
        label = m.group(1).strip() if m else ""
        if label.endswith(" notes"):
            inside = label == f"{d.code} notes"
            para = para[len(label) + 1:].strip()
            if not para:
                continue
        if inside:
            out.append(para)
    return out


def _num(x: float) -> str:
    return f"{x:g}"


def band_method(s: KpiBandSettings, family: str | None) -> str:
    """The resolved default band settings of one KPI, in one line."""
    parts: list[str] = []
    if s.fixed is None and (s.chart == "none" or s.direction == "none"):
        return "not banded (a measure without an adverse side)"
    if s.chart == "xmr":
        parts.append(f"XmR chart on `{s.metric}`")
    elif s.chart == "pchart":
        parts.append("p-chart on the period rate")
    if s.fixed is not None:
        sides = [(s.fixed.low_stressed, s.fixed.low_critical, "below"),
                 (s.fixed.high_stressed, s.fixed.high_critical, "above")]
        for stressed, critical, word in sides:
            if stressed is not None:
                parts.append(f"fixed: stressed {word} {_num(stressed)}")
            if critical is not None:
                parts.append(f"fixed: critical {word} {_num(critical)}")
    parts.append("both sides adverse" if s.direction == "target"
                 else f"direction `{s.direction}`")
    if s.min_denominator > 0:
        parts.append(f"min denominator {_num(s.min_denominator)} (`{s.denominator_column}`)")
    if s.hysteresis > 1:
        parts.append(f"hysteresis {s.hysteresis}")
    lo, hi = s.bounds
    if lo > float("-inf") or hi < float("inf"):
        parts.append(f"limits clamped to [{_num(lo)}, {_num(hi) if hi < float('inf') else '∞'}]")
    if family:
        parts.append(f"family `{family}`")
    return "; ".join(parts)


def _code_key(d: registry.KpiDef) -> tuple:
    m = re.fullmatch(r"([A-Z])(\d+)", d.code or "")
    return (m.group(1), int(m.group(2))) if m else ("~", 0)


def _list(items) -> str:
    return ", ".join(f"`{i}`" for i in items) or "none"


def kpi_section(d: registry.KpiDef, bands) -> list[str]:
    formula, labelled, other = doc_sections(d.func.__doc__)
    s = bands.settings_for(d.id, d.unit)
    fact = f"`{d.fact}` (`kpilib.facts(ds, \"{d.fact}\")`)" if d.fact else "none"
    rows = [
        ("code", d.code), ("domain", d.domain), ("unit", d.unit),
        ("direction", DIRECTION_TEXT[d.direction]), ("grain", d.grain),
        ("kind", d.kind + (", snapshot" if d.snapshot else "")),
        ("required tables", _list(d.required_tables)),
        ("also needs recorded", _list(d.requires) if d.requires else "only its tables"),
        ("fact table", fact), ("segments (`by=`)", _list(d.dims)),
        ("default bands", band_method(s, bands.family_of(d.id))),
    ]
    out = [f"### {d.code} · `{d.id}`: {d.name}", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    out += ["", f"**Formula.** {formula}", ""]
    for para in module_notes(d):  # shared with the module's other KPIs of the same code
        _, lab, rest = doc_sections("formula\n\n" + para)
        other += rest
        for label, text in lab.items():
            labelled[label] = " ".join(filter(None, (labelled.get(label), text)))
    out += [p for para in other for p in (para, "")]  # definition details, then the labels
    for label in (*LABELS, *sorted(set(labelled) - set(LABELS))):
        text = POINTER_RE.sub("", labelled.get(label, "")).strip()
        if text:
            out += [f"**{label}.** {text}", ""]
    if d.params:
        out += ["Parameters (`params={...}`):", "", "| name | default | meaning |",
                "|---|---|---|"]
        for name in d.params:
            p = registry.PARAMS[name]
            out.append(f"| `{name}` | `{p.default!r}` | {_md(p.doc)} |")
        out.append("")
    return out


def kpi_reference() -> str:
    """The whole of docs/kpis.md."""
    kpis = sorted(registry.load_all().values(), key=_code_key)
    bands = load_bands_config()
    out = [
        "# KPI reference", "",
        f"Generated from the code by `{COMMAND}`; do not edit by hand. Every KPI of",
        "`kpilib.list_kpis()`: metadata from the registry, definition from its docstring, "
        "default bands",
        "from the packaged `bands.yaml`. Conventions shared by all KPIs (time zones, anchors,",
        "roll-ups, exclusions, commit units, open records, maturity, attribution) are in",
        "[conventions.md](conventions.md); bands in [banding.md](banding.md); the tables and",
        "columns in [data-model.md](data-model.md).", "",
        f"{len(kpis)} KPIs. Codes are shared by a KPI and its companions (e.g. a rate and its",
        "count, or a duration and the age of the still-open records).", "",
        "| code | id | name | unit | direction |", "|---|---|---|---|---|",
    ]
    out += [f"| {d.code} | [`{d.id}`](#{_anchor(d)}) | {d.name} | {d.unit} | {d.direction} |"
            for d in kpis]
    out.append("")
    for domain, title in DOMAIN_TITLES.items():
        members = [d for d in kpis if d.domain == domain]
        if members:
            out += [f"## {title}", ""]
            for d in members:
                out += kpi_section(d, bands)
    return "\n".join(out).rstrip("\n") + "\n"


def _anchor(d: registry.KpiDef) -> str:
    """GitHub's anchor of the KPI's heading."""
    title = f"{d.code} · {d.id}: {d.name}".lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def data_model() -> str:
    """The whole of docs/data-model.md."""
    head = [
        "# Data model", "",
        f"Generated from `kpilib.schema` by `{COMMAND}`; do not edit by hand.", "",
        "A dataset is a folder with one file per table, `<table>.parquet` or `<table>.csv`.",
        "Only `orders` and `order_lines` are required. Every other table is optional: leave",
        "it out when you do not record it, and the KPIs that need it report `unavailable`.",
        "A table that is present but empty says \"we record this and there was none\" (an",
        "empty `shipments` makes every due order late), so never ship an empty placeholder.",
        "",
        "How the tables hang together: an **order** has **order lines**; each line names a",
        "**product** (SKU) and the **node** (warehouse, store, 3PL, dropship supplier) that",
        "fulfils it. **Order events** are the order's history (release, allocation attempts,",
        "holds, manual touches, quality events). A **shipment** leaves one node for one order",
        "and carries quantities of its lines (**shipment lines**). **Pick tasks** pick order",
        "lines in **waves**. **Returns** are lines of return authorisations against order",
        "lines. On the stock side, **receipts** bring units in, the **inventory movements**",
        "ledger records every signed change of on-hand stock, **inventory snapshots** hold",
        "the end-of-day position per SKU and node, and **inventory counts** compare counted",
        "with expected units. **Forecasts**, **labor hours**, **node capacity**,",
        "**fulfillment costs**, **exceptions** and **replenishment recommendations** feed",
        "their own KPIs.", "",
        "Every timestamp carries its time zone (naive ones are rejected unless the loader is",
        "told which zone they are in) and is held in UTC after loading. Quantities are in the",
        "SKU's base unit (eaches). Money is in the row's `currency`.", "",
    ]
    body = templates.columns_markdown().split("\n")
    first = next(i for i, line in enumerate(body) if line.startswith("## "))
    intro = [line.replace("Generated from `kpilib.schema`. ", "") for line in body[1:first]
             if line.strip()]
    return "\n".join([*head, *intro, "", *body[first:]]).rstrip("\n") + "\n"


OUTPUTS: dict[str, Callable[[], str]] = {
    "docs/kpis.md": kpi_reference,
    "docs/data-model.md": data_model,
}


def stale(root: Path = ROOT) -> list[str]:
    """Outputs whose committed file differs from what the code generates now."""
    return [rel for rel, render in OUTPUTS.items()
            if not (root / rel).exists() or (root / rel).read_text(encoding="utf-8") != render()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a generated file is stale; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        for rel in bad:
            print(f"{rel} is stale; run: {COMMAND}", file=sys.stderr)
        return 1 if bad else 0
    for rel, render in OUTPUTS.items():
        (ROOT / rel).write_text(render(), encoding="utf-8")
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
