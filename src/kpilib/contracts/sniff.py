"""Name what is wrong with a CSV's layout before pandas misreads it.

kpilib reads UTF-8, comma-separated CSV (a byte-order mark is fine). From the first bytes of a
file, :func:`csv_layout_error` names the likely cause in words a user can act on:

- text that is not UTF-8: "looks like Latin-1 / Windows-1252, re-save as UTF-8";
- Excel's ``sep=,`` (or ``sep=;``) first line: "delete that line";
- a header with no comma but tabs, semicolons or pipes: "this looks tab-separated".
"""

from __future__ import annotations

SEPARATORS = {"\t": "tab", ";": "semicolon", "|": "pipe"}


def _decode(head: bytes) -> tuple[str | None, str | None]:
    """Text of ``head`` (cut at the last full line) or the reason it is not UTF-8."""
    cut = head[: head.rfind(b"\n") + 1] or head
    try:
        return cut.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        byte = cut[err.start]
        try:
            cut.decode("cp1252")
            guess = "Latin-1 / Windows-1252"
        except UnicodeDecodeError:
            guess = "a non-UTF-8 encoding"
        return None, (f"not UTF-8 text (byte 0x{byte:02x} at offset {err.start}); it looks like "
                      f"{guess}: re-save the file as UTF-8")


def csv_layout_error(head: bytes) -> str | None:
    """Why a CSV starting with ``head`` cannot be read as UTF-8 comma-separated, or None."""
    text, why = _decode(head)
    if why:
        return why
    lines = (text or "").splitlines()
    first = lines[0].strip() if lines else ""
    if first.lower().startswith("sep="):
        return (f"the first line is {first!r}, Excel's separator hint, not a header; "
                "delete that line")
    if "," not in first:
        for sep, name in SEPARATORS.items():
            if sep in first:
                return (f"this looks {name}-separated (header {first[:60]!r}); kpilib reads "
                        "comma-separated CSV, re-export with ',' as the separator")
    return None
