"""A mapping file (YAML) + its sources -> contract tables, as an ``ImportResult``.

Rule: read each source and prepare it (:mod:`kpilib.mapping.source`: ``numbers``,
``row_number``, ``set_aside`` rows counted in the report); for each table of ``tables:``, take
the rows of its source (``from:``), keep those matching ``where:`` (a pandas condition on source
columns), evaluate every column spec (:mod:`kpilib.mapping.expr`; a ``sum``/``min``/``max``
``by`` a column runs over all the source's prepared rows, not only the ``where`` ones), keep the
first row per ``unique:`` contract column(s), order the rows by ``sort:`` contract column(s),
then run the optional Python hook and the contract; an order whose rows the contract rejects is
set aside whole and counted by rule (as the built-in importers do). Naive timestamps are read
in ``timezone:`` (the source's time zone). Mapping-file keys:

``name``, ``timezone``, ``delivery_events`` (``scan``, or ``none`` when the source's only
post-order event is a ship scan), ``sources`` (``{name: {file: PATH, sep:, encoding:}}``, where
PATH may be a pattern such as ``online_retail_*.csv``: every matching file, in name order, read
as one source; or ``{query: SQL}`` / ``{table: NAME}`` for a database; or ``{join: [LEFT,
RIGHT], key: COLUMN}`` of two sources above it), ``tables`` (``{contract
table: {from:, where:, unique:, sort:, columns: {contract or extra column: spec}}}``),
``dimensions`` (``{orders: [col]}``, see :mod:`kpilib.dimensions`), ``notes`` (``{what: why}``
for import_report.json), ``hook`` (``file.py`` beside the mapping with ``transform(tables,
sources) -> tables``).
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kpilib import registry, schema
from kpilib.adapters.common import ImportResult, reject_by_contract
from kpilib.errors import ParameterError
from kpilib.mapping.expr import evaluate
from kpilib.mapping.source import JOIN_KEYS, condition, join, prepare

TOP_KEYS = ("name", "timezone", "sources", "tables", "dimensions", "notes", "hook",
            "description", "delivery_events")
DELIVERY_COLUMNS = ("delivered_at", "first_delivery_attempt_at")
TABLE_KEYS = ("from", "where", "unique", "sort", "columns")
Reader = Callable[[str, Mapping[str, Any]], pd.DataFrame]


def load(path: str | Path) -> dict[str, Any]:
    """The parsed mapping file, its structure checked (clear ``ParameterError`` otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"mapping file {str(path)!r} not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ParameterError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(doc, dict):
        raise ParameterError(f"{path}: a mapping file is a YAML mapping with keys {TOP_KEYS}")
    problems = [f"unknown key {k!r}" for k in doc if k not in TOP_KEYS]
    for key in ("sources", "tables"):
        if not isinstance(doc.get(key), dict) or not doc[key]:
            problems.append(f"{key!r} must be a non-empty mapping")
    for name, t in (doc.get("tables") or {}).items():
        if name not in schema.TABLES:
            problems.append(f"tables.{name}: not a table of the data model")
            continue
        if not isinstance(t, dict) or not isinstance(t.get("columns"), dict):
            problems.append(f"tables.{name}: needs 'from' and 'columns'")
            continue
        problems += [f"tables.{name}: unknown key {k!r}" for k in t if k not in TABLE_KEYS]
        if t.get("from") not in (doc.get("sources") or {}):
            problems.append(f"tables.{name}.from: {t.get('from')!r} is not one of the sources")
    events = doc.get("delivery_events", "scan")
    if events not in ("scan", "none"):
        problems.append(f"delivery_events: {events!r} is not 'scan' or 'none'")
    mapped = set((doc.get("tables") or {}).get("shipments", {}).get("columns", {}) or {})
    if events == "none" and mapped & set(DELIVERY_COLUMNS):
        both = sorted(mapped & set(DELIVERY_COLUMNS))
        problems.append(f"delivery_events: none, yet tables.shipments maps {both}")
    if problems:
        raise ParameterError(f"{path}: invalid mapping:\n  - " + "\n  - ".join(problems))
    doc["_path"] = path
    return doc


def file_reader(src: str | Path) -> Reader:
    """Reader of ``file:`` sources below folder ``src`` (CSV as text, or parquet)."""
    root = Path(src)

    def read(name: str, spec: Mapping[str, Any]) -> pd.DataFrame:
        if "file" not in spec:
            raise ParameterError(f"sources.{name}: a file import needs 'file:' (the file "
                                 "name below the source folder)")
        pattern = str(spec["file"])
        if not any(c in pattern for c in "*?["):
            path = root / pattern
            if not path.is_file():
                raise ParameterError(f"sources.{name}: file {str(path)!r} not found")
            return _read_file(path, spec)
        paths = sorted(p for p in root.glob(pattern) if p.is_file())
        if not paths:
            raise ParameterError(f"sources.{name}: no file in {str(root)!r} matches {pattern!r}")
        frames = [_read_file(p, spec) for p in paths]
        for p, f in zip(paths, frames, strict=True):
            if list(f.columns) != list(frames[0].columns):
                raise ParameterError(f"sources.{name}: {p.name} has columns {list(f.columns)}, "
                                     f"{paths[0].name} has {list(frames[0].columns)}")
        return pd.concat(frames, ignore_index=True)

    return read


def _read_file(path: Path, spec: Mapping[str, Any]) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    numbers = spec.get("numbers") or []
    numbers = {str(c): "float64" for c in ([numbers] if isinstance(numbers, str) else numbers)}
    try:  # text, except the `numbers:` columns, parsed here (a bad value: parsed as text)
        return pd.read_csv(path, dtype=defaultdict(lambda: str, numbers), keep_default_na=False,
                           na_values=[""], sep=spec.get("sep", ","),
                           encoding=spec.get("encoding", "utf-8-sig"))
    except ValueError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           sep=spec.get("sep", ","), encoding=spec.get("encoding", "utf-8-sig"))


