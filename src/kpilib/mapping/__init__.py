"""Declarative mappings: a YAML file maps source files or queries to the contract's tables.

``import_mapped(MAPPING, src=None)`` returns an :class:`~kpilib.adapters.common.ImportResult`
(tables, set-aside rows, notes); ``kpilib import mapped MAPPING --out DIR`` writes it;
``load_dataset(folder, mapping=MAPPING)`` loads the mapped sources directly. The file format is
in :mod:`kpilib.mapping.build` (keys) and :mod:`kpilib.mapping.expr` (column expressions);
``kpilib template --mapping FILE`` writes a commented starting file. A PostgreSQL database
is read the same way (:mod:`kpilib.mapping.database`): ``import_db(URL, MAPPING)``,
``kpilib import db URL --mapping MAPPING --out DIR``, ``load_dataset(URL, mapping=MAPPING)``.
"""

from kpilib.mapping.build import build, file_reader, import_mapped, load, load_mapped
from kpilib.mapping.database import import_db, is_database_url, load_db

__all__ = ["build", "file_reader", "import_db", "import_mapped", "is_database_url", "load",
           "load_db", "load_mapped"]
