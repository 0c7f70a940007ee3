"""Real-browser test of the published HTML reports (Debian's headless chromium).

A report run on the CI dataset (the real notebooks) is served from 127.0.0.1 by a throwaway
HTTP server. For the index and each report, chromium loads a probe page that opens the report
in a same-origin iframe and writes what it sees (title, images with their natural and rendered
sizes, visible badges, code cells, every resource the page fetched) into the DOM, which
``--dump-dom`` returns. Networking is closed: background networking off, and every host name
but 127.0.0.1 resolves to nothing (``--host-resolver-rules``), so a reference to the internet
could not load even if one slipped through; the probe also lists every fetched resource, and
each must be on 127.0.0.1. A screenshot of each page is saved (path printed) under
``reports/browser-test/`` (or ``$KPILIB_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from kpilib.reports import ReportParams, run_reports
from kpilib.reports.cidata import ensure_ci_data, repo_root

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>probe</title></head><body>
<pre id="out">pending</pre><iframe id="f" style="width:1200px;height:1000px"></iframe>
<script>
const page = new URLSearchParams(location.search).get("page");
const f = document.getElementById("f");
f.onload = () => setTimeout(() => {
  const d = f.contentDocument, w = f.contentWindow;
  const visible = el => el.offsetWidth > 0 && el.offsetHeight > 0 &&
                        w.getComputedStyle(el).visibility !== "hidden";
  document.getElementById("out").textContent = JSON.stringify({
    title: d.title,
    text: d.body ? d.body.innerText.slice(0, 4000) : "",
    images: [...d.images].map(i => ({natural_w: i.naturalWidth, natural_h: i.naturalHeight,
      w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height,
      complete: i.complete, src: i.src.slice(0, 30)})),
    badges: [...d.querySelectorAll(".badge")].filter(visible).map(b => b.innerText),
    links: [...d.querySelectorAll("a[href]")].map(a => a.getAttribute("href")),
    code_cells: d.querySelectorAll(".jp-CodeMirrorEditor, .jp-InputArea-editor, " +
                                   ".highlight, pre code").length,
    prompts: d.querySelectorAll(".jp-InputPrompt, .jp-OutputPrompt").length,
    scripts: d.querySelectorAll("script").length,
    resources: w.performance.getEntriesByType("resource").map(e => e.name),
  });
}, 500);
f.src = page;
</script></body></html>
"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed (Debian: apt-get install -y chromium); "
                    ".ci/run installs it")
    return exe


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, fmt, *args):  # quiet, but remember every path asked for
        _Handler.requests.append(self.path)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A real report run (four notebooks) on the CI dataset, served on 127.0.0.1."""
    out = tmp_path_factory.mktemp("browser") / "reports"
    outcome = run_reports(ReportParams(data_path=str(ensure_ci_data()), out_dir=str(out)))
    assert outcome.status == "ok", [(r.notebook, r.error) for r in outcome.results]
    (out / "_probe.html").write_text(PROBE)
    handler = functools.partial(_Handler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield out, f"http://127.0.0.1:{server.server_address[1]}", outcome
    finally:
        server.shutdown()
        server.server_close()


def probe(base: str, page: str, profile: Path) -> dict:
    url = f"{base}/_probe.html?page={quote('/' + page)}"
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="out">(.*?)</pre>', proc.stdout, re.S)
    assert m and m.group(1) != "pending", f"probe did not finish for {page}: {proc.stderr[-800:]}"
    import html

    return json.loads(html.unescape(m.group(1)))


def screenshot(base: str, page: str, name: str, profile: Path) -> Path:
    folder = Path(os.environ.get("KPILIB_SCREENSHOT_DIR") or repo_root() / "reports" /
                  "browser-test")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1280,2400", f"--screenshot={path}", f"{base}/{page}"],
                   capture_output=True, text=True, timeout=180, check=False)
    assert path.is_file() and path.stat().st_size > 10_000, f"no screenshot for {page}"
    return path


def test_index_and_reports_render_offline(published, tmp_path, capsys):
    out, base, outcome = published
    profile = tmp_path / "profile"
    index = probe(base, "latest/index.html", profile)
    assert index["title"].startswith("KPI reports")
    assert len(index["badges"]) >= 5  # headline KPIs as visible badges
    assert all(re.search(r"(normal|stressed|critical|insufficient data|no band)$", b.lower())
               for b in index["badges"])
    reports = [link for link in index["links"] if link.endswith(".html")
               and not link.startswith("..")]
    assert sorted(reports) == sorted(f"{r.notebook}.html" for r in outcome.results)
    assert index["scripts"] == 0 and index["code_cells"] == 0
    shots = [screenshot(base, "latest/index.html", "index", profile)]

    for page in reports:
        seen = probe(base, f"latest/{page}", profile)
        assert seen["title"], page
        assert seen["images"], f"{page}: no chart"
        for img in seen["images"]:
            assert img["complete"] and img["natural_w"] > 0 and img["natural_h"] > 0, page
            assert img["w"] > 0 and img["h"] > 0, page
            assert img["src"].startswith("data:image/png;base64"), page  # embedded
        assert seen["code_cells"] == 0 and seen["prompts"] == 0, page
        assert seen["scripts"] == 0, page
        assert "Traceback" not in seen["text"] and "Error" not in seen["text"][:200], page
        # nothing fetched from anywhere but this machine (embedded images fetch nothing)
        assert all(r.startswith(base) for r in seen["resources"]), seen["resources"]
        shots.append(screenshot(base, f"latest/{page}", Path(page).stem, profile))

    assert all(p.startswith("/") for p in _Handler.requests)  # only our server was asked
    with capsys.disabled():
        for p in shots:
            print(f"\nscreenshot: {p}")
