"""``open_store(DIR)``: read a KPI store; ``init_store`` creates one from a dataset.

A store keeps, per generation (see :mod:`kpilib.store.generations`):

- ``tables/<table>.parquet``: the loaded, validated tables;
- ``results/<set>.parquet``: the banded KPI results of each maintained set (the columns of
  ``compute``, then the band columns of ``apply_bands``, then ``run_id`` and ``fingerprint``:
  the batch run and the data fingerprint that produced the row);
- ``alerts/state.json``: the alert store's state (open alerts, outbox), ``alerts/runs`` links
  to the shared ``<store>/alert_runs`` folder of per-run alert records;
- ``early_warning.parquet``: the early-warning queue of open work;
- ``open/<set>.parquet``: the orders the set's order snapshot KPIs saw open in the last
  period (``order_id``; see :mod:`kpilib.store.open_records`), when known;
- ``manifest.json``: run id, fingerprint (and ``table_digests``, the per-table digests it is
  made of), data as of, the batches applied so far, timings.

The maintained sets, written once to ``store.json`` at creation, are
``[{"name", "kpis", "by", "freq"}]`` (KPI ids resolved when the store is created).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import registry
from kpilib.aggregate import result_columns
from kpilib.errors import ParameterError
from kpilib.store import generations as gen

CONFIG = "store.json"
TRACE_COLUMNS = ("run_id", "fingerprint")


@dataclass(frozen=True)
class ResultSet:
    """One maintained (kpis, by, freq) combination."""

    name: str
    kpis: tuple[str, ...]
    by: tuple[str, ...]
    freq: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kpis": list(self.kpis), "by": list(self.by),
                "freq": self.freq}


def make_sets(specs: list[dict[str, Any]]) -> list[ResultSet]:
    """Resolve KPI selections (ids, domains, "all") into named sets; names are ``s0``, ..."""
    out = []
    for i, spec in enumerate(specs):
        kpis = tuple(registry.resolve(spec.get("kpis", "all")))
        by = tuple(spec.get("by") or ())
        out.append(ResultSet(spec.get("name") or f"s{i}", kpis, by, spec.get("freq")))
    return out


class Store:
    """A KPI store folder opened for reading (see module docstring)."""

    def __init__(self, root: str | Path, generation: str | None = None) -> None:
        self.root = Path(root)
        self.pinned = generation
        cfg = self.root / CONFIG
        if not cfg.is_file():
            raise FileNotFoundError(f"not a kpilib store (no {CONFIG}): {self.root}; "
                                    "create one with `kpilib refresh --init`")
        self.config = gen.read_json(cfg)
        self.sets = [ResultSet(s["name"], tuple(s["kpis"]), tuple(s["by"]), s["freq"])
                     for s in self.config["sets"]]

    # generations ---------------------------------------------------------------------------
    @property
    def generation(self) -> str | None:
        """Name of the current generation (None before the first refresh), or of the pinned
        one (see ``pin``)."""
        return self.pinned or gen.current_name(self.root)

    @property
    def dir(self) -> Path:
        """Folder of the current (or pinned) generation."""
        name = self.generation
        if name is None:
            raise FileNotFoundError(f"store {self.root} has no data yet")
        folder = gen.generation_dir(self.root, name)
        if self.pinned and not folder.is_dir():
            raise FileNotFoundError(
                f"generation {name} of store {self.root} is gone (a store keeps its last "
                "generations only): it was replaced while it was being read; run again")
        return folder

    def pin(self) -> Store:
        """This store fixed at its current generation: every later read (tables, results,
        manifest) comes from that generation, whatever refreshes commit meanwhile."""
        name = self.generation
        if name is None:
            raise FileNotFoundError(f"store {self.root} has no data yet")
        return Store(self.root, name)

    @property
    def manifest(self) -> dict[str, Any]:
        """The current generation's manifest (run id, fingerprint, batches, ...)."""
        return gen.read_json(self.dir / "manifest.json")

    # reading -------------------------------------------------------------------------------
    def tables(self) -> dict[str, pd.DataFrame]:
        """The stored tables as typed DataFrames."""
        return {p.stem: pd.read_parquet(p) for p in sorted((self.dir / "tables").glob("*.parquet"))}

    def dataset(self):
        """The stored tables as a :class:`~kpilib.dataset.Dataset` (validated when stored),
        with the declarations (extra dimensions, ``delivery_events``) stored beside them."""
        from kpilib.dataset import Dataset
        from kpilib.dimensions import read_declaration, read_events

        folder = self.dir / "tables"
        return Dataset(self.tables(), read_declaration(folder), read_events(folder))

    def find_set(self, kpis: str | list[str], by, freq) -> tuple[ResultSet, list[str]]:
        """The maintained set holding ``kpis`` for (by, freq), and the resolved KPI ids."""
        ids = registry.resolve(kpis)
        by = tuple(by or ())
        for s in self.sets:
            if s.by == by and s.freq == freq and set(ids) <= set(s.kpis):
                return s, ids
        have = "; ".join(f"by={list(s.by)} freq={s.freq} ({len(s.kpis)} KPIs)" for s in self.sets)
        raise ParameterError(f"the store does not maintain by={list(by)} freq={freq} for these "
                             f"KPIs; it maintains: {have}")

    def banded(self, set_name: str) -> pd.DataFrame:
        """The stored banded results of one set, with ``run_id`` and ``fingerprint``."""
        return pd.read_parquet(self.dir / "results" / f"{set_name}.parquet")

    def open_orders(self, set_name: str) -> pd.Series | None:
        """Ids of the orders the set's order snapshot KPIs saw open in the last period, None
        when this generation does not know them."""
        path = self.dir / "open" / f"{set_name}.parquet"
        return pd.read_parquet(path)["order_id"] if path.is_file() else None

    def results(self, kpis: str | list[str] = "all", by=None, freq: str | None = None,
                *, banded: bool = False) -> pd.DataFrame:
        """Stored results in exactly the shape of ``kpilib.compute(ds, kpis, by, freq)``.

        ``banded=True`` keeps the band columns and the run id / fingerprint of each row.
        """
        rs, ids = self.find_set(kpis, by, freq)
        out = kpi_rows(self.banded(rs.name), ids)
        if not banded:
            out = out[result_columns(rs.by)]
        return out.reset_index(drop=True)

    def early_warning(self) -> pd.DataFrame:
        """The early-warning queue of the current generation (empty when none was built)."""
        path = self.dir / "early_warning.parquet"
        return pd.read_parquet(path) if path.exists() else pd.DataFrame()

    def alert_dir(self) -> Path:
        """The current generation's alert store folder (for ``kpilib.alerts.AlertStore``)."""
        return self.dir / "alerts"


def kpi_rows(frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """The rows of a stored result frame for KPIs ``ids``, KPI by KPI in that order."""
    parts = [frame[frame["kpi"] == k] for k in ids]
    return pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0]


def open_store(root: str | Path, generation: str | None = None) -> Store:
    """Open the KPI store in folder ``root`` (at ``generation`` when given: see ``Store.pin``)."""
    return Store(root, generation)


def create(root: str | Path, sets: list[dict[str, Any]], **options: Any) -> Store:
    """Write ``store.json`` into a new (or empty) folder ``root``; data comes with a refresh."""
    root = Path(root)
    if (root / CONFIG).exists():
        raise ParameterError(f"{root} is already a kpilib store")
    root.mkdir(parents=True, exist_ok=True)
    if any(p for p in root.iterdir() if not p.name.startswith(".")):
        raise ParameterError(f"{root} is not empty; a store needs a folder of its own")
    resolved = make_sets(sets)
    names = [s.name for s in resolved]
    if len(set(names)) != len(names):
        raise ParameterError(f"result set names repeat: {names}")
    (root / "alert_runs").mkdir()
    gen.write_json(root / CONFIG, {"version": 1, "sets": [s.as_dict() for s in resolved],
                                   **options})
    return Store(root)