def build(doc: Mapping[str, Any], reader: Reader, reject: bool = True) -> ImportResult:
    """Read the sources with ``reader`` and map them (module doc); ``reject=False`` keeps
    every row (the caller's contract check then reports them)."""
    tz = str(doc.get("timezone") or "UTC")
    result = ImportResult(str(doc.get("name") or doc["_path"].stem), {})
    sources: dict[str, pd.DataFrame] = {}
    for n, s in doc["sources"].items():
        s = s or {}
        raw = join(n, s, sources, result.set_aside) if "join" in s else reader(n, s)
        sources[n] = prepare(n, {k: v for k, v in s.items() if k not in JOIN_KEYS}, raw,
                             result.set_aside)
    tables: dict[str, pd.DataFrame] = {}
    for name, t in doc["tables"].items():
        whole = sources[t["from"]]
        frame = whole
        if t.get("where"):
            frame = whole.loc[condition(whole, t["where"], f"tables.{name}.where")]
        out = pd.DataFrame({col: evaluate(spec, frame, tz, f"tables.{name}.columns.{col}",
                                          whole).to_numpy()
                            for col, spec in t["columns"].items()})
        if t.get("unique"):
            out = out.drop_duplicates(_keys(t["unique"]), keep="first").reset_index(drop=True)
        if t.get("sort"):
            out = out.sort_values(_keys(t["sort"]), kind="stable").reset_index(drop=True)
        tables[name] = out
    if doc.get("hook"):
        tables = _hook(doc)(tables, sources)
    from kpilib import dimensions

    result.tables = tables
    result.assume_tz = tz
    result.dimensions = dimensions.from_tables(doc.get("dimensions") or {}, "dimensions")
    result.delivery_events = str(doc.get("delivery_events") or "scan")
    if result.delivery_events == "none":
        result.notes["shipments.delivered_at"] = (
            "delivery_events: none (the source has no delivery scan): the KPIs that need a "
            "delivery report unavailable: "
            + ", ".join(registry.requiring("capture:delivery_events")))
    for table, column in schema.ABSENT_DEFAULTS:
        if table in tables and column not in tables[table].columns:
            result.notes[f"{table}.{column}"] = registry.absent_note(table, column)
    result.notes.update({str(k): str(v) for k, v in (doc.get("notes") or {}).items()})
    for table in schema.TABLE_NAMES:
        if table not in tables and not any(table in k for k in result.notes):
            result.notes[table] = "not in the mapping"
    return reject_by_contract(result, assume_tz=tz) if reject else result


def _keys(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _hook(doc: Mapping[str, Any]) -> Callable:
    path = doc["_path"].parent / str(doc["hook"])
    spec = importlib.util.spec_from_file_location(f"kpilib_hook_{path.stem}", path)
    if spec is None or not path.is_file():
        raise ParameterError(f"hook {str(path)!r} not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "transform"):
        raise ParameterError(f"hook {str(path)!r} defines no transform(tables, sources)")
    return module.transform


def import_mapped(mapping: str | Path, src: str | Path | None = None,
                  reader: Reader | None = None) -> ImportResult:
    """Map the sources of ``mapping`` (files below ``src``, default the mapping's folder)."""
    doc = load(mapping)
    return build(doc, reader or file_reader(src if src is not None else doc["_path"].parent))


def load_mapped(mapping: str | Path, src: str | Path | None = None,
                reader: Reader | None = None):
    """The mapped sources as a validated Dataset; raises ``DataContractError`` listing every
    problem instead of setting rows aside (use :func:`import_mapped` for that)."""
    doc = load(mapping)
    reader = reader or file_reader(src if src is not None else doc["_path"].parent)
    return build(doc, reader, reject=False).dataset()
