"""Real-browser test of the published HTML reports (Debian's headless chromium).

Two report runs on the CI dataset (the real notebooks), one per configuration: the default
parameters and ``--per channel``. Both set ``as_of`` in the middle of the last week (the CI data
ends on a Sunday, so without it no running period would exist to check). Each run is served
from 127.0.0.1 by a throwaway HTTP server. For the index and every report page, chromium loads
a probe page that opens the page in a same-origin iframe and writes what it sees (text, tables
with their band chips, index cards, images with their natural and rendered sizes and how much
colour they hold, every resource fetched) into the DOM, which ``--dump-dom`` returns.
Networking is closed: background networking off, and every host name but 127.0.0.1 resolves to
nothing (``--host-resolver-rules``). A full-page screenshot of each page is kept under
``reports/browser-test/<configuration>/`` (or ``$KPILIB_SCREENSHOT_DIR``); paths are printed.

Asserted in the browser, for every page of both runs: it renders offline, no snake_case KPI id
(``kpilib.list_kpis()``) is visible, every money figure carries the currency, every chart holds
data (drawn in colour, not a blank or tiny image), the running period is never banded (no
table, card or finding is about it), and each index card tells the same band as the summary,
the findings and the open-alerts section of its executive summary.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

import kpilib
from kpilib.reports import ReportParams, run_reports
from kpilib.reports.cidata import ensure_ci_data, repo_root
from kpilib.reports.runner import safe_name
from kpilib.reports.units import MONEY_UNITS, SYMBOLS, currency_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# Wednesday noon of the CI data's last week: the week of 2024-06-24 runs 2.5 of 7 days.
AS_OF = "2024-06-26T12:00:00+00:00"
RUNNING = pd.Timestamp("2024-06-24")
CONFIGS = {"default": {}, "per-channel": {"per": "channel"}}
BANDS = ("critical", "stressed", "normal")
MIN_INK = 0.002  # share of strongly coloured pixels in a chart with data (lines, points, bars)
MIN_GREY = 0.05  # or of mid-grey fill: bars without a band (an empty chart has only its text)

PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>probe</title></head><body>
<pre id="out">pending</pre><iframe id="f" style="width:1200px;height:1000px"></iframe>
<script>
const page = new URLSearchParams(location.search).get("page");
const f = document.getElementById("f");
const chipOf = el => { const c = el && el.querySelector(".k-chip");
  return c ? [...c.classList].find(k => k.startsWith("k-") && k !== "k-chip") : null; };
function ink(img) {  // share of strongly coloured pixels (a blank or empty chart has none)
  const w = Math.min(img.naturalWidth, 500), h = Math.round(img.naturalHeight * w /
    Math.max(img.naturalWidth, 1));
  if (!w || !h) return 0;
  const c = document.createElement("canvas"); c.width = w; c.height = h;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0, w, h);
  const px = g.getImageData(0, 0, w, h).data; let n = 0, grey = 0;
  for (let k = 0; k < px.length; k += 4) {
    const hi = Math.max(px[k], px[k + 1], px[k + 2]), lo = Math.min(px[k], px[k + 1], px[k + 2]);
    if (px[k + 3] > 128 && hi - lo > 80) n++;
    else if (px[k + 3] > 128 && hi - lo < 25 && lo >= 120 && hi <= 200) grey++;
  }
  return [n / (w * h), grey / (w * h)];
}
f.onload = () => setTimeout(() => {
  const d = f.contentDocument, w = f.contentWindow;
  const visible = el => el.offsetWidth > 0 && el.offsetHeight > 0 &&
                        w.getComputedStyle(el).visibility !== "hidden";
  document.getElementById("out").textContent = JSON.stringify({
    title: d.title,
    text: d.body ? d.body.innerText : "",
    height: Math.max(d.documentElement.scrollHeight, d.body ? d.body.scrollHeight : 0),
    images: [...d.images].map(i => ({natural_w: i.naturalWidth, natural_h: i.naturalHeight,
      w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height,
      complete: i.complete, src: i.src.slice(0, 30), ink: ink(i)})),
    badges: [...d.querySelectorAll(".badge")].filter(visible).map(b => b.innerText),
    cards: [...d.querySelectorAll(".badge")].map(b => ({
      segment: b.closest("[data-segment]") ? b.closest("[data-segment]").dataset.segment : null,
      name: b.querySelector(".name").innerText, value: b.querySelector(".value").innerText,
      band: [...b.classList].find(k => k.startsWith("band-")).slice(5),
      period: b.dataset.period || ""})),
    tables: [...d.querySelectorAll("table")].map(t => ({
      cls: t.className,
      caption: (t.closest(".k-wrap") && t.closest(".k-wrap").querySelector(".k-small"))
               ? t.closest(".k-wrap").querySelector(".k-small").innerText : "",
      head: [...t.querySelectorAll("thead th")].map(x => x.innerText),
      rows: [...t.querySelectorAll("tbody tr")].map(r => [...r.cells].map(c => ({
        text: c.innerText, num: c.classList.contains("num"), chip: chipOf(c)})))})),
    findings: [...d.querySelectorAll(".k-findings li")].map(li => ({
      text: li.innerText, chip: chipOf(li)})),
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
                    "make test installs it")
    return exe


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, fmt, *args):  # quiet, but remember every path asked for
        _Handler.requests.append(self.path)


def probe(base: str, page: str, profile: Path) -> dict:
    url = f"{base}/_probe.html?page={quote('/' + page)}"
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         "--virtual-time-budget=15000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    m = re.search(r'<pre id="out">(.*?)</pre>', proc.stdout, re.S)
    assert m and m.group(1) != "pending", f"probe did not finish for {page}: {proc.stderr[-800:]}"
    return json.loads(html.unescape(m.group(1)))


def screenshot(base: str, page: str, path: Path, height: int, profile: Path) -> Path:
    """The whole page (window as tall as the page, at most 16,000 px) as ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = f"--window-size=1280,{min(max(height + 40, 800), 16_000)}"
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", size,
                    f"--screenshot={path}", f"{base}/{page}"],
                   capture_output=True, text=True, timeout=180, check=False)
    assert path.is_file() and path.stat().st_size > 10_000, f"no screenshot for {page}"
    return path


