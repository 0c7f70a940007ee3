"""One report run from parameters to a published folder: ``run_reports``.

Steps (each owned by its module): validate parameters and load the data (``params``) -> take
the output lock (``publish.RunLock``) -> plan one job per notebook and segment value ->
execute in parallel with progress (``runner``) -> write ``manifest.json`` (``manifest``) and
``index.html`` (``index``) into the temporary build folder -> rename it into place -> switch
``latest`` unless every notebook failed -> apply retention (``publish``).

From a KPI store (``data_path`` is a store folder, ``reports.fromstore``): the store's current
generation is pinned for every notebook of the run, the results it holds are read instead of
computed, the run log (``RunOutcome.notes``) and the manifest name the generation and what was
computed, and the store's live page is written beside the runs, where the index links it.

Exit rule: ``RunOutcome.exit_code`` is 0 when every notebook succeeded, 1 otherwise. Errors
before any kernel starts (``ParameterError``, ``RunLockedError``) are raised and publish nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kpilib.reports import fromstore, publish
from kpilib.reports import index as index_mod
from kpilib.reports import manifest as manifest_mod
from kpilib.reports.params import ReportParams, segment_values, validate_params
from kpilib.reports.runner import Job, JobResult, inside, kernel_env, run_jobs, safe_name
from kpilib.reports.segments import plan_segments


@dataclass
class RunOutcome:
    """Result of ``run_reports``: where it went and how it went."""

    run_id: str
    run_dir: Path
    status: str
    latest_moved: bool
    results: list[JobResult] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # run-log lines (e.g. what a store lacked)

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "ok" else 1


def plan_jobs(p: ReportParams, ds: Any, build: Path,
              segments: list[str | None] | None = None) -> list[Job]:
    """One job per (notebook, segment value); file names sanitised and kept inside ``build``.

    ``segments``: the fan-out values (default: every value of ``p.per``, or one job set)."""
    if segments is None:
        segments = list(segment_values(ds, p.per)) if p.per else [None]
    jobs = []
    for seg in segments:
        filters = dict(p.filters)
        sub = build
        if seg is not None:
            filters[p.per] = [seg]
            sub = inside(build, build / f"{p.per}-{safe_name(seg)}")
        for name in p.notebooks or []:
            title = index_mod.title_of(name) + (f" — {p.per} {seg}" if seg is not None else "")
            jobs.append(Job(
                notebook=name,
                input_path=str(Path(p.notebook_dir) / f"{name}.ipynb"),
                ipynb_path=str(inside(build, sub / f"{name}.ipynb")),
                html_path=str(inside(build, sub / f"{name}.html")),
                parameters=p.notebook_parameters(filters),
                segment=seg,
                title=title,
            ))
    return jobs


def share_dataset(ds: Any, data_path: str, folder: Path) -> dict[str, str]:
    """Pickle the already validated dataset for the notebooks (``session.load``).

    Every notebook would otherwise read and validate the same files again (about 3 s of CPU
    each on the default sample); the pickle loads in a fraction of that. The environment
    variables name the pickle and the folder it stands for; the folder is deleted with the
    kernel specs before publication.
    """
    import pickle

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataset.pkl"
    with open(path, "wb") as fh:
        pickle.dump(ds, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return {"KPILIB_DATASET_CACHE": str(path), "KPILIB_DATASET_CACHE_FOR": str(data_path)}


def _data_info(p: ReportParams, ds: Any) -> dict[str, Any]:
    from kpilib.reports.params import data_range

    lo, hi = data_range(ds)
    try:
        fingerprint = ds.fingerprint()
    except Exception as err:  # noqa: BLE001 - a manifest without fingerprint is still useful
        fingerprint = f"unavailable ({type(err).__name__})"
    return {"path": p.data_path, "fingerprint": fingerprint, "first_ts": lo.isoformat(),
            "data_as_of": hi.isoformat()}


def _history(out_dir: Path, current: dict[str, Any]) -> list[dict[str, Any]]:
    runs = [manifest_mod.read_manifest(out_dir / r) for r in publish.list_runs(out_dir)]
    return [m for m in runs if m] + [current]


def run_reports(
    params: ReportParams,
    *,
    load: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunOutcome:
    """Run the report suite once and publish it (see module docstring for the rules).

    Parameters
    ----------
    params : requested run (validated here, before any kernel starts).
    load : dataset loader (default ``kpilib.load_dataset``).
    progress : called as ``progress(message, done, total)`` after planning and after each job.
    """
    if load is None and fromstore.is_store(params.data_path):
        load = fromstore.StoreLoader()  # keeps the store's generation for the notebooks
    p, ds = validate_params(params, load=load)
    source = getattr(load, "source", None)
    out = Path(p.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with publish.RunLock(out):
        started = datetime.now(UTC)
        run_id = publish.new_run_id(out, started)
        build = publish.build_dir(out, run_id)
        try:
            skipped: dict[str, str] = {}
            segments: list[str | None] = [None]
            if p.per:
                segments, skipped = plan_segments(ds, p.per, start=p.start, end=p.end,
                                                  as_of=p.as_of)
            jobs = plan_jobs(p, ds, build, segments)
            total = len(jobs)
            done = [0]
            if progress:
                progress(f"running {total} notebook(s) with {min(p.jobs, total)} worker(s)", 0,
                         total)

            def _on_done(res: JobResult) -> None:
                done[0] += 1
                if progress:
                    seg = f" [{res.segment}]" if res.segment is not None else ""
                    progress(f"{res.notebook}{seg}: {res.status} in {res.duration_s:.1f} s",
                             done[0], total)

            env = kernel_env(build)
            env.update(share_dataset(ds, p.data_path, build / ".kernels"))
            if source is not None:
                env.update(source.pin_env())
            results = run_jobs(jobs, p.jobs or 1, env, _on_done)
            shutil.rmtree(build / ".kernels", ignore_errors=True)
            res_dicts = [r.to_dict() for r in results]
            manifest = manifest_mod.build_manifest(
                run_id, started.isoformat(), datetime.now(UTC).isoformat(), p.to_dict(),
                _data_info(p, ds), res_dicts, build)
            manifest["skipped_segments"] = skipped
            notes = _store_notes(source, results, manifest, out)
            manifest_mod.write_manifest(manifest, build)
            index_mod.write_index(build, manifest, res_dicts, _history(out, manifest))
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)  # nothing half-built is ever published
            raise
        run_dir = publish.publish_run(build, out, run_id)
        for r in results:  # point the outcome at the published files, not the build folder
            r.ipynb = str(run_dir / Path(r.ipynb).relative_to(build))
            r.html = str(run_dir / Path(r.html).relative_to(build)) if r.html else None
        moved = manifest["status"] != "failed"
        if moved:
            publish.switch_latest(out, run_id)
        deleted = publish.apply_retention(out, p.keep)
    return RunOutcome(run_id, run_dir, manifest["status"], moved, results, deleted, notes)


def _store_notes(source: Any, results: list[JobResult], manifest: dict[str, Any],
                 out: Path) -> list[str]:
    """For a run from a KPI store: the run-log line (``fromstore.run_log``), the store's
    generation in the manifest, and its live page beside the runs (the index links it)."""
    if source is None:
        return []
    from kpilib.reports import live

    line = fromstore.run_log(source, [r.records for r in results])
    manifest["store"] = {"path": str(source.store.root), "generation": source.generation,
                         "fingerprint": source.fingerprint,
                         "data_as_of": source.data_as_of.isoformat(), "log": line}
    live.write(source.store, out)
    return [line]
