"""``load_dataset``: read a folder of contract tables (or mapped sources) into a Dataset.

It sits above :mod:`kpilib.dataset` and :mod:`kpilib.mapping` (which builds datasets through
the adapters' helpers), so neither of those imports the other's caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kpilib.contracts import check_path
from kpilib.dataset import Dataset, raise_if_problems
from kpilib.dimensions import check, read_declaration, read_events
from kpilib.errors import ParameterError
from kpilib.mapping import is_database_url, load_db, load_mapped


def load_dataset(path: str | Path, assume_tz: str | None = None,
                 dimensions: Mapping[str, str] | None = None,
                 mapping: str | Path | None = None) -> Dataset:
    """Read and validate folder ``path`` (``<table>.parquet``, ``.csv`` or ``.csv.gz`` files).

    Extra segment dimensions come from ``path/dataset.json`` (``{"dimensions": {"orders":
    ["market"]}}``) and ``dimensions`` ``{column: table}`` (see :mod:`kpilib.dimensions`).

    With ``mapping`` (a mapping file, :mod:`kpilib.mapping`), ``path`` is the folder of the
    source files the mapping names, or a PostgreSQL URL ``"postgresql://USER@HOST/DB"`` (a
    ``str``) whose tables or queries the mapping names (:mod:`kpilib.mapping.database`);
    ``assume_tz`` and ``dimensions`` then come from the mapping.

    ``assume_tz`` (an IANA name such as ``"Europe/Berlin"``) reads timestamps without a UTC
    offset as local times in that zone; without it they are rejected (``naive_timestamp``).

    Raises
    ------
    DataContractError
        With ``.problems`` listing every problem found.
    FileNotFoundError
        When ``path`` is not a folder.
    """
    if mapping is not None:
        return load_db(path, mapping) if is_database_url(path) else load_mapped(mapping, path)
    if str(path).lower().startswith(("postgresql:", "postgres:")):
        raise ParameterError("a database URL needs mapping=MAPPING.yaml (which tables or "
                             "queries feed which tables of the data model)")
    typed, problems = check_path(path, assume_tz)
    raise_if_problems(problems)
    return Dataset(typed, check({**read_declaration(path), **(dimensions or {})}, typed),
                   read_events(path))