@pytest.fixture
def site(request, tmp_path_factory):
    """One real report run of the configuration ``request.param``, served on 127.0.0.1, every
    page probed once and screenshotted: ``{"name", "outcome", "base", "pages", "currency"}``."""
    name = request.param
    out = tmp_path_factory.mktemp(f"browser-{name}") / "reports"
    data = ensure_ci_data()
    outcome = run_reports(ReportParams(data_path=str(data), out_dir=str(out), as_of=AS_OF,
                                       jobs=2, **CONFIGS[name]))
    assert outcome.status == "ok", [(r.notebook, r.error) for r in outcome.results]
    (out / "_probe.html").write_text(PROBE)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler,
                                                                      directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    shots = Path(os.environ.get("KPILIB_SCREENSHOT_DIR") or repo_root() / "reports" /
                 "browser-test") / name
    profile = tmp_path_factory.mktemp("profile")
    try:
        pages = {"index.html": probe(base, "latest/index.html", profile)}
        for r in outcome.results:
            pages[str(Path(r.html).relative_to(outcome.run_dir))] = None
        for page in list(pages)[1:]:
            pages[page] = probe(base, f"latest/{page}", profile)
        saved = [screenshot(base, f"latest/{page}", shots / page.replace(".html", ".png"),
                            seen["height"], profile) for page, seen in pages.items()]
        with request.config.pluginmanager.getplugin(
                "capturemanager").global_and_fixture_disabled():
            print("".join(f"\nscreenshot: {p}" for p in saved))
        yield {"name": name, "outcome": outcome, "base": base, "pages": pages,
               "currency": currency_of(kpilib.load_dataset(data))}
    finally:
        server.shutdown()
        server.server_close()


