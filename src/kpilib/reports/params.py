"""Report-run parameters, checked before any kernel starts.

Rule: a run starts only when every parameter is valid: the data folder exists and loads through the
data contract (or is a KPI store with data: its current generation, ``reports.fromstore``),
``as_of`` lies inside the data (``[first order created_at, data_as_of]``; later only with
``allow_future_as_of``), ``start < end``, the segment and fan-out dimensions are known, the
role is known (from ``config/roles.yaml`` in the working directory when present, else the packaged
roles), every KPI id (in ``kpis`` and in ``thresholds``) is registered, the band configuration
exists, the targets are a preset or a valid targets file, the notebooks exist, the output folder can
be written and every filter value occurs in the data (:mod:`kpilib.reports.checks`). Every problem
found is reported at once in one ``ParameterError`` message.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import cuts, registry
from kpilib.errors import ConfigError, DataContractError, ParameterError
from kpilib.reports.checks import filter_problems, out_dir_problems, targets_problems
from kpilib.roles import load_roles_config

# Segment dimensions of ``compute(by=...)`` a fan-out can use (kpilib.cuts says where each
# dimension's values live).
SEGMENT_DIMS: tuple[str, ...] = (*cuts.SOURCES, *cuts.FIXED)
FREQS = ("D", "W", "M", "Q")
MAX_FANOUT = 50
REPORT_NOTEBOOKS = (
    "00_executive_summary",
    "01_order_workflow",
    "02_inventory_health",
    "03_fulfillment_cost",
)

@dataclass
class ReportParams:
    """Everything one report run needs; ``notebook_parameters`` is what papermill injects."""

    data_path: str
    out_dir: str
    as_of: str | None = None
    start: str | None = None
    end: str | None = None
    freq: str = "W"
    segment_by: str | None = "channel"
    per: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    role: str | None = None
    thresholds: str | None = None
    kpis: list[str] | None = None
    targets: str | None = "benchmarks"  # a preset, "none" or a targets YAML path
    notebooks: list[str] | None = None
    notebook_dir: str | None = None
    jobs: int | None = None
    keep: int = 10
    allow_future_as_of: bool = False  # as_of after the data's end (the KPIs' notes say so)
    store: bool = False  # data_path must be a KPI store folder (`--store`; reports.fromstore)

    def notebook_parameters(self, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """The parameters cell values (declared in every report notebook)."""
        return {
            "data_path": self.data_path,
            "as_of": self.as_of,
            "start": self.start,
            "end": self.end,
            "freq": self.freq,
            "segment_by": self.segment_by,
            "filters": filters if filters is not None else dict(self.filters),
            "role": self.role,
            "thresholds": self.thresholds,
            "kpis": list(self.kpis) if self.kpis else None,
            "targets": self.targets,
            "allow_future_as_of": self.allow_future_as_of,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_notebook_dir() -> Path:
    """``notebooks/`` of the project (the working directory's, else the source checkout's)."""
    here = Path.cwd() / "notebooks"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "notebooks"


def default_config(name: str) -> Path | None:
    """``config/<name>`` in the working directory (an editable copy written by ``kpilib config
    init config``), if it exists; None means the packaged default."""
    p = Path.cwd() / "config" / name
    return p if p.is_file() else None


def known_roles() -> list[str]:
    """Role names of ``config/roles.yaml`` in the working directory, else the packaged default."""
    cfg = load_roles_config(default_config("roles.yaml"))
    return sorted(cfg.roles)


def known_kpis() -> list[str]:
    """Registered KPI ids plus domain names and ``all``."""
    return sorted(registry.load_all()) + list(registry.DOMAINS) + ["all"]


def _ts(value: str | None, name: str, problems: list[str]) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        problems.append(f"{name}={value!r} is not a date or timestamp (use ISO, e.g. 2024-06-30)")
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def data_range(ds: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(first orders.created_at, ds.data_as_of)`` in UTC."""
    created = ds.orders["created_at"]
    return pd.Timestamp(created.min()).tz_convert("UTC"), pd.Timestamp(ds.data_as_of)


def _check_thresholds(thresholds: str | None, problems: list[str]) -> None:
    """The band configuration must exist and pass ``kpilib.bands.load_bands_config``."""
    if not thresholds:
        return
    if not Path(thresholds).is_file():
        problems.append(f"thresholds: band configuration {thresholds!r} does not exist")
        return
    from kpilib.bands import load_bands_config
    from kpilib.errors import ConfigError

    try:
        load_bands_config(thresholds)
    except ConfigError as err:  # names file, key and problem (unknown KPI ids included)
        problems.append(f"thresholds: {err}")


