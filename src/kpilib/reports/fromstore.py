"""Report KPIs read from a KPI store instead of computed: ``StoreSource``.

A report whose ``data_path`` is a KPI store folder (it holds ``store.json``: ``kpilib refresh
--init`` made it) reads one generation of it (``Store.pin``): the one ``kpilib reports run``
pinned for the whole run (``KPILIB_STORE_PIN``), else the current one. Its dataset is the
generation's tables (``Store.dataset``), and its fingerprint must be the one the generation's
manifest and result rows carry, else the report stops with an error.

A KPI result is read from the store when a maintained set covers it: the set holds the KPI
for the same ``by`` and ``freq``, the report is neither filtered nor limited by ``start`` /
``end``, its ``as_of`` is the data's end and the store computes with the default ``params``
(a set added to ``store.json`` after the generation was written holds nothing yet).
The stored rows are then ``compute``'s own (the store's guarantee for each generation) and are
banded here exactly as computed ones are (``views.band``: the report's band configuration,
the running period ``partial``). The store's own band columns are not used: a refresh bands
with the store's configuration and judges the running period. Every other result is computed
as without a store; the KPIs computed so are recorded (``record("store", ...)``), and the run
log names them once (``run_log``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import registry
from kpilib.aggregate import result_columns
from kpilib.errors import ParameterError
from kpilib.store.core import CONFIG, ResultSet, Store, kpi_rows

PIN_ENV = "KPILIB_STORE_PIN"  # {"root": ..., "generation": ...} set by `kpilib reports run`
FREQ_WORDS = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", None: "whole-range"}


def is_store(path: str | Path | None) -> bool:
    """Whether ``path`` is a KPI store folder (it holds ``store.json``)."""
    return path is not None and (Path(path) / CONFIG).is_file()


def cut_label(by: Sequence[str], freq: str | None) -> str:
    """``by channel, weekly`` / ``total, whole-range``: a result cut in words."""
    return f"{'by ' + ', '.join(by) if by else 'total'}, {FREQ_WORDS.get(freq, freq)}"


class StoreSource:
    """One generation of a KPI store serving a report (see module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store.pin() if store.pinned is None else store
        manifest = self.store.manifest
        self.generation = self.store.generation
        self.fingerprint = str(manifest["fingerprint"])
        self.legacy = "table_digests" not in manifest  # written before per-table digests
        self.data_as_of = pd.Timestamp(manifest["data_as_of"])
        self.read: set[str] = set()
        self.computed: dict[str, list[str]] = {}  # cut label -> KPI ids
        self._frames: dict[str, pd.DataFrame] = {}

    @classmethod
    def open(cls, root: str | Path) -> StoreSource:
        """The store in ``root`` at the generation the run pinned (else its current one)."""
        pin = json.loads(os.environ.get(PIN_ENV) or "{}")
        same = pin.get("root") and Path(pin["root"]).resolve() == Path(root).resolve()
        return cls(Store(root, pin["generation"] if same else None))

    def pin_env(self) -> dict[str, str]:
        """The environment that makes every notebook of a run read this generation."""
        return {PIN_ENV: json.dumps({"root": str(self.store.root.resolve()),
                                     "generation": self.generation})}

    # -- data ---------------------------------------------------------------------------
    def dataset(self, ds: Any = None) -> Any:
        """The generation's dataset (or ``ds``, a copy of it), its fingerprint checked."""
        ds = self.store.dataset() if ds is None else ds
        found = ds.fingerprint()
        if found != self.fingerprint and self.legacy:
            raise ParameterError(
                f"store {self.store.root} generation {self.generation} was written by an "
                "earlier kpilib, whose data fingerprint is computed differently (its manifest "
                "has no table_digests): apply the next batch (`kpilib refresh --store "
                f"{self.store.root} --data BATCH`), which records the fingerprint anew, or "
                "create the store again with --init")
        if found != self.fingerprint:
            raise ParameterError(
                f"store {self.store.root} generation {self.generation}: its results were "
                f"computed on data with fingerprint {self.fingerprint}, but the dataset opened "
                f"has {found}; the store is inconsistent or the dataset is not its own")
        return ds

    def covers(self, rep: Any, ids: Sequence[str], by: tuple[str, ...], freq: str | None
               ) -> dict[str, ResultSet]:
        """``{kpi: set}`` for the ``ids`` a maintained set holds for this report's cut."""
        if (rep.filters or rep.start is not None or rep.end is not None
                or self.store.config.get("params")
                or pd.Timestamp(rep.as_of) != self.data_as_of):
            return {}
        sets = [rs for rs in self.store.sets if rs.by == tuple(by) and rs.freq == freq
                and (self.store.dir / "results" / f"{rs.name}.parquet").is_file()]
        out = {}
        for k in ids:
            for rs in sets:
                if k in rs.kpis:
                    out[k] = rs
                    break
        return out

    def stored(self, rs: ResultSet, ids: list[str]) -> pd.DataFrame:
        """``compute``'s rows of ``ids`` as the set ``rs`` stores them (trace columns checked)."""
        if rs.name not in self._frames:
            frame = self.store.banded(rs.name)
            stamps = set(frame["fingerprint"].astype(str)) if len(frame) else set()
            if stamps - {self.fingerprint}:
                raise ParameterError(
                    f"store {self.store.root} generation {self.generation}: set {rs.name} "
                    f"holds rows of data {sorted(stamps)}, not of {self.fingerprint}")
            self._frames[rs.name] = frame
        return kpi_rows(self._frames[rs.name], ids)[result_columns(rs.by)]

    def results(self, rep: Any, ids: Sequence[str], by: tuple[str, ...], freq: str | None,
                bands: bool) -> list[tuple[list[str], pd.DataFrame]]:
        """``(ids, frame)`` parts for the ``ids`` the store covers, banded as the report bands."""
        from kpilib.reports import views

        cover = self.covers(rep, [k for k in ids if k in registry.KPIS], by, freq)
        groups: dict[str, list[str]] = {}
        for k, rs in cover.items():
            groups.setdefault(rs.name, []).append(k)
        sets = {rs.name: rs for rs in cover.values()}
        out = []
        for name, part in groups.items():
            res = self.stored(sets[name], part)
            out.append((part, views.band(res, rep.ds, bands=rep.bands if bands else False,
                                         as_of=rep.as_of, freq=freq)))
        before = len(self.read)
        self.read.update(f"{k} ({cut_label(by, freq)})" for k in cover)
        if len(self.read) > before:
            self.record()
        return out

    def note_computed(self, ids: Sequence[str], by: tuple[str, ...], freq: str | None) -> None:
        """Remember (and record for the run log) KPIs computed because the store lacks them."""
        known = self.computed.setdefault(cut_label(by, freq), [])
        new = [k for k in ids if k not in known]
        if new:
            known.extend(new)
            self.record()

    def record(self) -> None:
        """``record("store", ...)``: generation, results read, KPIs computed (the run log's)."""
        from kpilib.reports.nbtools import record

        record("store", {"generation": self.generation, "read": len(self.read),
                         "computed": {c: list(v) for c, v in self.computed.items()}})


def run_log(source: StoreSource, records: Sequence[dict[str, Any]]) -> str:
    """One line for the run log: the generation used and what the notebooks computed."""
    computed: dict[str, set[str]] = {}
    read = 0
    for rec in records:
        got = rec.get("store") or {}
        read += int(got.get("read", 0))
        for cut, ids in (got.get("computed") or {}).items():
            computed.setdefault(cut, set()).update(ids)
    head = (f"store {source.store.root} generation {source.generation} (data as of "
            f"{source.data_as_of.isoformat()}): {read} KPI result(s) read from the store")
    if not computed:
        return head + "; nothing computed"
    what = "; ".join(f"{cut}: {', '.join(sorted(ids))}" for cut, ids in sorted(computed.items()))
    return head + f"; computed (not held by the store for the report's cut): {what}"


class StoreLoader:
    """A ``load`` for ``validate_params`` that opens the store and keeps its ``source``."""

    def __init__(self) -> None:
        self.source: StoreSource | None = None

    def __call__(self, path: str) -> Any:
        self.source = StoreSource.open(path)
        return self.source.dataset()
