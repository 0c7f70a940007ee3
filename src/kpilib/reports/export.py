"""Executed notebook -> one self-contained HTML file with no code, no prompts, no external URL.

Rule: the HTML a reader opens must render offline and show only outputs and markdown:

- nbconvert's ``HTMLExporter`` with ``exclude_input``, ``exclude_input_prompt`` and
  ``exclude_output_prompt``; cells tagged ``remove-cell`` (e.g. the parameters cell) are dropped;
- images are already base64 in the notebook outputs; markdown images are embedded too
  (``embed_images``);
- the ``kpilib_report`` template (``templates/``) extends JupyterLab's and removes every
  script that would load require.js, MathJax, Mermaid or a widget manager from a CDN;
- kpilib record outputs (``application/vnd.kpilib.record+json``, machine-readable values for the
  run index) and widget views are removed before export;
- finally ``external_urls`` scans the result; any ``http://``/``https://`` left in the page
  (an attribute, a link, an SVG namespace) is neutralised so nothing can be fetched.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from kpilib.reports.nbtools import RECORD_MIME

TEMPLATES_DIR = Path(__file__).with_name("templates")
TEMPLATE_NAME = "kpilib_report"
_DROP_MIMES = (
    RECORD_MIME,
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
    "application/javascript",
)
_URL_RE = re.compile(r"""(?i)https?://[^\s"'<>)]*|(?:src|href)\s*=\s*["']//[^"']*""")
_SCHEME_RE = re.compile(r"(?i)https?://")


def _clean_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without record/widget/JS outputs, widget state and removed cells."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-cell", "parameters", "injected-parameters"}:
            continue
        if cell.cell_type == "code":
            kept = []
            for out in cell.get("outputs", []):
                data = out.get("data")
                if data is not None and RECORD_MIME in data:
                    continue  # machine-readable value for the index, not for readers
                if data is not None:
                    for mime in _DROP_MIMES:
                        data.pop(mime, None)
                    if not data:
                        continue
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    continue  # warnings are for the analyst's console, not leadership
                kept.append(out)
            cell.outputs = kept
        cells.append(cell)
    nb.cells = cells
    return nb


def external_urls(html: str) -> list[str]:
    """Every ``http(s)://`` or protocol-relative ``//host`` reference in ``html`` (sorted)."""
    return sorted({m.group(0) for m in _URL_RE.finditer(html)})


def neutralise_urls(html: str) -> str:
    """Replace ``http://``/``https://`` by ``hxxp://``-style text so no URL remains loadable.

    Applied after export as a last guard (e.g. an SVG ``xmlns`` or a link a user typed in a
    markdown cell); a browser cannot fetch ``hxxps://``.
    """
    return _SCHEME_RE.sub(lambda m: "hxxps://" if m.group(0).lower().startswith("https")
                          else "hxxp://", html)


def notebook_to_html(nb_path: str | Path, html_path: str | Path, title: str | None = None) -> Path:
    """Convert the executed notebook ``nb_path`` into a self-contained ``html_path``.

    Parameters
    ----------
    nb_path : path of an executed ``.ipynb``.
    html_path : where to write the HTML (parent folders are created).
    title : page title; defaults to the notebook's file name.

    Returns
    -------
    Path of the written HTML.
    """
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(nb_path), as_version=4)
    nb = _clean_outputs(nb)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": Path(nb_path).stem}})
    body = neutralise_urls(body)
    out = Path(html_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out