def validate_params(p: ReportParams, load: Any = None) -> tuple[ReportParams, Any]:
    """Check ``p`` and load the dataset; return normalised parameters and the dataset.

    Parameters
    ----------
    p : the requested run.
    load : the dataset loader (default ``kpilib.load_dataset``); tests may pass a fake.

    Raises
    ------
    ParameterError
        naming every problem found, before any notebook kernel is started.
    """
    from kpilib.reports.fromstore import StoreLoader, is_store

    problems: list[str] = []
    data = Path(p.data_path)
    ds = None
    if not data.exists():
        problems.append(f"data path {p.data_path!r} does not exist")
    elif p.store and not is_store(data):
        problems.append(f"{p.data_path!r} is not a KPI store (no store.json); create one with "
                        "`kpilib refresh --store DIR --init --data FIRST_BATCH`")
    else:
        if load is None:
            import kpilib

            load = StoreLoader() if is_store(data) else kpilib.load_dataset
        try:
            ds = load(str(data))
        except DataContractError as err:
            problems.append(f"data at {p.data_path!r} breaks the data contract: {err}")
        except (OSError, ValueError) as err:
            problems.append(f"data at {p.data_path!r} could not be loaded: {err}")

    as_of = _ts(p.as_of, "as_of", problems)
    start = _ts(p.start, "start", problems)
    end = _ts(p.end, "end", problems)
    if start is not None and end is not None and start >= end:
        problems.append(f"start {p.start} must be before end {p.end}")
    if ds is not None:
        lo, hi = data_range(ds)
        if as_of is not None and not (lo <= as_of <= hi) and not (
                p.allow_future_as_of and as_of > hi):
            problems.append(
                f"as_of {as_of.isoformat()} is outside the data, which runs from "
                f"{lo.isoformat()} to {hi.isoformat()}"
                + ("; pass --allow-future-as-of to evaluate after its end" if as_of > hi else "")
            )
        if as_of is None:
            as_of = hi
    if p.freq not in FREQS:
        problems.append(f"freq={p.freq!r} is not one of {list(FREQS)}")
    dims = segment_dims(ds)
    for name, dim in (("segment_by", p.segment_by), ("per", p.per)):
        if dim is not None and dim not in dims:
            problems.append(f"{name}={dim!r} is not a segment dimension; use one of "
                            f"{list(dims)}")
    for dim, values in p.filters.items():
        if dim not in dims:
            problems.append(f"filter on unknown dimension {dim!r}; use one of {list(dims)}")
        elif len(values) != 1:
            problems.append(f"filter {dim}: give exactly one value (got {len(values)})")
        if p.per is not None and dim == p.per:
            problems.append(f"cannot both filter on and fan out per {dim!r}")
    if p.role is not None:
        try:
            roles = known_roles()
        except ConfigError as err:
            roles = None
            problems.append(f"roles configuration is invalid: {err}")
        if roles is not None and p.role not in roles:
            problems.append(f"role={p.role!r} is unknown; known roles: {roles}")
    kpi_ids = known_kpis()
    if p.kpis:
        unknown = [k for k in p.kpis if k not in kpi_ids]
        if unknown:
            problems.append(f"unknown KPI id(s) {unknown}; list them with `kpilib kpis` or "
                            "kpilib.list_kpis()")
    _check_thresholds(p.thresholds, problems)
    problems += targets_problems(p.targets)
    problems += out_dir_problems(p.out_dir)
    if ds is not None:
        problems += filter_problems(p.filters, {d: segment_values(ds, d) for d in p.filters
                                                if d in dims})
    nb_dir = Path(p.notebook_dir) if p.notebook_dir else default_notebook_dir()
    names = p.notebooks or list(REPORT_NOTEBOOKS)
    missing = [n for n in names if not (nb_dir / f"{Path(n).stem}.ipynb").is_file()]
    if missing:
        problems.append(f"notebook(s) {missing} not found in {str(nb_dir)!r}")
    if p.jobs is not None and p.jobs < 1:
        problems.append(f"jobs={p.jobs} must be at least 1")
    if p.keep < 1:
        problems.append(f"keep={p.keep} must be at least 1")
    if ds is not None and p.per is not None and p.per in dims:
        values = segment_values(ds, p.per)
        if not values:
            problems.append(f"per={p.per!r}: the data has no values for this dimension")
        elif len(values) > MAX_FANOUT:
            problems.append(f"per={p.per!r} has {len(values)} values; at most {MAX_FANOUT} "
                            "reports per run")
    if problems:
        raise ParameterError("invalid report parameters:\n  - " + "\n  - ".join(problems))

    norm = ReportParams(**{**p.to_dict()})
    norm.data_path = str(data.resolve())
    norm.out_dir = str(Path(p.out_dir).resolve())
    norm.as_of = as_of.isoformat() if as_of is not None else None
    norm.start = start.isoformat() if start is not None else None
    norm.end = end.isoformat() if end is not None else None
    norm.notebook_dir = str(nb_dir.resolve())
    norm.notebooks = [Path(n).stem for n in names]
    norm.jobs = p.jobs or os.cpu_count() or 1
    if norm.thresholds:
        norm.thresholds = str(Path(norm.thresholds).resolve())
    if norm.targets in ("", "none"):
        norm.targets = None
    elif norm.targets and Path(norm.targets).is_file():  # the kernels run in notebooks/
        norm.targets = str(Path(norm.targets).resolve())
    return norm, ds


def segment_dims(ds: Any) -> tuple[str, ...]:
    """The standard segment dimensions, then the extra ones ``ds`` declares (if any)."""
    return SEGMENT_DIMS + tuple(getattr(ds, "dimensions", None) or ())


def segment_values(ds: Any, dim: str) -> list[str]:
    """Distinct non-null values of segment ``dim`` in ``ds`` (sorted, as strings; a derived
    dimension's fixed values in their order)."""
    if dim in cuts.FIXED:
        return list(cuts.FIXED[dim])
    return sorted(cuts.known_values(ds, dim) or set())
