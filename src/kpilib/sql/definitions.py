"""The SQL definitions of fact tables: one ``facts/<name>.sql`` file, one ``SELECT``, each.

A definition reads dataset tables (``orders``, ``order_lines``...) and other definitions by
name; :func:`plan` orders what one definition needs, :func:`render` writes it for an engine
(``duckdb``, ``spark``...) through sqlglot, renaming the tables it reads. The files are
written in plain SQL that sqlglot parses without a dialect: no engine-specific functions,
timestamps as BIGINT nanoseconds since the epoch (UTC), an ``_row`` column that keeps the
row order of the source table.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources

import sqlglot
from sqlglot import exp


@functools.cache
def names() -> tuple[str, ...]:
    """Every defined relation, by file name."""
    folder = resources.files("kpilib.sql") / "facts"
    return tuple(sorted(p.name.removesuffix(".sql") for p in folder.iterdir()
                        if p.name.endswith(".sql")))


@functools.cache
def text(name: str) -> str:
    """The SQL text of definition ``name`` as written in its file."""
    return (resources.files("kpilib.sql") / "facts" / f"{name}.sql").read_text()


@functools.cache
def parsed(name: str) -> exp.Expression:
    """The parsed definition (sqlglot's dialect-neutral reading)."""
    return sqlglot.parse_one(text(name))


@functools.cache
def reads(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(dataset tables, other definitions) that definition ``name`` reads."""
    tree = parsed(name)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = {t.name for t in tree.find_all(exp.Table)} - ctes
    defined = set(names())
    return frozenset(tables - defined), frozenset(tables & defined)


def plan(name: str, given: frozenset[str] = frozenset()) -> list[str]:
    """``name`` after every definition it needs, each once (dependencies first). A definition
    in ``given`` is supplied by the caller: neither it nor what only it needs is planned."""
    out: list[str] = []

    def visit(n: str) -> None:
        if n in given:
            return
        for dep in sorted(reads(n)[1]):
            visit(dep)
        if n not in out:
            out.append(n)

    visit(name)
    return out


def base_tables(name: str, given: frozenset[str] = frozenset()) -> set[str]:
    """The dataset tables ``name`` and everything it needs (see :func:`plan`) read."""
    return {t for n in plan(name, given) for t in reads(n)[0]}


def render(name: str, dialect: str, rename: Mapping[str, str] | None = None) -> str:
    """Definition ``name`` as SQL of ``dialect``, with table names mapped by ``rename``."""
    rename = rename or {}
    ctes = {c.alias_or_name for c in parsed(name).find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name in rename and node.name not in ctes:
            return exp.table_(rename[node.name], alias=node.alias or node.name)
        return node

    tree = parsed(name).copy().transform(swap) if rename else parsed(name)
    return tree.sql(dialect=dialect, pretty=True)