def reports_of(site: dict) -> dict[str, dict]:
    return {p: seen for p, seen in site["pages"].items() if p != "index.html"}


def check_index_and_reports_render_offline(site):
    index = site["pages"]["index.html"]
    assert index["title"].startswith("KPI reports")
    assert len(index["badges"]) >= 5  # headline KPIs as visible badges
    assert all(re.search(r"(normal|stressed|critical|insufficient data|no band)$", b.lower())
               for b in index["badges"])
    links = sorted(x for x in index["links"] if x.endswith(".html") and not x.startswith(".."))
    assert links == sorted(reports_of(site))
    assert index["scripts"] == 0 and index["code_cells"] == 0
    for page, seen in reports_of(site).items():
        assert seen["title"], page
        assert seen["images"], f"{page}: no chart"
        for img in seen["images"]:
            assert img["complete"] and img["natural_w"] > 0 and img["natural_h"] > 0, page
            assert img["src"].startswith("data:image/png;base64"), page  # embedded
        assert seen["code_cells"] == 0 and seen["prompts"] == 0, page
        assert seen["scripts"] == 0, page
        assert "Traceback" not in seen["text"] and "Error" not in seen["text"][:200], page
        # nothing fetched from anywhere but this machine (embedded images fetch nothing)
        assert all(r.startswith(site["base"]) for r in seen["resources"]), seen["resources"]
    assert all(p.startswith("/") for p in _Handler.requests)  # only our server was asked


def check_no_kpi_id_visible(site):
    ids = list(kpilib.list_kpis()["id"])
    found = {page: sorted(k for k in ids if re.search(rf"(?<![\w-]){k}(?![\w-])", seen["text"]))
             for page, seen in site["pages"].items()}
    assert not {p: k for p, k in found.items() if k}, "snake_case KPI ids visible to a reader"


def money_names() -> set[str]:
    cat = kpilib.list_kpis()
    return set(cat.loc[cat["unit"].isin(MONEY_UNITS), "name"])


def row_name(cell_text: str) -> str:
    """The KPI name of a table's first cell, without the statistic ``(p90)``."""
    return re.sub(r"\s*\((p90|median)\)$", "", cell_text.strip())


def check_every_money_figure_has_a_currency(site):
    names, mark = money_names(), SYMBOLS.get(site["currency"], site["currency"])
    assert mark, "the CI data has a currency"
    bare = []
    for page, seen in site["pages"].items():
        for card in seen["cards"]:
            if card["name"].split(" (")[0] in names and re.search(r"\d", card["value"]):
                bare += [] if mark in card["value"] else [(page, card["name"], card["value"])]
        for table in seen["tables"]:
            for row in table["rows"]:
                if not row or row_name(row[0]["text"]) not in names:
                    continue
                bare += [(page, row[0]["text"], c["text"]) for c in row[1:]
                         if c["num"] and re.search(r"\d", c["text"]) and mark not in c["text"]]
    checked = sum(row_name(r[0]["text"]) in names for s in site["pages"].values()
                  for t in s["tables"] for r in t["rows"] if r)
    assert checked >= 2, "no money KPI in any table: the check would prove nothing"
    assert not bare, f"money figures without the currency {mark!r}: {bare[:10]}"


def check_no_chart_without_data(site):
    empty = [(page, [round(x, 4) for x in img["ink"]], img["w"], img["h"])
             for page, seen in reports_of(site).items() for img in seen["images"]
             if (img["ink"][0] < MIN_INK and img["ink"][1] < MIN_GREY)
             or img["w"] < 150 or img["h"] < 100]
    assert not empty, f"charts without data (blank, colourless or tiny): {empty}"


def running_labels() -> list[str]:
    """How the pages name the running week (``findings.period_label`` / ``short_period``)."""
    iso = RUNNING.isocalendar()
    return [f"{RUNNING:%Y-%m-%d}", f"week of {RUNNING.day} {RUNNING:%b %Y}",
            f"week {iso.week} of {iso.year}"]


