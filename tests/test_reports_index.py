"""index.html and the HTML export guards: escaping, relative links, no external URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpilib.reports.export import external_urls, neutralise_urls
from kpilib.reports.index import render_index
from kpilib.reports.manifest import run_status
from kpilib.reports.story import state_detail

EVIL = '<script>alert(1)</script>'


def manifest(**kw):
    m = {
        "run_id": "20240101T000000Z", "status": "partial", "as_of": "2024-01-01T00:00:00+00:00",
        "finished_at": "2024-01-01T00:01:00+00:00",
        "parameters": {"freq": "W", "role": None, "per": "channel"},
        "data": {"fingerprint": "abc"},
        "notebooks": [
            {"notebook": "00_executive_summary", "segment": EVIL, "status": "ok",
             "duration_s": 1.0, "html": "channel-x/00_executive_summary.html",
             "ipynb": "channel-x/00_executive_summary.ipynb", "error": None},
            {"notebook": "01_order_workflow", "segment": EVIL, "status": "failed",
             "duration_s": 2.0, "html": None, "ipynb": "channel-x/01_order_workflow.ipynb",
             "error": f"ValueError: {EVIL}"},
        ],
    }
    m.update(kw)
    return m


def test_everything_from_the_data_is_escaped():
    records = [{"segment": EVIL, "records": {"headline": [
        {"kpi": "perfect_order_rate", "name": EVIL, "display": EVIL, "band": "critical",
         "period": EVIL}]}}]
    page = render_index(manifest(), records, [manifest()])
    assert EVIL not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5  # segment x3, name, value
    assert "<script" not in page.lower()
    assert external_urls(page) == []


def test_failure_row_links_the_executed_notebook():
    page = render_index(manifest(), [], [manifest()])
    link = '<a href="channel-x/01_order_workflow.ipynb">executed notebook with the error</a>'
    assert link in page
    assert '<a href="channel-x/00_executive_summary.html">Executive summary</a>' in page
    assert "No headline values" in page


def test_badge_colour_follows_band():
    records = [{"segment": None, "records": {"headline": [
        {"kpi": "a", "name": "A", "display": "1", "band": "normal"},
        {"kpi": "b", "name": "B", "display": "2", "band": "stressed"},
        {"kpi": "c", "name": "C", "display": "3", "band": "critical"},
        {"kpi": "d", "name": "D", "display": "4", "band": "insufficient_data"}]}}]
    page = render_index(manifest(), records, [manifest()])
    for band, colour in (("normal", "#1b7f3b"), ("stressed", "#8a5a00"),
                         ("critical", "#a50e0e"), ("insufficient_data", "#4d4d4d")):
        assert f'class="badge band-{band}" style="color:{colour}' in page


def test_history_links_previous_runs_relatively():
    old = manifest(run_id="20231231T000000Z", status="ok")
    page = render_index(manifest(), [], [old, manifest()])
    assert '<a href="../20231231T000000Z/index.html">20231231T000000Z</a>' in page
    assert "(this run)" in page


def test_hostile_link_targets_cannot_leave_the_output_folder():
    m = manifest()
    m["notebooks"][0]["html"] = "javascript:alert(1)//x.html"
    page = render_index(m, [], [m])
    assert 'href="javascript:' not in page
    assert 'href="javascript%3Aalert' in page  # ':' percent-encoded: a relative path
    m["notebooks"][0]["html"] = "//evil.example/x.html"
    assert 'href="evil.example/x.html"' in render_index(m, [], [m])  # never protocol-relative


def test_external_urls_found_and_neutralised():
    html = ('<img src="https://cdn.example.com/x.png"><a href="//evil.example/">x</a>'
            '<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    assert len(external_urls(html)) == 3
    safe = neutralise_urls(html)
    assert "http://" not in safe and "https://" not in safe
    assert external_urls(safe) == ['href="//evil.example/']  # protocol-relative still reported


def test_run_status():
    assert run_status([{"status": "ok"}, {"status": "ok"}]) == "ok"
    assert run_status([{"status": "ok"}, {"status": "failed"}]) == "partial"
    assert run_status([{"status": "failed"}]) == "failed"
    assert run_status([]) == "failed"


def test_template_removes_every_cdn_script():
    text = (Path(__file__).parents[1] / "src/kpilib/reports/templates/kpilib_report/"
            "index.html.j2").read_text()
    for block in ("html_head_js", "jupyter_widgets", "html_head_js_mathjax",
                  "html_head_js_mermaidjs"):
        assert f"block {block}" in text


def test_skipped_segments_are_named_with_their_reason():
    m = manifest(skipped_segments={"internal": "no customer orders in the period range"})
    page = render_index(m, [], [m])
    assert ("No report set for channel internal: no customer orders in the period range."
            in page)
    assert "No report set" not in render_index(manifest(), [], [manifest()])


def test_cards_carry_their_segment_and_period():
    records = [{"segment": "web", "records": {"headline": [
        {"kpi": "a", "name": "A", "display": "1", "band": "normal", "period": "2024-06-17"}]}}]
    page = render_index(manifest(), records, [manifest()])
    assert '<section data-segment="web">\n<h3>channel web</h3>' in page
    assert 'data-period="2024-06-17"' in page
    assert "data as of 2024-01-01 00:00 UTC · weekly periods · all roles" in page


def test_the_page_opens_with_what_needs_action():
    records = [{"segment": "web", "records": {"headline": [
        {"kpi": "a", "name": "A", "display": "1", "band": "stressed"},
        {"kpi": "b", "name": "B", "display": "2", "band": "normal"},
        {"kpi": "c", "name": "C", "display": "3", "band": "critical",
         "state": "critical, recovering: 1 of 2 periods back within limits"}]}}]
    page = render_index(manifest(), records, [manifest()])
    head = page[page.index("Needs action"):page.index("Headline KPIs")]
    assert "Needs action: 2 headline KPIs (1 critical)" in head
    assert head.index("<b>C</b>") < head.index("<b>A</b>")  # critical first
    assert "<b>B</b>" not in head and "channel web" in head and "recovering" in head
    calm = [{"segment": None, "records": {"headline": [
        {"kpi": "b", "name": "B", "display": "2", "band": "normal"}]}}]
    assert "Nothing needs action" in render_index(manifest(), calm, [manifest()])


def test_all_clear_counts_the_headline_values_it_could_not_judge():
    calm = [{"segment": "web", "records": {"headline": [
        {"kpi": "a", "name": "A", "display": "1", "band": "normal"},
        {"kpi": "b", "name": "B", "display": "2", "band": "insufficient_data"}]}},
        {"segment": "b2b", "records": {"headline": [
            {"kpi": "a", "name": "A", "display": "3", "band": None},
            {"kpi": "c", "name": "C", "display": "n/a", "band": "no band"},
            {"kpi": "d", "name": "D", "display": "n/a", "band": "no band",
             "state": "cannot be cut by channel"}]}}]
    page = render_index(manifest(), calm, [manifest()])
    assert ("Nothing needs action: none of the 1 judged headline value is stressed or critical "
            "in the last complete period. 2 of 5 could not be judged") in page
    assert "1 of 5 have no value in this data" in page
    assert "1 of 5 cannot be cut by this segment" in page
    assert "cannot be cut by channel" in page  # on the card itself


def test_all_clear_on_totals_still_names_the_open_segment_alerts():
    calm = [{"segment": None, "records": {
        "headline": [{"kpi": "a", "name": "A", "display": "1", "band": "normal"}],
        "open_alerts": [{"name": "Order cycle time", "where": "channel web",
                         "band": "critical"}]}}]
    page = render_index(manifest(), calm, [manifest()])
    assert "Nothing needs action" not in page and "No headline total needs action: none" in page
    assert ("But 1 segment alert is open (1 critical): Order cycle time in channel web "
            "(critical).") in page


def test_the_index_names_critical_kpis_that_only_the_detailed_reports_show():
    records = [
        {"notebook": "00_executive_summary", "segment": None, "records": {
            "headline": [{"kpi": "stockout_rate", "name": "Stockout rate", "display": "2.6%",
                          "band": "normal"}]}},
        {"notebook": "02_inventory_health", "segment": None, "records": {
            "bands:1": [{"kpi": "stockout_rate", "name": "Stockout rate", "display": "2.6%",
                         "band": "critical"},   # a headline KPI: the headline speaks for it
                        {"kpi": "aged_inventory_share", "name": "Aged inventory share",
                         "display": "78.2%", "band": "critical"}],
            "bands:2": [{"kpi": "aged_inventory_share", "name": "Aged inventory share",
                         "display": "78.2%", "band": "critical"}]}}]   # listed once
    page = render_index(manifest(), records, [manifest()])
    assert "Also stressed or critical, outside the headline (detailed reports)" in page
    item = re.search(r"<li>(?:(?!</li>).)*Aged inventory share(?:(?!</li>).)*</li>", page)
    assert item is not None
    text = re.sub(r"<[^>]+>", "", item.group(0))
    assert text == "critical Aged inventory share 78.2% · Inventory health"
    assert page.count("Aged inventory share") == 1


@pytest.mark.parametrize(("state", "band", "detail"), [
    ("critical, recovering: 1 of 2 periods back within limits", "critical",
     "recovering: 1 of 2 periods back within limits"),
    ("stressed (peak season, within peak limits)", "stressed", "peak season, within peak limits"),
    ("critical", "critical", ""),
])
def test_the_attention_list_shows_the_band_word_once(state, band, detail):
    assert state_detail(state, band) == detail
    records = [{"segment": None, "records": {"headline": [
        {"kpi": "a", "name": "A", "display": "1", "band": band, "state": state}]}}]
    page = render_index(manifest(), records, [manifest()])
    assert f"({band} (" not in page and f"({band}, " not in page


def test_a_card_the_segment_cannot_cut_says_so():
    import pandas as pd

    from kpilib.reports.session import badges

    head = pd.DataFrame({"kpi": ["stockout_rate", "otif_rate"], "name": ["Stockout rate", "OTIF"],
                         "display": ["n/a", "91.0%"], "change_display": ["n/a", "+1.0 pp"],
                         "band": ["no band", "normal"], "period": [pd.NaT, pd.NaT],
                         "state": ["no band", "normal"],
                         "note": ["cannot be cut or filtered by channel", ""]})
    cards = badges(head)
    assert [c["state"] for c in cards] == ["cannot be cut by channel", "normal"]


def test_an_index_with_nothing_judged_says_so():
    blank = [{"segment": "Central", "records": {"headline": [
        {"kpi": "a", "name": "A", "display": "54.5%", "band": "insufficient_data"}]}}]
    page = render_index(manifest(), blank, [manifest()])
    assert "No headline value could be judged in the last complete period." in page
    assert "none of the 0" not in page
