"""The repository stands alone: nothing a user reads points outside it.

A clone from a public host has no folder beside it, so README, docs, code, notebooks and
config must not send the reader to `../shared`, to an outside specification ("kpi-spec") or
to its section numbers ("§11.16"). The KPI definitions, conventions, bands and data model
live under docs/ in the project's own words.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCOPE = ("README.md", "docs", "src", "notebooks", "config")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".ipynb", ".txt", ".toml", ".cfg", ".html", ".j2",
            ".css", ".js"}
OUTSIDE = re.compile(r"\.\./shared|/work/shared|kpi-spec|§\s?\d")


def outside_references() -> list[str]:
    hits = []
    for top in SCOPE:
        base = ROOT / top
        files = [base] if base.is_file() else sorted(base.rglob("*")) if base.exists() else []
        for path in files:
            if not path.is_file() or path.suffix not in SUFFIXES or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8", errors="replace")
            for no, line in enumerate(text.splitlines(), 1):
                if OUTSIDE.search(line):
                    hits.append(f"{rel}:{no}: {line.strip()[:120]}")
    return hits


def test_pattern_catches_each_kind_of_outside_reference():
    for line in ("see ../shared/spec/api.md", "kpi-spec.md", "(§11.16)", "§ 7"):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("see docs/conventions.md (A1-A6)")


def test_nothing_points_outside_the_repository():
    hits = outside_references()
    assert not hits, ("README, docs, src, notebooks and config must not point outside the "
                      "repository (write the rule itself or link to docs/):\n"
                      + "\n".join(hits))
