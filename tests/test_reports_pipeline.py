"""End-to-end report runs on tiny notebooks written by the tests (real papermill kernels).

The notebooks here do not compute KPIs: they print their parameters, record a headline (one
of them) or raise (``broken``), so these tests prove the runner, export, index, manifest and
publication rules independently of the KPI engine.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from builders import build_dataset

from kpilib.reports import ReportParams, run_reports
from kpilib.reports.export import external_urls
from kpilib.reports.publish import latest_run, list_runs

MALICIOUS = "<script>alert(1)</script>"
TRAVERSAL = "../../../tmp/evil"

PARAMS = (
    "data_path = None\nas_of = None\nstart = None\nend = None\nfreq = 'W'\n"
    "segment_by = 'channel'\nfilters = {}\nrole = None\nthresholds = None\nkpis = None"
)
OK_SOURCE = (
    "import sys\nfrom kpilib.reports import record\n"
    "print('kernel python:', sys.executable)\n"
    "seg = filters.get('channel', ['all'])[0]\n"
    "print('segment:', seg)\n"
    "from kpilib.reports.records import records_dir\n"
    "records_dir().mkdir(parents=True, exist_ok=True)\n"
    "(records_dir() / 'probe.csv').write_text('order_id\\nO1\\n')\n"
    "record('headline', [{'kpi': 'perfect_order_rate', 'name': 'Perfect order ' + seg,\n"
    "                     'display': '91.2%', 'band': 'critical', 'period': '2024-01-01'}])"
)
PLOT_SOURCE = (
    "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(3, 2)); ax.plot([1, 3, 2]); plt.show()"
)
CODE_OR_PROMPT = r'class="[^"]*(jp-CodeMirrorEditor|hl-ipython|jp-InputPrompt|jp-OutputPrompt)'
BROKEN_SOURCE = "raise RuntimeError('deliberate failure in the broken notebook')"


def write_notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Test report"), params,
                nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Three orders in three channels, one malicious name, one trying path traversal."""
    ds = build_dataset(orders=[
        {"order_id": "O1", "channel": "web", "created_at": "2024-01-01T00:00Z"},
        {"order_id": "O2", "channel": MALICIOUS, "created_at": "2024-01-03T00:00Z"},
        {"order_id": "O3", "channel": TRAVERSAL, "created_at": "2024-01-05T00:00Z"},
    ])
    out = tmp_path_factory.mktemp("data") / "ds"
    ds.to_parquet(out)
    return out


@pytest.fixture(scope="module")
def nb_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("notebooks")
    write_notebook(d / "summary.ipynb", OK_SOURCE)
    write_notebook(d / "charts.ipynb", PLOT_SOURCE)
    write_notebook(d / "broken.ipynb", BROKEN_SOURCE)
    return d


@pytest.fixture(scope="module")
def partial_run(tmp_path_factory, data_dir, nb_dir):
    """One run fanned out per channel: summary and charts succeed, broken fails."""
    out = tmp_path_factory.mktemp("reports")
    params = ReportParams(data_path=str(data_dir), out_dir=str(out), per="channel",
                          notebook_dir=str(nb_dir),
                          notebooks=["summary", "charts", "broken"], jobs=2)
    outcome = run_reports(params)
    return out, outcome


def test_partial_failure_publishes_the_rest_and_exits_nonzero(partial_run):
    out, outcome = partial_run
    # 3 channels x 3 notebooks; broken fails in each channel.
    assert len(outcome.results) == 9
    statuses = {(r.notebook, r.status) for r in outcome.results}
    assert statuses == {("summary", "ok"), ("charts", "ok"), ("broken", "failed")}
    assert outcome.status == "partial"
    assert outcome.exit_code == 1
    assert outcome.latest_moved
    assert latest_run(out) == outcome.run_id
    for r in outcome.results:
        assert Path(r.ipynb).is_file()  # paths point at the published run
        if r.status == "ok":
            assert Path(r.html).is_file() and r.html.endswith(".html")


def test_kernel_is_the_running_interpreter(partial_run):
    """No `jupyter kernelspec install` needed: kernel python3 maps to sys.executable."""
    import sys

    out, outcome = partial_run
    summary = next(r for r in outcome.results if r.notebook == "summary")
    assert f"kernel python: {sys.executable}" in Path(summary.ipynb).read_text()


def test_index_shows_failure_and_links_the_executed_notebook(partial_run):
    out, outcome = partial_run
    index = (out / "latest" / "index.html").read_text()
    manifest = json.loads((out / "latest" / "manifest.json").read_text())
    broken = [nb for nb in manifest["notebooks"] if nb["notebook"] == "broken"]
    assert len(broken) == 3
    for nb in broken:
        assert nb["status"] == "failed"
        assert "deliberate failure" in nb["error"]
        executed = out / "latest" / nb["ipynb"]
        assert executed.is_file()  # papermill wrote it, with the traceback inside
        assert "deliberate failure" in executed.read_text()
        assert f'href="{nb["ipynb"]}"' in index.replace("%20", " ") or nb["ipynb"] in index
    assert index.count('class="status-failed"') == 3
    assert "deliberate failure in the broken notebook" in index


def test_each_report_writes_its_records_beside_its_html(partial_run):
    """``KPILIB_REPORT_DIR`` is the job's own folder, so ``records/x.csv`` beside the HTML."""
    _, outcome = partial_run
    summaries = [r for r in outcome.results if r.notebook == "summary"]
    assert len(summaries) == 3
    for r in summaries:
        probe = Path(r.html).parent / "records" / "probe.csv"
        assert probe.read_text() == "order_id\nO1\n"


