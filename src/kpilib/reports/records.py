"""The records behind each critical finding and open critical alert, as CSV files of the run.

Rule: the records of a critical KPI in one period and segment are ``kpilib.drill(...,
outcome="failed")`` for that KPI, period and segment, in the report's scope (its ``as_of``,
``freq`` and filters): the failing orders, lines, shipments or SKUs, one row each, with the
source ids. So a CSV has as many rows as the result implies: ``denominator - numerator``
failures of a higher-is-better count rate, ``numerator`` of a lower-is-better one (for a
rate on units, the rows' shortfalls add up to those figures).

Where the files go: ``kpilib reports run`` names each report's folder in ``KPILIB_REPORT_DIR``
(:func:`kpilib.reports.runner.execute_job`); the CSVs go into its ``records/`` folder and the
report links them by relative path, so the link works offline and the files travel with the
run. A notebook run without a report folder (JupyterLab, nbval) writes nothing and says so.
A duration judged on its p90 (cycle, release, dock-to-stock times...) has no failing record:
its CSV is the slow tail instead, the counted records at or above the period's p90, slowest
first. Other KPIs without failing records (no record list, or no pass or fail per record) say
why in one line instead of a link.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kpilib import registry
from kpilib.drilldown import NoRecordsError, records
from kpilib.errors import ParameterError
from kpilib.reports.runner import REPORT_DIR_ENV, safe_name

FOLDER = "records"
NO_FOLDER = "the CSV is written beside the report by kpilib reports run"
TAIL_LABEL = "slowest records, at or above the p90"


@dataclass(frozen=True)
class Attachment:
    """The CSV of one critical KPI: file name, relative link ("" when no file was written),
    number of failing records, and the reason there is no link (else "")."""

    name: str
    href: str
    rows: int
    reason: str = ""
    label: str = "failing records"


def records_dir() -> Path | None:
    """The run's ``records/`` folder of this report, or None outside a report run."""
    base = os.environ.get(REPORT_DIR_ENV)
    return Path(base) / FOLDER if base else None


def is_tail(kpi: str) -> bool:
    """A duration judged on its p90 (lower is better, in hours or days): no single record
    fails it, so its records are the slow tail instead."""
    kdef = registry.KPIS[registry.resolve(kpi)[0]]
    return kdef.kind == "mean" and kdef.direction == "lower" and kdef.unit in ("hours", "days")


def _drill(rep: Any, kpi: str, period: Any, segment: dict[str, str] | None, outcome: str
           ) -> pd.DataFrame:
    """``kpilib.drill(rep.ds, kpi, period=period, segment=segment, outcome=outcome)`` in the
    report's scope; one engine context per cut, shared by the KPIs of the report."""
    from kpilib.engine import make_context

    registry.resolve(kpi)  # loads the registry; an unknown id is an UnknownKpiError
    dims = tuple(segment or {})
    key = ("drill-context", dims)
    if key not in rep._cache:
        rep._cache[key] = make_context(rep.ds, by=list(dims), freq=rep.freq, as_of=rep.as_of,
                                       filters=rep.filters,
                                       allow_future_as_of=rep.allow_future_as_of)
    return records(registry.KPIS[kpi], rep._cache[key], period=period, segment=segment,
                   outcome=outcome)


def failing(rep: Any, kpi: str, period: Any, segment: dict[str, str] | None = None
            ) -> pd.DataFrame:
    """The failing records of a rate KPI in ``period`` and ``segment`` (report scope)."""
    return _drill(rep, kpi, period, segment, "failed")


def slowest(rep: Any, kpi: str, period: Any, segment: dict[str, str] | None = None
            ) -> pd.DataFrame:
    """The slow tail of a duration KPI: its counted records with ``value >= p90`` of the
    period (the same quantile as the result's ``p90``), slowest first."""
    rows = _drill(rep, kpi, period, segment, "all")
    rows = rows[rows["outcome"] == "counted"]
    if rows.empty:
        return rows
    return rows[rows["value"] >= rows["value"].quantile(0.9)].sort_values(
        "value", ascending=False, kind="stable").reset_index(drop=True)


def no_records_reason(kpi: str, err: Exception) -> str:
    """One line saying why ``kpi`` has no failing records to attach."""
    kdef = registry.KPIS[kpi]
    if isinstance(err, NoRecordsError) or kdef.kind == "custom":
        return "no record list: computed from period totals, not from single records"
    if kdef.kind != "rate" or kdef.direction not in ("higher", "lower"):
        return (f"no failing records: each {kdef.grain.replace('_', ' ')} adds to this "
                f"{kdef.kind}, none passes or fails on its own")
    if "separately" in str(err):
        return "no failing records: its records add to the numerator and denominator separately"
    return str(err)  # not computable here: the engine's reason


def file_name(rep: Any, kpi: str, period: Any, segment: dict[str, str] | None,
              what: str = "failed") -> str:
    """``otif_rate_2024-05-27_channel-web_failed.csv``: KPI, period, scope, segment and what
    the rows are (``failed``, or ``slowest`` for a duration's tail)."""
    when = "all" if period is None or pd.isna(period) else f"{pd.Timestamp(period):%Y-%m-%d}"
    scope = {**{d: v[0] if isinstance(v, list | tuple) else v for d, v in rep.filters.items()},
             **(segment or {})}
    where = "".join(f"_{safe_name(d)}-{safe_name(str(v))}" for d, v in scope.items())
    return f"{kpi}_{when}{where}_{what}.csv"


def attach(rep: Any, kpi: str, period: Any, segment: dict[str, str] | None = None
           ) -> Attachment:
    """Write the failing records of ``kpi`` in ``period`` and ``segment`` into
    :func:`records_dir` and describe the link (see module docstring)."""
    tail = is_tail(kpi)
    name = file_name(rep, kpi, period, segment, "slowest" if tail else "failed")
    label = TAIL_LABEL if tail else "failing records"
    try:
        frame = (slowest if tail else failing)(rep, kpi, period, segment)
    except (NoRecordsError, ParameterError) as err:
        return Attachment(name, "", 0, no_records_reason(kpi, err))
    folder = records_dir()
    if folder is None:
        return Attachment(name, "", len(frame), NO_FOLDER, label)
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / name, index=False)
    return Attachment(name, f"{FOLDER}/{name}", len(frame), label=label)


def links(rep: Any, head: pd.DataFrame) -> dict[str, Attachment]:
    """``{kpi: Attachment}`` for the critical KPIs of ``head`` (cached on the report, so the
    summary and the findings share one file each)."""
    crit = head[head["band"] == "critical"]
    key = ("records", tuple(zip(crit["kpi"], crit["period"], strict=True)))
    if key not in rep._cache:
        rep._cache[key] = {str(r["kpi"]): attach(rep, str(r["kpi"]), r["period"])
                           for _, r in crit.iterrows()}
    return rep._cache[key]


def alert_links(rep: Any, alerts: pd.DataFrame) -> dict[str, Attachment]:
    """``{alert_key: Attachment}`` for the open critical alerts (``segment`` is ``""`` for the
    total or ``"dim=value"`` of the report's segment dimension)."""
    out = {}
    for _, a in alerts[alerts["band"] == "critical"].iterrows():
        dim, _, value = str(a.get("segment") or "").partition("=")
        segment = {dim: value} if dim else None
        out[str(a["alert_key"])] = attach(rep, str(a["kpi"]), a["period"], segment)
    return out