def check_running_period_is_never_banded(site):
    labels, judged = running_labels(), []
    for page, seen in site["pages"].items():
        judged += [(page, c["name"], c["period"]) for c in seen["cards"]
                   if c["period"].startswith(labels[0])]
        for table in seen["tables"]:
            where = " ".join([table["caption"], *table["head"]])
            chips = [c for r in table["rows"] for c in r if c["chip"] in
                     (f"k-{b}" for b in BANDS)]
            if chips and any(x in where for x in labels):
                judged.append((page, "table", where[:80]))
            judged += [(page, "row", r[0]["text"]) for r in table["rows"]
                       if any(c["chip"] in (f"k-{b}" for b in BANDS) for c in r)
                       and any(x in " ".join(c["text"] for c in r) for x in labels)]
        judged += [(page, "finding", f["text"][:80]) for f in seen["findings"]
                   if f["chip"] and any(x in f["text"] for x in labels)]
        for table in seen["tables"]:  # the headline tables name their period: never this one
            if table["caption"].startswith("Last complete"):
                assert not any(x in table["caption"] for x in labels), (page, table["caption"])
    assert not judged, f"the running period is judged: {judged[:10]}"
    summary = next(s for p, s in site["pages"].items() if p.endswith("00_executive_summary.html"))
    assert "running period" in summary["text"] and "not judged" in summary["text"]


def alerts_table(seen: dict) -> dict[str, str]:
    """``{KPI name: band}`` of the open-alerts rows for the whole report (where = all)."""
    table = next((t for t in seen["tables"] if "k-alerts" in t["cls"]), None)
    if table is None:
        return {}
    cols = {h: i for i, h in enumerate(table["head"])}
    return {r[0]["text"]: r[cols["State and why"]]["chip"][2:] for r in table["rows"]
            if r[cols["Where"]]["text"] == "all"}


def check_index_cards_agree_with_summary_findings_and_alerts(site):
    cards = site["pages"]["index.html"]["cards"]
    assert cards, "the index has no cards"
    disagree = []
    for segment in dict.fromkeys(c["segment"] for c in cards):
        page = ("00_executive_summary.html" if segment is None else
                f"channel-{safe_name(segment)}/00_executive_summary.html")
        seen = site["pages"][page]
        alerts = alerts_table(seen)
        summary = {r[0]["text"]: r[2]["chip"][2:] for t in seen["tables"]
                   if "k-actions" in t["cls"] for r in t["rows"]}
        said = [(re.sub(r"^(critical|stressed)\s+", "", f["text"]), f["chip"])
                for f in seen["findings"] if f["chip"]]  # the text starts with the chip's word
        found = {t.split(" is ")[0]: chip[2:] for t, chip in said if " is " in t}
        for c in (c for c in cards if c["segment"] == segment):
            name, band = c["name"].split(" (")[0], c["band"]
            told = {"summary": summary.get(name), "finding": found.get(name),
                    "alerts": alerts.get(name)}
            if band in ("critical", "stressed"):
                disagree += [(page, name, band, where, b) for where, b in told.items()
                             if b != band]
            else:
                disagree += [(page, name, band, where, b) for where, b in told.items()
                             if b is not None]
    assert not disagree, f"card, summary, findings and alerts disagree: {disagree}"


CHECKS = [
    check_index_and_reports_render_offline,
    check_no_kpi_id_visible,
    check_every_money_figure_has_a_currency,
    check_no_chart_without_data,
    check_running_period_is_never_banded,
    check_index_cards_agree_with_summary_findings_and_alerts,
]


@pytest.mark.parametrize("site", list(CONFIGS), indirect=True)
def test_reports_in_a_real_browser(site):
    """Every check on one run (one test per configuration, so parallel workers never run the
    same configuration twice); all failures are reported together."""
    failures = []
    for check in CHECKS:
        try:
            check(site)
        except AssertionError as err:
            failures.append(f"{check.__name__}: {err}")
    assert not failures, "\n".join(failures)