def test_manifest_has_parameters_fingerprint_versions_and_durations(partial_run):
    out, outcome = partial_run
    m = json.loads((out / outcome.run_id / "manifest.json").read_text())
    assert m["run_id"] == outcome.run_id
    assert m["status"] == "partial"
    assert m["parameters"]["per"] == "channel"
    assert m["as_of"] == "2024-01-05T00:00:00+00:00"  # latest timestamp of the data
    assert m["data"]["fingerprint"] and "unavailable" not in str(m["data"]["fingerprint"])
    assert m["versions"]["kpilib"] != "missing" and m["versions"]["papermill"] != "missing"
    assert all(nb["duration_s"] > 0 for nb in m["notebooks"])


def test_segment_values_cannot_escape_the_run_folder(partial_run):
    out, outcome = partial_run
    run_dir = (out / outcome.run_id).resolve()
    produced = [p for p in run_dir.rglob("*") if p.is_file()]
    assert produced
    for p in produced:
        assert run_dir in p.resolve().parents
        assert ".." not in p.relative_to(run_dir).parts
    # nothing was written outside <out> (the traversal value points to /tmp/evil)
    assert not Path("/tmp/evil").exists()
    assert not list(run_dir.rglob("*.pkl")) and not (run_dir / ".kernels").exists()
    folders = sorted(p.name for p in run_dir.iterdir() if p.is_dir())
    assert len(folders) == 3 and all(re.fullmatch(r"channel-[A-Za-z0-9_-]+", f) for f in folders)


def test_values_from_the_data_are_escaped_everywhere(partial_run):
    out, outcome = partial_run
    run_dir = out / outcome.run_id
    for page in [run_dir / "index.html", *run_dir.rglob("*.html")]:
        text = page.read_text()
        assert MALICIOUS not in text, page
    index = (run_dir / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index  # shown, but as text
    summaries = list(run_dir.rglob("summary.html"))
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in p.read_text() for p in summaries)


def test_html_is_self_contained_without_code_or_external_urls(partial_run):
    out, outcome = partial_run
    pages = list((out / outcome.run_id).rglob("*.html"))
    assert len(pages) == 1 + 6  # index + summary and charts for 3 channels
    for page in pages:
        text = page.read_text()
        assert external_urls(text) == [], page
        assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?(https?:)?//", text)
        assert "<script" not in text.lower()
        assert "plt.subplots" not in text and "record(" not in text  # no code inputs
        assert not re.search(CODE_OR_PROMPT, text)
    charts = list((out / outcome.run_id).rglob("charts.html"))
    assert all("data:image/png;base64," in p.read_text() for p in charts)


def test_index_has_badges_and_links(partial_run):
    out, outcome = partial_run
    index = (out / "latest" / "index.html").read_text()
    assert index.count('class="badge band-critical"') == 3  # one headline per channel
    assert "91.2%" in index
    for r in outcome.results:
        if r.status == "ok":
            rel = Path(r.html).relative_to(Path(r.html).parents[1]).as_posix()
            assert f'href="{rel}"' in index


def test_all_failed_run_never_moves_latest(partial_run, data_dir, nb_dir):
    out, first = partial_run
    params = ReportParams(data_path=str(data_dir), out_dir=str(out), notebook_dir=str(nb_dir),
                          notebooks=["broken"], jobs=1)
    outcome = run_reports(params)
    assert outcome.status == "failed" and outcome.exit_code == 1
    assert not outcome.latest_moved
    assert latest_run(out) == first.run_id  # the last good report stays readable
    assert (out / outcome.run_id / "index.html").is_file()  # the failure is still inspectable
    assert outcome.run_id in list_runs(out)
    history = (out / outcome.run_id / "index.html").read_text()
    assert first.run_id in history  # run history lists the previous run


def test_bad_parameters_publish_nothing_and_start_no_kernel(tmp_path, nb_dir, monkeypatch):
    from kpilib.errors import ParameterError
    from kpilib.reports import suite

    def no_kernels(*args, **kwargs):
        raise AssertionError("a kernel would have started")

    monkeypatch.setattr(suite, "run_jobs", no_kernels)
    out = tmp_path / "reports"
    params = ReportParams(data_path=str(tmp_path / "missing"), out_dir=str(out),
                          notebook_dir=str(nb_dir), notebooks=["summary"])
    with pytest.raises(ParameterError, match="does not exist"):
        run_reports(params)
    assert not out.exists() or list_runs(out) == []
    assert not (out / "latest").exists()


def test_cli_run_exit_codes(tmp_path, data_dir, nb_dir):
    from typer.testing import CliRunner

    from kpilib.cli.main import app

    runner = CliRunner()
    bad = runner.invoke(app, ["reports", "run", "--data", str(tmp_path / "nope"), "--out",
                              str(tmp_path / "r"), "--notebook-dir", str(nb_dir),
                              "--notebooks", "summary", "--quiet"])
    assert bad.exit_code == 2
    res = runner.invoke(app, ["reports", "run", "--data", str(data_dir), "--out",
                              str(tmp_path / "r"), "--notebook-dir", str(nb_dir),
                              "--notebooks", "summary", "--quiet"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok"
    assert os.path.islink(tmp_path / "r" / "latest")
